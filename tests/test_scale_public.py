"""Province scale on the public side: the spatial index answers nearby exactly as a brute-force
haversine scan; public pages and lists are cached per data version and follow every change; every
query a public GET runs is served by an index (EXPLAIN on SQLite and PostgreSQL)."""

import random
import re
import shutil
import threading
import time
import urllib.request
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from flask import current_app
from sqlalchemy import event, select, text

import search_index
from public_site.api import queries
from search_index.query import haversine_km
from shifangbang import access, changes, current_deployment, public_cache, rankings
from shifangbang.extensions import db as _db
from shifangbang.models import ChangeLog, Workshop

from . import factories
from .conftest import LiveServer

# The product's promise: a change is visible on every channel within seconds.
VISIBLE_WITHIN = 5

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


def test_nearby_across_the_antimeridian_and_round_a_pole(app, db):
    """Boxes that wrap past ±180° or hold a pole (every longitude) find what the brute force finds,
    with the status alone (the spatial index) and with other filters (through the table)."""
    j = factories.jurisdictions()
    spots = [
        (0.0, 179.995),
        (0.0, -179.995),
        (0.01, 179.9),
        (-0.02, -179.92),
        (0.0, 178.0),
        (89.9995, 0.0),
        (89.999, 120.0),
        (89.998, -60.0),
        (89.95, 10.0),
        (88.0, 0.0),
    ]
    made = [factories.workshop(j["xinaobao"], lat=a, lng=b) for a, b in spots]
    _db.session.flush()
    everyone = lambda w: True  # noqa: E731
    for centre in ((0.0, 179.999), (0.0, -179.999), (89.9999, 45.0)):
        for radius in (0.8, 15.0, 50.0):
            _check(made, *centre, radius, {}, everyone, per_page=2)
            _check(made, *centre, radius, {"county": j["donghe"].code}, everyone, per_page=2)


def test_nearby_counts_up_to_the_limit_it_is_given(app, db):
    made, _j = _scatter()
    for filters, keep in (({}, lambda w: w.status == "open"), ({"tier": "gold"}, None)):
        keep = keep or (lambda w: w.status == "open" and w.tier_code == "gold")
        want = _brute(made, *CENTRE, 5.0, keep)
        assert len(want) > 12
        for limit in (1, 7, len(want) - 1, len(want), len(want) + 1, 10_000):
            for page in (1, 2):
                got, total = queries.nearby(*CENTRE, 5.0, filters, page, 5, count_limit=limit)
                assert total == min(limit, len(want))  # below the limit: exact
                assert [c.id for c, _d in got] == [i for _d, i in want[(page - 1) * 5 : page * 5]]


def test_nearby_from_an_empty_field_needs_no_growing_circles(app, db):
    """A phone far from any workshop: the answer is still exact, and on PostgreSQL one walk of the
    GiST index sizes the circle at once (two statements: that walk and the page), where doubling
    from 100 m would take a dozen; the count limit reached inside the radius needs no count."""
    made, _j = _scatter()
    lat, lng = CENTRE[0] + 0.2, CENTRE[1]  # ~22 km north of the cluster
    want = _brute(made, lat, lng, 50.0)
    assert len(want) > 12
    run = []
    listener = lambda *a: run.append(a[2])  # noqa: E731
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        got, total = queries.nearby(lat, lng, 50.0, {}, 1, 5, count_limit=12)
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    assert total == 12 and [c.id for c, _d in got] == [i for _d, i in want[:5]]
    on_workshops = [q for q in run if "workshop" in q.lower() and "workshop_category" not in q]
    if app.config["BACKEND"] == "postgresql":
        assert len(on_workshops) == 3, on_workshops  # the walk, the page, the page's cards


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
    assert body["total"] == len(want) and body["total_is_lower_bound"] is False
    assert [i["distance_km"] for i in body["items"]] == [round(d, 3) for d, _ in want[7:14]]
    codes = {w.id: w.public_code for w in made}
    assert [i["code"] for i in body["items"]] == [codes[i] for _, i in want[7:14]]


