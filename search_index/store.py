"""One server's index folder: generations, the change-log cursor, sync, rebuild, the searcher.

Layout of SEARCH_INDEX_DIR:
    gen-<ns>/          a complete Whoosh index plus cursor.json (how far it follows the change log)
    current -> gen-…   symlink, replaced atomically when a rebuild finishes

Sync: the change log (shifangbang/changes.py) is the feed. PostgreSQL hands out ids in one order
and commits them in another, so each sync re-reads a trailing window of ids below the cursor and
applies the ones it has not seen yet. Re-indexing a workshop is idempotent, so seeing one twice
is harmless; missing one is not.
"""

import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path

from sqlalchemy import func, select
from whoosh import index as whoosh_index
from whoosh.writing import LockError

from shifangbang.extensions import db
from shifangbang.models import ChangeLog, Workshop

from . import _whoosh_fixes, analysis
from . import schema as schema_mod
from .bulk import ParallelBuild

_whoosh_fixes.apply()

log = logging.getLogger("search_index")

WINDOW = 1000  # change-log ids re-read below the cursor (commits that overtook each other)
BATCH = 500
PARALLEL_FROM = 10_000  # workshops; below this a rebuild takes seconds and stays in one process


class IndexUnavailable(Exception):
    """The index folder is missing or unreadable: search answers from the database."""


def _read_cursor(gen: Path) -> dict:
    try:
        return json.loads((gen / "cursor.json").read_text())
    except (OSError, ValueError):
        return {"last_id": 0, "seen": []}


def _write_cursor(gen: Path, last_id: int, seen: list[int]) -> None:
    tmp = gen / f"cursor.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"last_id": last_id, "seen": seen}))
    os.replace(tmp, gen / "cursor.json")


def _read_format(gen: Path) -> str | None:
    try:
        return (gen / "format.txt").read_text().strip()
    except OSError:
        return None


def _window_ids(last_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(ChangeLog.id).where(ChangeLog.id > last_id - WINDOW, ChangeLog.id <= last_id)
        )
    )


