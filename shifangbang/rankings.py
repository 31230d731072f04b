"""榜单: open workshops by tier per district and per product category, and the published tier
changes (评定结果公布). Public data only."""

from dataclasses import dataclass

from sqlalchemy import false, func, select
from sqlalchemy.orm import joinedload

from . import cards, current_deployment, public_cache, workshops
from .extensions import db
from .models import Jurisdiction, TierDecision, Workshop, workshop_category


@dataclass
class TierGroup:
    tier: object  # deployment.Tier
    workshops: list  # cards.Card, most recently rated first
    total: int


# The lists below are read once per data version (shifangbang/public_cache.py): plain rows, no ORM.


def counties() -> list[cards.Place]:
    return [p for p in public_cache.places().values() if p.level == "county"]


def stations() -> list[cards.Place]:
    return [p for p in public_cache.places().values() if p.level == "station" and p.in_service]


def categories() -> list[cards.Category]:
    return list(public_cache.categories().values())


def _station_ids(county_id: int):
    return select(Jurisdiction.id).where(Jurisdiction.parent_id == county_id)


def _scope(q, county_id: int | None, category_id: int | None, brand: str | None = None):
    q = q.where(Workshop.status == "open")
    if brand:
        q = q.where(Workshop.regional_brand == brand)
    if county_id:
        # The county's stations as a literal list: the planner then counts through
        # ix_workshop_status_station_tier instead of walking every open workshop.
        stations = [p.id for p in public_cache.places().values() if p.parent_id == county_id]
        q = q.where(Workshop.station_id.in_(stations) if stations else false())
    if category_id:
        q = q.where(
            Workshop.id.in_(
                select(workshop_category.c.workshop_id).where(
                    workshop_category.c.category_id == category_id
                )
            )
        )
    return q


def _counts_by(dimension: str) -> dict[int, dict[str, int]]:
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


def counts_by(dimension: str) -> dict[int, dict[str, int]]:
    """{county or category id: {tier code: open workshops}} for the overview table."""
    return public_cache.cached("counts_by", (dimension,), lambda: _counts_by(dimension))


# Within a tier: most recently rated first. Served in order by ix_workshop_ranking.
RANKING_ORDER = (Workshop.tier_since.desc().nulls_last(), Workshop.name, Workshop.id)


def _totals(county_id, category_id, brand=None) -> dict[str, int]:
    """Open workshops per tier in the scope: from the overview's counts when one dimension is
    set (already counted this version), else counted (a brand's members always are)."""
    if not brand:
        if county_id and not category_id:
            return counts_by("county").get(county_id, {})
        if category_id and not county_id:
            return counts_by("category").get(category_id, {})
        if not county_id and not category_id:
            return tier_counts()
    return dict(
        db.session.execute(
            _scope(
                select(Workshop.tier_code, func.count()), county_id, category_id, brand
            ).group_by(Workshop.tier_code)
        ).all()
    )


def _ranking(county_id, category_id, per_tier, brand=None) -> list[tuple[str, list[int], int]]:
    totals = _totals(county_id, category_id, brand)
    deployment = current_deployment()
    out = []
    for code in [t.code for t in (*deployment.tiers, deployment.unrated)]:
        ids = []
        if totals.get(code):
            ids = list(
                db.session.scalars(
                    _scope(select(Workshop.id), county_id, category_id, brand)
                    .where(Workshop.tier_code == code)
                    .order_by(*RANKING_ORDER)
                    .limit(per_tier)
                )
            )
        out.append((code, ids, totals.get(code, 0)))
    return out


def ranking(
    county_id: int | None = None,
    category_id: int | None = None,
    per_tier: int = 30,
    brand: str | None = None,
) -> list[TierGroup]:
    """The ladder, best tier first, each with its first `per_tier` workshops (most recently rated
    first); within a district, a product category and/or a regional brand's members; computed
    once per data version."""
    deployment = current_deployment()
    groups = public_cache.cached(
        "ranking",
        (county_id, category_id, per_tier, brand),
        lambda: [
            (code, public_cache.load_cards(ids), total)
            for code, ids, total in _ranking(county_id, category_id, per_tier, brand)
        ],
    )
    return [TierGroup(deployment.tier(code), list(ws), total) for code, ws, total in groups]


def tier_counts() -> dict[str, int]:
    """Open workshops per tier code (unrated included), once per data version."""
    return public_cache.cached("tier_counts", (), workshops.tier_counts)


def featured(limit: int = 24) -> list:
    """The best-ranked open workshops (cards), best tier first, most recently rated first within
    a tier: a few index range scans, once per data version."""

    def compute():
        deployment = current_deployment()
        ids: list[int] = []
        for tier in (*sorted(deployment.tiers, key=lambda t: -t.rank), deployment.unrated):
            if len(ids) >= limit:
                break
            ids += db.session.scalars(
                _scope(select(Workshop.id), None, None)
                .where(Workshop.tier_code == tier.code)
                .order_by(*RANKING_ORDER)
                .limit(limit - len(ids))
            )
        return public_cache.load_cards(ids)

    return public_cache.cached("featured", (limit,), compute)


def warm_up() -> None:
    """The counts and lists that home and 榜单 show, each district's ranking included
    (public_cache.warm_up): a worker that restarts computes none of them in a visitor's request."""
    tier_counts()
    featured()
    counts_by("county")
    counts_by("category")
    for county in counties():
        ranking(county.id)


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
    total = public_cache.cached(
        "announcements",
        (direction, county_id),
        lambda: db.session.scalar(select(func.count()).select_from(q.subquery())),
    )
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
