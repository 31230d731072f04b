"""Importing workshops from .xlsx/.csv: read, dry run, apply all rows or none."""

import csv
import io
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import access, audit, changes, current_deployment, spreadsheet, tiers
from ..extensions import db
from ..labels import WORKSHOP_STATUS
from ..models import IN_SERVICE, Jurisdiction, ProductCategory, Workshop
from ..timeutil import today
from ..tx import transactional
from .editing import apply_values, diff, snapshot, touch_checked
from .errors import ImportFileError, ValidationError
from .guard import require
from .validation import category_catalogue, clean, parse_date

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
    # Optional: the station's code wins over its name (two stations may share a name).
    "辖区代码": "station_code",
    # Optional: a tier already published before this system (存量), with the date it took effect.
    "榜级": "tier",
    "定榜日期": "tier_since",
}
REQUIRED_COLUMNS = ("作坊名称", "证件类型", "证件编号", "经营者", "地址", "所属所", "食品类别")
STATUS_BY_LABEL = {label: code for code, label in WORKSHOP_STATUS.items()}
MAX_ROWS = 20000
ROW_OUTCOME = {"create": "新增", "update": "更新", "unchanged": "无变化"}


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number in the sheet, reason)
    # (row number, 新增 | 更新 | 无变化, workshop name) for every good row, in sheet order.
    outcomes: list[tuple[int, str, str]] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def outcome(current, values: dict, fields) -> str:
    """What writing `values` does to `current` (None: a new record): the ImportReport counter
    to add one to, created | updated | unchanged."""
    if current is None:
        return "created"
    if any(getattr(current, k) != values[k] for k in fields):
        return "updated"
    return "unchanged"


def tally(report: ImportReport, counter: str) -> None:
    setattr(report, counter, getattr(report, counter) + 1)


def preview(report: ImportReport, good: list[tuple[int, dict]], fields) -> ImportReport:
    """A dry run's report: the checked rows counted by what importing them would do."""
    for _row_no, values in good:
        tally(report, outcome(values["current"], values, fields))
    return report


