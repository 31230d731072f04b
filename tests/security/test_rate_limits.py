"""Rate limits hold across gunicorn workers and restarts: on the default install (a SQLite file
shared by the workers, no Redis) and with Redis. Before: memory storage, per worker, so every
limit was doubled with two workers and reset by a restart."""

import os
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from shifangbang.ratelimit_storage import SQLiteFileStorage, uri_for

from ..conftest import LiveServer, make_test_app, need

REDIS_URL = os.environ.get("TEST_REDIS_URL")
LIMIT = 20  # GET /api/v1/complaints/<no>: "20 per minute"


def _status(url: str) -> int:
    request = urllib.request.Request(url, headers={"X-Tracking-Password": "WRONG"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def _burst(url: str, n: int) -> list[int]:
    # In parallel, so both workers serve requests (one at a time each, sync workers).
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(_status, [url] * n))


@pytest.mark.scaleout
@pytest.mark.parametrize("storage", ["sqlite-file", "redis"])
def test_limit_holds_across_two_workers_and_a_restart(tmp_path, storage):
    env = {"RATELIMIT_ENABLED": "true", "REDIS_URL": ""}
    if storage == "redis":
        need(bool(REDIS_URL), "TEST_REDIS_URL is not set")
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        env["REDIS_URL"] = REDIS_URL
    server = LiveServer(tmp_path, workers=2, demo_size=0, migrate=False, env=env)  # setup migrates
    try:
        url = server.url + "/api/v1/complaints/2026000000000000"
        codes = _burst(url, 2 * LIMIT + 10)
        assert codes.count(404) == LIMIT and codes.count(429) == LIMIT + 10, codes
        server.restart()
        assert _status(url) == 429  # the window survives the restart
    finally:
        server.stop()
        if storage == "redis":
            import redis

            redis.Redis.from_url(REDIS_URL).flushdb()


def test_default_storage_is_a_file_beside_the_database(tmp_path):
    app = make_test_app(
        f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "idx", RATELIMIT_STORAGE_URI=None
    )
    assert app.config["RATELIMIT_STORAGE_URI"] == uri_for(str(tmp_path / "x.ratelimits.sqlite"))


def test_file_storage_counts_windows(tmp_path):
    store = SQLiteFileStorage(uri_for(str(tmp_path / "l.sqlite")))
    assert [store.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert store.get("k") == 3 and store.get_expiry("k") > 0
    assert store.incr("short", 0) == 1 and store.incr("short", 0) == 1  # expired: a new window
    store.clear("k")
    assert store.get("k") == 0 and store.check()
    other = SQLiteFileStorage(uri_for(str(tmp_path / "l.sqlite")))  # another worker, same file
    store.incr("shared", 60)
    assert other.incr("shared", 60) == 2
    assert store.reset() >= 1
