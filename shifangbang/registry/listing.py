"""The registry list: filters, the query scoped to the actor's jurisdiction, the pickers."""

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from .. import access
from ..extensions import db
from ..models import IN_SERVICE, Jurisdiction, ProductCategory, Workshop
from .guard import require


@dataclass
class Filters:
    q: str = ""
    station_id: int | None = None
    tier: str = ""
    status: str = ""
    category_id: int | None = None

    @classmethod
    def from_args(cls, args) -> "Filters":
        def as_int(key):
            try:
                return int(args.get(key) or "") or None
            except ValueError:
                return None

        return cls(
            q=(args.get("q") or "").strip()[:100],
            station_id=as_int("station"),
            tier=(args.get("tier") or "").strip(),
            status=(args.get("status") or "").strip(),
            category_id=as_int("category"),
        )

    def as_args(self) -> dict:
        return {
            k: v
            for k, v in {
                "q": self.q,
                "station": self.station_id,
                "tier": self.tier,
                "status": self.status,
                "category": self.category_id,
            }.items()
            if v
        }


def list_query(actor, filters: Filters, action: str = "view"):
    """A select of the workshops the actor may see, filtered. Asking for a station outside
    the actor's jurisdiction is refused rather than silently answered with nothing."""
    require(actor, action, None)
    scope = access.visible_jurisdiction_ids(actor) if actor is not None else None
    q = select(Workshop)
    if scope is not None:
        q = q.where(Workshop.station_id.in_(scope))
    if filters.station_id:
        require(actor, action, filters.station_id)
        q = q.where(Workshop.station_id.in_(access.subtree_ids(filters.station_id)))
    if filters.q:
        like = f"%{filters.q.replace('%', '').replace('_', '')}%"
        q = q.where(
            or_(
                Workshop.name.ilike(like),
                Workshop.cert_no.ilike(like),
                Workshop.address.ilike(like),
                Workshop.operator_name.ilike(like),
            )
        )
    if filters.tier:
        q = q.where(Workshop.tier_code == filters.tier)
    if filters.status:
        q = q.where(Workshop.status == filters.status)
    if filters.category_id:
        q = q.where(Workshop.categories.any(ProductCategory.id == filters.category_id))
    return q.options(selectinload(Workshop.categories), joinedload(Workshop.station)).order_by(
        Workshop.id.desc()
    )


def stations_for(actor) -> list[Jurisdiction]:
    scope = access.visible_jurisdiction_ids(actor) if actor is not None else None
    q = (
        select(Jurisdiction)
        .where(Jurisdiction.level == "station", IN_SERVICE)
        .order_by(Jurisdiction.code)
    )
    if scope is not None:
        q = q.where(Jurisdiction.id.in_(scope))
    return list(db.session.scalars(q))


def categories() -> list[ProductCategory]:
    return list(db.session.scalars(select(ProductCategory).order_by(ProductCategory.code)))