def test_nearby_api_counts_to_a_limit_and_pages_on_to_the_last(client, db, monkeypatch):
    """Past the counting limit the total is a lower bound, said so, and `next` still leads on:
    following it gives every workshop once, nearest first, and the last page the exact total."""
    made, _j = _scatter(120)
    want = _brute(made, *CENTRE, 12.0)
    codes = {w.id: w.public_code for w in made}
    assert len(want) > 25
    monkeypatch.setattr(queries, "NEARBY_TOTAL_LIMIT", 10)
    url = f"/api/v1/nearby?lat={CENTRE[0]}&lng={CENTRE[1]}&radius_km=12&per_page=4"
    first = client.get(url).json
    assert (first["total"], first["total_is_lower_bound"], first["pages"]) == (10, True, 3)
    seen, pages, body = [], 0, first
    while True:
        seen += [i["code"] for i in body["items"]]
        pages += 1
        if body["links"]["next"] is None:
            break
        assert body["total_is_lower_bound"] is True and body["total"] > len(seen)
        parts = urlsplit(body["links"]["next"])
        body = client.get(f"{parts.path}?{parts.query}").json
    assert seen == [codes[i] for _d, i in want]
    assert pages == -(-len(want) // 4)
    assert (body["total"], body["total_is_lower_bound"]) == (len(want), False)
    assert body["pages"] == pages
    # Asked for directly, a deep page counts one past itself: more are announced while there are.
    deep = client.get(f"{url}&page=5").json
    assert deep["total"] == min(21, len(want)) and deep["links"]["next"] is not None


def test_api_lists_page_in_ranking_order_over_one_or_every_status(client, db):
    """/api/v1/workshops pages tier by tier through a ranking index (one over every status for
    status=all): page after page, the order a full sort of the matches gives."""
    made, j = _scatter(90)
    for w in made[::7]:
        w.tier_since = None  # never rated since: last within the tier
    made[1].name = made[2].name  # a tie on the date and name falls to the id
    made[1].tier_since, made[1].tier_code = made[2].tier_since, made[2].tier_code
    _db.session.flush()
    ladder = [t.code for t in sorted(current_deployment().tiers, key=lambda t: -t.rank)]
    codes = dict(_db.session.execute(select(Workshop.id, Workshop.public_code)).all())

    def reference(*where):
        present = set(_db.session.scalars(select(Workshop.tier_code).where(*where)))
        order = ladder + sorted(present - set(ladder))
        return [
            codes[i]
            for code in order
            for i in _db.session.scalars(
                select(Workshop.id)
                .where(Workshop.tier_code == code, *where)
                .order_by(*rankings.RANKING_ORDER)
            )
        ]

    donghe = access.subtree_ids(j["donghe"].id)
    for args, where in (
        ("status=all", ()),
        (f"status=all&county={j['donghe'].code}", (Workshop.station_id.in_(donghe),)),
        ("status=all&tier=gold", (Workshop.tier_code == "gold",)),
        ("", (Workshop.status == "open",)),
        ("status=suspended", (Workshop.status == "suspended",)),
    ):
        want, got, page = reference(*where), [], 1
        while True:
            body = client.get(f"/api/v1/workshops?{args}&per_page=8&page={page}").json
            got += [i["code"] for i in body["items"]]
            if body["links"]["next"] is None:
                break
            page += 1
        assert body["total"] == len(want) and got == want, args


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


class _Deferred:
    """A refresher that keeps its jobs until run() (the real one runs them on its thread)."""

    def __init__(self):
        self.jobs = {}

    def submit(self, key, job):
        self.jobs.setdefault(key, job)
        return True

    def run(self):
        jobs, self.jobs = self.jobs, {}
        for job in jobs.values():
            job()


def _workshop_queries(client, url: str) -> list[str]:
    """The queries over workshops that GET url runs in the request."""
    run = []
    listener = lambda *a: run.append(a[2])  # noqa: E731
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    return [q for q in run if "workshop" in q.lower()]


def _aggregates_run(client, url: str) -> list[str]:
    """The counting queries over workshops that GET url runs in the request."""
    return [q for q in _workshop_queries(client, url) if re.search(r"count\(|group by", q, re.I)]


def test_aggregates_are_recomputed_ahead_not_in_the_request(cached_app, db, monkeypatch):
    """After a change, and after the safety-net expiry, the next request serves the value it has
    and queues one refresh; it runs no aggregate itself. Once the refresh ran, the new value shows,
    and the page built from the old value was not kept."""
    client = cached_app.test_client()
    made, j = _scatter(40)
    deferred = _Deferred()
    monkeypatch.setattr(public_cache._state(), "refresher", deferred)
    pages = [
        "/",
        "/rankings",
        f"/rankings?county={j['donghe'].id}",
        "/rankings/announcements",
        "/api/v1/rankings",
        "/api/v1/workshops?status=all",
        "/api/v1/categories",
        "/api/v1/announcements",
    ]
    for url in pages:
        client.get(url)  # a worker's first request computes (nothing to serve yet)
    gold = _gold_count(client.get("/").get_data(as_text=True))
    w = next(w for w in made if w.status == "open" and w.tier_code == "gold")
    w.tier_code = "silver"
    changes.touch(w)
    _db.session.flush()
    for url in pages:
        ran = _aggregates_run(client, url)
        assert not ran, f"{url} counted workshops in the request: {ran}"
    assert _gold_count(client.get("/").get_data(as_text=True)) == gold  # the value it had
    assert deferred.jobs
    deferred.run()
    assert _gold_count(client.get("/").get_data(as_text=True)) == gold - 1
    counts = {c["code"]: c["count"] for c in client.get("/api/v1/rankings").json["counts"]}
    assert counts["gold"] == gold - 1

    # The safety-net expiry: the same, with nothing changed.
    monkeypatch.setattr(public_cache, "CACHE_TTL", -1)
    public_cache._state().pages.ttl = -1
    for url in pages:
        ran = _aggregates_run(client, url)
        assert not ran, f"{url} counted workshops in the request after expiry: {ran}"
    assert deferred.jobs
    deferred.run()
    assert _gold_count(client.get("/").get_data(as_text=True)) == gold - 1


def test_a_worker_warms_home_and_each_district_ranking_before_its_first_visitor(cached_app, db):
    client = cached_app.test_client()
    _made, j = _scatter(30)
    public_cache.warm_up(cached_app, rankings.warm_up)  # as shifangbang/wsgi.py at a worker's start
    for url in ("/", "/rankings", f"/rankings?county={j['donghe'].id}", "/api/v1/categories"):
        assert _workshop_queries(client, url) == [], url


def test_workers_started_together_expire_their_entries_at_different_moments(cached_app):
    """Each worker's aggregates take their own share of CACHE_TTL, so the safety-net expiry does
    not send every worker recomputing them in the same second; rendered pages keep the whole."""
    shares = set()
    with cached_app.app_context():
        for _ in range(5):
            public_cache.clear()  # a new worker's state
            state = public_cache._state()
            low = public_cache.CACHE_TTL * (1 - public_cache.TTL_SPREAD)
            assert low <= state.data.ttl <= public_cache.CACHE_TTL
            assert state.pages.ttl == state.places.ttl == public_cache.CACHE_TTL
            shares.add(state.ttl_share)
    assert len(shares) > 1


def test_a_refresh_that_waits_too_long_is_done_in_the_request(cached_app, db, monkeypatch):
    """Old values are served only while their refresh is fresh: past REFRESH_LIMIT the request
    computes the value itself (a stuck or failing refresh thread never freezes a page)."""
    client = cached_app.test_client()
    made, _j = _scatter(30)
    stuck = _Deferred()
    monkeypatch.setattr(stuck, "submit", lambda key, job: False)
    monkeypatch.setattr(public_cache._state(), "refresher", stuck)
    gold = _gold_count(client.get("/").get_data(as_text=True))
    w = next(w for w in made if w.status == "open" and w.tier_code == "gold")
    w.tier_code = "silver"
    changes.touch(w)
    _db.session.flush()
    assert _gold_count(client.get("/").get_data(as_text=True)) == gold - 1


def test_refresher_runs_each_key_once_on_its_thread(app, monkeypatch):
    """The per-worker refresh thread: jobs run in an app context off the request thread, a key is
    queued once however many requests find it old, and a key waiting past REFRESH_LIMIT is
    reported so the request computes it."""
    refresher = public_cache.Refresher(app)
    release, ran = threading.Event(), []

    def job(n):
        def run():
            release.wait(10)
            ran.append((n, threading.current_thread().name, current_app.name))

        return run

    assert refresher.submit("a", job(1)) is True
    assert refresher.submit("a", job(2)) is True  # already queued: not again
    monkeypatch.setattr(public_cache, "REFRESH_LIMIT", 0)
    time.sleep(0.01)
    assert refresher.submit("a", job(3)) is False  # queued too long: compute it yourself
    release.set()
    deadline = time.monotonic() + 10
    while len(ran) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    assert ran == [(1, "public-cache", app.name)]
    failing = lambda: 1 / 0  # noqa: E731
    assert refresher.submit("b", failing) is True
    monkeypatch.setattr(public_cache, "REFRESH_LIMIT", 10)
    while not ran[1:] and time.monotonic() < deadline:
        refresher.submit("b", job(4))  # once the failure freed the key, queued again and run
        time.sleep(0.01)
    assert (4, "public-cache", app.name) in ran[1:]  # the thread outlived the failure


@pytest.mark.scaleout
def test_a_change_shows_within_seconds_on_every_worker(tmp_path):
    """A real server (two gunicorn workers, their refresh threads): after a tier change commits,
    the home page's counts follow within VISIBLE_WITHIN seconds on every request."""
    server = LiveServer(tmp_path, workers=2, demo_size=40)
    try:
        for _ in range(6):  # both workers hold the counts
            _status, body = _http_get(server.url, "/")
        gold = _gold_count(body)
        with server.app.app_context():
            w = _db.session.scalar(
                select(Workshop).where(Workshop.status == "open", Workshop.tier_code == "gold")
            )
            w.tier_code = "silver"
            changes.touch(w)
            _db.session.commit()
        committed, in_a_row = time.monotonic(), 0
        while in_a_row < 10 and time.monotonic() - committed < VISIBLE_WITHIN:
            _status, body = _http_get(server.url, "/")
            in_a_row = in_a_row + 1 if _gold_count(body) == gold - 1 else 0
            time.sleep(0.05)
        assert in_a_row >= 10, f"still {gold} 金榜 {VISIBLE_WITHIN}s after the change"
    finally:
        server.stop()
        with server.app.app_context():
            _db.engine.dispose()


def _http_get(url: str, path: str) -> tuple[int, str]:
    with urllib.request.urlopen(url + path, timeout=30) as r:
        return r.status, r.read().decode()


def test_nearby_answers_are_kept_until_the_data_changes(cached_app, db):
    client = cached_app.test_client()
    made, _j = _scatter(60)
    url = f"/api/v1/nearby?lat={CENTRE[0]}&lng={CENTRE[1]}&per_page=3"
    first = client.get(url).json
    assert _workshop_queries(client, url) == [] and client.get(url).json == first
    w = next(w for w in made if w.status == "open" and w.lat is not None)
    w.lat, w.lng = CENTRE[0], CENTRE[1] + 0.00001  # moved next to the centre
    changes.touch(w)
    _db.session.flush()
    assert client.get(url).json["items"][0]["code"] == w.public_code
    # Phones' ever new positions push out each other's answers, not the pages.
    state = public_cache._state()
    state.pages.size = state.places.size = 3
    detail = f"/api/v1/workshops/{w.public_code}"  # its body built with the staff list
    client.get(detail)
    for i in range(6):
        client.get(f"/api/v1/nearby?lat={CENTRE[0] + i / 1000}&lng={CENTRE[1]}")
    assert not [q for q in _workshop_queries(client, detail) if "staff_member" in q]


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
        f"/rankings/announcements?county={j['donghe'].id}&direction=reconfirm",
        "/api/v1/announcements",
        f"/api/v1/announcements?county={j['donghe'].code}",
        f"/api/v1/workshops/{code}",
        "/api/v1/search?q=豆腐",
        f"/api/v1/nearby?lat={CENTRE[0]}&lng={CENTRE[1]}",
        f"/api/v1/nearby?lat={CENTRE[0]}&lng={CENTRE[1]}&tier=gold",
        "/api/v1/workshops",
        "/api/v1/workshops?status=all&page=2&per_page=5",
        f"/api/v1/nearby?lat={CENTRE[0]}&lng={CENTRE[1]}&status=all",
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
        # Published tier decisions newest first (定榜公告, a workshop's history) likewise.
        listing = listing or (
            re.match(r"\s*SELECT tier_decision\.id\b", stmt) is not None
            and "ORDER BY tier_decision.published_at DESC" in stmt
        )
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
