"""榜单: open workshops by tier per district and per product category, and the published tier
changes (评定结果公布). Public data only."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from . import current_deployment
from .extensions import db
from .models import Jurisdiction, ProductCategory, TierDecision, Workshop, workshop_category


@dataclass
class TierGroup:
    tier: object  # deployment.Tier
    workshops: list[Workshop]
    total: int


def counties() -> list[Jurisdiction]:
    return list(
        db.session.scalars(
            select(Jurisdiction).where(Jurisdiction.level == "county").order_by(Jurisdiction.code)
        )
    )


def stations() -> list[Jurisdiction]:
    return list(
        db.session.scalars(
            select(Jurisdiction)
            .where(Jurisdiction.level == "station")
            .options(joinedload(Jurisdiction.parent))
            .order_by(Jurisdiction.code)
        )
    )


def categories() -> list[ProductCategory]:
    return list(db.session.scalars(select(ProductCategory).order_by(ProductCategory.code)))


def _station_ids(county_id: int):
    return select(Jurisdiction.id).where(Jurisdiction.parent_id == county_id)


def _scope(q, county_id: int | None, category_id: int | None, brand: str | None = None):
    q = q.where(Workshop.status == "open")
    if brand:
        q = q.where(Workshop.regional_brand == brand)
    if county_id:
        q = q.where(Workshop.station_id.in_(_station_ids(county_id)))
    if category_id:
        q = q.where(
            Workshop.id.in_(
                select(workshop_category.c.workshop_id).where(
                    workshop_category.c.category_id == category_id
                )
            )
        )
    return q


def counts_by(dimension: str) -> dict[int, dict[str, int]]:
    """{county or category id: {tier code: open workshops}} for the overview table."""
    if dimension == "county":
        key = Jurisdiction.parent_id
        q = select(key, Workshop.tier_code, func.count()).join(
            Jurisdiction, Workshop.station_id == Jurisdiction.id
        )
    else:
        key = workshop_category.c.category_id
        q = select(key, Workshop.tier_code, func.count()).join(
            workshop_category, workshop_category.c.workshop_id == Workshop.id
        )
    out: dict[int, dict[str, int]] = {}
    for k, code, n in db.session.execute(
        q.where(Workshop.status == "open").group_by(key, Workshop.tier_code)
    ):
        out.setdefault(k, {})[code] = n
    return out


def ranking(
    county_id: int | None = None,
    category_id: int | None = None,
    per_tier: int = 30,
    brand: str | None = None,
) -> list[TierGroup]:
    """The ladder, best tier first, each with its first `per_tier` workshops (most recently rated
    first); within a district, a product category and/or a regional brand's members."""
    deployment = current_deployment()
    totals = dict(
        db.session.execute(
            _scope(
                select(Workshop.tier_code, func.count()), county_id, category_id, brand
            ).group_by(Workshop.tier_code)
        ).all()
    )
    groups = []
    for tier in deployment.tiers + (deployment.unrated,):
        if not totals.get(tier.code):
            groups.append(TierGroup(tier, [], 0))
            continue
        q = (
            _scope(select(Workshop), county_id, category_id, brand)
            .where(Workshop.tier_code == tier.code)
            .order_by(Workshop.tier_since.desc().nulls_last(), Workshop.name, Workshop.id)
            .limit(per_tier)
            .options(
                selectinload(Workshop.categories),
                joinedload(Workshop.station).joinedload(Jurisdiction.parent),
            )
        )
        groups.append(TierGroup(tier, list(db.session.scalars(q)), totals[tier.code]))
    return groups


ANNOUNCED = ("upgrade", "downgrade")


def announcements(
    direction: str | None = None, county_id: int | None = None, page: int = 1, per_page: int = 30
) -> tuple[list[TierDecision], int]:
    """Published tier decisions, newest first: 升榜 and 降榜 by default, or one direction
    (initial and reconfirm too when asked for explicitly)."""
    q = select(TierDecision).where(TierDecision.status == "published")
    if direction in ("upgrade", "downgrade", "initial", "reconfirm"):
        q = q.where(TierDecision.direction == direction)
    elif direction != "all":
        q = q.where(TierDecision.direction.in_(ANNOUNCED))
    if county_id:
        q = q.where(
            TierDecision.workshop_id.in_(
                select(Workshop.id).where(Workshop.station_id.in_(_station_ids(county_id)))
            )
        )
    total = db.session.scalar(select(func.count()).select_from(q.subquery()))
    rows = db.session.scalars(
        q.order_by(TierDecision.published_at.desc(), TierDecision.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(
            joinedload(TierDecision.workshop)
            .joinedload(Workshop.station)
            .joinedload(Jurisdiction.parent)
        )
    )
    return list(rows), total


def brand_names() -> list[str]:
    """Regional brands carried by open workshops, for brands missing from the deployment file."""
    return list(
        db.session.scalars(
            select(Workshop.regional_brand)
            .where(Workshop.regional_brand.is_not(None), Workshop.status == "open")
            .distinct()
            .order_by(Workshop.regional_brand)
        )
    )
