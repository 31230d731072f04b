"""Province scale on the public side: the spatial index answers nearby exactly as a brute-force
haversine scan; public pages and lists are cached per data version and follow every change; every
query a public GET runs is served by an index (EXPLAIN on SQLite and PostgreSQL)."""

import random
import re
import shutil
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select, text

import search_index
from public_site.api import queries
from search_index.query import haversine_km
from shifangbang import changes, public_cache
from shifangbang.extensions import db as _db
from shifangbang.models import ChangeLog, Workshop

from . import factories

CENTRE = (40.60, 110.00)
TIERS = ["gold", "silver", "bronze", "orange", "unrated"]


def _scatter(n: int = 300, seed: int = 7):
    """n workshops around CENTRE (some closed, some without a location), with a change-log entry
    each as the domain functions write."""
    rng = random.Random(seed)
    j = factories.jurisdictions()
    stations = [j["xinaobao"], j["nanmen"], j["kun1"]]
    made = []
    for i in range(n):
        located = rng.random() > 0.1
        w = factories.workshop(
            stations[i % 3],
            lat=CENTRE[0] + rng.uniform(-0.08, 0.08) if located else None,
            lng=CENTRE[1] + rng.uniform(-0.1, 0.1) if located else None,
            status="open" if rng.random() > 0.15 else "suspended",
            tier_code=rng.choice(TIERS),
            tier_since=date(2026, 1, 1) + timedelta(days=rng.randrange(300)),
        )
        changes.touch(w)
        made.append(w)
    _db.session.flush()
    return made, j


def _brute(made, lat, lng, radius, keep=lambda w: w.status == "open"):
    found = [
        (haversine_km(lat, lng, w.lat, w.lng), w.id)
        for w in made
        if w.lat is not None and w.lng is not None and keep(w)
    ]
    return sorted((d, i) for d, i in found if d <= radius)


def _check(made, lat, lng, radius, filters, keep, per_page=20):
    want = _brute(made, lat, lng, radius, keep)
    for page in (1, 2, 3):
        got, total = queries.nearby(lat, lng, radius, filters, page, per_page)
        assert total == len(want)
        expect = want[(page - 1) * per_page : page * per_page]
        assert [c.id for c, _d in got] == [i for _d, i in expect]
        assert [d for _c, d in got] == pytest.approx([d for d, _i in expect], abs=1e-9)


def test_nearby_is_the_brute_force_answer(app, db):
    made, _j = _scatter()
    rng = random.Random(3)
    for _ in range(6):
        lat = CENTRE[0] + rng.uniform(-0.05, 0.05)
        lng = CENTRE[1] + rng.uniform(-0.05, 0.05)
        for radius in (0.4, 1.5, 3.0, 12.0):
            _check(made, lat, lng, radius, {}, lambda w: w.status == "open")
    # Other filters go through the workshop table as well; status=all takes every located one.
    _check(
        made, *CENTRE, 5.0, {"tier": "gold"}, lambda w: w.status == "open" and w.tier_code == "gold"
    )
    _check(made, *CENTRE, 5.0, {"status": "all"}, lambda w: True)
    _check(made, *CENTRE, 5.0, {"status": "suspended"}, lambda w: w.status == "suspended")


def test_nearby_follows_moves_closures_and_deletions(app, db):
    made, _j = _scatter(60)
    lat, lng = CENTRE
    first, _ = queries.nearby(lat, lng, 50, {}, 1, 1)
    nearest = _db.session.get(Workshop, first[0][0].id)
    far = next(w for w in made if w.lat is not None and w.id != nearest.id)
    far.lat, far.lng = lat + 0.0001, lng  # moved next to the centre
    _db.session.flush()
    got, _ = queries.nearby(lat, lng, 50, {}, 1, 1)
    assert got[0][0].id == far.id if far.status == "open" else got[0][0].id == nearest.id
    far.status = "open"
    _db.session.flush()
    assert queries.nearby(lat, lng, 50, {}, 1, 1)[0][0][0].id == far.id
    far.status = "revoked"  # closed: gone from the default (open) answer
    _db.session.flush()
    assert far.id not in [c.id for c, _ in queries.nearby(lat, lng, 50, {}, 1, 100)[0]]
    _db.session.delete(nearest)
    _db.session.flush()
    ids = [c.id for c, _ in queries.nearby(lat, lng, 50, {"status": "all"}, 1, 100)[0]]
    assert nearest.id not in ids and far.id in ids
    far.lat = far.lng = None  # location removed
    _db.session.flush()
    ids = [c.id for c, _ in queries.nearby(lat, lng, 50, {"status": "all"}, 1, 100)[0]]
    assert far.id not in ids


