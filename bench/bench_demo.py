"""Demo data generation rate (`flask demo load --size N`), in workshops per second.

Size: DEMO_BENCH_SIZE (default 20,000; the 200,000-workshop set is the product's benchmark size).
Baseline in the same run: generating the rows without writing them, so the ratio shows what
the database costs (the load generates in a second process while it writes, so it can come
close to 1). Target: 200,000 workshops with all their children in 120 s (≥ 1,667 workshops/s)
on SQLite; run with DEMO_BENCH_SIZE=200000 for the real figure (the rate falls a little as the
database outgrows memory). PostgreSQL too when TEST_DATABASE_URL is set (its schema is dropped
and rebuilt, as the test suite does).
"""

import os
import tempfile
import time
from pathlib import Path

SIZE = int(os.environ.get("DEMO_BENCH_SIZE", "20000"))
SEED = 20261123
TARGET = 200_000 / 120  # workshops per second


def _load_rate(url: str, index_dir: Path) -> tuple[float, int]:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from shifangbang import create_app, demo
    from shifangbang.extensions import db
    from shifangbang.models import InspectionItem

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SEARCH_INDEX_DIR": str(index_dir), "SECRET_KEY": "bench"}
    )
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        demo.load(seed=SEED, size=SIZE)
        elapsed = time.perf_counter() - started
        items = db.session.scalar(select(func.count(InspectionItem.id)))
        db.session.remove()
        db.engine.dispose()
    return SIZE / elapsed, items


def run(report):
    from shifangbang import create_app, deployment
    from shifangbang.demo import Generator
    from shifangbang.timeutil import today

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{base / 'x.db'}", "SECRET_KEY": "bench"})
        gen = Generator(SEED, SIZE, today(), deployment.load())
        gen.query_password_hash = "x"
        gen.fixed(lambda p: "x")
        started = time.perf_counter()
        rows = sum(len(r) for _n, chunk in gen.chunks() for r in chunk.values())
        gen_rate = SIZE / (time.perf_counter() - started)
        report(
            f"demo generate only (n={SIZE})",
            gen_rate,
            "wshop/s",
            note=f"{rows / SIZE:.0f} rows per workshop",
        )

        rate, items = _load_rate(f"sqlite:///{base / 'demo.db'}", base / "index")
        report(
            f"demo load SQLite (n={SIZE})",
            rate,
            "wshop/s",
            target=TARGET,
            baseline=gen_rate,
            note=f"{rate / gen_rate:.2f}× generate-only; {items} checklist items",
        )
        pg = os.environ.get("TEST_DATABASE_URL")
        if pg:
            from tests.conftest import reset_postgres

            reset_postgres(pg)
            rate, _items = _load_rate(pg, base / "index-pg")
            report(
                f"demo load PostgreSQL (n={SIZE})",
                rate,
                "wshop/s",
                target=TARGET,
                baseline=gen_rate,
                note=f"{rate / gen_rate:.2f}× generate-only",
            )
