"""Search at scale: index build rate, query latency over a realistic mix, a worker's memory.

    python -m bench search      (200,000 workshops, about three minutes; BENCH_SEARCH_N=5000 for a quick look)

Relevance first: hit@3 and MRR per kind of query over tests/search_relevance.py (185 queries,
written alongside the tuning: a floor) and tests/search_heldout.py (165 queries generated from
generated workshops, written before reading the tuning: the measure), each among 2,000
look-alikes. `python -m bench search` with BENCH_SEARCH_N=0 stops after relevance.

Workshops are generated here (names, products and places in the demo's style) straight into a
scratch SQLite database. Baselines from the same run: document analysis alone (the build's
floor) and the database LIKE fallback (what searching costs without the index).
"""

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

N = int(os.environ.get("BENCH_SEARCH_N", "200000"))
SEED = 20261123

PLACES = [
    "老东河",
    "萨拉齐",
    "固阳",
    "土右",
    "石拐",
    "白云",
    "九原",
    "青山",
    "昆都仑",
    "东河",
    "达茂",
    "包头",
    "南门外",
    "西脑包",
    "北梁",
    "河东",
    "沙河",
    "哈林格尔",
    "明安",
    "美岱召",
    "将军尧",
    "公益民",
]
BRANDS = [
    "王记",
    "李家",
    "老张",
    "刘氏",
    "福源",
    "鑫源",
    "兴旺",
    "丰收",
    "金穗",
    "红星",
    "绿源",
    "晋泉",
    "蒙香",
    "草原",
    "长寿",
    "重庆",
    "乐乐",
    "马记",
    "赵家",
    "和顺",
    "德胜",
    "永兴",
    "聚福",
    "同盛",
    "宏达",
    "顺心",
]
PRODUCTS = [
    ("凉糕", "糕点"),
    ("凉皮", "粮食加工品"),
    ("莜面", "粮食加工品"),
    ("豆腐", "豆制品"),
    ("腐竹", "豆制品"),
    ("胡麻油", "食用植物油"),
    ("老陈醋", "食醋"),
    ("手把肉", "肉制品"),
    ("牛肉干", "肉制品"),
    ("月饼", "糕点"),
    ("粉条", "淀粉及淀粉制品"),
    ("挂面", "粮食加工品"),
    ("熏肉", "肉制品"),
    ("烧麦", "速冻食品"),
    ("馒头", "粮食加工品"),
    ("炒米", "粮食加工品"),
    ("麻花", "糕点"),
    ("酱油", "调味品"),
    ("豆芽", "豆制品"),
    ("糖麻叶", "糕点"),
    ("奶豆腐", "乳制品"),
]
SUFFIXES = ["作坊", "坊", "加工坊", "手工作坊", "小作坊", "加工厂", "店", "食品作坊"]
HIGH_RISK = {"糕点", "豆制品", "食用植物油", "食醋", "肉制品", "淀粉及淀粉制品"}
TIERS = ["gold"] * 1 + ["silver"] * 3 + ["bronze"] * 4 + ["orange"] * 1 + ["unrated"] * 1


