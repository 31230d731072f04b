"""Inspection rules (监督检查; docs/architecture.md): recording, the overall result, rectification orders,
and the tier proposals an inspection implies.

Tier rule encoded here (the system proposes, the bureau decides — never auto-published):
- 不符合: propose a one-step downgrade (two steps when a key item failed), clamped at the bottom
  tier, reason 'inspection', with the inspection as evidence. Unrated workshops and workshops
  already at the bottom get no proposal (there is nothing to downgrade; their first rating is a
  separate decision).
- 基本符合: no tier proposal; the failed items go into the rectification ledger with the deadline.
- 符合: propose a one-step upgrade (not above the top tier) when the workshop has no open
  rectification (inspection orders and ledger items all closed) and no confirmed failed sampling
  in the 12 months before the inspection.
- No proposal is made while another proposal for the workshop is still open (proposed or decided).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from . import access, audit, changes, colourcode, current_deployment, textinput
from .errors import DomainError
from .extensions import db
from .labels import INSPECTION_KIND, INSPECTION_RESULT
from .models import (
    Inspection,
    InspectionItem,
    Jurisdiction,
    RectificationItem,
    TierDecision,
    User,
    Workshop,
)
from .timeutil import today
from .tx import transactional

# 基本符合 allows at most this many failed ordinary items; any failed key item is 不符合.
MAX_ORDINARY_FAILURES_FOR_BASIC = 8
MIN_INSPECTORS = 2
AUDIT_FIELDS = (
    "workshop_id",
    "inspected_on",
    "kind",
    "result",
    "summary",
    "rectification_required",
    "rectification_due",
    "rectification_done_on",
)


class InspectionError(DomainError):
    """A rule refused the inspection; the Chinese message is shown to the regulator."""


def overall_result(items: Iterable) -> str:
    """符合 / 基本符合 / 不符合 from checklist items (objects with .is_key and .outcome).

    pass  – no item failed;
    basic – only ordinary items failed, at most 8 of them;
    fail  – any key item failed, or more than 8 ordinary items failed.
    """
    ordinary_failures = 0
    for item in items:
        if item.outcome != "fail":
            continue
        if item.is_key:
            return "fail"
        ordinary_failures += 1
    if ordinary_failures == 0:
        return "pass"
    return "basic" if ordinary_failures <= MAX_ORDINARY_FAILURES_FOR_BASIC else "fail"


def ancestor_ids(jurisdiction_id: int) -> list[int]:
    """The jurisdiction and every level above it (station → county → city)."""
    out, node = [], db.session.get(Jurisdiction, jurisdiction_id)
    while node is not None:
        out.append(node.id)
        node = node.parent
    return out


def eligible_inspectors(workshop: Workshop) -> list[User]:
    """Active officers (or bureau staff with a jurisdiction) whose jurisdiction covers the workshop."""
    q = (
        select(User)
        .where(
            User.active.is_(True),
            User.role.in_(("officer", "admin")),
            User.jurisdiction_id.in_(ancestor_ids(workshop.station_id)),
        )
        .order_by(User.display_name, User.id)
    )
    return list(db.session.scalars(q))


@dataclass
class ItemResult:
    code: str
    outcome: str  # pass | fail | na
    note: str = ""


@transactional
def record(
    actor,
    workshop: Workshop,
    *,
    inspected_on: date,
    kind: str,
    inspector_ids: list[int],
    items: list[ItemResult],
    summary: str = "",
    rectification_due: date | None = None,
    draw_id: int | None = None,
    complaint_id: int | None = None,
) -> Inspection:
    """Record an inspection against the configured checklist; returns it (with .proposal set when
    the result implies a tier change, see the module docstring)."""
    access.require(actor, "inspect", workshop.station_id)
    if kind not in INSPECTION_KIND:
        raise InspectionError("请选择检查类型。")
    if inspected_on is None or inspected_on > today():
        raise InspectionError("检查日期不能晚于今天。")
    eligible = {u.id: u for u in eligible_inspectors(workshop)}
    chosen = list(dict.fromkeys(int(i) for i in inspector_ids))
    if len(chosen) < MIN_INSPECTORS:
        raise InspectionError(f"检查人员至少 {MIN_INSPECTORS} 名。")
    if any(i not in eligible for i in chosen):
        raise InspectionError("检查人员须为该作坊所在辖区的执法人员。")
    checklist = {c["code"]: c for c in current_deployment().checklist_items()}
    given = {r.code: r for r in items}
    if set(given) - set(checklist):
        raise InspectionError("检查项目与当前检查表不符，请刷新页面后重新填写。")
    missing = [code for code in checklist if code not in given]
    if missing:
        raise InspectionError(
            f"还有 {len(missing)} 个检查项目未填写结果（{'、'.join(missing[:5])}…）。"
            if len(missing) > 5
            else f"以下检查项目未填写结果：{'、'.join(missing)}。"
        )
    rows = []
    for code, spec in checklist.items():
        r = given[code]
        if r.outcome not in ("pass", "fail", "na"):
            raise InspectionError(f"检查项目 {code} 的结果无效。")
        if r.outcome == "fail" and not (r.note or "").strip():
            raise InspectionError(f"不合格项目 {code} 请填写问题说明。")
        too_long = textinput.too_long(f"检查项目 {code} 的说明", 300, (r.note or "").strip())
        if too_long:
            raise InspectionError(too_long)
        rows.append(
            InspectionItem(
                area=spec["area"],
                code=code,
                text=spec["text"],
                is_key=bool(spec.get("key")),
                outcome=r.outcome,
                note=(r.note or "").strip(),
            )
        )
    result = overall_result(rows)
    needs_rectification = result != "pass"
    if needs_rectification:
        if rectification_due is None:
            raise InspectionError("检查结果为基本符合或不符合，须下达整改通知并填写整改期限。")
        if rectification_due <= inspected_on:
            raise InspectionError("整改期限须晚于检查日期。")
    inspection = Inspection(
        workshop_id=workshop.id,
        inspected_on=inspected_on,
        kind=kind,
        result=result,
        summary=summary.strip(),
        rectification_required=needs_rectification,
        rectification_due=rectification_due if needs_rectification else None,
        draw_id=draw_id,
        complaint_id=complaint_id,
        recorded_by_id=getattr(actor, "id", None),
        inspectors=[eligible[i] for i in chosen],
        items=rows,
    )
    db.session.add(inspection)
    db.session.flush()
    # 挂账: every failed item becomes a ledger problem with the order's deadline.
    for row in rows:
        if row.outcome == "fail":
            db.session.add(
                RectificationItem(
                    workshop_id=workshop.id,
                    inspection_id=inspection.id,
                    problem=f"{row.code} {row.text}：{row.note}"[:300],
                    due_on=rectification_due,
                )
            )
    if workshop.last_inspected_on is None or inspected_on >= workshop.last_inspected_on:
        workshop.last_inspected_on = inspected_on
    changes.touch(workshop)
    audit.record(
        actor,
        "inspection.record",
        "inspection",
        inspection.id,
        after=dict(
            audit.snapshot(inspection, AUDIT_FIELDS),
            inspectors=chosen,
            failed=[r.code for r in rows if r.outcome == "fail"],
        ),
    )
    colourcode.check_at_inspection(actor, inspection)  # 色标化 is a checklist item
    inspection.proposal = propose_from_result(actor, workshop, inspection)
    return inspection


def open_rectifications(workshop: Workshop) -> int:
    orders = db.session.scalars(
        select(Inspection.id).where(
            Inspection.workshop_id == workshop.id,
            Inspection.rectification_required.is_(True),
            Inspection.rectification_done_on.is_(None),
        )
    ).all()
    items = db.session.scalars(
        select(RectificationItem.id).where(
            RectificationItem.workshop_id == workshop.id, RectificationItem.fixed_on.is_(None)
        )
    ).all()
    return len(orders) + len(items)


def proposed_tier(workshop: Workshop, inspection: Inspection) -> str | None:
    """The tier the rule implies after this inspection, or None (see the module docstring)."""
    from . import sampling

    codes = current_deployment().tier_codes  # best first
    if workshop.tier_code not in codes:
        return None
    pos = codes.index(workshop.tier_code)
    if inspection.result == "fail":
        steps = 2 if any(i.is_key and i.outcome == "fail" for i in inspection.items) else 1
        target = min(pos + steps, len(codes) - 1)
        return codes[target] if target != pos else None
    if inspection.result == "pass" and pos > 0:
        if open_rectifications(workshop):
            return None
        if sampling.confirmed_failures(
            workshop, since=_year_before(inspection.inspected_on), until=inspection.inspected_on
        ):
            return None
        return codes[pos - 1]
    return None


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def propose_from_result(actor, workshop: Workshop, inspection: Inspection) -> TierDecision | None:
    from . import tiers

    target = proposed_tier(workshop, inspection)
    if target is None or tiers.has_open_decision(workshop):
        return None
    verb = "降榜" if tiers.rank(target) < tiers.rank(workshop.tier_code) else "升榜"
    reason = (
        f"系统依据 {inspection.inspected_on.isoformat()} {INSPECTION_KIND[inspection.kind]}结果"
        f"（{INSPECTION_RESULT[inspection.result]}）建议{verb}。"
    )
    public = (
        f"{inspection.inspected_on.year}年{inspection.inspected_on.month}月"
        f"{inspection.inspected_on.day}日{INSPECTION_KIND[inspection.kind]}结果为"
        f"“{INSPECTION_RESULT[inspection.result]}”。"
    )
    return tiers.propose(
        actor, workshop, target, "inspection", reason, public_reason=public, inspection=inspection
    )


@transactional
def complete_rectification(
    actor, inspection: Inspection, done_on: date, note: str = ""
) -> Inspection:
    """整改完成: closes the order and strikes off its ledger problems that are still open."""
    workshop = db.session.get(Workshop, inspection.workshop_id)
    access.require(actor, "inspect", workshop.station_id)
    if not inspection.rectification_required:
        raise InspectionError("该次检查没有整改要求。")
    if inspection.rectification_done_on is not None:
        raise InspectionError("该整改已于此前确认完成。")
    if done_on is None or done_on < inspection.inspected_on or done_on > today():
        raise InspectionError("整改完成日期须在检查日期之后、且不晚于今天。")
    before = audit.snapshot(inspection, AUDIT_FIELDS)
    inspection.rectification_done_on = done_on
    if note:
        inspection.summary = (inspection.summary + "\n整改复查：" + note.strip()).strip()
    for item in db.session.scalars(
        select(RectificationItem).where(
            RectificationItem.inspection_id == inspection.id, RectificationItem.fixed_on.is_(None)
        )
    ):
        item.fixed_on = done_on
        item.verified_by_id = getattr(actor, "id", None)
    changes.touch(workshop)
    audit.record(
        actor,
        "inspection.rectified",
        "inspection",
        inspection.id,
        before=before,
        after=audit.snapshot(inspection, AUDIT_FIELDS),
    )
    return inspection


def overdue_rectifications(
    jurisdiction_ids: set[int] | None, on: date | None = None
) -> list[Inspection]:
    """Rectification orders past their deadline and not completed, oldest deadline first."""
    on = on or today()
    q = (
        select(Inspection)
        .join(Workshop, Workshop.id == Inspection.workshop_id)
        .where(
            Inspection.rectification_required.is_(True),
            Inspection.rectification_done_on.is_(None),
            Inspection.rectification_due < on,
        )
        .options(selectinload(Inspection.workshop).selectinload(Workshop.station))
        .order_by(Inspection.rectification_due, Inspection.id)
    )
    if jurisdiction_ids is not None:
        q = q.where(Workshop.station_id.in_(jurisdiction_ids))
    return list(db.session.scalars(q))
