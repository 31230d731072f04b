"""Search: Whoosh schema, Chinese and pinyin analysis, index sync from the change log, queries.

The index is derived data (docs/architecture.md): each server keeps its own folder, follows the change
log, and can be deleted and rebuilt at any time. When it is missing or broken, searches are
answered from the database and /healthz says so.
"""

import dataclasses
import logging

from flask import Flask, current_app

from .query import SearchParams, SearchResult, highlight, needles
from .store import IndexUnavailable, SearchIndex

log = logging.getLogger("search_index")

__all__ = [
    "SearchParams",
    "SearchResult",
    "SearchIndex",
    "IndexUnavailable",
    "init_app",
    "ensure_current",
    "health",
    "search",
    "matching_ids",
    "highlight",
    "needles",
    "get_index",
]


def init_app(app: Flask) -> None:
    from . import engine
    from .cli import search_cli

    engine.cache.max_bytes = int(float(app.config.get("SEARCH_CACHE_MB", 16)) * 2**20)
    app.extensions["search_index"] = SearchIndex(
        app.config["SEARCH_INDEX_DIR"],
        sync_interval=app.config["SEARCH_SYNC_INTERVAL"],
        lock_timeout=app.config["SEARCH_LOCK_TIMEOUT"],
    )
    app.cli.add_command(search_cli)


def get_index() -> SearchIndex:
    return current_app.extensions["search_index"]


def ensure_current(progress: bool = False) -> None:
    """Bring the index up to date with the database (build it when missing or unreadable)."""
    from .cli import rebuild_with_progress

    index = get_index()
    try:
        index.sync()
    except IndexUnavailable:
        rebuild_with_progress(index, progress)


def health() -> dict:
    return get_index().health()


def _searcher():
    """This worker's searcher, or None (logged) when the database has to answer instead."""
    try:
        return get_index().searcher()
    except IndexUnavailable as e:
        log.warning("搜索改用数据库查询：%s", e)
        return None


def search(params: SearchParams) -> SearchResult:
    """Search the index; the database answers when the index cannot."""
    from . import fallback, query

    searcher = _searcher()
    return fallback.search(params) if searcher is None else query.run(searcher, params)


def warm_up() -> None:
    """Read what every search reads at a worker's start (shifangbang/wsgi.py), so that the
    worker's first visitor waits no longer than the next (at 200,000 workshops the first search
    took 110-120 ms, the next ones a few)."""
    from . import query

    searcher = _searcher()
    if searcher is None:
        return
    try:
        query.warm(searcher)
    except Exception:  # an optimisation: never the reason a worker does not start
        log.exception("搜索预热失败")


def matching_ids(params: SearchParams, limit: int) -> list[int]:
    """Ids of every workshop `params` match on /search (unranked, at most `limit`)."""
    from . import fallback, query

    searcher = _searcher()
    if searcher is None:
        return [
            h.id for h in fallback.search(dataclasses.replace(params, page=1, per_page=limit)).hits
        ]
    return query.matching_ids(searcher, params, limit)