def test_nearby_api_pages_and_counts(client, db):
    made, _j = _scatter(120)
    want = _brute(made, *CENTRE, 3.0)
    body = client.get(f"/api/v1/nearby?lat={CENTRE[0]}&lng={CENTRE[1]}&per_page=7&page=2").json
    assert body["total"] == len(want)
    assert [i["distance_km"] for i in body["items"]] == [round(d, 3) for d, _ in want[7:14]]
    codes = {w.id: w.public_code for w in made}
    assert [i["code"] for i in body["items"]] == [codes[i] for _, i in want[7:14]]


# --- caching by data version ----------------------------------------------------------------


@pytest.fixture
def cached_app(app, db):
    app.config["PUBLIC_CACHE"] = True
    public_cache.clear()
    yield app
    app.config.pop("PUBLIC_CACHE")
    public_cache.clear()


def test_public_pages_are_cached_until_the_data_changes(cached_app, db):
    client = cached_app.test_client()
    made, j = _scatter(40)
    open_gold = [w for w in made if w.status == "open" and w.tier_code == "gold"]
    county = j["donghe"].id
    pages = ["/", "/rankings", f"/rankings?county={county}"]
    before = {p: client.get(p).get_data(as_text=True) for p in pages}
    queries_run = []
    listener = lambda *a: queries_run.append(a[2])  # noqa: E731
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        again = {p: client.get(p).get_data(as_text=True) for p in pages}
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    assert again == before
    # Served from the cache: at most the version lookup, never a workshop query.
    assert not [q for q in queries_run if "workshop" in q.lower()]

    w = open_gold[0]
    w.name = "新改名的金榜作坊"
    changes.touch(w)
    _db.session.flush()
    assert "新改名的金榜作坊" in client.get("/").get_data(as_text=True)
    ranking = client.get(f"/rankings?county={county}").get_data(as_text=True)
    assert ("新改名的金榜作坊" in ranking) == (w.station.parent_id == county)
    # A count moves with a tier change.
    gold_before = _gold_count(client.get("/").get_data(as_text=True))
    w.tier_code = "silver"
    changes.touch(w)
    _db.session.flush()
    assert _gold_count(client.get("/").get_data(as_text=True)) == gold_before - 1


def _gold_count(html: str) -> int:
    return int(re.search(r"金榜</span> (\d+) 家", html).group(1))


def test_version_is_the_newest_change(cached_app, db):
    v1 = public_cache.change_id()
    factories.jurisdictions()
    w = factories.workshop(factories.jurisdictions()["xinaobao"])
    changes.touch(w)
    _db.session.flush()
    assert public_cache.change_id() == _db.session.scalar(
        select(ChangeLog.id).order_by(ChangeLog.id.desc()).limit(1)
    )
    assert public_cache.change_id() > v1


# --- plans: every query of a public GET is served by an index --------------------------------

# Small reference tables read whole (and cached per version): places, categories, titles, the
# tier ladder. Everything else must be found through an index.
REFERENCE = {"jurisdiction", "product_category", "title"}
# Whole-registry aggregates, computed once per data version, may read a covering index in full.
AGGREGATE = re.compile(r"\bcount\(", re.I)


def _public_urls(made, j):
    code = next(w.public_code for w in made if w.status == "open")
    cat = made[0].categories[0].id
    return [
        "/",
        "/rankings",
        f"/rankings?county={j['donghe'].id}",
        f"/rankings?category={cat}",
        f"/w/{code}",
        "/search?q=豆腐",
        f"/search?q=豆腐&county={j['donghe'].id}",
        "/rankings/announcements",
        f"/api/v1/workshops/{code}",
        "/api/v1/search?q=豆腐",
        f"/api/v1/nearby?lat={CENTRE[0]}&lng={CENTRE[1]}",
        f"/api/v1/nearby?lat={CENTRE[0]}&lng={CENTRE[1]}&tier=gold",
        "/api/v1/workshops",
        "/api/v1/rankings",
        "/api/v1/categories",
    ]


def _plan(conn, backend: str, statement: str, params) -> list[str]:
    if backend == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
        return [r[3] for r in rows]
    return [r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, params).all()]


