"""Rate limits on submission and tracking (a Chinese 429), shared between servers through Redis;
CSRF on the public form. These build their own apps: the shared test app runs without limits."""

import os
import subprocess
import sys

import pytest

from shifangbang.extensions import limiter
from tests.conftest import ROOT, make_test_app, need

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_db():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        need(False, f"no Redis server at {REDIS_URL}")
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def restore_limiter():
    """The Limiter is one object shared by every app in this process: put it back as it was."""
    saved = {k: getattr(limiter, k, None) for k in ("enabled", "_storage", "_limiter")}
    yield
    for k, v in saved.items():
        setattr(limiter, k, v)


def _limited_app(tmp_path, **extra):
    from flask_migrate import upgrade

    app = make_test_app(
        f"sqlite:///{tmp_path / 'limits.db'}",
        tmp_path / "index",
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        **extra,
    )
    with app.app_context():
        upgrade()
    return app


def test_track_and_submit_limits_trigger_a_chinese_429(tmp_path, redis_db, restore_limiter):
    app = _limited_app(
        tmp_path, COMPLAINT_TRACK_LIMIT="3 per minute", COMPLAINT_SUBMIT_LIMIT="2 per minute"
    )
    client = app.test_client()
    for _ in range(3):
        assert (
            client.post("/track", data={"number": "TS1234567890", "password": "X"}).status_code
            == 200
        )
    resp = client.post("/track", data={"number": "TS1234567890", "password": "X"})
    assert resp.status_code == 429
    assert "操作太频繁" in resp.get_data(as_text=True)
    assert client.get("/track").status_code == 200  # only the POST is limited
    for _ in range(2):
        assert client.post("/complain", data={"kind": "report"}).status_code == 422
    resp = client.post("/complain", data={"kind": "report"})
    assert resp.status_code == 429 and "操作太频繁" in resp.get_data(as_text=True)
    # Another client address has its own allowance.
    other = client.post(
        "/track",
        data={"number": "TS1234567890", "password": "X"},
        environ_base={"REMOTE_ADDR": "10.20.30.40"},
    )
    assert other.status_code == 200
    assert redis_db.keys("LIMITS*")  # the counters live in Redis


SECOND_SERVER = """
import sys
from tests.conftest import make_test_app
app = make_test_app(sys.argv[1], sys.argv[2], RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=sys.argv[3],
                    COMPLAINT_TRACK_LIMIT="3 per minute")
resp = app.test_client().post("/track", data={"number": "TS1234567890", "password": "X"})
print(resp.status_code)
"""


@pytest.mark.scaleout
def test_limit_is_shared_between_servers_through_redis(tmp_path, redis_db, restore_limiter):
    app = _limited_app(tmp_path, COMPLAINT_TRACK_LIMIT="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert (
            client.post("/track", data={"number": "TS1234567890", "password": "X"}).status_code
            == 200
        )
    # A separate process — another app server — sees the same counter for this client.
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            SECOND_SERVER,
            f"sqlite:///{tmp_path / 'limits.db'}",
            str(tmp_path / "index2"),
            REDIS_URL,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "429"
    redis_db.flushdb()  # and a fresh counter lets it through again
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            SECOND_SERVER,
            f"sqlite:///{tmp_path / 'limits.db'}",
            str(tmp_path / "index2"),
            REDIS_URL,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.strip().splitlines()[-1] == "200"


def test_public_form_needs_csrf(tmp_path):
    from flask_migrate import upgrade

    app = make_test_app(
        f"sqlite:///{tmp_path / 'csrf.db'}", tmp_path / "index", WTF_CSRF_ENABLED=True
    )
    with app.app_context():
        upgrade()
    client = app.test_client()
    for path in ("/complain", "/track"):
        resp = client.post(path, data={"kind": "report"})
        assert resp.status_code == 400 and "安全校验失败" in resp.get_data(as_text=True)
