"""Durable complaint submissions per second: two gunicorn workers, a bounded concurrent client,
each answer counted only if it carries a tracking number — and afterwards every acknowledged
number must be in the database. Baseline in the same run: /healthz (one SELECT 1) per second.

SQLite always; PostgreSQL too when BENCH_DATABASE_URL or TEST_DATABASE_URL is set (its public
schema is dropped and recreated). BENCH_SECONDS (default 5) and BENCH_CLIENTS (default 8).
"""

import http.client
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench import servers

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
WORKERS = os.environ.get("BENCH_WORKERS", "2")
NUMBER = re.compile(rb'data-testid="tracking-no">([A-Z0-9]+)<')
TOKEN = re.compile(rb'name="csrf_token" value="([^"]+)"')


def _prepare(url: str, base: Path) -> tuple[dict, str]:
    """Migrate, add one county, station and workshop; return the server env and the public code."""
    env = dict(
        os.environ,
        DATABASE_URL=url,
        SEARCH_INDEX_DIR=str(base / "index"),
        SECRET_KEY="bench-secret",
        RATELIMIT_ENABLED="false",
        BASE_URL="http://127.0.0.1",
    )
    env.pop("REDIS_URL", None)
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "shifangbang", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    seed = """
from shifangbang import create_app
from shifangbang.extensions import db
from shifangbang.models import Jurisdiction, Workshop
app = create_app()
with app.app_context():
    county = Jurisdiction(code="B1", name="东河区", level="county")
    station = Jurisdiction(code="B1-1", name="西脑包市场监管所", level="station", parent=county)
    w = Workshop(public_code="BENCH001", cert_type="登记证", cert_no="BENCH-1", name="压测豆腐坊",
                 operator_name="王建国", address="包头市东河区", station=station, seven_in_place={})
    db.session.add_all([county, station, w])
    db.session.commit()
"""
    subprocess.run([sys.executable, "-c", seed], env=env, cwd=ROOT, check=True, capture_output=True)
    return env, "BENCH001"


def _hammer(port: int, seconds: float, request) -> tuple[int, list[bytes], int]:
    """Run `request(conn_factory, state)` from CLIENTS threads for `seconds`; (ok, numbers, errors)."""
    ok, numbers, errors = [0], [], [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker():
        state = {}
        while time.monotonic() < stop:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                result = request(conn, state)
            except Exception:
                result = None
            finally:
                conn.close()
            with lock:
                if result is None:
                    errors[0] += 1
                else:
                    ok[0] += 1
                    if isinstance(result, bytes):
                        numbers.append(result)

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ok[0], numbers, errors[0]


def _healthz(conn, state):
    conn.request("GET", "/healthz")
    r = conn.getresponse()
    r.read()
    return True if r.status == 200 else None


def _submit_factory(code: str):
    def submit(conn, state):
        if "token" not in state:  # one form load per client, as a person would
            conn.request("GET", f"/complain?w={code}")
            r = conn.getresponse()
            body = r.read()
            state["token"] = TOKEN.search(body).group(1).decode()
            state["cookie"] = r.getheader("Set-Cookie").split(";", 1)[0]
            conn.close()
            conn.connect()
        form = {
            "csrf_token": state["token"],
            "w": code,
            "kind": "complaint",
            "category": "quality",
            "content": "买的豆腐有酸味，吃了肚子疼，要求退款。",
            "demand": "退款",
            "name": "李秀英",
            "phone": "13812345678",
        }
        conn.request(
            "POST",
            "/complain",
            body=urlencode(form),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": state["cookie"],
            },
        )
        r = conn.getresponse()
        body = r.read()
        m = NUMBER.search(body) if r.status == 200 else None
        return m.group(1) if m else None

    return submit


def _stored(url: str, numbers: list[bytes]) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        found = {row[0] for row in conn.execute(text("SELECT tracking_no FROM complaint"))}
    engine.dispose()
    return sum(1 for n in numbers if n.decode() in found)


def _run_backend(report, label: str, url: str, base: Path, target: float | None):
    env, code = _prepare(url, base)
    port = servers.free_port()
    log = open(base / f"gunicorn-{label}.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            WORKERS,
            "-b",
            f"127.0.0.1:{port}",
            "shifangbang.wsgi:app",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"gunicorn did not start ({label})") from None
                time.sleep(0.2)
        _hammer(port, 1, _healthz)  # warm-up
        h_ok, _, _ = _hammer(port, SECONDS, _healthz)
        baseline = h_ok / SECONDS
        s_ok, numbers, s_err = _hammer(port, SECONDS, _submit_factory(code))
        rate = s_ok / SECONDS
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
    stored = _stored(url, numbers)
    report(f"complaints {label}: /healthz baseline", baseline, "req/s")
    report(
        f"complaints {label}: durable submissions",
        rate,
        "sub/s",
        target=target,
        baseline=baseline,
        note=f"{rate / baseline:.2f}× baseline, {s_err} errors, {CLIENTS} clients",
    )
    report(
        f"complaints {label}: acknowledged but missing",
        len(numbers) - stored,
        "rows",
        target=0,
        higher_is_better=False,
        note=f"{len(numbers)} acknowledged, {stored} found",
    )


def run(report):
    with tempfile.TemporaryDirectory(prefix="bench-complaints-") as tmp:
        base = Path(tmp)
        _run_backend(report, "SQLite", f"sqlite:///{base / 'bench.db'}", base, target=200)
        pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
        if pg:
            _run_backend(report, "PostgreSQL", pg, base, target=None)
        else:
            print("  (PostgreSQL skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL)")