def _full_scans(
    plan: list[str], backend: str, aggregate: bool, sorts_workshops: bool, stmt: str = ""
) -> list[str]:
    def hijacked(line: str) -> bool:
        """A query for one workshop's rows (… WHERE t.workshop_id = ?) must find them by that
        column, not walk a wide index (say status, published_at) to skip a small sort."""
        m = re.match(r"SEARCH (\w+) USING (?:COVERING )?INDEX \w+ \((.*)\)", line.strip())
        return (
            bool(m) and f"{m.group(1)}.workshop_id = " in stmt and "workshop_id" not in m.group(2)
        )

    bad = []
    for line in plan:
        if sorts_workshops and re.search(r"TEMP B-TREE FOR ORDER BY|\bSort\b", line):
            bad.append(line)  # sorting every matching workshop to show a page of them
            continue
        if backend == "sqlite" and re.match(
            r"SEARCH workshop USING INDEX \w+ \(status=\?\)$", line.strip()
        ):
            bad.append(line)  # every open workshop, each looked up in the table
            continue
        if backend == "sqlite" and hijacked(line):
            bad.append(line)  # one workshop's rows looked up through another index
            continue
        if backend == "sqlite":
            m = re.match(r"SCAN (\w+)(.*)", line.strip())
            if (
                not m
                or m.group(1) in REFERENCE
                or m.group(1) == "CONSTANT"
                or m.group(1).startswith("(")
            ):
                continue
            rest = m.group(2)
            if "VIRTUAL TABLE INDEX 2:" in rest:  # R*Tree search by box
                continue
            if aggregate and "COVERING INDEX" in rest:
                continue
            bad.append(line)
        else:
            m = re.search(r"Seq Scan on (\w+)", line)
            if m and m.group(1) not in REFERENCE:
                bad.append(line)
    return bad


def test_public_queries_use_indexes(app, db):
    """Each statement of each public GET (caches off, so every query runs), explained."""
    made, j = _scatter(200)
    index = search_index.get_index()
    index.rebuild()  # of this transaction's rows: removed again below
    try:
        _explain_public_gets(app, made, j)
    finally:
        shutil.rmtree(index.root, ignore_errors=True)


def _explain_public_gets(app, made, j):
    client = app.test_client()
    backend = app.config["BACKEND"]
    conn = _db.session.connection()
    if backend == "postgresql":
        # Tiny tables: ask for indexes (and ordered ones); a plan without one keeps its Seq Scan or Sort.
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        conn.exec_driver_sql("SET LOCAL enable_sort = off")
    seen = []
    listener = lambda c, cur, stmt, params, ctx, many: seen.append((stmt, params))  # noqa: E731
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        for url in _public_urls(made, j):
            assert client.get(url).status_code == 200, url
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    problems = []
    checked = 0
    for stmt, params in seen:
        if not stmt.lstrip().upper().startswith("SELECT") or "sqlite_" in stmt:
            continue
        checked += 1
        plan = _plan(conn, backend, stmt, params)
        aggregate = bool(AGGREGATE.search(stmt))
        # A page of workshops in list order (not one workshop's history, nor the nearest by
        # distance, whose candidates the spatial index bounds).
        listing = re.match(r"\s*SELECT workshop\.id\s+FROM workshop\b", stmt) is not None
        for line in _full_scans(plan, backend, aggregate, listing and not aggregate, stmt):
            problems.append(f"{line}\n    in {stmt[:300]}")
    assert checked > 30
    assert not problems, "\n".join(problems)


def test_spatial_index_exists_and_is_complete(app, db):
    made, _j = _scatter(50)
    located = sum(1 for w in made if w.lat is not None)
    conn = _db.session.connection()
    if app.config["BACKEND"] == "sqlite":
        triggers = set(
            conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='workshop'"
            ).scalars()
        )
        assert {"workshop_geo_ai", "workshop_geo_au", "workshop_geo_ad"} <= triggers
        in_tree = conn.execute(
            text(
                "SELECT count(*) FROM workshop_geo g JOIN workshop w ON w.id = g.id "
                "WHERE g.lat = w.lat AND g.lng = w.lng AND g.status = w.status"
            )
        ).scalar()
        all_located = conn.execute(
            text("SELECT count(*) FROM workshop WHERE lat IS NOT NULL AND lng IS NOT NULL")
        ).scalar()
        assert in_tree == all_located >= located
        assert conn.execute(text("SELECT count(*) FROM workshop_geo")).scalar() == all_located
    else:
        indexdef = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_workshop_geo'")
        ).scalar()
        assert "gist" in indexdef and "point(lng, lat)" in indexdef


def test_api_detail_and_search_answer_304_and_follow_changes(cached_app, db):
    client = cached_app.test_client()
    made, _j = _scatter(20)
    w = next(w for w in made if w.status == "open")
    url = f"/api/v1/workshops/{w.public_code}"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and first.json["name"] == w.name
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    w.name = "改了名字的作坊"
    changes.touch(w)
    _db.session.flush()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json["name"] == "改了名字的作坊"
    assert changed.headers["ETag"] != etag
    assert client.get("/api/v1/workshops/NOSUCHCODE").status_code == 404
