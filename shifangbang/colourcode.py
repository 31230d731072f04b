"""色标化 adoption per workshop (包头 plan annex), DESIGN.md §2b.

Status 未开始 / 部分完成 / 已完成 with the completion day. Set by an officer, or by an inspection:
the deployment's colour_code_items (checklist items H1, H2 by default) all met → done, some met
→ partial, none met → not started; items marked n.a. leave the status alone. The public sees it
through public_status.colour_codes_for(); statistics count it per station here.
"""

from datetime import date

from sqlalchemy import func, select

from . import access, audit, changes, current_deployment
from .errors import DomainError
from .extensions import db
from .labels import COLOUR_STATUS
from .models import Inspection, Jurisdiction, Workshop
from .programme_models import ColourCodeAdoption
from .timeutil import today
from .tx import transactional

FIELDS = ("status", "completed_on", "checked_on", "inspection_id")


class ColourCodeError(DomainError):
    pass


def _row(workshop: Workshop) -> ColourCodeAdoption:
    row = db.session.get(ColourCodeAdoption, workshop.id)
    if row is None:
        row = ColourCodeAdoption(workshop_id=workshop.id, status="not_started")
        db.session.add(row)
    return row


def _apply(workshop, status, completed_on, checked_on, inspection_id):
    """Set the row; returns (row, before snapshot or None for a first record, changed)."""
    row = _row(workshop)
    before = audit.snapshot(row, FIELDS) if row.checked_on or row.status != "not_started" else None
    if status == "done":
        # The first day it was found complete stays the completion day.
        completed_on = (row.completed_on if row.status == "done" else None) or completed_on
    else:
        completed_on = None
    changed = (row.status, row.completed_on) != (status, completed_on)
    row.status, row.completed_on = status, completed_on
    row.checked_on, row.inspection_id = checked_on, inspection_id
    db.session.flush()
    if changed:
        changes.touch(workshop)
    return row, before, changed


@transactional
def set_status(
    actor, workshop: Workshop, status: str, checked_on: date, completed_on: date | None = None
) -> ColourCodeAdoption:
    access.require(actor, "inspect", workshop.station_id)
    if status not in COLOUR_STATUS:
        raise ColourCodeError("请选择色标化进度。")
    if checked_on is None or checked_on > today():
        raise ColourCodeError("核查日期不能为空，也不能晚于今天。")
    if status == "done":
        completed_on = completed_on or checked_on
        if completed_on > checked_on:
            raise ColourCodeError("完成日期不能晚于核查日期。")
    row, before, changed = _apply(workshop, status, completed_on, checked_on, None)
    # A change is a public statement (public_history); a check that confirms it is audit only.
    audit.record(
        actor,
        "colour_code.set" if changed or before is None else "colour_code.checked",
        "colour_code",
        workshop.id,
        before=before,
        after=audit.snapshot(row, FIELDS),
    )
    return row


def status_from_items(inspection: Inspection) -> str | None:
    """The status the inspection's 色标化 items imply, or None when it did not check them."""
    codes = set(current_deployment().programme.colour_code_items)
    outcomes = [i.outcome for i in inspection.items if i.code in codes and i.outcome != "na"]
    if not outcomes:
        return None
    met = sum(o == "pass" for o in outcomes)
    return "done" if met == len(outcomes) else "partial" if met else "not_started"


def check_at_inspection(actor, inspection: Inspection) -> ColourCodeAdoption | None:
    """Called by inspections.record inside its transaction."""
    status = status_from_items(inspection)
    if status is None:
        return None
    row, before, changed = _apply(
        inspection.workshop, status, inspection.inspected_on, inspection.inspected_on, inspection.id
    )
    audit.record(
        actor,
        "colour_code.inspection" if changed or before is None else "colour_code.checked",
        "colour_code",
        inspection.workshop_id,
        before=before,
        after=audit.snapshot(row, FIELDS),
    )
    return row


def per_station(scope_ids: set[int] | None) -> list[dict]:
    """Open workshops per station by 色标化 status: [{station, not_started, partial, done, total}]."""
    status = func.coalesce(ColourCodeAdoption.status, "not_started")
    q = (
        select(Jurisdiction, status, func.count(Workshop.id))
        .join(Workshop, Workshop.station_id == Jurisdiction.id)
        .outerjoin(ColourCodeAdoption, ColourCodeAdoption.workshop_id == Workshop.id)
        .where(Workshop.status == "open")
        .group_by(Jurisdiction.id, status)
        .order_by(Jurisdiction.code)
    )
    if scope_ids is not None:
        q = q.where(Jurisdiction.id.in_(scope_ids))
    rows: dict[int, dict] = {}
    for station, st, n in db.session.execute(q):
        r = rows.setdefault(
            station.id, {"station": station, "not_started": 0, "partial": 0, "done": 0, "total": 0}
        )
        r[st] += n
        r["total"] += n
    return list(rows.values())
