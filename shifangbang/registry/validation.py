"""Validation of a workshop's fields from a form or a spreadsheet row: clean() and its parsers."""

import re
from datetime import date, datetime

from sqlalchemy import select

from .. import current_deployment, spreadsheet
from ..extensions import db
from ..labels import SEVEN_IN_PLACE
from ..models import Jurisdiction, ProductCategory, Workshop
from .errors import ValidationError

TEXT_LIMITS = {
    "name": 100,
    "operator_name": 40,
    "address": 200,
    "varieties": 200,
    "safety_manager": 40,
    "plate_no": 30,
    "trademark": 60,
    "geo_indication": 60,
    "intangible_heritage": 80,
    "regional_brand": 60,
    "additives": 300,
}
REQUIRED = {"name": "作坊名称", "operator_name": "经营者", "address": "地址"}
MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")
ID_NO = re.compile(r"\d{17}[\dX]")
# Mainland China, generously: latitude 3–54° N, longitude 73–136° E.
LAT_RANGE, LNG_RANGE = (3.0, 54.0), (73.0, 136.0)


def parse_date(value) -> date | None:
    """A date from a form or a spreadsheet: 2026-03-01, 2026/3/1, 2026.3.1, 20260301, 2026年3月1日."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text) or re.fullmatch(
        r"(\d{4})(\d{2})(\d{2})", text
    )
    if not m:
        raise ValueError(text)
    return date(int(m[1]), int(m[2]), int(m[3]))


def normalise_phone(value: str) -> str:
    text = re.sub(r"[\s()（）]", "", str(value or ""))
    text = text.removeprefix("+86").removeprefix("86") if len(text) > 11 else text
    return text


CATEGORY_SEPARATORS = "、,，;；/ \t\n"


def category_catalogue() -> dict[str, ProductCategory]:
    """Every catalogue category by its name and by its code (a sheet may give either)."""
    out: dict[str, ProductCategory] = {}
    for c in db.session.scalars(select(ProductCategory)):
        out[c.name] = out[c.code] = c
    return out


def split_categories(text: str, catalogue: dict) -> list[str]:
    """The names or codes in a cell, separator-safe: a catalogue name that itself holds a
    separator ("食用油、油脂及其制品") is taken whole before the text is split at 、 , ； /."""
    known = sorted(catalogue, key=len, reverse=True)
    out, pos = [], 0
    while pos < len(text):
        if text[pos] in CATEGORY_SEPARATORS:
            pos += 1
            continue
        for name in known:
            end = pos + len(name)
            if text.startswith(name, pos) and (
                end == len(text) or text[end] in CATEGORY_SEPARATORS
            ):
                break
        else:
            end = pos
            while end < len(text) and text[end] not in CATEGORY_SEPARATORS:
                end += 1
        out.append(text[pos:end])
        pos = end
    return out


def _text(data, key) -> str:
    value = data.get(key)
    return "" if value is None else str(value).strip()


def _flag(value) -> bool:
    return str(value or "").strip().lower() in ("1", "on", "true", "yes", "是", "√", "y")


def clean(
    data,
    *,
    workshop_id: int | None = None,
    check_unique: bool = True,
    catalogue: dict[str, ProductCategory] | None = None,
) -> dict:
    """Validate raw form or sheet values; return model-ready values or raise ValidationError.

    data keys: the Workshop field names, plus category_ids (ids) or category_names (names),
    seven_in_place (a list of keys) and staff (a list of {name, role, health_cert_expires}).
    """
    dep = current_deployment()
    errors: dict[str, str] = {}
    out: dict = {}
    for key, label in REQUIRED.items():
        if not _text(data, key):
            errors[key] = f"请填写{label}。"
    for key, limit in TEXT_LIMITS.items():
        value = _text(data, key)
        if len(value) > limit:
            errors[key] = f"{_LABELS.get(key, key)}不能超过 {limit} 个字。"
        elif spreadsheet.formula_like(value):
            errors[key] = (
                f"{_LABELS.get(key, key)}不能以 = + - @ 开头（电子表格软件会把它当作公式执行）。"
            )
        out[key] = value
    for key in (
        "safety_manager",
        "plate_no",
        "trademark",
        "geo_indication",
        "intangible_heritage",
        "regional_brand",
    ):
        out[key] = out[key] or None

    cert_type = _text(data, "cert_type")
    if cert_type not in dep.certificate_types:
        errors["cert_type"] = f"证件类型应为：{'、'.join(dep.certificate_types)}。"
    out["cert_type"] = cert_type
    cert_no = re.sub(r"\s", "", _text(data, "cert_no"))
    if not cert_no:
        errors["cert_no"] = "请填写证件编号。"
    elif not dep.valid_certificate_number(cert_no):
        errors["cert_no"] = f"证件编号格式不对，应类似“{dep.certificate_example}”。"
    elif check_unique:
        clash = select(Workshop.id).where(Workshop.cert_no == cert_no)
        if workshop_id is not None:
            clash = clash.where(Workshop.id != workshop_id)
        if db.session.scalar(clash) is not None:
            errors["cert_no"] = f"证件编号 {cert_no} 已被其他作坊使用。"
    out["cert_no"] = cert_no

    phone = normalise_phone(_text(data, "operator_phone"))
    if phone and not (MOBILE.fullmatch(phone) or LANDLINE.fullmatch(phone)):
        errors["operator_phone"] = "联系电话应为 11 位手机号或带区号的固定电话（如 0472-5155315）。"
    out["operator_phone"] = phone or None
    id_no = _text(data, "operator_id_no").upper()
    if id_no and not ID_NO.fullmatch(id_no):
        errors["operator_id_no"] = "身份证号应为 18 位。"
    out["operator_id_no"] = id_no or None

    station_id = data.get("station_id")
    try:
        station = (
            db.session.get(Jurisdiction, int(station_id)) if station_id not in (None, "") else None
        )
    except (TypeError, ValueError):
        station = None
    if station is None or station.level != "station":
        errors["station_id"] = "请选择所属市场监管所（中队）。"
    elif station.merged_note:
        errors["station_id"] = station.merged_note
    out["station_id"] = station.id if station is not None else None

    if "category_names" in data:
        found = catalogue if catalogue is not None else category_catalogue()
        names = split_categories(_text(data, "category_names"), found)
        unknown = [n for n in names if n not in found]
        if unknown:
            errors["categories"] = f"食品类别不在目录中：{'、'.join(unknown)}。"
        categories = list({found[n].id: found[n] for n in names if n in found}.values())
    else:
        ids = []
        for raw in data.get("category_ids") or []:
            try:
                ids.append(int(raw))
            except (TypeError, ValueError):
                pass
        categories = (
            list(db.session.scalars(select(ProductCategory).where(ProductCategory.id.in_(ids))))
            if ids
            else []
        )
        if len(categories) != len(set(ids)):
            errors["categories"] = "食品类别不在目录中。"
    if not categories and "categories" not in errors:
        errors["categories"] = "请至少选择一个食品类别。"
    out["categories"] = categories

    for key in ("valid_from", "valid_to", "pledge_signed_on"):
        try:
            out[key] = parse_date(data.get(key))
        except ValueError:
            errors[key] = f"{_LABELS[key]}不是有效日期（应如 2026-03-01）。"
    if out.get("valid_from") and out.get("valid_to") and out["valid_to"] < out["valid_from"]:
        errors["valid_to"] = "有效期至不能早于有效期起。"

    for key, (low, high), label in (("lat", LAT_RANGE, "纬度"), ("lng", LNG_RANGE, "经度")):
        raw = _text(data, key)
        out[key] = None
        if raw:
            try:
                out[key] = float(raw)
            except ValueError:
                errors[key] = f"{label}应为数字。"
                continue
            if not low <= out[key] <= high:
                errors[key] = f"{label}应在 {low:g} 到 {high:g} 之间（中国境内）。"
    if (out["lat"] is None) != (out["lng"] is None) and "lat" not in errors and "lng" not in errors:
        errors["lat"] = "经度和纬度要么都填，要么都不填。"

    out["time_honoured"] = _flag(data.get("time_honoured"))
    chosen = set(data.get("seven_in_place") or [])
    out["seven_in_place"] = {key: key in chosen for key in SEVEN_IN_PLACE}

    staff = []
    for i, person in enumerate(data.get("staff") or [], start=1):
        name = str(person.get("name") or "").strip()
        expires = person.get("health_cert_expires")
        if not name and not expires:
            continue  # an empty row of the form
        if not name or len(name) > 40:
            errors[f"staff_{i}"] = f"第 {i} 名从业人员：请填写姓名（不超过 40 字）。"
            continue
        try:
            expires = parse_date(expires)
        except ValueError:
            errors[f"staff_{i}"] = f"第 {i} 名从业人员：健康证有效期不是有效日期。"
            continue
        staff.append(
            {
                "name": name,
                "role": (str(person.get("role") or "").strip() or "生产人员")[:20],
                "health_cert_expires": expires,
            }
        )
    out["staff"] = staff
    if errors:
        raise ValidationError(errors)
    return out


_LABELS = {
    "name": "作坊名称",
    "operator_name": "经营者",
    "address": "地址",
    "varieties": "品种明细",
    "safety_manager": "食品安全管理员",
    "plate_no": "公示牌编号",
    "trademark": "商标",
    "geo_indication": "地理标志",
    "intangible_heritage": "非遗",
    "regional_brand": "区域公用品牌",
    "additives": "使用的食品添加剂",
    "valid_from": "有效期起",
    "valid_to": "有效期至",
    "pledge_signed_on": "承诺书签署日期",
}
