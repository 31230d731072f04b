"""双随机 draw and statistics timings, against same-run baselines.

draw: the pure draw over a pool of 2000 workshops and 20 inspectors vs. only sorting the pool
(the floor any canonical ordering pays). stats: stats.compute over a county with 400 workshops,
400 inspections and 400 samplings vs. a bare COUNT(*) on the workshop table.
"""

import tempfile
import time
from datetime import date, timedelta
from pathlib import Path


def _best(fn, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def run(report):
    from shifangbang import draws

    pool = [f"W{i:06d}" for i in range(2000)]
    base = _best(lambda: sorted(pool, reverse=True))
    value = _best(lambda: draws.compute("bench-seed", pool, 50, 20, 2))
    report(
        "draw 2000 pool, 50 targets",
        value * 1000,
        "ms",
        baseline=base * 1000,
        note=f"{value / base:.0f}x sorting the pool",
        higher_is_better=False,
    )

    from sqlalchemy import func, select

    from shifangbang import create_app, stats
    from shifangbang.extensions import db
    from shifangbang.models import Inspection, Sampling, Workshop
    from tests import factories as f

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'b.db'}",
                "SECRET_KEY": "bench",
                "SEARCH_INDEX_DIR": str(Path(tmp) / "idx"),
            }
        )
        with app.app_context():
            db.create_all()
            j = f.jurisdictions()
            officers = [f.user("officer", j["xinaobao"]) for _ in range(2)]
            for n in range(400):
                w = f.workshop(
                    j["xinaobao"] if n % 2 else j["nanmen"],
                    tier_code=("gold", "silver", "bronze")[n % 3],
                )
                db.session.add(
                    Inspection(
                        workshop_id=w.id,
                        inspected_on=date(2026, 1, 1) + timedelta(days=n % 300),
                        kind="routine",
                        result=("pass", "basic", "fail")[n % 3],
                        inspectors=officers,
                    )
                )
                db.session.add(
                    Sampling(
                        workshop_id=w.id,
                        sampled_on=date(2026, 1, 1) + timedelta(days=n % 300),
                        product="豆腐",
                        lab="x",
                        result="fail" if n % 7 == 0 else "pass",
                        notice_on=date(2026, 1, 5),
                    )
                )
            db.session.commit()
            ids = {j["donghe"].id, j["xinaobao"].id, j["nanmen"].id}
            base = _best(lambda: db.session.scalar(select(func.count(Workshop.id))))
            value = _best(lambda: stats.compute(ids, date(2026, 1, 1), date(2027, 1, 1)))
            report(
                "stats.compute 400 workshops",
                value * 1000,
                "ms",
                baseline=base * 1000,
                note=f"{value / base:.0f}x a COUNT(*)",
                higher_is_better=False,
            )
            figures = stats.compute(ids, date(2026, 11, 1), date(2026, 12, 1))
            value = _best(lambda: stats.xlsx(figures, "东河区"))
            report("monthly sheet xlsx", value * 1000, "ms", higher_is_better=False)
