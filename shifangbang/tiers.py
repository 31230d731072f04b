"""分级定榜: tier decisions are proposed, decided, then published; only published ones are public.

The workshop's current tier (Workshop.tier_code / tier_since) is the latest published decision,
kept here so lists and search need no history scan.
"""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from . import access, audit, changes, current_deployment
from .errors import DomainError
from .extensions import db
from .labels import TIER_REASONS
from .models import Complaint, Inspection, Sampling, TierDecision, Workshop
from .timeutil import CHINA, today, utcnow
from .tx import transactional

AUDIT_FIELDS = (
    "workshop_id",
    "from_tier",
    "to_tier",
    "direction",
    "reason_category",
    "reason",
    "status",
    "effective_on",
    "inspection_id",
    "sampling_id",
    "complaint_id",
    "is_upgrade_request",
)


class TierError(DomainError):
    """A rule refused the change; the message is Chinese and shown to the regulator."""


def rank(code: str) -> int:
    return current_deployment().tier(code).rank


def direction(from_tier: str, to_tier: str) -> str:
    if rank(from_tier) == 0:
        return "initial"
    if rank(to_tier) > rank(from_tier):
        return "upgrade"
    if rank(to_tier) < rank(from_tier):
        return "downgrade"
    return "reconfirm"


def window_start(on: date) -> datetime:
    """The start (naive UTC) of the trailing 12 months ending on China-local day `on`.

    A request made on 10 March 2025 counts on every day up to 9 March 2026 and no longer on
    10 March 2026: the window is the twelve calendar months (on - 1 year, on].
    """
    try:
        first = on.replace(year=on.year - 1) + timedelta(days=1)
    except ValueError:  # 29 February: a year earlier has no such day
        first = date(on.year - 1, 3, 1)
    return datetime.combine(first, time(), CHINA).astimezone(UTC).replace(tzinfo=None)


def upgrade_requests_in_last_year(workshop: Workshop, on: date | None = None) -> int:
    since = window_start(on or today())
    q = select(func.count(TierDecision.id)).where(
        TierDecision.workshop_id == workshop.id,
        TierDecision.is_upgrade_request.is_(True),
        TierDecision.proposed_at >= since,
    )
    return db.session.scalar(q)


@transactional
def propose(
    actor,
    workshop: Workshop,
    to_tier: str,
    reason_category: str,
    reason: str = "",
    *,
    inspection: Inspection | None = None,
    sampling: Sampling | None = None,
    complaint: Complaint | None = None,
    upgrade_request: bool = False,
) -> TierDecision:
    access.require(actor, "propose_tier", workshop.station_id)
    deployment = current_deployment()
    if to_tier not in deployment.tier_codes:
        raise TierError("请选择有效的榜级。")
    if reason_category not in TIER_REASONS or reason_category == "legacy_import":
        raise TierError("请选择定榜原因类别。")
    for evidence in (inspection, sampling, complaint):
        if evidence is not None and evidence.workshop_id != workshop.id:
            raise TierError("所附证据不属于该作坊。")
    if complaint is not None and complaint.verified is not True:
        raise TierError("只有经查属实的投诉举报可以作为定榜证据。")
    if upgrade_request:
        limit = deployment.bureau.upgrade_requests_per_year
        if upgrade_requests_in_last_year(workshop) >= limit:
            raise TierError(f"该作坊近 12 个月已提出 {limit} 次升榜申请，已达上限。")
    decision = TierDecision(
        workshop_id=workshop.id,
        from_tier=workshop.tier_code,
        to_tier=to_tier,
        direction=direction(workshop.tier_code, to_tier),
        reason_category=reason_category,
        reason=reason,
        status="proposed",
        proposed_by_id=getattr(actor, "id", None),
        inspection_id=inspection.id if inspection else None,
        sampling_id=sampling.id if sampling else None,
        complaint_id=complaint.id if complaint else None,
        is_upgrade_request=upgrade_request,
    )
    if upgrade_request and decision.direction != "upgrade":
        raise TierError("升榜申请的目标榜级必须高于当前榜级。")
    db.session.add(decision)
    db.session.flush()
    audit.record(
        actor,
        "tier.propose",
        "tier_decision",
        decision.id,
        after=audit.snapshot(decision, AUDIT_FIELDS),
    )
    return decision


@transactional
def decide(
    actor, decision: TierDecision, approve: bool, effective_on: date | None = None, note: str = ""
) -> TierDecision:
    """The bureau approves (→ decided, awaiting publication) or rejects a proposal."""
    workshop = db.session.get(Workshop, decision.workshop_id)
    access.require(actor, "decide_tier", workshop.station_id)
    if decision.status != "proposed":
        raise TierError("只能对待决定的定榜建议作出决定。")
    before = audit.snapshot(decision, AUDIT_FIELDS)
    decision.status = "decided" if approve else "rejected"
    decision.decided_by_id = getattr(actor, "id", None)
    decision.decided_at = utcnow()
    decision.effective_on = effective_on or today()
    if note:
        decision.reason = (decision.reason + "\n" + note).strip()
    if approve:
        changes.touch(workshop)  # the public page now says 新评级待发布
    audit.record(
        actor,
        "tier.decide" if approve else "tier.reject",
        "tier_decision",
        decision.id,
        before=before,
        after=audit.snapshot(decision, AUDIT_FIELDS),
    )
    return decision