def rss_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def populate(db, n: int) -> dict:
    from sqlalchemy import insert

    from shifangbang.models import Jurisdiction, ProductCategory, Workshop, workshop_category

    rnd = random.Random(SEED)
    city = Jurisdiction(code="150200", name="包头市", level="city")
    db.session.add(city)
    stations = []
    for ci, county in enumerate(
        ["东河区", "昆都仑区", "青山区", "九原区", "石拐区", "土默特右旗", "固阳县", "达茂旗"]
    ):
        c = Jurisdiction(code=f"1502{ci + 1:02d}", name=county, level="county", parent=city)
        db.session.add(c)
        for si in range(4):
            s = Jurisdiction(
                code=f"1502{ci + 1:02d}{si}",
                name=f"{PLACES[(ci * 4 + si) % len(PLACES)]}市场监管所",
                level="station",
                parent=c,
            )
            db.session.add(s)
            stations.append(s)
    cats = {}
    for i, name in enumerate(sorted({c for _, c in PRODUCTS})):
        cats[name] = ProductCategory(code=f"{1000 + i}", name=name, high_risk=name in HIGH_RISK)
        db.session.add(cats[name])
    db.session.flush()
    station_ids = [s.id for s in stations]
    rows, links = [], []
    for i in range(1, n + 1):
        product, cat = rnd.choice(PRODUCTS)
        name = f"{rnd.choice(PLACES)}{rnd.choice(BRANDS)}{product}{rnd.choice(SUFFIXES)}"
        extra = rnd.choice(PRODUCTS)[0]
        lat = 40.55 + rnd.random() * 0.2 if rnd.random() < 0.6 else None
        rows.append(
            dict(
                id=i,
                public_code=f"B{i:07d}",
                cert_type="登记证",
                cert_no=f"蒙食小作坊登字第1502{i:08d}号",
                name=name,
                operator_name="王建国",
                address=f"包头市{rnd.choice(PLACES)}街{rnd.randint(1, 300)}号",
                station_id=rnd.choice(station_ids),
                varieties=f"{product}、{extra}",
                status="open" if rnd.random() < 0.93 else rnd.choice(["suspended", "cancelled"]),
                tier_code=rnd.choice(TIERS),
                lat=lat,
                lng=109.8 + rnd.random() * 0.3 if lat else None,
                seven_in_place={},
                additives="",
                valid_from=date(2025, 1, 1),
                version=1,
                time_honoured=False,
            )
        )
        links.append({"workshop_id": i, "category_id": cats[cat].id})
        if len(rows) == 5000:
            db.session.execute(insert(Workshop), rows)
            db.session.execute(insert(workshop_category), links)
            rows, links = [], []
    if rows:
        db.session.execute(insert(Workshop), rows)
        db.session.execute(insert(workshop_category), links)
    db.session.commit()
    return {
        "stations": station_ids,
        "cats": [c.id for c in cats.values()],
        "counties": [j.id for j in db.session.query(Jurisdiction).filter_by(level="county")],
    }


def query_mix(n: int, ids: dict) -> list:
    """What shoppers type: whole and partial names, products, places, pinyin, initials, typos,
    certificate numbers, with and without filters."""
    from search_index import SearchParams

    rnd = random.Random(SEED + 1)
    typed = []
    for _ in range(n):
        brand, place, (product, _) = rnd.choice(BRANDS), rnd.choice(PLACES), rnd.choice(PRODUCTS)
        kind = rnd.random()
        if kind < 0.2:
            q = f"{place}{brand}{product}"
        elif kind < 0.35:
            q = brand
        elif kind < 0.5:
            q = product
        elif kind < 0.6:
            q = f"{place} {product}"
        elif kind < 0.7:
            q = rnd.choice(
                [
                    "lianggao",
                    "liangpi",
                    "youmian",
                    "doufu",
                    "laochencu",
                    "salaqi",
                    "guyang",
                    "wangji",
                ]
            )
        elif kind < 0.77:
            q = rnd.choice(["ldh", "slq", "wj", "fy", "xy", "gy", "hx"])
        elif kind < 0.84:
            q = rnd.choice(["liangao", "doufo", "youmain", "salaqu", "mahau", "niurougan"])
        elif kind < 0.9:
            q = f"1502{rnd.randint(1, N):08d}"
        elif kind < 0.95:
            q = f"{brand}{rnd.choice(['doufu', 'lianggao', 'mahua'])}"
        else:
            q = ""
        p = SearchParams(q=q, per_page=20)
        if rnd.random() < 0.3:
            p.tier = rnd.choice(["gold", "silver", "bronze"])
        if rnd.random() < 0.2:
            p.county = rnd.choice(ids["counties"])
        if rnd.random() < 0.1:
            p.sort = "tier"
        if rnd.random() < 0.05:
            p.sort, p.lat, p.lng = "distance", 40.6, 109.9
        if rnd.random() < 0.1:
            p.page = 2
        typed.append(p)
    return typed


