"""Place names to jurisdiction ids, for queries: 东河 → 东河区 and 老东河市场监管所; 昆区 → 昆都仑区.

Documents carry their station, county and city ids (facet place:<id>), not the place names, so
a rename reaches search without re-indexing a single workshop. The table (with the aliases of
vocab.py) is small and read at most once a minute per process (SEARCH_PLACES_TTL).
"""

import threading
import time

from flask import current_app

from shifangbang.extensions import db

from . import vocab
from .schema import jurisdiction_tree

_lock = threading.Lock()
_cache: dict = {}  # (database url, deployment) → (loaded at, Places)


class Places:
    def __init__(self, rows: list[tuple[int, str]]):
        self.rows = rows
        by_name: dict[str, list[int]] = {}
        for j, name in rows:
            by_name.setdefault(name, []).append(j)
        self.aliases = {
            alias: [j for name in names for j in by_name.get(name, ())]
            for alias, names in vocab.aliases([name for _, name in rows]).items()
        }
        # Every word that names a place on its own: names, abbreviations, aliases (longest first).
        self.words = sorted(
            {name for _, name in rows if len(name) >= 2} | set(self.aliases),
            key=len,
            reverse=True,
        )


def _all() -> Places:
    key = (str(db.engine.url), id(current_app.extensions["deployment"]))
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < current_app.config.get("SEARCH_PLACES_TTL", 60.0):
            return hit[1]
    places = Places([(j, name) for j, (name, _) in jurisdiction_tree().items()])
    with _lock:
        _cache[key] = (now, places)
    return places


def matching(text: str) -> list[int]:
    """Jurisdictions whose name contains `text` (two characters or more), or that `text` is an
    alias of (昆区, 土右, 达茂)."""
    if len(text) < 2:
        return []
    places = _all()
    return sorted(
        {j for j, name in places.rows if text in name} | set(places.aliases.get(text, ()))
    )


def split(run: str) -> list[str]:
    """A Chinese run that starts or ends with a place word, cut there (昆区凉皮 → 昆区, 凉皮), so
    the place can match where the workshop is while the rest matches what it makes."""
    if len(run) < 4:
        return [run]
    for word in _all().words:
        if len(run) - len(word) < 2:
            continue
        if run.startswith(word):
            return [word, run[len(word) :]]
        if run.endswith(word):
            return [run[: -len(word)], word]
    return [run]
