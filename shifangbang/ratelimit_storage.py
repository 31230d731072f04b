"""A `limits` storage in a SQLite file, for the default single-machine install (no Redis).

Flask-Limiter's memory storage counts per worker process (gunicorn runs two: every limit was
doubled) and forgets everything on restart. This file is shared by all workers on the machine and
survives restarts. Several machines share limits through Redis instead (REDIS_URL).

URI: `sfb-sqlite:///absolute/path/ratelimits.sqlite`. Registered with `limits` on import (its
storage classes register their scheme when defined). Fixed-window counters only, which is
Flask-Limiter's default strategy. Counters are not worth an fsync each: synchronous=NORMAL.
"""

import os
import random
import sqlite3
import threading
import time
from urllib.parse import urlsplit

from limits.storage import Storage

SCHEME = "sfb-sqlite"
SCHEMA = "CREATE TABLE IF NOT EXISTS counter (key TEXT PRIMARY KEY, count INTEGER, expires REAL)"
# One statement, so concurrent workers cannot interleave: a window that has expired restarts.
INCR = """
INSERT INTO counter (key, count, expires) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN expires <= :now THEN excluded.count ELSE count + excluded.count END,
  expires = CASE WHEN expires <= :now THEN excluded.expires ELSE expires END
RETURNING count
"""


def uri_for(path: str) -> str:
    return f"{SCHEME}://{os.path.abspath(path)}"


def _wal(conn: sqlite3.Connection, wait: float = 10.0) -> None:
    """Switch a new file to WAL. Two workers opening it at once race for the switch, and the
    loser gets "database is locked" at once (the busy timeout does not cover it): retry."""
    deadline = time.monotonic() + wait
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class SQLiteFileStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self.path = urlsplit(uri).path
        self._local = threading.local()

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _conn(self) -> sqlite3.Connection:
        # One connection per process and thread: never carried across gunicorn's fork.
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            _wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(SCHEMA)
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        conn, now = self._conn(), time.time()
        # fetchall: the statement must run to its end, or it would keep the write lock.
        [(count,)] = conn.execute(
            INCR, {"key": key, "amount": amount, "now": now, "expiry": expiry}
        ).fetchall()
        if random.random() < 0.001:  # now and then, drop windows long over
            conn.execute("DELETE FROM counter WHERE expires < ?", (now - 60,))
        return count

    def get(self, key: str) -> int:
        row = (
            self._conn()
            .execute("SELECT count FROM counter WHERE key = ? AND expires > ?", (key, time.time()))
            .fetchone()
        )
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._conn().execute("SELECT expires FROM counter WHERE key = ?", (key,)).fetchone()
        return row[0] if row and row[0] > time.time() else time.time()

    def check(self) -> bool:
        try:
            self._conn().execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        return self._conn().execute("DELETE FROM counter").rowcount

    def clear(self, key: str) -> None:
        self._conn().execute("DELETE FROM counter WHERE key = ?", (key,))
