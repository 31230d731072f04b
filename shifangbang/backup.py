"""Consistent online backup and restore of the embedded SQLite database.

PostgreSQL deployments use pg_dump / pg_restore instead (docs/deployment.md): the server's own
tools take consistent snapshots without stopping the application.
"""

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from .errors import DomainError
from .timeutil import utcnow

REQUIRED_TABLES = {"workshop", "complaint", "audit_log", "alembic_version"}


class BackupError(DomainError):
    pass


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(
            "flask backup / restore 只适用于 SQLite 数据库；PostgreSQL 请使用 pg_dump / pg_restore（见 docs/deployment.md）。"
        )
    return Path(url.database)


def backup(database_url: str, dest: Path) -> Path:
    """Copy the live database with SQLite's online backup API: a consistent snapshot even while
    the app keeps writing (WAL mode), never a half-written file."""
    source = sqlite_path(database_url)
    if not source.exists():
        raise BackupError(f"数据库文件不存在：{source}")
    if dest.is_dir():
        dest = dest / f"shifangbang-{utcnow():%Y%m%d-%H%M%S}.db"
    if dest.exists():
        raise BackupError(f"目标文件已存在，不会覆盖：{dest}")
    tmp = dest.with_suffix(dest.suffix + ".part")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    out = sqlite3.connect(tmp)
    try:
        with out:
            src.backup(out, pages=1024)
        check(out)
    finally:
        out.close()
        src.close()
    tmp.rename(dest)
    return dest


def check(conn: sqlite3.Connection) -> None:
    """A backup is only useful if it is whole and holds our schema."""
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as e:  # not an SQLite file at all
        raise BackupError(f"备份文件不是有效的 SQLite 数据库：{e}") from e
    if result != "ok":
        raise BackupError(f"备份文件完整性检查失败：{result}")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = REQUIRED_TABLES - tables
    if missing:
        raise BackupError(f"备份文件缺少数据表：{', '.join(sorted(missing))}")


def restore(database_url: str, source: Path) -> Path | None:
    """Replace the database with a backup. Stop the app servers first. The current database is
    kept beside it as <name>.before-restore-<time>; returns that path (None if there was none)."""
    target = sqlite_path(database_url)
    if not source.exists():
        raise BackupError(f"备份文件不存在：{source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        check(src)
        kept = None
        if target.exists():
            kept = target.with_name(f"{target.name}.before-restore-{utcnow():%Y%m%d-%H%M%S}")
            live = sqlite3.connect(target)
            try:
                live.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                with sqlite3.connect(kept) as keep:
                    live.backup(keep)
            finally:
                live.close()
        dest = sqlite3.connect(target)
        try:
            with dest:
                src.backup(dest)  # page-by-page copy into the live file, so WAL readers stay valid
        finally:
            dest.close()
        return kept
    finally:
        src.close()