class SearchIndex:
    def __init__(
        self,
        path: str | Path,
        sync_interval: float = 1.0,
        lock_timeout: float = 5.0,
        build_procs: int | None = None,
    ):
        self.root = Path(path)
        # Rebuild writer processes: one per core (the parent only reads the database).
        self.build_procs = (
            max(1, min(4, os.cpu_count() or 2)) if build_procs is None else build_procs
        )
        self.sync_interval = sync_interval
        self.lock_timeout = lock_timeout
        self._lock = threading.RLock()
        self._gen: Path | None = None
        self._ix = None
        self._searcher = None
        self._synced_at = 0.0
        self._problem: str | None = None

    # --- opening ---------------------------------------------------------------------------------

    @property
    def link(self) -> Path:
        return self.root / "current"

    def current_generation(self) -> Path | None:
        try:
            target = os.readlink(self.link)
        except OSError:
            return None
        gen = self.root / target
        return gen if gen.is_dir() else None

    def _note_problem(self, problem: str | None) -> None:
        if problem != self._problem:
            if problem:
                log.error("搜索索引不可用，改为数据库查询：%s (%s)", problem, self.root)
            else:
                log.info("搜索索引恢复可用 (%s)", self.root)
        self._problem = problem

    def _close(self) -> None:
        if self._searcher is not None:
            try:
                self._searcher.close()
            except Exception:
                pass
        self._searcher = self._ix = self._gen = None

    def _open(self):
        """The index of the current generation (reopened when a rebuild swapped it)."""
        gen = self.current_generation()
        if gen is None:
            self._close()
            raise IndexUnavailable("索引目录不存在，需要重建（flask search reindex）")
        if gen != self._gen or self._ix is None:
            self._close()
            try:
                ix = whoosh_index.open_dir(str(gen))
            except Exception as e:
                raise IndexUnavailable(f"索引无法打开：{type(e).__name__}: {e}") from e
            made = _read_format(gen)
            if (
                made != schema_mod.index_format()
                or ix.schema.names() != schema_mod.make_schema().names()
            ):
                raise IndexUnavailable(
                    f"索引格式（{made or '未知'}）与本软件（{schema_mod.index_format()}）不同，"
                    "需要重建（flask search sync --rebuild-if-needed）"
                )
            self._ix = ix
            self._gen = gen
        return self._ix

    def searcher(self, sync: bool = True):
        """This process's searcher, refreshed; pending changes applied first (at most every
        sync_interval seconds). Raises IndexUnavailable."""
        with self._lock:
            try:
                ix = self._open()
                if sync and time.monotonic() - self._synced_at >= self.sync_interval:
                    try:
                        self._sync(ix, self._gen, timeout=0.5)
                    except (OSError, IndexUnavailable):
                        raise
                    except Exception:  # the database hiccuped: answer from the index as it is
                        log.exception("搜索索引同步失败，暂用现有索引")
                        db.session.rollback()
                if self._searcher is None:
                    self._searcher = ix.searcher()
                else:
                    # The refreshed searcher shares unchanged segment readers with the old
                    # one, so the old one is dropped, not closed.
                    self._searcher = self._searcher.refresh()
            except IndexUnavailable as e:
                self._note_problem(str(e))
                raise
            except Exception as e:
                self._close()
                problem = f"索引读取失败：{type(e).__name__}: {e}"
                self._note_problem(problem)
                raise IndexUnavailable(problem) from e
            self._note_problem(None)
            return self._searcher

    # --- sync --------------------------------------------------------------------------------------

    def sync(self, timeout: float | None = None) -> int | None:
        """Apply pending change-log rows. Returns how many workshops were re-indexed, or None when
        another process holds the writer lock (it is applying the same changes)."""
        with self._lock:
            ix = self._open()
            return self._sync(ix, self._gen, self.lock_timeout if timeout is None else timeout)

    def _sync(self, ix, gen: Path, timeout: float) -> int | None:
        self._synced_at = time.monotonic()
        cursor = _read_cursor(gen)
        last_id, seen = cursor["last_id"], set(cursor["seen"])
        # Cheap check first, without the lock: anything new in the window?
        rows = db.session.execute(
            select(ChangeLog.id, ChangeLog.workshop_id)
            .where(ChangeLog.id > last_id - WINDOW)
            .order_by(ChangeLog.id)
        ).all()
        if all(r.id in seen for r in rows):
            return 0
        try:
            writer = ix.writer(timeout=timeout)
        except LockError:
            return None
        try:
            cursor = _read_cursor(gen)  # another process may have applied them meanwhile
            last_id, seen = cursor["last_id"], set(cursor["seen"])
            new = [r for r in rows if r.id not in seen]
            ids = {r.workshop_id for r in new}
            if ids:
                self._write_workshops(writer, ids)
                writer.commit()
            else:
                writer.cancel()
        except BaseException:
            writer.cancel()
            raise
        top = max([last_id] + [r.id for r in rows])
        _write_cursor(
            gen,
            top,
            sorted(
                {r.id for r in rows if r.id > top - WINDOW} | {i for i in seen if i > top - WINDOW}
            ),
        )
        if ids:
            log.info("搜索索引同步了 %d 家作坊的变更", len(ids))
        return len(ids)

    def _write_workshops(self, writer, ids) -> None:
        ids = list(ids)
        for i in range(0, len(ids), BATCH):
            chunk = ids[i : i + BATCH]
            found = schema_mod.load_sources(chunk)
            for w in found:
                writer.update_document(**schema_mod.document(w))
            for missing in set(chunk) - {w.id for w in found}:
                writer.delete_by_term("id", str(missing))

    # --- rebuild -----------------------------------------------------------------------------------

    def rebuild(self, progress=None, procs: int | None = None) -> int:
        """Build a complete index in a new folder, then swap `current` to it in one rename.

        Searches keep using the old generation until the swap. `progress(n)` is called per batch.
        `procs` child processes make and write the documents (default: build_procs for big
        registries); this one only reads the database.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        gen = self.root / f"gen-{time.time_ns()}"
        gen.mkdir()
        ix = whoosh_index.create_in(str(gen), schema_mod.make_schema())
        # The cursor is taken before reading workshops: anything committed later is re-applied.
        start = db.session.scalar(select(func.max(ChangeLog.id))) or 0
        seen = _window_ids(start)
        ids = list(db.session.scalars(select(Workshop.id).order_by(Workshop.id)))
        if procs is None:
            procs = self.build_procs if len(ids) >= PARALLEL_FROM else 0
        analysis.jieba_tokenizer()  # loaded once, before writer processes are forked
        analysis.reading_table()
        build = ParallelBuild(ix, procs)
        count = 0
        try:
            tree = schema_mod.jurisdiction_tree()
            for i in range(0, len(ids), BATCH):
                chunk = ids[i : i + BATCH]
                sources = schema_mod.load_sources(chunk, tree)
                build.add(sources)
                count += len(sources)
                if progress:
                    progress(len(chunk))
            build.commit()
        except BaseException:
            build.cancel()
            shutil.rmtree(gen, ignore_errors=True)
            raise
        _write_cursor(gen, start, seen)
        (gen / "format.txt").write_text(schema_mod.index_format() + "\n")
        tmp = self.root / f"current.{os.getpid()}.tmp"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(gen.name, tmp)
        os.replace(tmp, self.link)  # atomic: readers see the old or the new index, never none
        self._prune(keep={gen.name})
        with self._lock:
            self._synced_at = 0.0
        log.info("搜索索引已重建：%d 家作坊 → %s", count, gen)
        return count

    def _prune(self, keep: set[str]) -> None:
        """Remove old generations except the newest previous one (other processes may still be
        reading it until their next refresh)."""
        gens = sorted((p for p in self.root.glob("gen-*") if p.is_dir()), key=lambda p: p.name)
        old = [p for p in gens if p.name not in keep]
        for p in old[:-1]:
            shutil.rmtree(p, ignore_errors=True)

    # --- status ------------------------------------------------------------------------------------

    def health(self) -> dict:
        try:
            searcher = self.searcher(sync=False)
        except IndexUnavailable as e:
            return {"ok": False, "detail": str(e), "fallback": "数据库查询"}
        with self._lock:
            cursor = _read_cursor(self._gen)
        top = db.session.scalar(select(func.max(ChangeLog.id))) or 0
        return {
            "ok": True,
            "docs": searcher.doc_count(),
            "cursor": cursor["last_id"],
            "pending": max(0, top - cursor["last_id"]),
        }
