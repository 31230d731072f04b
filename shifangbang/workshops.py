"""Workshop queries and rules shared by the public site, the back office and the API."""

from sqlalchemy import case, func, select

from . import current_deployment
from .extensions import db
from .models import Workshop


def tier_rank_expression():
    """SQL expression ranking Workshop.tier_code by the configured ladder (higher is better)."""
    ladder = current_deployment().tiers
    return case({t.code: t.rank for t in ladder}, value=Workshop.tier_code, else_=0)


def tier_counts(jurisdiction_ids: set[int] | None = None) -> dict[str, int]:
    """Open workshops per tier code (unrated included)."""
    q = (
        select(Workshop.tier_code, func.count())
        .where(Workshop.status == "open")
        .group_by(Workshop.tier_code)
    )
    if jurisdiction_ids is not None:
        q = q.where(Workshop.station_id.in_(jurisdiction_ids))
    return dict(db.session.execute(q).all())


RECORD_LIMIT = 20


def record_links(actor, workshop: Workshop, limit: int = RECORD_LIMIT) -> dict:
    """Everything about a workshop its back-office record links to, newest first:
    {kind: (total, latest rows)} for inspections, samplings, tier decisions, titles, complaints.
    Complaints are limited to those the actor may see (their jurisdiction may differ)."""
    from . import access
    from .models import Complaint, Inspection, Sampling, TierDecision, TitleGrant

    def part(model, order, *where):
        q = select(model).where(model.workshop_id == workshop.id, *where)
        total = db.session.scalar(select(func.count()).select_from(q.subquery()))
        return total, list(db.session.scalars(q.order_by(*order).limit(limit)))

    scope = access.visible_jurisdiction_ids(actor)
    seen = () if scope is None else (Complaint.jurisdiction_id.in_(scope),)
    return {
        "inspections": part(Inspection, (Inspection.inspected_on.desc(), Inspection.id.desc())),
        "samplings": part(Sampling, (Sampling.sampled_on.desc(), Sampling.id.desc())),
        "tiers": part(TierDecision, (TierDecision.proposed_at.desc(), TierDecision.id.desc())),
        "titles": part(TitleGrant, (TitleGrant.granted_on.desc(), TitleGrant.id.desc())),
        "complaints": part(Complaint, (Complaint.received_at.desc(), Complaint.id.desc()), *seen),
    }
