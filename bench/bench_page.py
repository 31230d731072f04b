"""The workshop page under a QR-scan burst: requests/s for /w/<code> against a hello-world route.

Both routes are served by the same gunicorn (same worker count as `make run`) running the same
app; the hello route exists only when SHIFANGBANG_BENCH=1, so it shares every middleware and hook
of the real app but does no work. The ratio is what matters on a shared machine. Measured twice:
with the page's one-second head micro-cache (the default) and without it (a query per request).

Load: `wrk` when installed (apt-get install wrk), else threads with http.client; loopback only,
a fixed number of connections for a fixed time. Sizes: BENCH_PAGE_SECONDS (default 2) × BENCH_PAGE_ROUNDS (3),
BENCH_PAGE_CONNECTIONS (8), BENCH_PAGE_WORKSHOPS (demo size, 200).
"""

import gzip
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import servers

ROOT = Path(__file__).resolve().parent.parent
WORKERS = servers.WORKERS
SECONDS = float(os.environ.get("BENCH_PAGE_SECONDS", "2"))
ROUNDS = int(os.environ.get("BENCH_PAGE_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_PAGE_CONNECTIONS", "8"))
WORKSHOPS = int(os.environ.get("BENCH_PAGE_WORKSHOPS", "200"))


def _seed_rich_workshop(env: dict) -> str:
    """A workshop with a full page (history, titles, samplings, staff); returns its public code."""
    code = r"""
from datetime import date, timedelta
from shifangbang import create_app, codes
from shifangbang.extensions import db
from shifangbang.models import *
from shifangbang.timeutil import today, utcnow
app = create_app()
with app.app_context():
    st = db.session.scalar(db.select(Jurisdiction).where(Jurisdiction.level == "station"))
    if st is None:
        city = Jurisdiction(code="B", name="包头市", level="city")
        county = Jurisdiction(code="B-DH", name="东河区", level="county", parent=city)
        st = Jurisdiction(code="B-DH1", name="西脑包市场监管所", level="station", parent=county, phone="0472-4171234")
        db.session.add_all([city, county, st])
    cat = db.session.scalar(db.select(ProductCategory)) or ProductCategory(code="BX", name="糕点", high_risk=True)
    w = Workshop(public_code=codes.new_public_code(), cert_type="登记证", cert_no="蒙食小作坊登字第150202999999号",
                 name="老东河凉糕坊（压测）", operator_name="王建国", operator_phone="13904721234",
                 address="包头市东河区巴彦塔拉大街1号", station=st, varieties="凉糕、切糕", tier_code="bronze",
                 tier_since=today() - timedelta(days=30), last_inspected_on=today() - timedelta(days=40),
                 safety_manager="李秀英", pledge_signed_on=date(2025, 3, 1), additives="食用碱",
                 seven_in_place={"purchase": True, "cleaning": True}, regional_brand="老东河凉糕")
    w.categories = [cat]
    w.staff = [StaffMember(name=f"员工{i}", health_cert_expires=today() + timedelta(days=30 * i)) for i in range(5)]
    db.session.add(w)
    db.session.flush()
    db.session.add(Inspection(workshop_id=w.id, inspected_on=today() - timedelta(days=40), kind="random",
                              result="basic", rectification_required=True, rectification_due=today()))
    for i in range(6):
        db.session.add(Sampling(workshop_id=w.id, sampled_on=today() - timedelta(days=20 + 40 * i), product="凉糕",
                                lab="检验所", result="fail" if i == 1 else "pass", failed_item="菌落总数" if i == 1 else None,
                                retest_status="requested" if i == 1 else "none"))
        db.session.add(TierDecision(workshop_id=w.id, from_tier="silver", to_tier="bronze", direction="downgrade",
                                    reason_category="hygiene", status="published", effective_on=today() - timedelta(days=100 * i),
                                    published_at=utcnow() - timedelta(days=100 * i)))
        db.session.add(RectificationItem(workshop_id=w.id, problem=f"问题{i}", due_on=today() + timedelta(days=i)))
    t = Title(name="包头市食品小作坊示范点（压测）", authority="包头市市场监督管理局", level="city")
    db.session.add(t)
    db.session.flush()
    db.session.add(TitleGrant(workshop_id=w.id, title_id=t.id, granted_on=date(2024, 5, 1)))
    db.session.commit()
    print(w.public_code)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def _wrk(url: str) -> float:
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{SECONDS:g}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{url}: {non2xx.group(1)} error responses")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def _threads(url: str) -> float:
    """Fallback load generator: CONNECTIONS threads, a new connection per request (gunicorn sync)."""
    host, port = "127.0.0.1", int(url.split(":")[2].split("/")[0])
    path = "/" + url.split("/", 3)[3]
    done, errors, stop = [0], [0], time.monotonic() + SECONDS
    lock = threading.Lock()

    def worker():
        n = e = 0
        while time.monotonic() < stop:
            conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            conn.close()
            n += 1
            e += r.status != 200
        with lock:
            done[0] += n
            errors[0] += e

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors[0]:
        raise RuntimeError(f"{url}: {errors[0]} error responses")
    return done[0] / (time.monotonic() - started)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _measure(env: dict, port: int, code: str) -> tuple[float, float, bytes]:
    """(page req/s, hello req/s, page HTML): interleaved rounds, best of each, so a burst of load
    from other processes on a shared machine does not land on one route only."""
    import urllib.request

    from tests.conftest import wait_for_http

    proc = servers.serve(env, port)
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_for_http(base_url + "/_bench/hello", proc)
        page_url, hello_url = f"{base_url}/w/{code}", base_url + "/_bench/hello"
        html = urllib.request.urlopen(page_url).read()
        for url in (page_url, hello_url):  # warm both workers
            for _ in range(20):
                urllib.request.urlopen(url).read()
        load = _wrk if shutil.which("wrk") else _threads
        pages, hellos = [], []
        for _ in range(ROUNDS):
            hellos.append(load(hello_url))
            pages.append(load(page_url))
        return max(pages), max(hellos), html
    finally:
        _stop(proc)


def run(report) -> None:
    sys.path.insert(0, str(ROOT))
    base = Path(tempfile.mkdtemp(prefix="bench-page-"))
    port = servers.free_port()
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{base / 'bench.db'}",
        SEARCH_INDEX_DIR=str(base / "index"),
        SECRET_KEY="bench-secret",
        BASE_URL=f"http://127.0.0.1:{port}",
        RATELIMIT_ENABLED="false",
        SHIFANGBANG_BENCH="1",
    )
    flask = [sys.executable, "-m", "flask", "--app", "shifangbang"]
    try:
        subprocess.run(
            flask + ["db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        if (ROOT / "shifangbang" / "demo.py").exists():
            subprocess.run(
                flask + ["demo", "load", "--size", str(WORKSHOPS)],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        code = _seed_rich_workshop(env)
        tool = "wrk" if shutil.which("wrk") else "threads"
        page, hello, html = _measure(env, port, code)
        report(
            "page /w/<code> requests/s",
            page,
            "req/s",
            note=f"{tool}, {CONNECTIONS} conns, best of {ROUNDS}×{SECONDS:g}s",
        )
        report("hello-world requests/s (same app)", hello, "req/s")
        report("page / hello throughput ratio", page / hello, "ratio", target=0.6, baseline=hello)
        cold, cold_hello, _ = _measure(dict(env, SHIFANGBANG_PAGE_MICROCACHE="0"), port, code)
        report(
            "page / hello ratio, no micro-cache",
            cold / cold_hello,
            "ratio",
            baseline=cold_hello,
            note="head query on every request",
        )
        css = b"".join((ROOT / "static/css" / n).read_bytes() for n in ("site.css", "workshop.css"))
        report("page HTML bytes", len(html), "bytes")
        report(
            "page HTML+CSS gzip bytes",
            len(gzip.compress(html, 9)) + len(gzip.compress(css, 9)),
            "bytes",
            target=20 * 1024,
            higher_is_better=False,
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)
