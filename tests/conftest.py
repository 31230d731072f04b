"""Fixtures: `app` (per database backend), `db` (rolled back after each test), `client`, `runner`,
`live_server` (gunicorn on a real database) and `page` (chromium through Playwright).

Backends: SQLite always; PostgreSQL too when TEST_DATABASE_URL is set. With CI=true nothing may
be skipped: a skip fails the run.
"""

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from flask import g, request_started
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession
from sqlalchemy import event, text

from shifangbang import create_app
from shifangbang.extensions import db as _db

ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


def need(condition: bool, reason: str) -> None:
    """Skip locally when a tool is missing; in CI a missing tool is a failure."""
    if condition:
        return
    if CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if CI and terminalreporter.stats.get("skipped"):
        terminalreporter.write_line("CI=true: skipped tests are not allowed", red=True)


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if CI and reporter is not None and reporter.stats.get("skipped"):
        session.exitstatus = 1


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def make_test_app(url: str, index_dir: Path, **extra):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SEARCH_INDEX_DIR": str(index_dir),
        "SECRET_KEY": "test-secret-key",
        "AUDIT_KEY": "test-audit-key",
        # Tests roll their commits back: heads of rows that never lasted would fail later
        # verifications. Tests of the head file give their own (tests/test_audit_chain.py).
        "AUDIT_HEAD_FILE": None,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SEARCH_PLACES_TTL": 0,
        "BASE_URL": "https://sfb.example.cn",
    }
    config.update(extra)
    return create_app(config)


def _forget_login_user(sender, **extra):
    g.pop("_login_user", None)


@pytest.fixture(scope="session", params=BACKENDS)
def app(request, tmp_path_factory):
    base = tmp_path_factory.mktemp(f"app-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{base / 'test.db'}"
    else:
        url = PG_URL
        reset_postgres(url)
    app = make_test_app(url, base / "index")
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        if request.param == "sqlite":
            # pysqlite needs these for SAVEPOINTs to work, which the per-test rollback uses.
            @event.listens_for(_db.engine, "connect")
            def _no_pysqlite_tx(dbapi_connection, record):
                dbapi_connection.isolation_level = None

            @event.listens_for(_db.engine, "begin")
            def _begin(conn):
                conn.exec_driver_sql("BEGIN")

            _db.engine.dispose()
    app.config["BACKEND"] = request.param
    # The `db` fixture keeps one app context (so one `g`) across a test's requests; Flask-Login
    # caches the user in g, so forget it per request, as a real server's fresh context would.
    request_started.connect(_forget_login_user, app)
    yield app


class _BoundSession(FlaskSQLAlchemySession):
    """Flask-SQLAlchemy's Session picks the engine itself and so ignores `bind`: honour it here,
    or every query would run outside the test's transaction and nothing would be rolled back."""

    def get_bind(self, *args, **kwargs):
        return self.bind if self.bind is not None else super().get_bind(*args, **kwargs)


@pytest.fixture
def db(app):
    """The database inside a transaction that is rolled back after the test."""
    with app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        original = _db.session
        _db.session = _db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": _BoundSession,
            }
        )
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def index(app, tmp_path):
    """A fresh search index folder for this test, installed as the app's index (synced on every
    search)."""
    from search_index import SearchIndex

    ix = SearchIndex(tmp_path / "index", sync_interval=0)
    saved = app.extensions["search_index"]
    app.extensions["search_index"] = ix
    yield ix
    app.extensions["search_index"] = saved


# --- a real server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not answer in {timeout}s")


