"""The workshop registry (建档): validation, create/edit, status changes, listing, import, export.

Every change is authorised with access.require, written to the audit log with before/after,
and touches the change log. Edits carry the version the user loaded (optimistic locking): a
stale version is refused with a conflict message, never silently overwritten.

Export policy: exports go to regulators only (signed-in users, within their jurisdiction). They
hold registry data, including the operator's phone (the regulator's own contact data for the
workshop), but never the operator's ID-card number and never anything from complaints or reports.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import has_request_context
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from . import access, audit, changes, current_deployment, spreadsheet
from .errors import DomainError
from .extensions import db
from .labels import CLOSED_STATUSES, SEVEN_IN_PLACE, WORKSHOP_STATUS
from .models import Jurisdiction, ProductCategory, StaffMember, Workshop
from .timeutil import today
from .tx import transactional

CONFLICT_MESSAGE = "该作坊已被他人修改，您的修改未保存。请查看最新内容后重新提交。"

# Everything before/after snapshots in the audit log show.
AUDIT_FIELDS = (
    "cert_type",
    "cert_no",
    "name",
    "operator_name",
    "operator_phone",
    "address",
    "station_id",
    "lat",
    "lng",
    "varieties",
    "valid_from",
    "valid_to",
    "status",
    "status_changed_on",
    "safety_manager",
    "plate_no",
    "trademark",
    "time_honoured",
    "geo_indication",
    "intangible_heritage",
    "regional_brand",
    "pledge_signed_on",
    "seven_in_place",
    "additives",
)
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


class RegistryError(DomainError):
    """A rule violation; the message is Chinese and shown to the user as is."""


class ValidationError(RegistryError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("；".join(errors.values()))


class ConflictError(RegistryError):
    def __init__(self, message: str = CONFLICT_MESSAGE):
        super().__init__(message)


def _require(actor, action: str, jurisdiction_id: int | None = None) -> None:
    """actor None is the system (the CLI); never accepted while serving a web request."""
    if actor is None and not has_request_context():
        return
    access.require(actor, action, jurisdiction_id)


# --- validation --------------------------------------------------------------------------------


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
    out["station_id"] = station.id if station is not None else None

    if "category_names" in data:
        names = [n for n in re.split(r"[、,，;；/\s]+", _text(data, "category_names")) if n]
        found = (
            catalogue
            if catalogue is not None
            else {
                c.name: c
                for c in db.session.scalars(
                    select(ProductCategory).where(ProductCategory.name.in_(names))
                )
            }
        )
        unknown = [n for n in names if n not in found]
        if unknown:
            errors["categories"] = f"食品类别不在目录中：{'、'.join(unknown)}。"
        categories = [found[n] for n in dict.fromkeys(names) if n in found]
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


# --- changes -----------------------------------------------------------------------------------


def _snapshot(w: Workshop) -> dict:
    snap = audit.snapshot(w, AUDIT_FIELDS)
    snap["categories"] = sorted(c.name for c in w.categories)
    snap["staff"] = [[s.name, s.role, audit._jsonable(s.health_cert_expires)] for s in w.staff]
    return snap


def _apply(w: Workshop, values: dict) -> None:
    """Copy cleaned values onto the workshop (staff only when the values carry them)."""
    for key, value in values.items():
        if key not in ("categories", "staff"):
            setattr(w, key, value)
    w.categories = values["categories"]
    if "staff" in values:
        w.staff = [StaffMember(**s) for s in values["staff"]]


def get_workshop(actor, workshop_id: int, action: str = "view") -> Workshop:
    w = db.session.get(Workshop, workshop_id)
    if w is None:
        raise RegistryError("找不到该作坊。")
    _require(actor, action, w.station_id)
    return w


def _check_version(w: Workshop, version) -> None:
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise ConflictError("缺少版本号，请刷新页面后重新提交。") from None
    if version != w.version:
        raise ConflictError()


@transactional
def create_workshop(actor, data) -> Workshop:
    from .codes import new_public_code

    _require(actor, "create", None)
    values = clean(data)
    _require(actor, "create", values["station_id"])
    w = Workshop(public_code=new_public_code(), status="open", status_changed_on=today())
    _apply(w, values)
    db.session.add(w)
    db.session.flush()
    audit.record(actor, "workshop.create", "workshop", w.id, after=_snapshot(w))
    changes.touch(w)
    return w


@transactional
def update_workshop(actor, workshop_id: int, data, version) -> Workshop:
    w = get_workshop(actor, workshop_id, "edit")
    _check_version(w, version)
    values = clean(data, workshop_id=w.id)
    _require(
        actor, "edit", values["station_id"]
    )  # moving it to another station needs rights there too
    before = _snapshot(w)
    _apply(w, values)
    after = _snapshot(w)
    if after != before:
        _touch(w)
        audit.record(
            actor,
            "workshop.edit",
            "workshop",
            w.id,
            before=_diff(before, after),
            after=_diff(after, before),
        )
    return w


def _touch(w: Workshop) -> None:
    """changes.touch() flushes the UPDATE, which version_id_col checks against the version we
    loaded: a writer that committed in between makes it match no row."""
    try:
        changes.touch(w)
    except StaleDataError:
        raise ConflictError() from None


def _diff(a: dict, b: dict) -> dict:
    """The keys of `a` whose values differ in `b`: audit rows stay short and readable."""
    return {k: v for k, v in a.items() if b.get(k) != v}


@transactional
def change_status(actor, workshop_id: int, status: str, on, reason: str, version) -> Workshop:
    w = get_workshop(actor, workshop_id, "change_status")
    _check_version(w, version)
    errors = {}
    if status not in WORKSHOP_STATUS:
        errors["status"] = "请选择状态：在营、停业、注销或吊销。"
    elif status == w.status:
        errors["status"] = f"该作坊已是“{WORKSHOP_STATUS[status]}”状态。"
    try:
        on = parse_date(on)
    except ValueError:
        on = None
    if on is None:
        errors["on"] = "请填写状态变更日期（如 2026-03-01）。"
    elif on > today():
        errors["on"] = "状态变更日期不能晚于今天。"
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "请填写变更原因。"
    elif len(reason) > 500:
        errors["reason"] = "变更原因不超过 500 字。"
    if errors:
        raise ValidationError(errors)
    before = {"status": w.status, "status_changed_on": audit._jsonable(w.status_changed_on)}
    w.status = status
    w.status_changed_on = on
    _touch(w)
    audit.record(
        actor,
        "workshop.status",
        "workshop",
        w.id,
        before=before,
        after={"status": status, "status_changed_on": on, "reason": reason},
    )
    return w


# --- listing -----------------------------------------------------------------------------------


@dataclass
class Filters:
    q: str = ""
    station_id: int | None = None
    tier: str = ""
    status: str = ""
    category_id: int | None = None

    @classmethod
    def from_args(cls, args) -> "Filters":
        def as_int(key):
            try:
                return int(args.get(key) or "") or None
            except ValueError:
                return None

        return cls(
            q=(args.get("q") or "").strip()[:100],
            station_id=as_int("station"),
            tier=(args.get("tier") or "").strip(),
            status=(args.get("status") or "").strip(),
            category_id=as_int("category"),
        )

    def as_args(self) -> dict:
        return {
            k: v
            for k, v in {
                "q": self.q,
                "station": self.station_id,
                "tier": self.tier,
                "status": self.status,
                "category": self.category_id,
            }.items()
            if v
        }


def list_query(actor, filters: Filters, action: str = "view"):
    """A select of the workshops the actor may see, filtered. Asking for a station outside
    the actor's jurisdiction is refused rather than silently answered with nothing."""
    _require(actor, action, None)
    scope = access.visible_jurisdiction_ids(actor) if actor is not None else None
    q = select(Workshop)
    if scope is not None:
        q = q.where(Workshop.station_id.in_(scope))
    if filters.station_id:
        _require(actor, action, filters.station_id)
        q = q.where(Workshop.station_id.in_(access.subtree_ids(filters.station_id)))
    if filters.q:
        like = f"%{filters.q.replace('%', '').replace('_', '')}%"
        q = q.where(
            or_(
                Workshop.name.ilike(like),
                Workshop.cert_no.ilike(like),
                Workshop.address.ilike(like),
                Workshop.operator_name.ilike(like),
            )
        )
    if filters.tier:
        q = q.where(Workshop.tier_code == filters.tier)
    if filters.status:
        q = q.where(Workshop.status == filters.status)
    if filters.category_id:
        q = q.where(Workshop.categories.any(ProductCategory.id == filters.category_id))
    return q.options(selectinload(Workshop.categories), joinedload(Workshop.station)).order_by(
        Workshop.id.desc()
    )


