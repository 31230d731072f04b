"""Workshop list queries for the API and open data: filters, bounding box + haversine for nearby."""

import math

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from search_index.query import haversine_km
from shifangbang import access, workshops
from shifangbang.extensions import db
from shifangbang.models import Jurisdiction, ProductCategory, Workshop, workshop_category

from . import adapters

KM_PER_DEGREE_LAT = 111.32


def jurisdiction_ids(code: str) -> set[int]:
    """The jurisdiction with this code and everything below it; empty for an unknown code (no match)."""
    j = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
    return access.subtree_ids(j.id) if j is not None else set()


def filtered(filters: dict):
    """A select of Workshop with the public filters applied (see the OpenAPI document for each)."""
    q = select(Workshop)
    status = filters.get("status") or "open"
    if status != "all":
        q = q.where(Workshop.status == status)
    if filters.get("tier"):
        q = q.where(Workshop.tier_code == filters["tier"])
    for param in ("county", "station", "jurisdiction"):
        if filters.get(param):
            q = q.where(Workshop.station_id.in_(jurisdiction_ids(filters[param])))
    if filters.get("category"):
        value = filters["category"]
        cat_ids = select(ProductCategory.id).where(
            or_(ProductCategory.code == value, ProductCategory.name == value)
        )
        q = q.where(
            Workshop.id.in_(
                select(workshop_category.c.workshop_id).where(
                    workshop_category.c.category_id.in_(cat_ids)
                )
            )
        )
    if filters.get("high_risk") is not None:
        risky = (
            select(workshop_category.c.workshop_id)
            .join(ProductCategory, ProductCategory.id == workshop_category.c.category_id)
            .where(ProductCategory.high_risk.is_(True))
        )
        q = q.where(Workshop.id.in_(risky) if filters["high_risk"] else Workshop.id.not_in(risky))
    if filters.get("q"):
        # Words match as they do on /search (the search index, pinyin and all): one rule everywhere.
        q = q.where(Workshop.id.in_(adapters.matching_ids(filters["q"])))
    return q


def page_of(q, page: int, per_page: int, order=None) -> tuple[list[Workshop], int]:
    total = db.session.scalar(select(func.count()).select_from(q.order_by(None).subquery()))
    order = (
        order
        if order is not None
        else (workshops.tier_rank_expression().desc(), Workshop.name, Workshop.id)
    )
    rows = db.session.scalars(
        q.order_by(*order)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(
            selectinload(Workshop.categories),
            selectinload(Workshop.station).selectinload(Jurisdiction.parent),
        )
    ).all()
    return list(rows), total


def nearby(lat: float, lng: float, radius_km: float, filters: dict) -> list[tuple[Workshop, float]]:
    """Open workshops within radius_km, nearest first: an indexable bounding box in SQL, then exact distance."""
    dlat = radius_km / KM_PER_DEGREE_LAT
    cos_lat = max(math.cos(math.radians(lat)), 1e-6)
    dlng = min(180.0, radius_km / (KM_PER_DEGREE_LAT * cos_lat))
    q = filtered(filters).where(
        Workshop.lat.is_not(None),
        Workshop.lng.is_not(None),
        Workshop.lat.between(lat - dlat, lat + dlat),
    )
    lo, hi = lng - dlng, lng + dlng
    if lo < -180 or hi > 180:  # the box crosses the antimeridian
        q = q.where(
            or_(
                Workshop.lng >= (lo + 360 if lo < -180 else lo),
                Workshop.lng <= (hi - 360 if hi > 180 else hi),
            )
        )
    else:
        q = q.where(Workshop.lng.between(lo, hi))
    rows = db.session.scalars(
        q.options(
            selectinload(Workshop.categories),
            selectinload(Workshop.station).selectinload(Jurisdiction.parent),
        )
    ).all()
    found = [(w, haversine_km(lat, lng, w.lat, w.lng)) for w in rows]
    found = [(w, d) for w, d in found if d <= radius_km]
    found.sort(key=lambda pair: (pair[1], pair[0].id))
    return found
