"""`flask backup` / `flask restore` for SQLite: consistent online copies, safe restores."""

import sqlite3
import threading

import pytest
from flask_migrate import upgrade

from shifangbang import backup
from shifangbang.extensions import db
from shifangbang.models import Jurisdiction

from .conftest import make_test_app


@pytest.fixture
def sqlite_app(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'live.db'}", tmp_path / "index")
    with app.app_context():
        upgrade()
    return app


def _count(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM jurisdiction").fetchone()[0]


def test_backup_while_writing_is_consistent_and_restorable(sqlite_app, tmp_path):
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    stop, written = threading.Event(), threading.Semaphore(0)

    def writer():
        with sqlite_app.app_context():
            n = 0
            while not stop.is_set():
                n += 1
                db.session.add(Jurisdiction(code=f"W{n}", name=f"所{n}", level="city"))
                db.session.commit()
                written.release()

    thread = threading.Thread(target=writer)
    thread.start()
    copies = []
    try:
        for i in range(3):
            for _ in range(20):  # let the writer commit some rows between copies
                written.acquire(timeout=10)
            copies.append(backup.backup(url, tmp_path / f"copy{i}.db"))
    finally:
        stop.set()
        thread.join()
    counts = [_count(c) for c in copies]
    assert counts == sorted(counts) and counts[0] >= 20  # each a whole snapshot, later ones larger
    for c in copies:
        with sqlite3.connect(c) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    live_count = _count(tmp_path / "live.db")
    kept = backup.restore(url, copies[0])
    assert _count(tmp_path / "live.db") == counts[0]
    assert _count(kept) == live_count  # the replaced database is kept beside it


def test_backup_refuses_to_overwrite_and_restore_refuses_foreign_files(sqlite_app, tmp_path):
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    dest = backup.backup(url, tmp_path / "b.db")
    with pytest.raises(backup.BackupError, match="已存在"):
        backup.backup(url, dest)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE x (y)")
    with pytest.raises(backup.BackupError, match="缺少数据表"):
        backup.restore(url, other)
    not_db = tmp_path / "notes.txt"
    not_db.write_text("hello")
    with pytest.raises(backup.BackupError, match="不是有效的 SQLite"):
        backup.restore(url, not_db)


def test_postgresql_url_is_refused_with_guidance():
    with pytest.raises(backup.BackupError, match="pg_dump"):
        backup.sqlite_path("postgresql+psycopg://u@localhost/db")


def test_cli_backup_into_folder(sqlite_app, tmp_path):
    out = tmp_path / "backups"
    out.mkdir()
    result = sqlite_app.test_cli_runner().invoke(args=["backup", str(out)])
    assert result.exit_code == 0, result.output
    files = list(out.glob("shifangbang-*.db"))
    assert len(files) == 1 and "已备份到" in result.output