class LiveServer:
    """gunicorn serving the app on a real database (by default a fresh SQLite file with a small demo
    data set). Several servers may share one database, each with its own search index folder.

    `app` is a Flask app on the same database, for arranging data and checking results.
    """

    def __init__(
        self,
        base: Path,
        workers: int = 2,
        demo_size: int = 80,
        database_url: str | None = None,
        migrate: bool = True,
        env: dict | None = None,
    ):
        self.base = base
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(
            os.environ,
            DATABASE_URL=database_url or f"sqlite:///{base / 'live.db'}",
            SEARCH_INDEX_DIR=str(base / "index"),
            SECRET_KEY="live-test-secret",
            AUDIT_KEY="live-test-audit-key",
            AUDIT_HEAD_FILE=str(base / "audit_heads.jsonl"),
            OPENDATA_DIR=str(base / "opendata"),  # never another server's (or run's) export
            BASE_URL=self.url,
            RATELIMIT_ENABLED="false",
        )
        self.env.update(env or {})  # may override the defaults above (RATELIMIT_ENABLED …)
        self.app = make_test_app(
            self.env["DATABASE_URL"], base / "index", BASE_URL=self.url, TESTING=False
        )
        if migrate:
            self.flask("db", "upgrade")
        if demo_size:
            self.flask("demo", "load", "--size", str(demo_size))
        self.flask("setup", "--no-demo")  # builds this server's own index
        self.start()

    def start(self) -> None:
        """Start gunicorn (again, after stop(): a restart on the same database and port)."""
        self.log = open(self.base / "gunicorn.log", "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(self.workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "shifangbang.wsgi:app",
            ],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_http(self.url + "/healthz", self.proc)

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        """Run a `flask` CLI command against this server's database and index."""
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "shifangbang", *args],
            env=self.env,
            check=True,
            cwd=ROOT,
            capture_output=True,
        )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()

    def restart(self) -> None:
        """Stop gunicorn and start it again on the same database and port (a deploy, a crash)."""
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("live"))
    yield server
    server.stop()


# --- WeChat's server API, faked locally -----------------------------------------------------------

CASE_TEMPLATE = "tmpl-case-progress-0001"
WORKSHOP_TEMPLATE = "tmpl-workshop-change-0001"


@pytest.fixture(scope="session")
def fake():
    """The local fake of WeChat's server API (tests/wechat_fake.py), one per test session."""
    from .wechat_fake import WechatFake

    server = WechatFake().start()
    yield server
    server.stop()


def with_templates(deployment):
    wx = deployment.wechat
    return dataclasses.replace(
        deployment,
        wechat=dataclasses.replace(
            wx,
            case_progress=dataclasses.replace(wx.case_progress, template_id=CASE_TEMPLATE),
            workshop_change=dataclasses.replace(wx.workshop_change, template_id=WORKSHOP_TEMPLATE),
        ),
    )


@pytest.fixture
def wx(app, db, fake):
    """WeChat switched on for this test (appid, secret, the fake's URL, two templates)."""
    from .wechat_fake import APPID, SECRET

    saved = {k: app.config[k] for k in ("WECHAT_APPID", "WECHAT_SECRET", "WECHAT_API_BASE")}
    saved_deployment = app.extensions["deployment"]
    app.config.update(WECHAT_APPID=APPID, WECHAT_SECRET=SECRET, WECHAT_API_BASE=fake.url)
    app.extensions["deployment"] = with_templates(saved_deployment)
    fake.refusing.clear()
    fake.fail_next.clear()
    fake.messages.clear()  # openids repeat across the database backends
    yield fake
    app.config.update(saved)
    app.extensions["deployment"] = saved_deployment


# --- a real browser -----------------------------------------------------------------------------

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}


@pytest.fixture(scope="session")
def browser():
    need(Path(CHROMIUM).exists(), "chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A phone-sized page (390×844)."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop_page(browser):
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    yield page
    context.close()


def submit(page, target="button.big-button") -> None:
    """Click a form's button and wait until the answer page has loaded. A bare click returns as
    soon as the navigation starts, so a check right after it (count(), all()) can read a page that
    is not parsed yet; that made tests fail now and then."""
    button = page.locator(target) if isinstance(target, str) else target
    with page.expect_navigation():
        button.click()


def sign_in(page, base: str, username: str, password: str | None = None) -> None:
    """Sign in to the back office as a test account and wait for the page it leads to."""
    from .factories import PASSWORD

    page.goto(base + "/admin/login")
    page.fill("#username", username)
    page.fill("#password", password or PASSWORD)
    submit(page, "button[type=submit]")
    assert "/admin/login" not in page.url, page.locator("main").text_content()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