def read_sheet(
    filename: str, content: bytes, columns: dict = COLUMNS, required=REQUIRED_COLUMNS
) -> list[tuple[int, dict]]:
    """Rows of an .xlsx or .csv file as (sheet row number, {field: raw value}); blank rows skipped.
    `columns` maps header → field (the registry's by default), `required` the headers it needs.

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
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportFileError(
            f"第 1 行（表头）缺少列：{'、'.join(missing)}。请使用导入模板的列名。"
        )
    index = {columns[h]: i for i, h in enumerate(header) if h in columns}
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


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone number Excel turned into a number
    return str(value).strip()


AMBIGUOUS = object()


def _station_lookup() -> dict:
    """Station by code or by name; a name two stations in service share maps to AMBIGUOUS (use
    the code). A merged station is found too (validation says which station took it over), but
    its name never hides a station in service of the same name."""
    q = (
        select(Jurisdiction)
        .where(Jurisdiction.level == "station")
        .options(selectinload(Jurisdiction.merge))
    )
    stations = sorted(db.session.scalars(q), key=lambda s: s.merge is not None)
    lookup: dict = {}
    for s in stations:
        if s.name not in lookup:
            lookup[s.name] = s
        elif s.merge is None:
            lookup[s.name] = AMBIGUOUS
    lookup.update((s.code, s) for s in stations)
    return lookup


def _prepare(
    actor, rows: list[tuple[int, dict]]
) -> tuple[ImportReport, list[tuple[int, dict, Workshop | None]]]:
    """Validate every row (nothing written). Returns the report and the rows ready to apply."""
    report = ImportReport(total=len(rows))
    stations = _station_lookup()
    catalogue = category_catalogue()
    cert_nos = [re.sub(r"\s", "", cell_text(r.get("cert_no"))) for _, r in rows]
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
            k: cell_text(v) if k not in ("valid_from", "valid_to") else v for k, v in raw.items()
        }
        problems = []
        station_key = data.get("station_code") or data.get("station", "")
        station = stations.get(station_key)
        if station is AMBIGUOUS:
            problems.append(f"所属所“{data['station']}”有重名，请改填辖区代码")
            station = None
        elif station is None:
            problems.append(f"所属所“{station_key}”不存在（填所名或辖区代码）")
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
        tier = _tier_of(data.pop("tier", ""), raw.get("tier_since"), current, problems)
        data.pop("tier_since", None)
        if (
            station is not None
            and actor is not None
            and not access.can(actor, "import", station.id)
        ):
            problems.append(f"您无权向“{station.name}”导入作坊")
        if (
            tier is not None
            and station is not None
            and actor is not None
            and not access.can(actor, "publish_tier", station.id)
        ):
            problems.append("只有县局管理员可以导入存量榜级")
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
        if tier is not None:
            values["tier"] = tier
        ready.append((row_no, values, current))
    return report, ready


def _tier_of(label: str, since_raw, current: Workshop | None, problems: list) -> tuple | None:
    """The 榜级/定榜日期 columns as (tier code, effective date), or None when the row sets no tier.

    A tier from before this system (存量) is taken only for a workshop not rated here yet; a
    rated workshop changes tier through 分级定榜 (proposal, decision, publication), never by sheet.
    """
    dep = current_deployment()
    label = (label or "").strip()
    if not label or label in (dep.unrated.code, dep.unrated.name):
        return None
    by_label = {t.name: t.code for t in dep.tiers} | {t.code: t.code for t in dep.tiers}
    code = by_label.get(label)
    if code is None:
        names = "、".join(t.name for t in dep.tiers)
        problems.append(f"榜级“{label}”应为{names}或{dep.unrated.name}")
        return None
    try:
        since = parse_date(since_raw)
    except ValueError:
        problems.append(f"定榜日期“{cell_text(since_raw)}”不是有效日期（应如 2024-06-01）")
        return None
    if since is None:
        problems.append("填写了榜级，请同时填写定榜日期")
        return None
    if since > today():
        problems.append("定榜日期不能晚于今天")
        return None
    if current is not None and current.tier_code != dep.unrated.code:
        if current.tier_code == code and current.tier_since == since:
            return None  # what the system already says: nothing to do
        problems.append(
            f"该作坊已有榜级“{dep.tier(current.tier_code).name}”，"
            "榜级变更请在分级定榜中办理，不能通过导入修改"
        )
        return None
    return (code, since)


def _record_legacy_tier(actor, w: Workshop, code: str, since) -> None:
    tiers.record_legacy(actor, w, code, since)


def dry_run(actor, rows: list[tuple[int, dict]]) -> ImportReport:
    """Check a sheet without writing anything: every bad row with its number and reason."""
    require(actor, "import", None)
    report, ready = _prepare(actor, rows)
    for row_no, values, current in ready:
        if current is None:
            outcome = "create"
        elif _changed(current, values):
            outcome = "update"
        else:
            outcome = "unchanged"
        _count(report, row_no, outcome, values.get("name") or current.name)
    return report


def _count(report: ImportReport, row_no: int, outcome: str, name: str) -> None:
    setattr(report, _COUNTER[outcome], getattr(report, _COUNTER[outcome]) + 1)
    report.outcomes.append((row_no, ROW_OUTCOME[outcome], name))


_COUNTER = {"create": "created", "update": "updated", "unchanged": "unchanged"}


def _changed(w: Workshop, values: dict) -> bool:
    for key, value in values.items():
        if key == "tier":
            return True  # _tier_of() keeps a tier only when it sets one
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
    from ..codes import new_public_code

    require(actor, "import", None)
    report, ready = _prepare(actor, rows)
    if report.errors:
        return report
    # New workshops go in together: the first touch() flushes them all in one batch.
    created = []
    with db.session.no_autoflush:
        codes: set[str] = set()
        for row_no, values, current in ready:
            if current is None:
                code = new_public_code()
                while code in codes:
                    code = new_public_code()
                codes.add(code)
                status = values.pop("status")
                tier = values.pop("tier", None)
                w = Workshop(public_code=code, status=status, status_changed_on=today())
                apply_values(w, values)
                db.session.add(w)
                created.append((row_no, w, tier))
    for row_no, w, tier in created:
        changes.touch(w)
        audit.record(actor, "workshop.import_create", "workshop", w.id, after=snapshot(w))
        if tier is not None:
            _record_legacy_tier(actor, w, *tier)
        _count(report, row_no, "create", w.name)
        if progress:
            progress(1)
    for row_no, values, current in ready:
        if current is None:
            continue
        w = current
        status = values.pop("status")
        tier = values.pop("tier", None)
        if tier is None and not _changed(w, dict(values, status=status)):
            _count(report, row_no, "unchanged", w.name)
        else:
            before = snapshot(w)
            for key, value in values.items():
                if key != "categories":
                    setattr(w, key, value)
            w.categories = values["categories"]
            if status != w.status:
                w.status = status
                w.status_changed_on = today()
            after = snapshot(w)
            touch_checked(w)
            if after != before:
                audit.record(
                    actor,
                    "workshop.import_update",
                    "workshop",
                    w.id,
                    before=diff(before, after),
                    after=diff(after, before),
                )
            if tier is not None:
                _record_legacy_tier(actor, w, *tier)
            _count(report, row_no, "update", w.name)
        if progress:
            progress(1)
    report.applied = True
    return report


def template_csv(actor=None) -> bytes:
    """An import template (header plus one example row), UTF-8 with BOM for Excel.

    The example passes its own dry run: a real station the actor may import into, and a
    certificate number that is valid and not yet used.
    """
    dep = current_deployment()
    q = (
        select(Jurisdiction)
        .where(Jurisdiction.level == "station", IN_SERVICE)
        .order_by(Jurisdiction.code)
    )
    scope = access.visible_jurisdiction_ids(actor) if actor is not None else None
    if scope is not None:
        q = q.where(Jurisdiction.id.in_(scope))
    station = db.session.scalars(q.limit(1)).first()
    category = db.session.scalars(select(ProductCategory).order_by(ProductCategory.code)).first()
    example = {
        "name": "老东河豆腐坊",
        "cert_type": dep.certificate_types[0],
        "cert_no": unused_certificate_number(),
        "operator_name": "王建国",
        "operator_phone": "13904721234",
        "address": "巴彦塔拉大街1号",
        "station": station.name if station else "",
        "category_names": category.name if category else "",
        "varieties": "豆腐、豆腐干",
        "valid_from": "2025-01-01",
        "valid_to": "2028-01-01",
        "status": "在营",
        "safety_manager": "王建国",
        "station_code": station.code if station else "",
        "tier": dep.unrated.name,
    }
    rows = [list(COLUMNS), [example.get(key, "") for key in COLUMNS.values()]]
    return ("\ufeff" + spreadsheet.csv_text(rows)).encode("utf-8")


def unused_certificate_number() -> str:
    """The deployment's example number, or the nearest variant of it (its last run of digits
    counted down) that matches the pattern and no workshop holds."""
    dep = current_deployment()
    example = dep.certificate_example
    runs = list(re.finditer(r"\d+", example))
    candidates = [example]
    if runs:
        last = runs[-1]
        width, start = len(last[0]), int(last[0])
        candidates += [
            example[: last.start()]
            + str((start - i) % 10**width).zfill(width)
            + example[last.end() :]
            for i in range(1, 200)
        ]
    valid = [c for c in candidates if dep.valid_certificate_number(c)]
    used = set(db.session.scalars(select(Workshop.cert_no).where(Workshop.cert_no.in_(valid))))
    return next((c for c in valid if c not in used), example)