def stations_for(actor) -> list[Jurisdiction]:
    scope = access.visible_jurisdiction_ids(actor) if actor is not None else None
    q = select(Jurisdiction).where(Jurisdiction.level == "station").order_by(Jurisdiction.code)
    if scope is not None:
        q = q.where(Jurisdiction.id.in_(scope))
    return list(db.session.scalars(q))


def categories() -> list[ProductCategory]:
    return list(db.session.scalars(select(ProductCategory).order_by(ProductCategory.code)))


# --- import ------------------------------------------------------------------------------------

# Sheet columns (first row), in the regulators' own words. Only the first eight are required.
COLUMNS = {
    "作坊名称": "name",
    "证件类型": "cert_type",
    "证件编号": "cert_no",
    "经营者": "operator_name",
    "联系电话": "operator_phone",
    "地址": "address",
    "所属所": "station",
    "食品类别": "category_names",
    "品种明细": "varieties",
    "有效期起": "valid_from",
    "有效期至": "valid_to",
    "状态": "status",
    "食品安全管理员": "safety_manager",
    "公示牌编号": "plate_no",
    "纬度": "lat",
    "经度": "lng",
    "使用的食品添加剂": "additives",
}
REQUIRED_COLUMNS = ("作坊名称", "证件类型", "证件编号", "经营者", "地址", "所属所", "食品类别")
STATUS_BY_LABEL = {label: code for code, label in WORKSHOP_STATUS.items()}
MAX_ROWS = 20000


