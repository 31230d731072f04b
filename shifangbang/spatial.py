"""Nearest workshops through a spatial index, distances exactly as search_index.query.haversine_km.

- SQLite: the built-in R*Tree virtual table `workshop_geo` (one point per located workshop, with
  its exact lat/lng and status as auxiliary columns), kept in step with `workshop` by triggers, so
  every writer — ORM, bulk demo load, import — keeps it current.
- PostgreSQL: a GiST index on point(lng, lat) (built-in `point`, no extension), searched with
  `<@ box`.

The k nearest are found inside the database: a box around a small circle, doubled until it holds
enough workshops (or reaches the radius), then exact distances, sorted and cut to the page in SQL.
Only the page's ids and distances come back. The number within the radius is counted in SQL up to
a limit the caller gives, in circles sized from the density the page's circles saw (_grown)
rather than doubled (a count stops at its LIMIT, so a generous circle costs little; a page sorts
its whole box, so its circles grow gently): a town centre holds tens of thousands
of workshops within 3 km, and counting them all on every call would cost hundreds of times the
page itself.

On PostgreSQL, with only the status filter, one walk of the GiST index in distance order (`<->`,
flat lng/lat degrees) first says how far the page's last workshop and the count limit's lie
(_probe): the first circle is then the right size at once, and the count needs no query when the
limit is reached inside the radius. Flat degrees never shorten a distance (the ground metric is
R²(dφ² + cos²φ dλ²) ≤ R²(dφ² + dλ²)), so the circle they give holds those workshops for sure; the
exact distances and order still come from the page query.

The migration scale_0001 creates these objects; they are not SQLAlchemy models (UNMODELLED below
keeps them out of the models-versus-migrations comparison).
"""

import math

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    func,
    literal,
    or_,
)
from sqlalchemy import select as sa_select

from .extensions import db
from .models import Workshop

EARTH_KM = 6371.0
BOX_MARGIN_DEG = 1e-4
FIRST_RADIUS_KM = 0.1