def hard_mix(n: int) -> list:
    """This issue's kinds: spoken questions, local words, place abbreviations, same-sound
    characters, spaced pinyin, whole names run together with a typo, names missing their middle."""
    from search_index import SearchParams

    rnd = random.Random(SEED + 2)
    out = []
    for _ in range(n):
        brand, (product, _) = rnd.choice(BRANDS), rnd.choice(PRODUCTS)
        q = rnd.choice(
            [
                f"附近有卖{product}的作坊吗",
                f"哪家{product}好吃",
                rnd.choice(["酿皮", "稍麦", "胡油", "豆干", "油面", "昆区凉皮", "土右 豆腐"]),
                rnd.choice(["豆付", "凉披", "莜棉", "胡麻由", "萨拉其"]),
                rnd.choice(["liang pi", "you mian", "lao dong he", "dou fu"]),
                rnd.choice(
                    ["laodonghewangjidoufuzuofagn", "salaqiliqngpifang", "guyangmaijiyoumianfang"]
                ),
                f"{brand}{product}",
            ]
        )
        out.append(
            SearchParams(
                q=q,
                per_page=20,
                lat=40.6 if rnd.random() < 0.3 else None,
                lng=109.9 if rnd.random() < 0.3 else None,
            )
        )
    return out


def percentile(values, pct):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(pct / 100 * (len(values) - 1))))]


WORKER = r"""
import os, sys, time, json
sys.path.insert(0, sys.argv[1])
from shifangbang import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[2], "SEARCH_INDEX_DIR": sys.argv[3], "SECRET_KEY": "b"})
import search_index
from search_index import SearchParams
def mem(prefix):
    status = open("/proc/self/status").read()
    return {prefix + l.split(":")[0]: int(l.split()[1]) / 1024 for l in status.splitlines() if l.startswith(("VmRSS", "VmHWM"))}
with app.app_context():
    for q in ["凉糕", "王记豆腐", "lianggao", "ldh", "doufo", "150200000123", "固阳 莜面", "豆付", "附近有卖莜面的吗", ""] * 5:
        r = search_index.search(SearchParams(q=q, tier="gold" if len(q) % 2 else None))
        assert r.mode == "index"
    vals = mem("")
    # What a sync adds: jieba and the reading table loaded to analyse changed workshops.
    from search_index import schema
    for source in schema.load_sources(range(1, 201)):
        schema.document(source)
    vals.update(mem("sync_"))
print(json.dumps(vals))
"""


