"""Growth registers (DESIGN.md §2b): the 小升规 cultivation ledger (培育台账, register 'upgrade',
through the deployment's upgrade_stages; the last stage means licensed and closes the entry) and
the 成长型名录 (register 'growth') for workshops not yet ready. A workshop has at most one open
entry per register; moving onto the ledger closes its 成长型 entry.
"""

from datetime import date

from sqlalchemy import func, select

from . import access, audit, current_deployment, fields
from .errors import DomainError
from .extensions import db
from .models import Workshop
from .programme_models import GrowthEntry
from .timeutil import today
from .tx import transactional

FIELDS = ("workshop_id", "register", "stage", "entered_on", "stage_on", "note", "closed_on")
GROWTH_STAGE = "成长型"


class GrowthError(DomainError):
    pass


def stages() -> tuple[str, ...]:
    return current_deployment().programme.upgrade_stages


def _day(value: date | None, label: str, not_before: date | None = None) -> date:
    if value is None or value > today():
        raise GrowthError(f"{label}不能为空，也不能晚于今天。")
    if not_before and value < not_before:
        raise GrowthError(f"{label}不能早于{not_before.isoformat()}。")
    return value


def open_entry(workshop_id: int, register: str) -> GrowthEntry | None:
    return db.session.scalar(
        select(GrowthEntry).where(
            GrowthEntry.workshop_id == workshop_id,
            GrowthEntry.register == register,
            GrowthEntry.closed_on.is_(None),
        )
    )


@transactional
def add(actor, workshop: Workshop, register: str, on: date, note: str = "") -> GrowthEntry:
    access.require(actor, "edit", workshop.station_id)
    if register not in ("upgrade", "growth"):
        raise GrowthError("请选择名录。")
    on = _day(on, "登记日期")
    if workshop.status != "open":
        raise GrowthError("只有在营作坊可以登记。")
    if open_entry(workshop.id, register):
        raise GrowthError("该作坊已在此名录中。")
    if register == "growth" and open_entry(workshop.id, "upgrade"):
        raise GrowthError("该作坊已在小升规培育台账中。")
    moved = open_entry(workshop.id, "growth") if register == "upgrade" else None
    if moved is not None:  # ready now: off the 成长型 list, onto the ledger
        before = audit.snapshot(moved, FIELDS)
        moved.closed_on = max(on, moved.entered_on)
        audit.record(
            actor,
            "growth.close",
            "growth_entry",
            moved.id,
            before=before,
            after=audit.snapshot(moved, FIELDS),
        )
    e = GrowthEntry(
        workshop_id=workshop.id,
        register=register,
        stage=stages()[0] if register == "upgrade" else GROWTH_STAGE,
        entered_on=on,
        stage_on=on,
        note=fields.text(note, "说明", 300, GrowthError, required=False),
    )
    db.session.add(e)
    db.session.flush()
    audit.record(actor, "growth.add", "growth_entry", e.id, after=audit.snapshot(e, FIELDS))
    return e


@transactional
def advance(actor, e: GrowthEntry, on: date, note: str = "") -> GrowthEntry:
    """The ledger's next stage; reaching the last (licensed) closes the entry."""
    access.require(actor, "edit", e.workshop.station_id)
    if e.register != "upgrade" or e.closed_on is not None:
        raise GrowthError("只有培育台账中未结束的作坊可以推进阶段。")
    order = stages()
    k = order.index(e.stage) if e.stage in order else 0
    if k + 1 >= len(order):
        raise GrowthError("已是最后阶段。")
    before = audit.snapshot(e, FIELDS)
    e.stage_on = _day(on, "阶段日期", not_before=e.stage_on)
    e.stage = order[k + 1]
    note = fields.text(note, "说明", 300, GrowthError, required=False)
    if note:
        e.note = note
    if k + 2 == len(order):
        e.closed_on = e.stage_on
    audit.record(
        actor,
        "growth.advance",
        "growth_entry",
        e.id,
        before=before,
        after=audit.snapshot(e, FIELDS),
    )
    return e


def listing(scope_ids: set[int] | None, register: str) -> list[GrowthEntry]:
    q = (
        select(GrowthEntry)
        .join(Workshop, Workshop.id == GrowthEntry.workshop_id)
        .where(GrowthEntry.register == register)
        .order_by(GrowthEntry.closed_on.is_not(None), GrowthEntry.entered_on.desc())
        .limit(500)
    )
    if scope_ids is not None:
        q = q.where(Workshop.station_id.in_(scope_ids))
    return list(db.session.scalars(q))


def counts(scope_ids: set[int] | None) -> dict[str, dict[str, int]]:
    """Open entries by register and stage, plus 'licensed' (ledger entries that reached the end)."""
    q = (
        select(
            GrowthEntry.register, GrowthEntry.stage, GrowthEntry.closed_on.is_(None), func.count()
        )
        .join(Workshop, Workshop.id == GrowthEntry.workshop_id)
        .group_by(GrowthEntry.register, GrowthEntry.stage, GrowthEntry.closed_on.is_(None))
    )
    if scope_ids is not None:
        q = q.where(Workshop.station_id.in_(scope_ids))
    out: dict[str, dict[str, int]] = {"upgrade": {}, "growth": {}}
    last = stages()[-1]
    for register, stage, is_open, n in db.session.execute(q):
        if is_open:
            out[register][stage] = out[register].get(stage, 0) + n
        elif register == "upgrade" and stage == last:
            out[register][last] = out[register].get(last, 0) + n
    return out
