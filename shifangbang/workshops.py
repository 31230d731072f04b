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