class ImportFileError(RegistryError):
    """The file as a whole cannot be read (format, encoding, header)."""


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number in the sheet, reason)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def read_sheet(filename: str, content: bytes) -> list[tuple[int, dict]]:
    """Rows of an .xlsx or .csv file as (sheet row number, {field: raw value}); blank rows skipped.

    CSV may be UTF-8 (with or without BOM, as Excel writes it) or GBK (older Chinese Excel).
    """
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        rows = _xlsx_rows(content)
    elif name.endswith(".csv"):
        rows = _csv_rows(content)
    else:
        raise ImportFileError("只支持 .xlsx 或 .csv 文件（旧版 .xls 请在 Excel 中另存为 .xlsx）。")
    try:
        header = next(rows)
    except StopIteration:
        raise ImportFileError("文件是空的。") from None
    header = [str(h or "").strip() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportFileError(
            f"第 1 行（表头）缺少列：{'、'.join(missing)}。请使用导入模板的列名。"
        )
    index = {COLUMNS[h]: i for i, h in enumerate(header) if h in COLUMNS}
    out = []
    for row_no, row in enumerate(rows, start=2):
        cells = list(row)
        if not any(str(c).strip() for c in cells if c is not None):
            continue
        out.append(
            (row_no, {key: (cells[i] if i < len(cells) else None) for key, i in index.items()})
        )
        if len(out) > MAX_ROWS:
            raise ImportFileError(f"一次最多导入 {MAX_ROWS} 行，请拆分文件。")
    return out


def _xlsx_rows(content: bytes):
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise ImportFileError("无法读取该 Excel 文件，请确认是 .xlsx 格式且未加密。") from None
    return iter(wb.worksheets[0].iter_rows(values_only=True))


def _csv_rows(content: bytes):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError("无法识别 CSV 文件的编码，请另存为 UTF-8 或 GBK 编码。")
    return iter(csv.reader(io.StringIO(text)))


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone number Excel turned into a number
    return str(value).strip()


AMBIGUOUS = object()


def _station_lookup() -> dict:
    """Station by code or by name; a name two stations share maps to AMBIGUOUS (use the code)."""
    lookup: dict = {}
    for s in db.session.scalars(select(Jurisdiction).where(Jurisdiction.level == "station")):
        lookup[s.name] = AMBIGUOUS if s.name in lookup else s
    for s in db.session.scalars(select(Jurisdiction).where(Jurisdiction.level == "station")):
        lookup[s.code] = s
    return lookup


def _prepare(
    actor, rows: list[tuple[int, dict]]
) -> tuple[ImportReport, list[tuple[int, dict, Workshop | None]]]:
    """Validate every row (nothing written). Returns the report and the rows ready to apply."""
    report = ImportReport(total=len(rows))
    stations = _station_lookup()
    catalogue = {c.name: c for c in db.session.scalars(select(ProductCategory))}
    cert_nos = [re.sub(r"\s", "", _cell_text(r.get("cert_no"))) for _, r in rows]
    existing: dict[str, Workshop] = {}
    for i in range(0, len(cert_nos), 500):
        chunk = [c for c in cert_nos[i : i + 500] if c]
        q = (
            select(Workshop)
            .where(Workshop.cert_no.in_(chunk))
            .options(selectinload(Workshop.categories), selectinload(Workshop.staff))
        )
        existing.update({w.cert_no: w for w in db.session.scalars(q)})
    seen: dict[str, int] = {}
    ready = []
    for (row_no, raw), cert_no in zip(rows, cert_nos):
        data = {
            k: _cell_text(v) if k not in ("valid_from", "valid_to") else v for k, v in raw.items()
        }
        problems = []
        station = stations.get(data.get("station", ""))
        if station is AMBIGUOUS:
            problems.append(f"所属所“{data['station']}”有重名，请改填辖区代码")
            station = None
        elif station is None:
            problems.append(f"所属所“{data.get('station', '')}”不存在（填所名或辖区代码）")
        else:
            data["station_id"] = station.id
        if cert_no and cert_no in seen:
            problems.append(f"证件编号与第 {seen[cert_no]} 行重复")
        seen.setdefault(cert_no, row_no)
        status_label = data.pop("status", "") or ""
        status = STATUS_BY_LABEL.get(status_label, "open" if not status_label else None)
        if status is None:
            problems.append(f"状态“{status_label}”应为在营、停业、注销或吊销")
        current = existing.get(cert_no)
        if (
            station is not None
            and actor is not None
            and not access.can(actor, "import", station.id)
        ):
            problems.append(f"您无权向“{station.name}”导入作坊")
        if (
            current is not None
            and actor is not None
            and not access.can(actor, "import", current.station_id)
        ):
            problems.append("该证件编号的作坊属于其他辖区，您无权修改")
        try:
            # Uniqueness is settled above: a known number updates its workshop.
            values = clean(
                data,
                workshop_id=current.id if current else None,
                check_unique=False,
                catalogue=catalogue,
            )
        except ValidationError as e:
            problems.extend(m.rstrip("。") for m in e.errors.values())
            values = None
        if problems:
            report.errors.append((row_no, "；".join(problems) + "。"))
            continue
        values.pop("staff")
        if current is not None:
            # Update only what the sheet carries; 七到位, staff, brand facts … stay as they are.
            carried = {COLUMNS[h] for h in COLUMNS if COLUMNS[h] in raw} | {
                "station_id",
                "categories",
            }
            carried.discard("category_names")
            values = {k: v for k, v in values.items() if k in carried}
        values["status"] = status
        ready.append((row_no, values, current))
    return report, ready


def dry_run(actor, rows: list[tuple[int, dict]]) -> ImportReport:
    """Check a sheet without writing anything: every bad row with its number and reason."""
    _require(actor, "import", None)
    report, ready = _prepare(actor, rows)
    for _, values, current in ready:
        if current is None:
            report.created += 1
        elif _changed(current, values):
            report.updated += 1
        else:
            report.unchanged += 1
    return report


def _changed(w: Workshop, values: dict) -> bool:
    for key, value in values.items():
        if key == "categories":
            if sorted(c.id for c in w.categories) != sorted(c.id for c in value):
                return True
        elif getattr(w, key) != value:
            return True
    return False


@transactional
def import_rows(actor, rows: list[tuple[int, dict]], progress=None) -> ImportReport:
    """Import all rows or none: any bad row refuses the whole file (fix it and import again).

    Idempotent by certificate number: a known number updates that workshop, a new one creates it.
    progress: optional callable(n) called after each row (the CLI's progress bar).
    """
    from .codes import new_public_code

    _require(actor, "import", None)
    report, ready = _prepare(actor, rows)
    if report.errors:
        return report
    # New workshops go in together: the first touch() flushes them all in one batch.
    created = []
    with db.session.no_autoflush:
        codes: set[str] = set()
        for _, values, current in ready:
            if current is None:
                code = new_public_code()
                while code in codes:
                    code = new_public_code()
                codes.add(code)
                status = values.pop("status")
                w = Workshop(public_code=code, status=status, status_changed_on=today())
                _apply(w, values)
                db.session.add(w)
                created.append(w)
    for w in created:
        changes.touch(w)
        audit.record(actor, "workshop.import_create", "workshop", w.id, after=_snapshot(w))
        report.created += 1
        if progress:
            progress(1)
    for _, values, current in ready:
        if current is None:
            continue
        w = current
        status = values.pop("status")
        if not _changed(w, dict(values, status=status)):
            report.unchanged += 1
        else:
            before = _snapshot(w)
            for key, value in values.items():
                if key != "categories":
                    setattr(w, key, value)
            w.categories = values["categories"]
            if status != w.status:
                w.status = status
                w.status_changed_on = today()
            after = _snapshot(w)
            _touch(w)
            audit.record(
                actor,
                "workshop.import_update",
                "workshop",
                w.id,
                before=_diff(before, after),
                after=_diff(after, before),
            )
            report.updated += 1
        if progress:
            progress(1)
    report.applied = True
    return report


def template_csv() -> bytes:
    """An empty import template (header plus one example row), UTF-8 with BOM for Excel."""
    dep = current_deployment()
    example = [
        "老东河豆腐坊",
        dep.certificate_types[0],
        dep.certificate_example,
        "王建国",
        "13904721234",
        "包头市东河区巴彦塔拉大街1号",
        "西脑包市场监管所",
        "豆制品",
        "豆腐、豆腐干",
        "2025-01-01",
        "2028-01-01",
        "在营",
        "王建国",
        "",
        "40.58",
        "110.05",
        "",
    ]
    return ("\ufeff" + spreadsheet.csv_text([list(COLUMNS), example])).encode("utf-8")


# --- export ------------------------------------------------------------------------------------

EXPORT_HEADER = [
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
    "榜级",
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
            "、".join(c.name for c in w.categories),
            w.varieties,
            _iso(w.valid_from),
            _iso(w.valid_to),
            WORKSHOP_STATUS.get(w.status, w.status),
            dep.tier(w.tier_code).name,
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


def is_closed(w: Workshop) -> bool:
    return w.status in CLOSED_STATUSES