def relevance(report) -> None:
    """hit@3 and MRR per kind over tests/search_relevance.py (written with the tuning: a floor) and
    tests/search_heldout.py (held out: the measure), each among 2,000 look-alikes."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests import search_heldout, search_relevance

    relevance_set(report, "search relevance", search_relevance, target=0.95)
    relevance_set(report, "search held-out", search_heldout, target=None)


def relevance_set(report, label: str, module, target: float | None) -> None:
    import shutil

    import search_index
    from search_index import SearchParams
    from shifangbang import create_app
    from shifangbang.extensions import db

    tmp = Path(tempfile.mkdtemp(prefix="bench-relevance-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'r.db'}",
            "SEARCH_INDEX_DIR": str(tmp / "index"),
            "SECRET_KEY": "b",
            "SEARCH_SYNC_INTERVAL": 3600,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        data = module.load(db.session, extra=2000)
        search_index.get_index().rebuild()
        result = module.evaluate(
            lambda q, **kw: [
                h.id for h in search_index.search(SearchParams(q=q, per_page=10, **kw)).hits
            ],
            data,
        )
    for kind, (hit3, mrr, n) in result["kinds"].items():
        report(
            f"{label}: {kind} hit@3",
            hit3,
            "share",
            target=target if kind == "all" else None,
            note=f"MRR {mrr:.2f}, {n} queries",
        )
    for kind, q, *rest in result["misses"]:
        got = rest[-1]
        want = f" (want {rest[0]}, rank {rest[1] or '-'})" if len(rest) > 1 else ""
        print(f"    miss [{kind}] {q}{want} → {' / '.join(map(str, got)) or '(nothing)'}")
    shutil.rmtree(tmp, ignore_errors=True)


def run(report) -> None:
    import json

    relevance(report)
    if N == 0:
        return

    import search_index
    from search_index import SearchIndex, SearchParams, fallback, query
    from search_index import schema as schema_mod
    from shifangbang import create_app
    from shifangbang.extensions import db

    tmp = Path(tempfile.mkdtemp(prefix="bench-search-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SEARCH_INDEX_DIR": str(tmp / "index"),
            "SECRET_KEY": "b",
            "SEARCH_SYNC_INTERVAL": 3600,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        started = time.perf_counter()
        ids = populate(db, N)
        print(f"  generated {N} workshops in {time.perf_counter() - started:.1f} s", flush=True)

        # Baseline: building the documents (database reads, jieba, pinyin) without Whoosh.
        sample = min(N, 5000)
        schema_mod.analysis.jieba_tokenizer()
        started = time.perf_counter()
        for i in range(1, sample + 1, 500):
            for w in schema_mod.load_sources(range(i, min(i + 500, sample + 1))):
                schema_mod.document(w)
        docs_rate = sample / (time.perf_counter() - started)
        for cached in (
            schema_mod.analysis.word_pinyin,
            schema_mod.analysis.char_readings,
            schema_mod.analysis.text_readings,
            schema_mod.analysis.words_pinyin,
        ):
            cached.cache_clear()

        index = SearchIndex(tmp / "index", sync_interval=3600)
        started = time.perf_counter()
        index.rebuild()
        build_rate = N / (time.perf_counter() - started)
        report(
            "search: index build rate",
            build_rate,
            "docs/s",
            target=3000,
            baseline=docs_rate,
            note=f"N={N}; documents alone {docs_rate:.0f}/s (ratio {build_rate / docs_rate:.2f})",
        )
        size = sum(p.stat().st_size for p in (tmp / "index").rglob("*") if p.is_file()) / 2**20
        report("search: index size", size, "MB", note=f"N={N}")

        app.extensions["search_index"] = index
        searcher = index.searcher()
        mix = query_mix(400, ids)
        for p in mix[:40]:
            query.run(searcher, p)  # warm caches
        times, cpu = [], []
        for p in mix:
            t, c = time.perf_counter(), time.process_time()
            query.run(index.searcher(), p)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        base = []
        for p in mix[:20]:  # the database takes about a second each at 200,000
            t = time.perf_counter()
            fallback.search(SearchParams(**{**p.__dict__}))
            base.append((time.perf_counter() - t) * 1000)
        p95_db = percentile(base, 95)
        report(
            "search: query latency p50",
            statistics.median(times),
            "ms",
            target=30,
            higher_is_better=False,
            note=f"{len(mix)} queries",
        )
        report(
            "search: query latency p95",
            percentile(times, 95),
            "ms",
            target=10,
            higher_is_better=False,
            baseline=p95_db,
            note=f"database LIKE fallback p95 {p95_db:.1f} ms",
        )
        report("search: query latency max", max(times), "ms")
        report(
            "search: query CPU time p95",
            percentile(cpu, 95),
            "ms",
            note="this process's CPU per query: what latency is on an idle machine (shared CI)",
        )
        hard = []
        for p in hard_mix(200):
            t = time.perf_counter()
            query.run(index.searcher(), p)
            hard.append((time.perf_counter() - t) * 1000)
        report(
            "search: questions, typos, local words p95",
            percentile(hard, 95),
            "ms",
            target=20,
            higher_is_better=False,
            note=f"200 queries; p50 {statistics.median(hard):.1f} ms",
        )
        assert search_index.search(SearchParams(q="凉糕")).mode == "index"

    out = subprocess.run(
        [
            sys.executable,
            "-c",
            WORKER,
            str(Path(__file__).resolve().parent.parent),
            url,
            str(tmp / "index"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode:
        print(out.stderr[-2000:])
        raise RuntimeError("worker memory probe failed")
    mem = json.loads(out.stdout.strip().splitlines()[-1])
    bare = subprocess.run(
        [
            sys.executable,
            "-c",
            WORKER.split("import search_index")[0]
            + "print(__import__('json').dumps({l.split(':')[0]: int(l.split()[1]) / 1024 for l in "
            "open('/proc/self/status').read().splitlines() if l.startswith('VmRSS')}))",
            str(Path(__file__).resolve().parent.parent),
            url,
            str(tmp / "index"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    bare_rss = (
        json.loads(bare.stdout.strip().splitlines()[-1])["VmRSS"] if bare.returncode == 0 else None
    )
    report(
        "search: worker RSS with index open",
        mem["VmRSS"],
        "MB",
        target=120,
        higher_is_better=False,
        baseline=bare_rss,
        note=f"peak {mem['VmHWM']:.0f} MB; app alone {bare_rss or 0:.0f} MB",
    )
    report(
        "search: worker RSS after a sync (jieba, readings)",
        mem["sync_VmRSS"],
        "MB",
        target=120,
        higher_is_better=False,
        baseline=bare_rss,
        note=f"peak {mem['sync_VmHWM']:.0f} MB",
    )
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
