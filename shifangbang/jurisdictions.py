"""Jurisdictions (city → county → station): the names and contacts workshop pages show, and
the tree a new deployment imports on day one (`flask jurisdictions import`), before accounts
and workshops can name their station."""

import re

from sqlalchemy import func, select
from sqlalchemy import update as sa_update

from . import access, audit, changes
from .errors import DomainError
from .extensions import db
from .models import Complaint, Jurisdiction, JurisdictionMerge, User, Workshop
from .programme_models import EnforcementCase
from .registry.guard import require
from .registry.importing import ImportReport, cell_text, outcome, preview, tally
from .registry.validation import LANDLINE, MOBILE, normalise_phone
from .timeutil import today
from .tx import transactional

FIELDS = ("name", "phone", "address")
HOTLINE = re.compile(r"1\d{4}")  # 12315, 12345


def _public_phone(phone: str) -> bool:
    """A number the public can call: 0472-4100000, 0472-4100000转8, 13904721234, 12315."""
    number, sep, extension = phone.partition("转")
    if sep and not (extension.isdigit() and len(extension) <= 6):
        return False
    return any(p.fullmatch(number) for p in (LANDLINE, MOBILE, HOTLINE))


class JurisdictionError(DomainError):
    pass


def _checked(name: str, phone: str, address: str) -> tuple[str, str | None, str | None]:
    """(name, phone, address) as stored; JurisdictionError says what is wrong, in Chinese."""
    name, phone, address = ((v or "").strip() for v in (name, phone, address))
    if not name or len(name) > 80:
        raise JurisdictionError("请填写名称（不超过 80 字）。")
    phone = normalise_phone(phone)
    if phone and not _public_phone(phone):
        raise JurisdictionError(
            "电话应为带区号的固定电话（可加“转”分机号）、11 位手机号或 12315 这样的热线，"
            "如 0472-4100000。"
        )
    if len(address) > 200:
        raise JurisdictionError("地址不能超过 200 字。")
    return name, phone or None, address or None


@transactional
def update(actor, j: Jurisdiction, name: str, phone: str = "", address: str = "") -> Jurisdiction:
    """Rename a station or county, or change its phone or address. Every workshop page in its
    subtree shows these (supervising station, complaint phone), so they all follow at once."""
    require(actor, "edit_jurisdiction")
    name, phone, address = _checked(name, phone, address)
    before = {k: getattr(j, k) for k in FIELDS}
    j.name, j.phone, j.address = name, phone, address
    db.session.flush()
    changes.touch_where(Workshop.station_id.in_(access.subtree_ids(j.id)))
    audit.record(
        actor,
        "jurisdiction.update",
        "jurisdiction",
        j.id,
        before=before,
        after={k: getattr(j, k) for k in FIELDS},
    )
    return j


TOP_DOWN = ("city", "county", "station")
CHILD_LEVEL = dict(zip((None, *TOP_DOWN), TOP_DOWN))  # None → city → county → station
PARENT_LEVEL = dict(zip(TOP_DOWN, (None, *TOP_DOWN)))


@transactional
def create(
    actor, parent: Jurisdiction | None, code: str, name: str, phone: str = "", address: str = ""
) -> Jurisdiction:
    """A new city (no parent), county under a city, or station under a county; audited."""
    require(actor, "edit_jurisdiction")
    level = CHILD_LEVEL.get(parent.level if parent else None)
    if level is None:
        raise JurisdictionError("所（中队）下不能再设辖区。")
    code = (code or "").strip()
    if not CODE.fullmatch(code):
        raise JurisdictionError("辖区代码应为 1–20 位数字或字母，如 150202。")
    taken = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
    if taken is not None:
        raise JurisdictionError(f"辖区代码 {code} 已用于“{taken.name}”。")
    name, phone, address = _checked(name, phone, address)
    j = Jurisdiction(
        code=code,
        level=level,
        parent_id=parent.id if parent else None,
        name=name,
        phone=phone,
        address=address,
    )
    db.session.add(j)
    db.session.flush()
    audit.record(
        actor,
        "jurisdiction.create",
        "jurisdiction",
        j.id,
        after={"code": code, "level": level, **{k: getattr(j, k) for k in FIELDS}},
    )
    return j


