"""一坊一策、挂账销号: the rectification ledger. Each problem is logged with a due date (挂账) and
struck off when a regulator confirms it fixed (销号). Inspections add their failed items here
automatically; regulators add others (e.g. for a workshop on a tier that needs rectification)."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from . import access, audit, changes, current_deployment, textinput
from .errors import DomainError
from .extensions import db
from .models import RectificationItem, Workshop
from .timeutil import local_day_start, today
from .tx import transactional

AUDIT_FIELDS = (
    "workshop_id",
    "inspection_id",
    "problem",
    "measure",
    "due_on",
    "fixed_on",
    "verified_by_id",
)


class RectificationError(DomainError):
    pass


def needs_ledger(workshop: Workshop) -> bool:
    return current_deployment().tier(workshop.tier_code).needs_rectification


def ledger(workshop: Workshop) -> list[RectificationItem]:
    """Open problems first (by due date), then struck-off ones (latest first)."""
    items = list(
        db.session.scalars(
            select(RectificationItem).where(RectificationItem.workshop_id == workshop.id)
        )
    )
    open_ = sorted((i for i in items if i.fixed_on is None), key=lambda i: (i.due_on, i.id))
    done = sorted(
        (i for i in items if i.fixed_on is not None), key=lambda i: (i.fixed_on, i.id), reverse=True
    )
    return open_ + done


@transactional
def add_item(
    actor, workshop: Workshop, problem: str, due_on: date | None, measure: str = ""
) -> RectificationItem:
    access.require(actor, "rectify", workshop.station_id)
    problem = (problem or "").strip()
    if not problem:
        raise RectificationError("请填写存在的问题。")
    if due_on is None or due_on < today():
        raise RectificationError("请填写整改期限（不早于今天）。")
    measure = (measure or "").strip()
    for label, text in (("存在的问题", problem), ("整改措施", measure)):
        if error := textinput.too_long(label, 300, text):
            raise RectificationError(error)
    item = RectificationItem(
        workshop_id=workshop.id,
        problem=problem,
        measure=measure,
        due_on=due_on,
    )
    db.session.add(item)
    db.session.flush()
    audit.record(
        actor,
        "rectification.add",
        "rectification_item",
        item.id,
        after=audit.snapshot(item, AUDIT_FIELDS),
    )
    return item


@transactional
def strike_off(actor, item: RectificationItem, fixed_on: date | None = None) -> RectificationItem:
    workshop = db.session.get(Workshop, item.workshop_id)
    access.require(actor, "rectify", workshop.station_id)
    if item.fixed_on is not None:
        raise RectificationError("该问题已销号。")
    fixed_on = fixed_on or today()
    if fixed_on > today():
        raise RectificationError("销号日期不能晚于今天。")
    before = audit.snapshot(item, AUDIT_FIELDS)
    item.fixed_on, item.verified_by_id = fixed_on, getattr(actor, "id", None)
    changes.touch(workshop)
    audit.record(
        actor,
        "rectification.strike_off",
        "rectification_item",
        item.id,
        before=before,
        after=audit.snapshot(item, AUDIT_FIELDS),
    )
    return item


def overdue_items(workshop_id: int, on: date) -> list[RectificationItem]:
    """Problems not struck off by their due date (still open, or fixed late), due before `on`."""
    rows = db.session.scalars(
        select(RectificationItem).where(
            RectificationItem.workshop_id == workshop_id, RectificationItem.due_on < on
        )
    )
    return [r for r in rows if r.fixed_on is None or r.fixed_on > r.due_on]


@dataclass
class TargetStatus:
    label: str
    by: date
    share: float
    fixed_by_then: int
    total: int
    state: str  # met | missed | pending (not yet due, not yet met) | early (met before the date)

    @property
    def required(self) -> int:
        import math

        return math.ceil(self.share * self.total)


def progress(jurisdiction_ids: set[int] | None, year: int, on: date | None = None) -> dict:
    """The year's ledger against the configured targets: problems logged in `year`, how many are
    struck off, and for each target date whether the required share of the problems logged by
    that date was struck off by then."""
    on = on or today()
    start, end = local_day_start(date(year, 1, 1)), local_day_start(date(year + 1, 1, 1))
    q = (
        select(RectificationItem.due_on, RectificationItem.fixed_on, RectificationItem.created_at)
        .join(Workshop, Workshop.id == RectificationItem.workshop_id)
        .where(RectificationItem.created_at >= start, RectificationItem.created_at < end)
    )
    if jurisdiction_ids is not None:
        q = q.where(Workshop.station_id.in_(jurisdiction_ids))
    rows = db.session.execute(q).all()
    total = len(rows)
    fixed = sum(1 for r in rows if r.fixed_on is not None and r.fixed_on <= on)
    overdue = sum(1 for r in rows if r.due_on < on and (r.fixed_on is None or r.fixed_on > on))
    targets = []
    for t in current_deployment().rectification_targets:
        month, day = (int(x) for x in t.by.split("-"))
        by = date(year, month, day)
        upto = min(by, on)
        # A target is measured over the problems already logged by its date.
        logged = [r for r in rows if r.created_at < local_day_start(by + timedelta(days=1))]
        done = sum(1 for r in logged if r.fixed_on is not None and r.fixed_on <= upto)
        status = TargetStatus(t.label, by, t.share, done, len(logged), "pending")
        met = not logged or done >= status.required
        status.state = ("met" if met else "missed") if on > by else ("early" if met else "pending")
        targets.append(status)
    return {
        "year": year,
        "total": total,
        "fixed": fixed,
        "open": total - fixed,
        "overdue": overdue,
        "share": (fixed / total) if total else None,
        "targets": targets,
    }
