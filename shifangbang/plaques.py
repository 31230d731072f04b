"""摘牌: recovering the plaque of a revoked demonstration title (收回牌匾), DESIGN.md §2b.

Every revoked grant has a plaque to recover within `plaque_recovery_days` (deployment) of the
revocation; it is overdue after that until an officer records the recovery (date, by whom).
The public revocation notice itself is public_status.revocation_notices().
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from . import access, audit, current_deployment, fields
from .errors import DomainError
from .extensions import db
from .models import TitleGrant, Workshop
from .programme_models import PlaqueRecovery
from .timeutil import today
from .tx import transactional


class PlaqueError(DomainError):
    pass


@dataclass
class PlaqueState:
    grant: TitleGrant
    due_on: date
    recovery: PlaqueRecovery | None

    @property
    def overdue(self) -> bool:
        return self.recovery is None and today() > self.due_on


def due_on(grant: TitleGrant) -> date:
    return grant.revoked_on + timedelta(days=current_deployment().programme.plaque_recovery_days)


@transactional
def record_recovery(actor, grant: TitleGrant, recovered_on: date, note: str = "") -> PlaqueRecovery:
    access.require(actor, "edit", grant.workshop.station_id)
    if grant.status != "revoked":
        raise PlaqueError("称号未被撤销，无需收回牌匾。")
    if db.session.scalar(select(PlaqueRecovery.id).where(PlaqueRecovery.grant_id == grant.id)):
        raise PlaqueError("已登记收回牌匾。")
    if recovered_on is None or recovered_on > today():
        raise PlaqueError("收回日期不能为空，也不能晚于今天。")
    if recovered_on < grant.revoked_on:
        raise PlaqueError("收回日期不能早于撤销日期。")
    note = fields.text(note, "说明", 200, PlaqueError, required=False)
    r = PlaqueRecovery(
        grant_id=grant.id,
        recovered_on=recovered_on,
        recovered_by_id=getattr(actor, "id", None),
        note=note,
    )
    db.session.add(r)
    db.session.flush()
    audit.record(
        actor,
        "plaque.recover",
        "title_grant",
        grant.id,
        after={"recovered_on": recovered_on, "recovered_by_id": r.recovered_by_id, "note": note},
    )
    return r


def states(scope_ids: set[int] | None) -> list[PlaqueState]:
    """Every revoked grant in scope with its recovery, overdue first, then newest revocation."""
    q = (
        select(TitleGrant)
        .join(Workshop, Workshop.id == TitleGrant.workshop_id)
        .where(TitleGrant.status == "revoked")
        .options(joinedload(TitleGrant.workshop), joinedload(TitleGrant.title))
        .order_by(TitleGrant.revoked_on.desc(), TitleGrant.id.desc())
        .limit(500)
    )
    if scope_ids is not None:
        q = q.where(Workshop.station_id.in_(scope_ids))
    grants = list(db.session.scalars(q))
    recoveries = {
        r.grant_id: r
        for r in db.session.scalars(
            select(PlaqueRecovery)
            .where(PlaqueRecovery.grant_id.in_([g.id for g in grants]))
            .options(joinedload(PlaqueRecovery.recovered_by))
        )
    }
    out = [PlaqueState(g, due_on(g), recoveries.get(g.id)) for g in grants]
    out.sort(key=lambda s: not s.overdue)  # stable: keeps newest first within each group
    return out