# --- the tree from a sheet --------------------------------------------------------------------

COLUMNS = {
    "辖区代码": "code",
    "名称": "name",
    "层级": "level",
    "上级代码": "parent",
    "电话": "phone",
    "地址": "address",
}
REQUIRED_COLUMNS = ("辖区代码", "名称", "层级", "上级代码")
LEVELS = {
    "市": "city",
    "city": "city",
    "县": "county",
    "区": "county",
    "旗": "county",
    "县区": "county",
    "county": "county",
    "所": "station",
    "中队": "station",
    "station": "station",
}
LEVEL_LABEL = {"city": "市", "county": "县（区、旗）", "station": "所（中队）"}
CODE = re.compile(r"[0-9A-Za-z-]{1,20}")


def _cell(raw: dict, current: Jurisdiction | None, key: str) -> str:
    """A column the sheet leaves out keeps what is stored; an empty cell clears it."""
    if key not in raw and current is not None:
        return getattr(current, key) or ""
    return cell_text(raw.get(key))


def _check_tree(rows: list[tuple[int, dict]]) -> tuple[ImportReport, list[tuple[int, dict]]]:
    """Every row checked against the others and the database: (report with the errors, the
    good rows as {code, name, level, parent, phone, address, current})."""
    report, good = ImportReport(total=len(rows)), []
    known = {j.code: j for j in db.session.scalars(select(Jurisdiction))}
    in_file: dict[str, str] = {}  # code → level, for parents named in the same file
    seen: dict[str, int] = {}
    for row_no, raw in rows:
        code = cell_text(raw.get("code"))
        level = LEVELS.get(cell_text(raw.get("level")).lower(), "")
        if code in seen:
            report.errors.append((row_no, f"辖区代码 {code} 与第 {seen[code]} 行重复。"))
            continue
        seen[code] = row_no
        if CODE.fullmatch(code) and level:
            in_file[code] = level
    for row_no, raw in rows:
        code = cell_text(raw.get("code"))
        if seen.get(code) != row_no:
            continue  # the duplicate, already reported
        problems = []
        if not CODE.fullmatch(code):
            problems.append("辖区代码应为 1–20 位数字或字母，如 150202。")
        level = LEVELS.get(cell_text(raw.get("level")).lower())
        if level is None:
            problems.append("层级应为 市、县（区、旗）或 所（中队）。")
        parent = cell_text(raw.get("parent"))
        current = known.get(code)
        try:
            name, phone, address = _checked(*(_cell(raw, current, k) for k in FIELDS))
        except JurisdictionError as e:
            problems.append(str(e))
        if level is not None:
            wanted = PARENT_LEVEL[level]
            parent_level = in_file.get(parent) or (known[parent].level if parent in known else None)
            if wanted is None and parent:
                problems.append("市级辖区没有上级，请留空“上级代码”。")
            elif wanted and not parent:
                problems.append(f"请填写上级代码（{LEVEL_LABEL[wanted]}）。")
            elif wanted and parent_level is None:
                problems.append(f"上级代码 {parent} 既不在本文件中，也不在系统里。")
            elif wanted and parent_level != wanted:
                problems.append(f"上级 {parent} 应为{LEVEL_LABEL[wanted]}级辖区。")
        if current is not None and level is not None and not problems:
            parent_code = current.parent.code if current.parent else ""
            if current.level != level or parent_code != parent:
                problems.append(
                    "系统中已有这个辖区代码，导入只能更新名称、电话和地址；"
                    "改变层级或上级请联系系统管理员。"
                )
        if problems:
            report.errors.append((row_no, "".join(problems)))
            continue
        good.append(
            (
                row_no,
                dict(
                    code=code,
                    name=name,
                    level=level,
                    parent=parent,
                    phone=phone,
                    address=address,
                    current=current,
                ),
            )
        )
    return report, good


def check_tree(actor, rows: list[tuple[int, dict]]) -> ImportReport:
    """What importing these rows would do, writing nothing."""
    require(actor, "edit_jurisdiction")
    return preview(*_check_tree(rows), FIELDS)


