"""The officer's to-do list (待办) on the back-office home: what needs doing now, counted within
the user's jurisdiction, each with a link to the screen where it is done.

Each kind of work is a provider: a function (user, scope, on) -> list[Todo]. Other parts of the
programme add theirs with @provider (e.g. plaque recovery after a title is revoked, once that
register exists); the home page needs no change.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from . import access
from .complaints import DUE_SOON_DAYS
from .extensions import db
from .labels import OPEN_COMPLAINT_STATUSES
from .models import (
    Complaint,
    Inspection,
    RandomDraw,
    RectificationItem,
    RevocationProposal,
    TierDecision,
    TitleGrant,
    Workshop,
)
from .timeutil import local, local_day_start, today

RECTIFICATION_SOON_DAYS = 7
DRAW_WINDOW_DAYS = 90  # a 双随机 draw's targets are to be inspected within this window
STATS_DUE_DAY = 24  # the monthly 统计表 is due at the county on the 24th (DESIGN §2b)
STATS_NOTICE_DAYS = 7


@dataclass(frozen=True)
class Todo:
    label: str
    count: int
    endpoint: str
    args: dict
    urgent: bool = False  # past its deadline
    note: str = ""


PROVIDERS: list = []


def provider(fn):
    PROVIDERS.append(fn)
    return fn


def for_user(user, on: date | None = None) -> list[Todo]:
    """Every non-empty to-do item for the user, urgent ones first."""
    on = on or today()
    scope = access.visible_jurisdiction_ids(user)
    items = [t for p in PROVIDERS for t in p(user, scope, on) if t.count]
    return sorted(items, key=lambda t: not t.urgent)


def _in(q, column, scope):
    return q if scope is None else q.where(column.in_(scope))


def _count(q) -> int:
    return db.session.scalar(q) or 0


@provider
def complaints_due(user, scope, on):
    base = select(func.count(Complaint.id)).where(Complaint.status.in_(OPEN_COMPLAINT_STATUSES))
    base = _in(base, Complaint.jurisdiction_id, scope)
    late = _count(base.where(Complaint.due_on < on))
    soon = _count(
        base.where(Complaint.due_on >= on, Complaint.due_on <= on + timedelta(days=DUE_SOON_DAYS))
    )
    return [
        Todo("投诉举报已超过法定期限", late, "admin_complaints.inbox", {"overdue": "1"}, True),
        Todo(
            f"投诉举报 {DUE_SOON_DAYS} 日内到期",
            soon,
            "admin_complaints.inbox",
            {"due_soon": "1"},
        ),
        Todo(
            "新收到待处理的投诉举报",
            _count(
                _in(
                    select(func.count(Complaint.id)).where(Complaint.status == "new"),
                    Complaint.jurisdiction_id,
                    scope,
                )
            ),
            "admin_complaints.inbox",
            {"status": "new"},
        ),
    ]


@provider
def proposals_waiting(user, scope, on):
    """Tier and title proposals waiting for the bureau; an officer sees them as information."""
    tier = select(func.count(TierDecision.id)).join(Workshop)
    tier = _in(tier, Workshop.station_id, scope)
    title = (
        select(func.count(RevocationProposal.id))
        .join(TitleGrant, TitleGrant.id == RevocationProposal.grant_id)
        .join(Workshop, Workshop.id == TitleGrant.workshop_id)
        .where(RevocationProposal.status == "pending")
    )
    title = _in(title, Workshop.station_id, scope)
    deciding = access.can(user, "decide_tier")
    note = "" if deciding else "待县局决定"
    return [
        Todo(
            "定榜建议待决定",
            _count(tier.where(TierDecision.status == "proposed")),
            "admin_tiers.index",
            {},
            note=note,
        ),
        Todo(
            "定榜结果待发布",
            _count(tier.where(TierDecision.status == "decided")),
            "admin_tiers.index",
            {},
            note=note,
        ),
        Todo("撤销称号建议待确认", _count(title), "admin_titles.index", {}, note=note),
    ]


@provider
def rectifications_due(user, scope, on):
    items = (
        select(func.count(RectificationItem.id))
        .join(Workshop, Workshop.id == RectificationItem.workshop_id)
        .where(RectificationItem.fixed_on.is_(None))
    )
    items = _in(items, Workshop.station_id, scope)
    orders = (
        select(func.count(Inspection.id))
        .join(Workshop, Workshop.id == Inspection.workshop_id)
        .where(
            Inspection.rectification_required.is_(True),
            Inspection.rectification_done_on.is_(None),
            Inspection.rectification_due < on,
        )
    )
    orders = _in(orders, Workshop.station_id, scope)
    soon = on + timedelta(days=RECTIFICATION_SOON_DAYS)
    return [
        Todo(
            "挂账问题逾期未销号",
            _count(items.where(RectificationItem.due_on < on)),
            "admin_tiers.ledger",
            {},
            True,
        ),
        Todo(
            f"挂账问题 {RECTIFICATION_SOON_DAYS} 日内到期",
            _count(items.where(RectificationItem.due_on >= on, RectificationItem.due_on <= soon)),
            "admin_tiers.ledger",
            {},
        ),
        Todo("检查整改逾期未完成", _count(orders), "admin_inspections.index", {}, True),
    ]


@provider
def draws_to_carry_out(user, scope, on):
    """Targets of recent 双随机 draws not yet inspected (kind 双随机) since the draw."""
    q = select(RandomDraw).where(
        RandomDraw.drawn_at >= local_day_start(on - timedelta(days=DRAW_WINDOW_DAYS))
    )
    q = _in(q, RandomDraw.jurisdiction_id, scope)
    out = []
    for d in db.session.scalars(q.order_by(RandomDraw.id)):
        targets = {r["workshop_id"] for r in d.result or [] if isinstance(r, dict)}
        if not targets:
            continue
        done = set(
            db.session.scalars(
                select(Inspection.workshop_id).where(
                    Inspection.workshop_id.in_(targets),
                    Inspection.kind == "random",
                    Inspection.inspected_on >= local(d.drawn_at).date(),
                )
            )
        )
        left = len(targets - done)
        out.append(
            Todo(
                f"第 {d.id} 次双随机抽取：待检查的作坊",
                left,
                "admin_draws.show",
                {"draw_id": d.id},
            )
        )
        if not d.published and access.can(user, "publish_draw", d.jurisdiction_id):
            out.append(
                Todo(f"第 {d.id} 次双随机抽取待公开", 1, "admin_draws.show", {"draw_id": d.id})
            )
    return out


@provider
def monthly_sheet_due(user, scope, on):
    """The monthly 统计表, due on the 24th: shown in the week before."""
    due = on.replace(day=STATS_DUE_DAY)
    if not 0 <= (due - on).days <= STATS_NOTICE_DAYS:
        return []
    return [
        Todo(
            f"{on.month}月统计表 {due.month}月{due.day}日前报送",
            1,
            "admin_stats.index",
            {"year": on.year, "month": on.month},
            note="导出后报县局",
        )
    ]


from . import programme_todo  # noqa: E402,F401  the action programme's providers (DESIGN.md §2b)
