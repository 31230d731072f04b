"""Public aggregates and lists (tier counts, 榜单, filter lists, rendered list pages) kept per worker
and keyed by the data's change version, so no request recomputes them over the whole registry.

The version is the newest change-log id (shifangbang/changes.py: every public change writes one in
its own transaction) together with today's date (date-derived states change daily). Reading it is
one index lookup, itself kept for a second per worker (as the workshop page's head query) so a
burst costs no query at all. Entries also expire after CACHE_TTL seconds: a safety net for a change
that bypassed the log (a renamed station) or two commits that overtook each other.

Everything here is bounded: a fixed number of entries per cache, each a page's worth of data.
Tests (app.testing) run without these caches unless PUBLIC_CACHE is set: their rolled-back
transactions reuse change-log ids.
"""

import os
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import current_app, request, session
from sqlalchemy import func, select

from . import cards
from .extensions import db
from .models import ChangeLog
from .timeutil import today

CACHE_TTL = 60  # seconds, see above
DATA_ENTRIES = 256  # aggregates and lists: a few KB each
PAGE_ENTRIES = 256  # rendered pages and API bodies: tens of KB each
# Search answers come from this server's index, which follows the change log a moment after the
# database (search_index sync): kept only a few seconds, so a change shows within seconds even
# when a search ran between the commit and the index catching up.
SEARCH_TTL = 5
# Same knob as the workshop page's head micro-cache (README: SHIFANGBANG_PAGE_MICROCACHE).
VERSION_TTL_DEFAULT = float(os.environ.get("SHIFANGBANG_PAGE_MICROCACHE", "1"))


class RenderCache:
    """A small LRU whose entries expire after `ttl` seconds. Keys carry everything the value
    depends on, so an entry is never wrong, only possibly old by at most `ttl`."""

    def __init__(self, size: int, ttl: float):
        self.size, self.ttl = size, ttl
        self._items: OrderedDict[object, tuple[float, object]] = OrderedDict()

    def get(self, key):
        item = self._items.get(key)
        if item is None or time.monotonic() - item[0] > self.ttl:
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key, value) -> None:
        if self.size <= 0:
            return
        self._items[key] = (time.monotonic(), value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class _State:
    def __init__(self):
        self.data = RenderCache(DATA_ENTRIES, CACHE_TTL)
        self.pages = RenderCache(PAGE_ENTRIES, CACHE_TTL)
        self.searches = RenderCache(PAGE_ENTRIES, SEARCH_TTL)
        self.version: tuple[float, int] | None = None  # (valid until, change-log id)


def _state() -> _State:
    state = current_app.extensions.get("public_cache")
    if state is None:
        state = current_app.extensions["public_cache"] = _State()
    return state


def enabled() -> bool:
    configured = current_app.config.get("PUBLIC_CACHE")
    return not current_app.testing if configured is None else bool(configured)


def clear() -> None:
    """Forget everything (tests; a deployment never needs it)."""
    current_app.extensions["public_cache"] = _State()


def change_id() -> int:
    """The newest change-log id: one backward step on the primary key."""
    state = _state()
    ttl = current_app.config.get(
        "PUBLIC_HEAD_TTL", 0 if current_app.testing else VERSION_TTL_DEFAULT
    )
    now = time.monotonic()
    if ttl > 0 and state.version is not None and state.version[0] > now:
        return state.version[1]
    value = db.session.scalar(select(func.max(ChangeLog.id))) or 0
    state.version = (now + ttl, value)
    return value


def version() -> tuple[int, str]:
    return change_id(), today().isoformat()


def cached(name: str, args: tuple, compute: Callable):
    """compute() once per data version for (name, args); the value must not hold ORM objects."""
    if not enabled():
        return compute()
    key = (name, args, version())
    store = _state().data
    hit = store.get(key)
    if hit is None:
        hit = compute()
        store.put(key, hit)
    return hit


def page(name: str, render: Callable, search: bool = False):
    """A rendered public page (or API body), kept per data version and exact URL (the large-type
    link points back to it) and the large-type cookie. Never for a request carrying flashed
    messages. `search`: the answer comes from the search index (kept SEARCH_TTL seconds)."""
    if not enabled() or session.get("_flashes"):
        return render()
    key = (name, request.full_path, request.cookies.get("large_text") == "1", version())
    store = _state().searches if search else _state().pages
    html = store.get(key)
    if html is None:
        html = render()
        store.put(key, html)
    return html


def keyed(key: tuple, compute: Callable):
    """compute() once per `key` and day, for values whose own key says when they change (a
    workshop's last public change), independent of the global version."""
    if not enabled():
        return compute()
    key = (key, today().isoformat())
    store = _state().pages
    hit = store.get(key)
    if hit is None:
        hit = compute()
        store.put(key, hit)
    return hit


# --- reference data shared by every card -----------------------------------------------------


def places() -> dict[int, cards.Place]:
    return cached("places", (), cards.read_places)


def categories() -> dict[int, cards.Category]:
    return cached("categories", (), cards.read_categories)


def load_cards(ids) -> list[cards.Card]:
    return cards.load(ids, places(), categories())
