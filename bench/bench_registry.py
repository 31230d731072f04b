"""Registry import and list: throughput of a checked, audited import against a bare ORM insert of
the same rows (the ratio is the price of validation + audit chain + change log), and the list
page's query against a bare page of ids."""

import os
import tempfile
import time
from pathlib import Path

N = int(os.environ.get("BENCH_REGISTRY_ROWS", "1000"))


def run(report) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from shifangbang import create_app, registry
    from shifangbang.extensions import db
    from shifangbang.models import Jurisdiction, ProductCategory, User, Workshop

    tmp = Path(tempfile.mkdtemp(prefix="bench-registry-"))
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'b.db'}",
            "SECRET_KEY": "b",
            "SEARCH_INDEX_DIR": str(tmp / "idx"),
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
        city = Jurisdiction(code="B", name="包头市", level="city")
        station = Jurisdiction(code="B1", name="西脑包市场监管所", level="station", parent=city)
        tofu = ProductCategory(code="C1", name="豆制品", high_risk=True)
        admin = User(username="bench", display_name="b", role="admin", password_hash="x")
        db.session.add_all([city, station, tofu, admin])
        db.session.commit()

        def sheet(prefix):
            header = ",".join(registry.COLUMNS)
            lines = [header] + [
                f"{prefix}作坊{i},登记证,蒙食小作坊登字第{prefix}{i:011d}号,张三,139047{i % 100000:05d},"
                f"包头市东河区{i}号,西脑包市场监管所,豆制品,豆腐,2025-01-01,2028-01-01,在营,,,40.5,110.1,"
                for i in range(N)
            ]
            return ("\ufeff" + "\n".join(lines)).encode()

        rows = registry.read_sheet("a.csv", sheet("1"))
        started = time.perf_counter()
        report_dry = registry.dry_run(None, rows)
        dry = time.perf_counter() - started
        assert report_dry.ok, report_dry.errors[:3]
        started = time.perf_counter()
        result = registry.import_rows(None, rows)
        imported = time.perf_counter() - started
        assert result.created == N
        started = time.perf_counter()
        again = registry.import_rows(None, rows)
        reimport = time.perf_counter() - started
        assert again.unchanged == N

        # Baseline: the same rows inserted with no checks, no audit, no change log.
        started = time.perf_counter()
        for i, (_, r) in enumerate(registry.read_sheet("b.csv", sheet("2"))):
            w = Workshop(
                public_code=f"Z{i:07d}",
                cert_type="登记证",
                cert_no=r["cert_no"],
                name=r["name"],
                operator_name="张三",
                address=r["address"],
                station_id=station.id,
                seven_in_place={},
            )
            w.categories = [tofu]
            db.session.add(w)
        db.session.commit()
        bare = time.perf_counter() - started

        report(
            f"import {N} rows: checked+audited",
            N / imported,
            "rows/s",
            baseline=N / bare,
            note=f"{bare / imported:.2f}× the bare insert's speed",
        )
        report(f"import {N} rows: dry run", N / dry, "rows/s")
        report(f"re-import {N} unchanged rows", N / reimport, "rows/s")

        filters = registry.Filters(q="作坊1")
        loops = 20
        started = time.perf_counter()
        for _ in range(loops):
            page = db.paginate(
                registry.list_query(admin, filters), page=3, per_page=50, error_out=False
            )
            [(w.station.name, [c.name for c in w.categories]) for w in page.items]
            db.session.expire_all()
        listed = (time.perf_counter() - started) / loops
        started = time.perf_counter()
        for _ in range(loops):
            db.session.scalars(
                select(Workshop.id).where(Workshop.name.like("%作坊1%")).limit(50).offset(100)
            ).all()
        bare_list = (time.perf_counter() - started) / loops
        report(
            f"list page (search, {2 * N} workshops)",
            listed * 1000,
            "ms",
            target=100,
            higher_is_better=False,
            baseline=bare_list * 1000,
            note=f"{listed / bare_list:.1f}× a bare id page",
        )
