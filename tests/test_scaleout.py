"""Reliability under faults and scale-out (issue 9), against real gunicorn servers.

- two servers on one PostgreSQL database, each with its own index folder, converge after a change;
- kill -9 of a worker during a burst of submissions loses no acknowledged submission;
- SQLite under concurrent writers: every submission succeeds (busy is waited out, never a failure);
- the index folder deleted while serving: search falls back, /healthz says so, reindex restores.
"""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from http.cookiejar import CookieJar
from urllib.parse import quote, urlencode, urlsplit

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from shifangbang.demo import DEMO_ACCOUNTS
from shifangbang.extensions import db
from shifangbang.models import Workshop

from .conftest import PG_URL, LiveServer, need
from .registry_helpers import edit_form

pytestmark = pytest.mark.scaleout

NUMBER = re.compile(rb'data-testid="tracking-no">([A-Z0-9]+)<')
TOKEN = re.compile(rb'name="csrf_token"[^>]*?value="([^"]+)"')


def _get(url: str, path: str) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


class Complainant:
    """A person on the complaint form: loads it once (CSRF token + cookie), then submits."""

    def __init__(self, url: str, code: str):
        self.parts, self.code = urlsplit(url), code
        conn = self._conn()
        conn.request("GET", f"/complain?w={code}")
        r = conn.getresponse()
        self.token = TOKEN.search(r.read()).group(1).decode()
        self.cookie = r.getheader("Set-Cookie").split(";", 1)[0]
        conn.close()

    def _conn(self):
        return http.client.HTTPConnection(self.parts.hostname, self.parts.port, timeout=30)

    def submit(self, n: int) -> tuple[int | None, str | None]:
        """(status, tracking number shown to the person) — status None when the connection broke."""
        form = {
            "csrf_token": self.token,
            "w": self.code,
            "kind": "complaint",
            "category": "quality",
            "content": f"第 {n} 次：买的豆腐有酸味，吃了肚子疼，要求退款。",
            "demand": "退款",
            "name": "李秀英",
            "phone": "13812345678",
        }
        conn = self._conn()
        try:
            conn.request(
                "POST",
                "/complain",
                body=urlencode(form),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": self.cookie,
                },
            )
            r = conn.getresponse()
            body = r.read()
        except (OSError, http.client.HTTPException):
            return None, None
        finally:
            conn.close()
        m = NUMBER.search(body) if r.status == 200 else None
        return r.status, m.group(1).decode() if m else None


class Regulator:
    """A signed-in back-office session over HTTP (cookies and CSRF tokens as a browser keeps them)."""

    def __init__(self, url: str, username: str, password: str):
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        status, body = self.post_form("/admin/login", {"username": username, "password": password})
        assert status == 200 and "退出".encode() in body, "sign-in failed"

    def post_form(self, path: str, data: dict) -> tuple[int, bytes]:
        page = self.opener.open(self.url + path, timeout=30).read()
        data = dict(data, csrf_token=TOKEN.search(page).group(1).decode())
        body = urlencode(data, doseq=True).encode()
        with self.opener.open(self.url + path, data=body, timeout=30) as r:
            return r.status, r.read()


def _burst(server: LiveServer, code: str, clients: int, per_client: int, during=None):
    """Submit from several clients at once; returns (acknowledged numbers, statuses)."""
    acknowledged, statuses, lock = [], [], threading.Lock()
    people = [Complainant(server.url, code) for _ in range(clients)]

    def run(person):
        for n in range(per_client):
            status, number = person.submit(n)
            with lock:
                statuses.append(status)
                if number:
                    acknowledged.append(number)

    threads = [threading.Thread(target=run, args=(p,)) for p in people]
    for t in threads:
        t.start()
    if during:
        during()
    for t in threads:
        t.join()
    return acknowledged, statuses


