"""API throughput in-process (Flask test client) on SQLite, against /healthz in the same run; and the
nearby query's bounding box against a full-table distance scan.

Size: BENCH_API_WORKSHOPS (default 2000).
"""

import os
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path


def _rate(client, paths: list[str], seconds: float = 2.0) -> float:
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        r = client.get(paths[n % len(paths)])
        assert r.status_code == 200, (paths[n % len(paths)], r.status_code)
        n += 1
    return n / (time.perf_counter() - started)


def run(report):
    from flask_migrate import upgrade
    from sqlalchemy.orm import selectinload

    from public_site.api import queries
    from shifangbang import create_app
    from shifangbang.extensions import db
    from shifangbang.models import Jurisdiction, ProductCategory, Workshop

    size = int(os.environ.get("BENCH_API_WORKSHOPS", "2000"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'b.db'}",
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "SEARCH_INDEX_DIR": str(tmp / "i"),
        }
    )
    rng = random.Random(7)
    with app.app_context():
        upgrade()
        city = Jurisdiction(code="B", name="包头市", level="city")
        county = Jurisdiction(code="B1", name="东河区", level="county", parent=city)
        stations = [
            Jurisdiction(code=f"B1{i}", name=f"第{i}所", level="station", parent=county)
            for i in range(5)
        ]
        cats = [
            ProductCategory(code=f"C{i}", name=n, high_risk=i % 2 == 0)
            for i, n in enumerate(["豆制品", "糕点", "粮食加工品", "肉制品"])
        ]
        db.session.add_all([city, county, *stations, *cats])
        db.session.flush()
        tiers = ["gold", "silver", "bronze", "orange", "unrated"]
        for n in range(size):
            w = Workshop(
                public_code=f"B{n:06d}",
                cert_type="登记证",
                cert_no=f"蒙食小作坊登字第{n:012d}号",
                name=f"作坊{n}",
                operator_name="王建国",
                address=f"东河区{n}号",
                station_id=stations[n % 5].id,
                lat=40.4 + rng.random() * 0.6,
                lng=109.6 + rng.random() * 0.8,
                tier_code=tiers[n % 5],
                tier_since=date(2026, 1, 1) + timedelta(days=n % 300),
                seven_in_place={},
            )
            w.categories = [cats[n % 4]]
            db.session.add(w)
        db.session.commit()

        def scan(lat, lng, radius):
            """The naive alternative: load every open workshop and measure each distance."""
            rows = db.session.scalars(
                queries.filtered({}).options(
                    selectinload(Workshop.categories), selectinload(Workshop.station)
                )
            ).all()
            found = [(queries.haversine_km(lat, lng, w.lat, w.lng), w.id, w) for w in rows]
            return sorted(x for x in found if x[0] <= radius)

        points = [(40.4 + rng.random() * 0.6, 109.6 + rng.random() * 0.8) for _ in range(30)]
        t = time.perf_counter()
        for lat, lng in points:
            scan(lat, lng, 3)
        full = (time.perf_counter() - t) / len(points)
        t = time.perf_counter()
        for lat, lng in points:
            queries.nearby(lat, lng, 3, {})
        box = (time.perf_counter() - t) / len(points)
        report(
            "api nearby 3 km: full scan / bounding box",
            full / box,
            "x",
            target=1.0,
            note=f"{box * 1000:.1f} ms vs {full * 1000:.1f} ms, {size} workshops",
        )

    client = app.test_client()
    base = _rate(client, ["/healthz"])
    report("api baseline /healthz", base, "req/s")
    codes = [f"/api/v1/workshops/B{rng.randrange(size):06d}" for _ in range(50)]
    for name, paths in [
        ("workshop detail", codes),
        ("workshop list (20)", [f"/api/v1/workshops?per_page=20&page={p}" for p in range(1, 20)]),
        ("nearby 3 km", [f"/api/v1/nearby?lat={a:.4f}&lng={b:.4f}" for a, b in points]),
        ("badge.svg", [c.replace("/api/v1/workshops/", "/w/") + "/badge.svg" for c in codes]),
    ]:
        rate = _rate(client, paths)
        report(f"api {name}", rate, "req/s", baseline=base, note=f"{rate / base:.2f} × /healthz")
