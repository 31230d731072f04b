"""Exporting the registry (CSV, XLSX): regulators only, within their jurisdiction.

Exports hold registry data, including the operator's phone (the regulator's own contact data for
the workshop), but never the operator's ID-card number and never anything from complaints.
"""

import io
from datetime import date

from .. import current_deployment, spreadsheet
from ..extensions import db
from ..labels import WORKSHOP_STATUS
from .listing import Filters, list_query

EXPORT_HEADER = [
    "作坊名称",
    "证件类型",
    "证件编号",
    "经营者",
    "联系电话",
    "地址",
    "所属所",
    "辖区代码",
    "食品类别",
    "品种明细",
    "有效期起",
    "有效期至",
    "状态",
    "榜级",
    "定榜日期",
    "最近检查",
    "食品安全管理员",
    "公示牌编号",
    "纬度",
    "经度",
    "使用的食品添加剂",
    "公示码",
]


def export_rows(actor, filters: Filters):
    """Rows (header first) of the filtered list; the same columns as the import, plus tier facts.

    Every column the import reads comes back unchanged when the file is imported again
    (categories by name, read separator-safe; the station by its code as well as its name).

    Streams in batches so a whole county's registry does not sit in memory.
    """
    dep = current_deployment()
    query = list_query(actor, filters, "export").execution_options(yield_per=500)
    yield EXPORT_HEADER
    for w in db.session.scalars(query):
        yield [
            w.name,
            w.cert_type,
            w.cert_no,
            w.operator_name,
            w.operator_phone or "",
            w.address,
            w.station.name,
            w.station.code,
            "、".join(c.name for c in w.categories),
            w.varieties,
            _iso(w.valid_from),
            _iso(w.valid_to),
            WORKSHOP_STATUS.get(w.status, w.status),
            dep.tier(w.tier_code).name,
            _iso(w.tier_since) if w.tier_code != dep.unrated.code else "",
            _iso(w.last_inspected_on),
            w.safety_manager or "",
            w.plate_no or "",
            "" if w.lat is None else w.lat,
            "" if w.lng is None else w.lng,
            w.additives,
            w.public_code,
        ]


def _iso(d: date | None) -> str:
    return d.isoformat() if d else ""


def export_csv(actor, filters: Filters) -> bytes:
    # Excel opens UTF-8 CSV correctly only with the BOM.
    return ("\ufeff" + spreadsheet.csv_text(export_rows(actor, filters))).encode("utf-8")


def export_xlsx(actor, filters: Filters) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("作坊档案")
    for row in export_rows(actor, filters):
        spreadsheet.xlsx_append(ws, row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