def _stored_numbers(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = {row[0] for row in conn.execute(text("SELECT tracking_no FROM complaint"))}
    engine.dispose()
    return found


def _open_workshop_code(server: LiveServer) -> str:
    with server.app.app_context():
        return db.session.scalar(
            select(Workshop.public_code).where(Workshop.status == "open").order_by(Workshop.id)
        )


@pytest.fixture
def sqlite_server(tmp_path):
    server = LiveServer(tmp_path, workers=2, demo_size=30)
    yield server
    server.stop()


def test_sqlite_concurrent_writers_all_succeed(sqlite_server):
    """Eight people submitting at once on SQLite: the busy timeout waits, nothing fails."""
    code = _open_workshop_code(sqlite_server)
    acknowledged, statuses = _burst(sqlite_server, code, clients=8, per_client=6)
    assert statuses == [200] * 48
    assert len(set(acknowledged)) == 48
    assert set(acknowledged) <= _stored_numbers(sqlite_server.env["DATABASE_URL"])


def test_kill_9_worker_during_burst_loses_no_acknowledged_submission(sqlite_server):
    code = _open_workshop_code(sqlite_server)
    master = sqlite_server.proc.pid

    def kill_a_worker():
        time.sleep(0.4)
        workers = subprocess.run(
            ["pgrep", "-P", str(master)], capture_output=True, text=True
        ).stdout.split()
        assert workers, "no gunicorn workers found"
        os.kill(int(workers[0]), signal.SIGKILL)

    acknowledged, statuses = _burst(
        sqlite_server, code, clients=6, per_client=15, during=kill_a_worker
    )
    assert acknowledged, "no submission was acknowledged"
    stored = _stored_numbers(sqlite_server.env["DATABASE_URL"])
    assert set(acknowledged) <= stored  # every number a person was shown is in the database
    assert sqlite_server.proc.poll() is None  # the master replaced the worker and kept serving
    assert _get(sqlite_server.url, "/healthz")[0] == 200


def test_index_deleted_while_serving_falls_back_then_reindex_restores(sqlite_server):
    with sqlite_server.app.app_context():
        name = db.session.scalar(
            select(Workshop.name).where(Workshop.status == "open").order_by(Workshop.id)
        )
    path = f"/search?q={quote(name)}"
    status, body = _get(sqlite_server.url, path)
    assert status == 200 and name.encode() in body

    shutil.rmtree(sqlite_server.env["SEARCH_INDEX_DIR"])
    for _ in range(2):  # both workers answer without the index
        status, body = _get(sqlite_server.url, path)
        assert status == 200 and name.encode() in body
    health = json.loads(_get(sqlite_server.url, "/healthz")[1])
    assert health["checks"]["search_index"]["ok"] is False and health["status"] == "degraded"

    sqlite_server.flask("search", "reindex")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        health = json.loads(_get(sqlite_server.url, "/healthz")[1])
        if health["checks"]["search_index"]["ok"]:
            break
        time.sleep(0.3)
    assert health["checks"]["search_index"]["ok"] is True and health["status"] == "ok"
    status, body = _get(sqlite_server.url, path)
    assert status == 200 and name.encode() in body


@pytest.mark.postgres
def test_two_servers_on_postgresql_converge(tmp_path):
    need(bool(PG_URL), "TEST_DATABASE_URL is not set (PostgreSQL scale-out test)")
    url = make_url(PG_URL)
    scale_db = f"{url.database}_scale"
    admin_engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scale_db}"'))
        conn.execute(text(f'CREATE DATABASE "{scale_db}"'))
    database_url = url.set(database=scale_db).render_as_string(hide_password=False)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = LiveServer(tmp_path / "a", workers=2, demo_size=40, database_url=database_url)
    b = LiveServer(tmp_path / "b", workers=2, demo_size=0, database_url=database_url, migrate=False)
    try:
        assert a.env["SEARCH_INDEX_DIR"] != b.env["SEARCH_INDEX_DIR"]
        new_name = "青山路琥珀凉糕坊"
        with a.app.app_context():
            w = db.session.scalar(
                select(Workshop).where(Workshop.status == "open").order_by(Workshop.id)
            )
            form = edit_form(w, name=new_name)
            wid = w.id
        # The change goes through server A's back office, as a regulator would make it.
        officer = Regulator(a.url, "admin", dict((u, p) for u, p, _ in DEMO_ACCOUNTS)["admin"])
        status, _ = officer.post_form(f"/admin/workshops/{wid}/edit", form)
        assert status == 200
        with b.app.app_context():
            assert db.session.get(Workshop, wid).name == new_name
        path = f"/search?q={quote(new_name)}"
        deadline = time.monotonic() + 30
        seen = {}
        while time.monotonic() < deadline and len(seen) < 2:
            for label, server in (("a", a), ("b", b)):
                status, body = _get(server.url, path)
                if status == 200 and new_name.encode() in body:
                    seen[label] = time.monotonic()
            time.sleep(0.3)
        assert set(seen) == {"a", "b"}, (
            f"index did not converge on {sorted({'a', 'b'} - set(seen))}"
        )
        # Both answer from their own index, not from the database fallback.
        for server in (a, b):
            health = json.loads(_get(server.url, "/healthz")[1])
            assert health["checks"]["search_index"]["ok"] is True
    finally:
        a.stop()
        b.stop()
        with a.app.app_context():
            db.engine.dispose()
        with b.app.app_context():
            db.engine.dispose()
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scale_db}" WITH (FORCE)'))
        admin_engine.dispose()