@transactional
def import_tree(actor, rows: list[tuple[int, dict]]) -> ImportReport:
    """Create the jurisdictions a sheet names and update the names, phones and addresses of
    those already here (by 辖区代码): all rows or none. Each creation and change is audited."""
    require(actor, "edit_jurisdiction")
    report, good = _check_tree(rows)
    if report.errors:
        return report
    by_code = {j.code: j for j in db.session.scalars(select(Jurisdiction))}
    # Parents before their children.
    for _row_no, values in sorted(good, key=lambda r: TOP_DOWN.index(r[1]["level"])):
        done = outcome(values["current"], values, FIELDS)
        tally(report, done)
        if done == "updated":
            update(
                actor,
                values["current"],
                values["name"],
                values["phone"] or "",
                values["address"] or "",
            )
        elif done == "created":
            parent = by_code[values["parent"]] if values["parent"] else None
            j = create(
                actor,
                parent,
                values["code"],
                values["name"],
                values["phone"] or "",
                values["address"] or "",
            )
            by_code[j.code] = j
    return report


# --- a station merged into another (机构改革) ----------------------------------------------------

# What follows the workshops to the station that takes them over: the accounts of the merged
# station's staff and its case files (complaints and reports, enforcement cases), so that the
# officers in charge see the whole record of their workshops. What the merged station issued
# in its own name stays with it: published draws (双随机) and its periodic reports.
FOLLOW = (
    (Workshop, Workshop.station_id, "作坊"),
    (User, User.jurisdiction_id, "账号"),
    (Complaint, Complaint.jurisdiction_id, "投诉举报"),
    (EnforcementCase, EnforcementCase.station_id, "案件"),
)


def merge_preview(source: Jurisdiction) -> dict[str, int]:
    """{what (作坊, 账号 …): how many} would move with `source`."""
    return {
        label: db.session.scalar(select(func.count()).where(column == source.id))
        for _model, column, label in FOLLOW
    }


def say_moved(moved: dict[str, int]) -> str:
    return "、".join(f"{label} {n}" for label, n in moved.items())


def merge_check(source: Jurisdiction | None, target: Jurisdiction | None) -> None:
    """JurisdictionError, in Chinese, when `source` cannot be merged into `target`."""
    if source is None or target is None:
        raise JurisdictionError("请选择要并入的所（中队）和接收的所（中队）。")
    if source.level != "station" or target.level != "station":
        raise JurisdictionError("只能把一个所（中队）并入另一个所（中队）。")
    if source.id == target.id:
        raise JurisdictionError("不能把一个所并入它自己。")
    if source.merge is not None:
        raise JurisdictionError(
            f"{source.name}已于 {source.merge.merged_on} 并入{source.merge.target.name}。"
        )
    if target.merge is not None:
        raise JurisdictionError(
            f"{target.name}已并入{target.merge.target.name}，请选择仍在设置的所（中队）。"
        )


@transactional
def merge(actor, source: Jurisdiction, target: Jurisdiction, document: str) -> dict[str, int]:
    """Merge the station `source` into `target` today, as the bureau's document decides: its
    workshops, staff accounts and case files move (FOLLOW); every moved workshop's public page,
    poster and index entry show the new station at once; audited. {what: how many moved}."""
    require(actor, "edit_jurisdiction")
    merge_check(source, target)
    document = (document or "").strip()
    if not document or len(document) > 80:
        raise JurisdictionError("请填写撤并依据的文号（不超过 80 字），如 包市监发〔2026〕12号。")
    # Logged as changed before they move (the same transaction): pages, posters and the index
    # follow them to the new station.
    changes.touch_where(Workshop.station_id == source.id)
    moved = {}
    for model, column, label in FOLLOW:
        result = db.session.execute(
            sa_update(model)
            .where(column == source.id)
            .values({column.key: target.id})
            .execution_options(synchronize_session="fetch")
        )
        moved[label] = result.rowcount
    db.session.add(
        JurisdictionMerge(
            source_id=source.id, target_id=target.id, merged_on=today(), document=document
        )
    )
    db.session.flush()
    db.session.expire(source, ["merge"])
    audit.record(
        actor,
        "jurisdiction.merge",
        "jurisdiction",
        source.id,
        before={"code": source.code, "name": source.name},
        after={"into": target.code, "into_name": target.name, "document": document, "moved": moved},
    )
    return moved
