"""The public side at province scale: every public GET against a hello-world, on SQLite and PostgreSQL.

A mixed public workload (home, rankings, a county ranking, workshop pages, search pages, API
detail, API search, nearby) at BENCH_PUBLIC_SIZE workshops (default 200,000), each endpoint
measured with wrk right between two hello-world runs on the same gunicorn (2 workers, as
`make run`), then nearby from a new place on every request (no answer cache can help; reported
without a target of its own), then all of them mixed in one run, then the workers' resident memory.
Targets: every endpoint ≥ 0.5× hello (the workshop page ≥ 0.6×), p99 ≤ 100 ms, RSS ≤ 150 MB.

Databases are prepared once and reused (a 200,000-workshop demo takes minutes):
- SQLite: BENCH_PUBLIC_DB (default /tmp/shifangbang-bench/public-<size>.db), migrated to head;
- PostgreSQL: BENCH_DATABASE_URL, only when set (its schema is rebuilt when the size differs;
  never point it at a database the tests use).
Each run brings the search index up to date next to the database file. BENCH_PUBLIC_BACKENDS
(default "sqlite,postgresql") picks the backends.

Load: wrk (Debian's; installed here with apt-get when missing and possible), loopback only,
BENCH_PUBLIC_CONNECTIONS (4) connections for BENCH_PUBLIC_SECONDS (4) per endpoint. Several URLs
per endpoint (different workshops, places, words) rotate so that no cache sees one URL only.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import servers

ROOT = Path(__file__).resolve().parent.parent
WORKERS = servers.WORKERS
SIZE = int(os.environ.get("BENCH_PUBLIC_SIZE", "200000"))
SECONDS = float(os.environ.get("BENCH_PUBLIC_SECONDS", "4"))
CONNECTIONS = int(os.environ.get("BENCH_PUBLIC_CONNECTIONS", "4"))
BACKENDS = os.environ.get("BENCH_PUBLIC_BACKENDS", "sqlite,postgresql").split(",")
RATIO_TARGET = {"workshop page": 0.6}
RATIO_DEFAULT = 0.5
P99_TARGET_MS = 100
RSS_TARGET_MB = 150
WORDS = ["凉皮", "莜面", "豆腐", "月饼", "香油", "酱油", "麻花", "熏肉"]

_ROTATE_LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


def _ensure_wrk() -> str | None:
    if shutil.which("wrk"):
        return shutil.which("wrk")
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True)
    return shutil.which("wrk")


def _flask(env: dict, *args: str, timeout: float | None = None) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "shifangbang", *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return out.stdout


def _count_workshops(env: dict) -> int:
    code = (
        "from shifangbang import create_app\n"
        "from shifangbang.extensions import db\n"
        "from sqlalchemy import text\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    try:\n"
        "        print(db.session.execute(text('SELECT count(*) FROM workshop')).scalar())\n"
        "    except Exception:\n"
        "        print(-1)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    try:
        return int(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return -1


def _prepare(env: dict, reset) -> float | None:
    """Migrate, load the demo when the database does not hold SIZE workshops, sync the index.
    Returns the demo load time when it loaded one."""
    loaded = None
    if _count_workshops(env) != SIZE:
        reset()
        _flask(env, "db", "upgrade")
        started = time.perf_counter()
        _flask(env, "demo", "load", "--size", str(SIZE))
        loaded = time.perf_counter() - started
    else:
        _flask(env, "db", "upgrade")
    _flask(env, "search", "sync", "--rebuild-if-needed")
    return loaded


def _samples(env: dict) -> dict:
    """Real URLs from the data: workshop codes, a county with many workshops, located workshops."""
    code = r"""