# Schema objects created by the migration outside the models (see migrations/env.py).
GEO_TABLE = "workshop_geo"
UNMODELLED = {
    GEO_TABLE,
    f"{GEO_TABLE}_node",
    f"{GEO_TABLE}_parent",
    f"{GEO_TABLE}_rowid",
    "ix_workshop_geo",
    "ix_workshop_ranking",
    "ix_workshop_ranking_any",
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


def _distance(lat_col, lng_col, least):
    """haversine_km(centre, (lat_col, lng_col)) in SQL, term by term as the Python function; the
    centre comes as parameters (_params)."""
    p2 = func.radians(lat_col)
    half_dp = (p2 - bindparam("geo_p1", type_=Float)) / 2
    half_dl = func.radians(lng_col - bindparam("geo_lng", type_=Float)) / 2
    a = func.sin(half_dp) * func.sin(half_dp) + bindparam("geo_cos_p1", type_=Float) * func.cos(
        p2
    ) * func.sin(half_dl) * func.sin(half_dl)
    return literal(EARTH_KM) * 2 * func.asin(least(literal(1.0), func.sqrt(a)))


def _shape(box) -> str:
    """The box's kind: every longitude ("all", a pole inside), across the antimeridian ("wrap"),
    or a plain "box"."""
    _la0, _la1, lo0, lo1 = box
    if lo1 - lo0 >= 360:
        return "all"
    return "wrap" if lo0 < -180 or lo1 > 180 else "box"


def _in_box(lat_lo, lat_hi, lng_lo, lng_hi, shape: str):
    lat_ok = and_(
        lat_lo >= bindparam("geo_la0", type_=Float), lat_hi <= bindparam("geo_la1", type_=Float)
    )
    lo0, lo1 = bindparam("geo_lo0", type_=Float), bindparam("geo_lo1", type_=Float)
    if shape == "all":
        return lat_ok
    if shape == "wrap":  # east of lo0 or west of lo1, each brought back into [-180, 180]
        return and_(lat_ok, or_(lng_lo >= lo0, lng_hi <= lo1))
    return and_(lat_ok, lng_lo >= lo0, lng_hi <= lo1)


def _params(lat: float, lng: float, radius_km: float) -> tuple[str, dict]:
    """The box's shape and the parameters of the statements below for this centre and radius."""
    box = _box(lat, lng, radius_km)
    la0, la1, lo0, lo1 = box
    p1 = math.radians(lat)
    return _shape(box), {
        "geo_p1": p1,
        "geo_cos_p1": math.cos(p1),
        "geo_lng": lng,
        "geo_r": radius_km,
        "geo_la0": la0,
        "geo_la1": la1,
        "geo_lo0": lo0 + 360 if lo0 < -180 else lo0,
        "geo_lo1": lo1 - 360 if lo1 > 180 else lo1,
    }


def _corner(lng_param: str, lat_param: str):
    return func.point(bindparam(lng_param, type_=Float), bindparam(lat_param, type_=Float))


def _candidates(shape: str, scope, plain_status: str | None):
    """A select of (id, distance_km) for the workshops inside the box.

    `scope` is a select of Workshop carrying the public filters; `plain_status` is set when the
    only filter is the status, which SQLite answers from the R*Tree alone."""
    if db.session.get_bind().dialect.name == "postgresql":
        if shape == "box":
            point = func.point(Workshop.lng, Workshop.lat)
            where = point.op("<@")(
                func.box(_corner("geo_lo0", "geo_la0"), _corner("geo_lo1", "geo_la1"))
            )
        else:
            where = _in_box(Workshop.lat, Workshop.lat, Workshop.lng, Workshop.lng, shape)
        d = _distance(Workshop.lat, Workshop.lng, func.least)
        q = scope.where(Workshop.lat.is_not(None), Workshop.lng.is_not(None), where)
        return q.with_only_columns(Workshop.id.label("id"), d.label("distance_km"))
    where = _in_box(geo.c.min_lat, geo.c.max_lat, geo.c.min_lng, geo.c.max_lng, shape)
    if plain_status is not None:
        q = sa_select(
            geo.c.id.label("id"), _distance(geo.c.lat, geo.c.lng, func.min).label("distance_km")
        ).where(where)
        if plain_status != "all":
            q = q.where(geo.c.status == bindparam("geo_status", type_=String))
        return q
    # Other filters: the R*Tree picks the ids in the box first (an IN list the planner cannot
    # turn around into a walk over every matching workshop), the table gives exact lat/lng.
    d = _distance(Workshop.lat, Workshop.lng, func.min)
    return scope.where(Workshop.id.in_(sa_select(geo.c.id).where(where))).with_only_columns(
        Workshop.id.label("id"), d.label("distance_km")
    )


def _statements(shape: str, scope, plain_status: str | None):
    """(page, count) statements: the `geo_need` nearest within `geo_r`, and how many are within it
    (at most `geo_count`). Built once per shape for the plain status filter: constructing these
    expressions costs more than running them."""
    plain = scope is None
    key = (db.session.get_bind().dialect.name, shape, plain_status == "all")
    if plain and key in _BUILT:
        return _BUILT[key]
    if plain:
        scope = sa_select(Workshop)
        if plain_status != "all":
            scope = scope.where(Workshop.status == bindparam("geo_status", type_=String))
    inner = _candidates(shape, scope, plain_status).subquery()
    within = inner.c.distance_km <= bindparam("geo_r", type_=Float)
    page = (
        sa_select(inner.c.id, inner.c.distance_km)
        .where(within)
        .order_by(inner.c.distance_km, inner.c.id)
        .limit(bindparam("geo_need", type_=Integer))
    )
    counted = sa_select(inner.c.id).where(within).limit(bindparam("geo_count", type_=Integer))
    built = page, sa_select(func.count()).select_from(counted.subquery())
    if plain:
        _BUILT[key] = built
    return built


_BUILT: dict = {}


_PROBE: dict = {}


def _probe(lat: float, lng: float, radius_km: float, status: str, n: int) -> list[float] | None:
    """km bounds of the n nearest workshops within the radius's box in flat degrees (PostgreSQL,
    status filter only): the i-th is an upper bound of the true distance of at least i+1
    workshops. None for a box across the antimeridian or round a pole (flat degrees mislead
    there: the circles then grow as below). The box also stops the walk for a rare status."""
    shape, params = _params(lat, lng, radius_km)
    if shape != "box":
        return None
    stmt = _PROBE.get(status == "all")
    if stmt is None:
        here = func.point(bindparam("geo_lng", type_=Float), bindparam("geo_lat", type_=Float))
        point = func.point(Workshop.lng, Workshop.lat)
        flat = point.op("<->")(here)
        inside = point.op("<@")(
            func.box(_corner("geo_lo0", "geo_la0"), _corner("geo_lo1", "geo_la1"))
        )
        stmt = (
            sa_select(flat)
            .where(Workshop.lat.is_not(None), Workshop.lng.is_not(None), inside)
            .order_by(flat)
            .limit(bindparam("geo_n", type_=Integer))
        )
        if status != "all":
            stmt = stmt.where(Workshop.status == bindparam("geo_status", type_=String))
        _PROBE[status == "all"] = stmt
    params |= {"geo_lat": lat, "geo_n": n, "geo_status": status}
    # A hair over the bound: float rounding must never leave one of them outside the circle.
    return [
        EARTH_KM * math.radians(d) * (1 + 1e-9) + 1e-6 for d in db.session.scalars(stmt, params)
    ]


def _grown(r: float, found: int, wanted: int, radius_km: float) -> float:
    """The next count circle when one of radius r held `found` < `wanted`: as wide as the density seen
    says `wanted` need (area grows with r²), with a margin, and at least 1.5 times as wide
    (6 times when it held none). Only the number of queries depends on it, never the answer:
    a circle is taken only once it holds enough, or is the whole radius."""
    factor = 6.0 if found == 0 else max(1.5, 1.2 * math.sqrt(wanted / found))
    return min(radius_km, r * factor)


def nearest(
    lat: float,
    lng: float,
    radius_km: float,
    scope,
    offset: int,
    limit: int,
    plain_status: str | None = None,
    count_limit: int | None = None,
) -> tuple[list[tuple[int, float]], int]:
    """([(workshop id, km)] nearest first (ties by id), skipping `offset`; the number within
    radius_km, counted up to count_limit when given: a number below count_limit is exact, one equal
    to it says "at least that many").

    `scope`: a select of Workshop with the public filters, or None with `plain_status` (a status
    or "all") when that is the only filter."""
    need = offset + limit
    fixed = {"geo_need": need}
    if plain_status not in (None, "all"):
        fixed["geo_status"] = plain_status
    r = min(radius_km, FIRST_RADIUS_KM)
    bounds = None
    if plain_status is not None and db.session.get_bind().dialect.name == "postgresql":
        bounds = _probe(lat, lng, radius_km, plain_status, max(need, count_limit or 0))
        if bounds is not None:  # fewer than the page in the box: the whole radius at once
            r = radius_km if len(bounds) < need else min(radius_km, bounds[need - 1])
    seen = None  # (radius, how many within it) of the last circle that held fewer than wanted
    while True:
        shape, params = _params(lat, lng, r)
        page_stmt, _count = _statements(shape, scope, plain_status)
        rows = db.session.execute(page_stmt, params | fixed).all()
        if len(rows) >= need or r >= radius_km:
            break
        seen = (r, len(rows))
        r = min(radius_km, r * 2)
    page = [(i, float(km)) for i, km in rows[offset:]]
    if len(rows) < need and r >= radius_km:
        return page, len(rows)
    if count_limit is None:  # all of them
        count_limit, r = 2**31 - 1, radius_km
    elif bounds is not None and len(bounds) >= count_limit and bounds[count_limit - 1] <= radius_km:
        return page, count_limit  # that many lie within the radius for sure: "at least"
    # Counted in a circle growing from the page's until it holds count_limit (then so does the
    # radius) or is the radius: a box of the whole radius in a town holds tens of thousands,
    # and PostgreSQL's bitmap scan reads all of them before the LIMIT can stop it. The first
    # circle is sized from the last one the page found too small, when there was one.
    if seen is not None:
        r = max(r, _grown(*seen, count_limit, radius_km))
    while True:
        shape, params = _params(lat, lng, r)
        _page, count_stmt = _statements(shape, scope, plain_status)
        total = db.session.scalar(count_stmt, params | fixed | {"geo_count": count_limit})
        if total >= count_limit or r >= radius_km:
            return page, total
        r = _grown(r, total, count_limit, radius_km)
