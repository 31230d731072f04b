"""Nearest workshops through a spatial index, distances exactly as search_index.query.haversine_km.

- SQLite: the built-in R*Tree virtual table `workshop_geo` (one point per located workshop, with
  its exact lat/lng and status as auxiliary columns), kept in step with `workshop` by triggers, so
  every writer — ORM, bulk demo load, import — keeps it current.
- PostgreSQL: a GiST index on point(lng, lat) (built-in `point`, no extension), searched with
  `<@ box`.

The k nearest are found inside the database: a box around a small circle, doubled until it holds
enough workshops (or reaches the radius), then exact distances, sorted and cut to the page in SQL.
Only the page's ids and distances come back; the total within the radius is counted in SQL.

The migration scale_0001 creates these objects; they are not SQLAlchemy models (UNMODELLED below
keeps them out of the models-versus-migrations comparison).
"""

import math

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, and_, func, literal, or_
from sqlalchemy import select as sa_select

from .extensions import db
from .models import Workshop

EARTH_KM = 6371.0
BOX_MARGIN_DEG = 1e-4
FIRST_RADIUS_KM = 0.5

# Schema objects created by the migration outside the models (see migrations/env.py).
GEO_TABLE = "workshop_geo"
UNMODELLED = {
    GEO_TABLE,
    f"{GEO_TABLE}_node",
    f"{GEO_TABLE}_parent",
    f"{GEO_TABLE}_rowid",
    "ix_workshop_geo",
    "ix_workshop_ranking",
}


def include_name(name, type_, parent_names) -> bool:
    """Alembic's include_name hook: leave the hand-written spatial and ranking objects alone."""
    return name not in UNMODELLED


geo = Table(
    GEO_TABLE,
    MetaData(),  # not db.metadata: a virtual table the models never create
    Column("id", Integer, primary_key=True),
    Column("min_lat", Float),
    Column("max_lat", Float),
    Column("min_lng", Float),
    Column("max_lng", Float),
    Column("lat", Float),
    Column("lng", Float),
    Column("status", String),
)


def _box(lat: float, lng: float, radius_km: float):
    """A lat/lng box holding every point within radius_km of (lat, lng) on the sphere, with a
    margin for the R*Tree's 32-bit float corners (a few metres)."""
    delta = radius_km / EARTH_KM  # angular radius
    dlat = math.degrees(delta) + BOX_MARGIN_DEG
    cos_lat = math.cos(math.radians(lat))
    if lat + dlat >= 90 or lat - dlat <= -90 or math.sin(delta) >= cos_lat:
        dlng = 180.0  # the circle holds a pole: every longitude
    else:
        dlng = math.degrees(math.asin(math.sin(delta) / cos_lat)) + BOX_MARGIN_DEG
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng


def _distance(lat_col, lng_col, lat: float, lng: float, least):
    """haversine_km(lat, lng, lat_col, lng_col) in SQL, term by term as the Python function."""
    p1 = math.radians(lat)
    p2 = func.radians(lat_col)
    half_dp = (p2 - literal(p1)) / 2
    half_dl = func.radians(lng_col - literal(lng)) / 2
    a = func.sin(half_dp) * func.sin(half_dp) + literal(math.cos(p1)) * func.cos(p2) * func.sin(
        half_dl
    ) * func.sin(half_dl)
    return literal(EARTH_KM) * 2 * func.asin(least(literal(1.0), func.sqrt(a)))


def _in_box(lat_lo, lat_hi, lng_lo, lng_hi, box):
    la0, la1, lo0, lo1 = box
    lat_ok = and_(lat_lo >= la0, lat_hi <= la1)
    if lo1 - lo0 >= 360:
        return lat_ok
    if lo0 < -180 or lo1 > 180:  # the box crosses the antimeridian
        return and_(
            lat_ok,
            or_(
                lng_lo >= (lo0 + 360 if lo0 < -180 else lo0),
                lng_hi <= (lo1 - 360 if lo1 > 180 else lo1),
            ),
        )
    return and_(lat_ok, lng_lo >= lo0, lng_hi <= lo1)


def _candidates(lat: float, lng: float, radius_km: float, scope, plain_status: str | None):
    """(id column, distance column, select) for workshops inside the box around radius_km.

    `scope` is a select of Workshop carrying the public filters; `plain_status` is set when the
    only filter is the status, which SQLite answers from the R*Tree alone."""
    box = _box(lat, lng, radius_km)
    if db.session.get_bind().dialect.name == "postgresql":
        la0, la1, lo0, lo1 = box
        point = func.point(Workshop.lng, Workshop.lat)
        if lo0 < -180 or lo1 > 180:
            where = _in_box(Workshop.lat, Workshop.lat, Workshop.lng, Workshop.lng, box)
        else:
            where = point.op("<@")(func.box(func.point(lo0, la0), func.point(lo1, la1)))
        d = _distance(Workshop.lat, Workshop.lng, lat, lng, func.least)
        q = scope.where(Workshop.lat.is_not(None), Workshop.lng.is_not(None), where)
        return Workshop.id, d, q
    where = _in_box(geo.c.min_lat, geo.c.max_lat, geo.c.min_lng, geo.c.max_lng, box)
    d = _distance(geo.c.lat, geo.c.lng, lat, lng, func.min)
    if plain_status is not None:
        q = sa_select(geo.c.id).where(where)
        if plain_status != "all":
            q = q.where(geo.c.status == plain_status)
        return geo.c.id, d, q
    # Other filters: the R*Tree picks the ids in the box first (an IN list the planner cannot
    # turn around into a walk over every matching workshop), the table gives exact lat/lng.
    d = _distance(Workshop.lat, Workshop.lng, lat, lng, func.min)
    return Workshop.id, d, scope.where(Workshop.id.in_(sa_select(geo.c.id).where(where)))


def nearest(
    lat: float,
    lng: float,
    radius_km: float,
    scope,
    offset: int,
    limit: int,
    plain_status: str | None = None,
) -> tuple[list[tuple[int, float]], int]:
    """([(workshop id, km)] nearest first (ties by id), skipping `offset`; total within radius_km)."""
    need = offset + limit
    r = min(radius_km, FIRST_RADIUS_KM)
    while True:
        id_col, d, q = _candidates(lat, lng, r, scope, plain_status)
        dist = d.label("distance_km")
        inner = q.with_only_columns(id_col.label("id"), dist).subquery()
        rows = db.session.execute(
            sa_select(inner.c.id, inner.c.distance_km)
            .where(inner.c.distance_km <= r)
            .order_by(inner.c.distance_km, inner.c.id)
            .limit(need)
        ).all()
        if len(rows) >= need or r >= radius_km:
            break
        r = min(radius_km, r * 2)
    page = [(i, float(km)) for i, km in rows[offset:]]
    if len(rows) < need and r >= radius_km:
        return page, len(rows)
    id_col, d, q = _candidates(lat, lng, radius_km, scope, plain_status)
    inner = q.with_only_columns(id_col.label("id"), d.label("distance_km")).subquery()
    total = db.session.scalar(
        sa_select(func.count()).select_from(inner).where(inner.c.distance_km <= radius_km)
    )
    return page, total