import json
from shifangbang import create_app
from shifangbang.extensions import db
from sqlalchemy import text
app = create_app()
with app.app_context():
    q = lambda s: db.session.execute(text(s)).all()
    n = q("SELECT max(id) FROM workshop")[0][0]
    ids = [1 + (n * k) // 41 for k in range(40)]
    codes = [r[0] for r in q("SELECT public_code FROM workshop WHERE id IN (%s)" % ",".join(map(str, ids)))]
    counties = [r[0] for r in q("SELECT j.parent_id FROM workshop w JOIN jurisdiction j ON j.id = w.station_id "
                                "WHERE w.id IN (%s)" % ",".join(map(str, ids[:8])))]
    places = [list(r) for r in q("SELECT lat, lng FROM workshop WHERE lat IS NOT NULL AND id IN (%s)"
                                 % ",".join(map(str, ids)))]
    print(json.dumps({"codes": codes, "counties": sorted(set(counties)), "places": places}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _endpoints(s: dict) -> dict[str, list[str]]:
    from urllib.parse import quote

    places = s["places"][:16] or [[40.6, 110.0]]
    return {
        "home /": ["/"],
        "rankings": ["/rankings"],
        "county ranking": [f"/rankings?county={c}" for c in s["counties"]],
        "workshop page": [f"/w/{c}" for c in s["codes"]],
        "search page": [f"/search?q={quote(w)}" for w in WORDS],
        "search page, county": [
            f"/search?q={quote(w)}&county={c}" for w in WORDS[:4] for c in s["counties"][:2]
        ],
        "API detail": [f"/api/v1/workshops/{c}" for c in s["codes"]],
        "API search": [f"/api/v1/search?q={quote(w)}" for w in WORDS],
        "API nearby": [f"/api/v1/nearby?lat={a:.5f}&lng={b:.5f}" for a, b in places],
    }


# A new place on each request (a phone's own position): no answer cache helps, this is the
# spatial query's own cost. Shown beside the endpoint figures, without a target of its own.
_NEW_PLACE_LUA = """
math.randomseed(%d)
request = function()
  local lat = %r + math.random() * %r
  local lng = %r + math.random() * %r
  return wrk.format("GET", string.format("/api/v1/nearby?lat=%%.6f&lng=%%.6f", lat, lng))
end
"""


def _new_places_script(places: list) -> str:
    lats, lngs = [a for a, _ in places], [b for _, b in places]
    lo_lat, lo_lng = min(lats), min(lngs)
    return _NEW_PLACE_LUA % (
        os.getpid(),
        lo_lat,
        max(lats) - lo_lat or 0.01,
        lo_lng,
        max(lngs) - lo_lng or 0.01,
    )


def _wrk(base: str, paths: list[str], seconds: float, lua: str | None = None) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua or _ROTATE_LUA % ", ".join(json.dumps(p, ensure_ascii=False) for p in paths))
        script = f.name
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(CONNECTIONS),
                "-d",
                f"{max(1, round(seconds))}s",  # wrk takes whole seconds only
                "--latency",
                "--timeout",
                "10s",
                "-s",
                script,
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label):
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)\b", out)
        if not m:
            return float("nan")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    done = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rps": rps,
        # No request finished within the run: its latency is longer than the run.
        "p50": ms("50") if done else float("inf"),
        "p99": ms("99") if done else float("inf"),
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def _drain(base: str, limit: float = 120) -> None:
    """Wait until both workers answer the hello route at once again."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        started = time.monotonic()
        for _ in range(4):
            urllib.request.urlopen(base + "/_bench/hello", timeout=limit).read()
        if time.monotonic() - started < 0.2:
            return


def _rss_mb(master_pid: int) -> list[float]:
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid != master_pid:
                continue
            status = (d / "status").read_text()
            kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
            out.append(kb / 1024)
        except (OSError, ValueError, AttributeError):
            continue
    return sorted(out)


def _measure(report, backend: str, env: dict) -> None:
    from tests.conftest import wait_for_http

    port = int(env["BASE_URL"].rsplit(":", 1)[1])
    base = env["BASE_URL"]
    samples = _samples(env)
    endpoints = _endpoints(samples)
    proc = servers.serve(env, port)
    try:
        wait_for_http(base + "/_bench/hello", proc, timeout=120)

        def fetch(p):
            try:
                with urllib.request.urlopen(base + p, timeout=120) as r:
                    r.read()
                    return r.headers["X-Bench-Worker"]
            except OSError as e:  # counted by wrk below as errors
                print(f"  warm-up {p}: {e}")

        def warm(paths):
            """Each URL until every worker has served it (concurrent requests, so that a busy
            worker leaves the next one to the other), 30 s at most."""
            budget = time.monotonic() + 30
            with ThreadPoolExecutor(WORKERS) as pool:
                for p in paths:
                    seen = set()
                    while len(seen) < WORKERS and time.monotonic() < budget:
                        served = set(pool.map(fetch, [p] * WORKERS))
                        if None in served:
                            break  # an error, reported once
                        seen |= served
                    if seen and len(seen) < WORKERS:
                        print(f"  warm-up {p}: served by {len(seen)} of {WORKERS} workers")

        for paths in endpoints.values():
            warm(paths)
        rss_start = _rss_mb(proc.pid)
        hello = [_wrk(base, ["/_bench/hello"], SECONDS)["rps"]]
        for name, paths in endpoints.items():
            # Again just before: the runs before this one take about a minute, the pages' safety
            # net expiry (public_cache.CACHE_TTL), and a page recomputed mid-run is not this
            # endpoint's steady state (the new-place figure below gives the uncached cost).
            warm(paths)
            got = _wrk(base, paths, SECONDS)
            _drain(base)  # requests wrk left queued must not land on the hello run
            hello.append(_wrk(base, ["/_bench/hello"], SECONDS / 2)["rps"])
            baseline = (hello[-2] + hello[-1]) / 2
            ratio = got["rps"] / baseline
            report(
                f"{backend} {name} / hello",
                ratio,
                "ratio",
                target=RATIO_TARGET.get(name, RATIO_DEFAULT),
                baseline=baseline,
                note=f"{got['rps']:.0f} req/s, p50 {got['p50']:.1f} ms"
                + (f", {got['errors']} errors" if got["errors"] else ""),
            )
            report(
                f"{backend} {name} p99",
                got["p99"],
                "ms",
                target=P99_TARGET_MS,
                higher_is_better=False,
            )
        got = _wrk(base, [], SECONDS, lua=_new_places_script(samples["places"] or [[40.6, 110.0]]))
        _drain(base)
        hello.append(_wrk(base, ["/_bench/hello"], SECONDS / 2)["rps"])
        baseline = (hello[-2] + hello[-1]) / 2
        report(
            f"{backend} API nearby, a new place each time / hello",
            got["rps"] / baseline,
            "ratio",
            baseline=baseline,
            note=f"{got['rps']:.0f} req/s, p50 {got['p50']:.1f} ms, p99 {got['p99']:.1f} ms"
            + (f", {got['errors']} errors" if got["errors"] else ""),
        )
        mixed = _wrk(base, [p for paths in endpoints.values() for p in paths], SECONDS * 2)
        report(
            f"{backend} mixed public workload",
            mixed["rps"],
            "req/s",
            note=f"p99 {mixed['p99']:.1f} ms; hello {sum(hello) / len(hello):.0f} req/s",
        )
        rss = _rss_mb(proc.pid)
        report(
            f"{backend} worker RSS after the run (max)",
            max(rss),
            "MB",
            target=RSS_TARGET_MB,
            higher_is_better=False,
            note=f"workers {', '.join(f'{r:.0f}' for r in rss)} MB; "
            f"after warm-up {', '.join(f'{r:.0f}' for r in rss_start)} MB",
        )
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def run(report) -> None:
    sys.path.insert(0, str(ROOT))
    if not _ensure_wrk():
        print("  wrk is not installed (apt-get install wrk): skipped")
        return
    port = servers.free_port()
    common = dict(
        os.environ,
        SECRET_KEY="bench-secret",
        BASE_URL=f"http://127.0.0.1:{port}",
        RATELIMIT_ENABLED="false",
        SHIFANGBANG_BENCH="1",
    )
    common.pop("FLASK_APP", None)
    db_file = Path(
        os.environ.get("BENCH_PUBLIC_DB", f"/tmp/shifangbang-bench/public-{SIZE}.db")
    ).resolve()
    db_file.parent.mkdir(parents=True, exist_ok=True)
    env = dict(
        common,
        DATABASE_URL=f"sqlite:///{db_file}",
        SEARCH_INDEX_DIR=str(db_file.with_suffix(".index")),
    )

    def reset_sqlite():
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_file) + suffix).unlink(missing_ok=True)

    if "sqlite" in BACKENDS:
        loaded = _prepare(env, reset_sqlite)
        if loaded is not None:
            report(
                f"demo load SQLite (n={SIZE})",
                loaded,
                "s",
                target=120 * SIZE / 200_000,
                higher_is_better=False,
            )
        _measure(report, "sqlite", env)

    pg = os.environ.get("BENCH_DATABASE_URL")
    if "postgresql" not in BACKENDS:
        return
    if not pg:
        print("  BENCH_DATABASE_URL not set: PostgreSQL skipped")
        return
    from tests.conftest import reset_postgres

    env = dict(common, DATABASE_URL=pg, SEARCH_INDEX_DIR=str(db_file.with_suffix(".pg-index")))
    loaded = _prepare(env, lambda: reset_postgres(pg))
    if loaded is not None:
        report(f"demo load PostgreSQL (n={SIZE})", loaded, "s")
    _measure(report, "postgresql", env)
