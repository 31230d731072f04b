"""Place names to jurisdiction ids, for queries: 东河 → 东河区 and 老东河市场监管所.

Documents carry their station, county and city ids (facet place:<id>), not the place names, so
a rename reaches search without re-indexing a single workshop. The table is small and read at
most once a minute per process (SEARCH_PLACES_TTL).
"""

import threading
import time

from flask import current_app

from shifangbang.extensions import db

from .schema import jurisdiction_tree

_lock = threading.Lock()
_cache: dict = {}  # database url → (loaded at, [(id, name)])


def _all() -> list[tuple[int, str]]:
    url = str(db.engine.url)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(url)
        if hit and now - hit[0] < current_app.config.get("SEARCH_PLACES_TTL", 60.0):
            return hit[1]
    rows = [(j, name) for j, (name, _) in jurisdiction_tree().items()]
    with _lock:
        _cache[url] = (now, rows)
    return rows


def matching(text: str) -> list[int]:
    """Jurisdictions whose name contains `text` (two characters or more)."""
    if len(text) < 2:
        return []
    return [j for j, name in _all() if text in name]