@transactional
def publish(actor, decision: TierDecision) -> TierDecision:
    workshop = db.session.get(Workshop, decision.workshop_id)
    access.require(actor, "publish_tier", workshop.station_id)
    if decision.status != "decided":
        raise TierError("只能发布已决定的定榜结果。")
    before = audit.snapshot(decision, AUDIT_FIELDS)
    decision.status = "published"
    decision.published_at = utcnow()
    # The decision's starting point is the tier at publication, not at proposal time.
    decision.from_tier = workshop.tier_code
    decision.direction = direction(workshop.tier_code, decision.to_tier)
    workshop.tier_code = decision.to_tier
    workshop.tier_since = decision.effective_on or today()
    changes.touch(workshop)
    audit.record(
        actor,
        "tier.publish",
        "tier_decision",
        decision.id,
        before=before,
        after=audit.snapshot(decision, AUDIT_FIELDS),
    )
    return decision


LEGACY_SOURCE = "存量导入"


def record_legacy(actor, workshop: Workshop, to_tier: str, effective_on: date) -> TierDecision:
    """A tier published before this system (存量导入) enters as a published initial decision.

    Only for a workshop not rated here yet; the caller (the registry import) has checked the
    ladder code and that the date is not in the future. Audited like any publication.
    """
    if actor is not None:
        access.require(actor, "publish_tier", workshop.station_id)
    if workshop.tier_code != current_deployment().unrated.code:
        raise TierError("该作坊已有榜级，存量榜级只能导入给尚未评定的作坊。")
    if effective_on > today():
        raise TierError("定榜日期不能晚于今天。")
    now = utcnow()
    decision = TierDecision(
        workshop_id=workshop.id,
        from_tier=workshop.tier_code,
        to_tier=to_tier,
        direction="initial",
        reason_category="legacy_import",
        reason=f"{LEGACY_SOURCE}：{effective_on.isoformat()} 起公布的榜级",
        status="published",
        effective_on=effective_on,
        proposed_by_id=getattr(actor, "id", None),
        proposed_at=now,
        decided_by_id=getattr(actor, "id", None),
        decided_at=now,
        published_at=now,
    )
    db.session.add(decision)
    workshop.tier_code = to_tier
    workshop.tier_since = effective_on
    db.session.flush()
    changes.touch(workshop)
    audit.record(
        actor,
        "tier.import",
        "tier_decision",
        decision.id,
        after=dict(audit.snapshot(decision, AUDIT_FIELDS), source=LEGACY_SOURCE),
    )
    return decision


@transactional
def open_review(actor, workshop: Workshop, complaint: Complaint) -> TierDecision | None:
    """A complaint or report verified true (查实) proposes a one-step downgrade for the bureau to decide.

    Returns None when the workshop is unrated or already at the bottom of the ladder, or a
    review for this complaint is already open.
    """
    ladder = current_deployment().tiers
    codes = [t.code for t in ladder]
    if workshop.tier_code not in codes or workshop.tier_code == codes[-1]:
        return None
    exists = db.session.scalar(
        select(TierDecision.id).where(TierDecision.complaint_id == complaint.id)
    )
    if exists:
        return None
    lower = codes[codes.index(workshop.tier_code) + 1]
    return propose(
        actor,
        workshop,
        lower,
        "complaint",
        f"投诉举报 {complaint.tracking_no} 经查属实",
        complaint=complaint,
    )


def pending_publication(workshop: Workshop) -> TierDecision | None:
    """A decided but unpublished decision: the public page shows 新评级待发布."""
    return db.session.scalar(
        select(TierDecision)
        .where(TierDecision.workshop_id == workshop.id, TierDecision.status == "decided")
        .order_by(TierDecision.decided_at.desc())
        .limit(1)
    )


def full_history(workshop: Workshop) -> list[TierDecision]:
    """Every decision of the workshop (proposed, decided, published, rejected), newest first."""
    return list(
        db.session.scalars(
            select(TierDecision)
            .where(TierDecision.workshop_id == workshop.id)
            .order_by(TierDecision.proposed_at.desc(), TierDecision.id.desc())
        )
    )


def evidence_choices(workshop: Workshop) -> dict:
    """What a proposal may link to: the workshop's inspections, samplings and verified complaints."""
    return {
        "inspections": list(
            db.session.scalars(
                select(Inspection)
                .where(Inspection.workshop_id == workshop.id)
                .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())
                .limit(50)
            )
        ),
        "samplings": list(
            db.session.scalars(
                select(Sampling)
                .where(Sampling.workshop_id == workshop.id)
                .order_by(Sampling.sampled_on.desc(), Sampling.id.desc())
                .limit(50)
            )
        ),
        "complaints": list(
            db.session.scalars(
                select(Complaint)
                .where(Complaint.workshop_id == workshop.id, Complaint.verified.is_(True))
                .order_by(Complaint.received_at.desc())
                .limit(50)
            )
        ),
    }


def published_history(workshop: Workshop) -> list[TierDecision]:
    return list(
        db.session.scalars(
            select(TierDecision)
            .where(TierDecision.workshop_id == workshop.id, TierDecision.status == "published")
            .order_by(TierDecision.published_at.desc())
        )
    )
