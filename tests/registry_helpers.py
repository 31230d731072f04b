"""Shared arrangements for the registry, sign-in and access tests."""

import csv
import io
import itertools
from dataclasses import dataclass

from shifangbang.models import Jurisdiction, ProductCategory, User, Workshop

from . import factories as f

_n = itertools.count(1)


def cert_no() -> str:
    return f"蒙食小作坊登字第{150299000000 + next(_n) * 7919 % 10**9:012d}号"


@dataclass
class World:
    stations: dict[str, Jurisdiction]
    tofu: ProductCategory
    cake: ProductCategory
    admin: User
    officer: User
    viewer: User
    own: Workshop  # in the officer's and viewer's station
    other: Workshop  # in another county's station


def world(db) -> World:
    j = f.jurisdictions()
    tofu, cake = f.category("豆制品", True), f.category("糕点", True)
    w = World(
        stations=j,
        tofu=tofu,
        cake=cake,
        admin=f.user("admin"),
        officer=f.user("officer", j["xinaobao"]),
        viewer=f.user("viewer", j["xinaobao"]),
        own=f.workshop(j["xinaobao"], name="西脑包老豆腐坊"),
        other=f.workshop(j["kun1"], name="昆北凉糕坊"),
    )
    db.session.commit()
    return w


def form(station, **over) -> dict:
    """Valid create/edit form fields (as the browser posts them)."""
    data = {
        "name": "新建测试豆腐坊",
        "cert_type": "登记证",
        "cert_no": cert_no(),
        "operator_name": "李秀英",
        "operator_phone": "13847211234",
        "address": "包头市东河区和平路8号",
        "station_id": str(station.id),
        "varieties": "豆腐、豆皮",
        "valid_from": "2025-03-01",
        "valid_to": "2028-02-28",
        "lat": "40.58",
        "lng": "110.05",
        "category_ids": [str(ProductCategory.query.filter_by(name="豆制品").one().id)],
        "seven_in_place": ["purchase", "cleaning"],
        "staff-0-name": "赵六",
        "staff-0-role": "生产人员",
        "staff-0-expires": "2026-12-31",
    }
    data.update(over)
    return data


def domain_data(station, **over) -> dict:
    data = form(station, **over)
    data["staff"] = [
        {
            "name": data.pop("staff-0-name"),
            "role": data.pop("staff-0-role"),
            "health_cert_expires": data.pop("staff-0-expires"),
        }
    ]
    return data


def edit_form(w: Workshop, **over) -> dict:
    data = form(
        w.station,
        name=w.name,
        cert_no=w.cert_no,
        operator_name=w.operator_name,
        address=w.address,
        version=str(w.version),
    )
    data.update(over)
    return data


HEADER = [
    "作坊名称",
    "证件类型",
    "证件编号",
    "经营者",
    "联系电话",
    "地址",
    "所属所",
    "食品类别",
    "品种明细",
    "有效期起",
    "有效期至",
    "状态",
]


def sheet_row(station_name: str, **over) -> list:
    row = dict(
        zip(
            HEADER,
            [
                "导入测试作坊",
                "登记证",
                cert_no(),
                "张三",
                "13904720000",
                "包头市东河区南门外1号",
                station_name,
                "豆制品",
                "豆腐",
                "2025-01-01",
                "2028-01-01",
                "在营",
            ],
        )
    )
    row.update(over)
    return [row[h] for h in HEADER]


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def login_as(app, user: User):
    client = app.test_client()
    response = f.login(client, user)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
