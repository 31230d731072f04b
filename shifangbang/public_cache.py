"""Public aggregates and lists (tier counts, 榜单, filter lists, rendered list pages) kept per worker
and keyed by the data's change version, so no request recomputes them over the whole registry.

The version is the newest change-log id (shifangbang/changes.py: every public change writes one in
its own transaction) together with today's date (date-derived states change daily). Reading it is
one index lookup, itself kept for a second per worker (as the workshop page's head query) so a
burst costs no query at all. Entries also expire after CACHE_TTL seconds: a safety net for a change
that bypassed the log (a renamed station) or two commits that overtook each other. Each worker
takes its own share of CACHE_TTL (TTL_SPREAD) for the aggregates, so workers started together do
not all recompute them at the same moment.

Aggregates and lists (cached()) are recomputed ahead, never in a request that finds them old: an
entry of an older version (or past CACHE_TTL) is still served while one background thread per
worker computes the new value, so a change shows within the version check's second plus the
time of that one computation (a fraction of a second at 200,000 workshops). Only a worker's first
request for a value computes it in the request (warm_up computes the headline counts as the worker
starts), and so does one whose refresh has waited longer than REFRESH_LIMIT (a refresh thread
behind or failing: never serve old data for long). A page rendered from an old value is served
but not kept, so it is rendered again once the value is new.

Everything here is bounded: a fixed number of entries per cache, each a page's worth of data.
Tests (app.testing) run without these caches unless PUBLIC_CACHE is set: their rolled-back
transactions reuse change-log ids.
"""

import logging
import os
import queue
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import current_app, g, request, session
from sqlalchemy import func, select

from . import cards
from .extensions import db
from .models import ChangeLog
from .timeutil import today

log = logging.getLogger(__name__)

CACHE_TTL = 60  # seconds, see above
# A worker's aggregates expire after CACHE_TTL × (1 − up to this), drawn per worker.
TTL_SPREAD = 0.25
# Seconds a refresh may wait before a request stops serving the old value and computes it itself.
REFRESH_LIMIT = 10
DATA_ENTRIES = 256  # aggregates and lists: a few KB each
PAGE_ENTRIES = 256  # rendered pages and API bodies: tens of KB each
# Search answers come from this server's index, which follows the change log a moment after the
# database (search_index sync): kept only a few seconds, so a change shows within seconds even
# when a search ran between the commit and the index catching up.
SEARCH_TTL = 5
HEAD_TTL_DEFAULT = 1.0  # seconds; README: SHIFANGBANG_PAGE_MICROCACHE


class RenderCache:
    """A small LRU whose entries expire after `ttl` seconds. Keys carry everything the value
    depends on, so an entry is never wrong, only possibly old by at most `ttl`. Thread-safe: the
    refresh thread writes while requests read."""

    def __init__(self, size: int, ttl: float):
        self.size, self.ttl = size, ttl
        self._items: OrderedDict[object, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key) -> tuple[float, object] | None:
        """(seconds since stored, value), however old."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
        return time.monotonic() - item[0], item[1]

    def get(self, key):
        item = self.peek(key)
        return None if item is None or item[0] > self.ttl else item[1]

    def put(self, key, value) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class Refresher:
    """Recomputes old entries on one daemon thread per worker process, started on first use
    (after gunicorn's fork), each key queued at most once."""

    def __init__(self, app):
        self.app = app
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._queued: dict[object, float] = {}  # key: when queued
        self._pid: int | None = None

    def submit(self, key, job: Callable[[], None]) -> bool:
        """Queue job() for key (once). False when key's job has waited longer than REFRESH_LIMIT:
        the caller should not serve the old value any longer."""
        now = time.monotonic()
        with self._lock:
            if self._pid != os.getpid():  # first use in this process: no thread yet
                self._pid, self._queued, self._jobs = os.getpid(), {}, queue.SimpleQueue()
                threading.Thread(target=self._run, name="public-cache", daemon=True).start()
            queued = self._queued.get(key)
            if queued is not None:
                return now - queued <= REFRESH_LIMIT
            self._queued[key] = now
        self._jobs.put((key, job))
        return True

    def _run(self) -> None:
        jobs = self._jobs
        while True:
            key, job = jobs.get()
            try:
                with self.app.app_context():
                    job()
            except Exception:  # keep the thread; the next request queues the key again
                log.exception("public cache refresh failed: %s", key[0])
            finally:
                with self._lock:
                    self._queued.pop(key, None)


class InlineRefresher:
    """Under app.testing: a test's rolled-back transaction lives on one connection that another
    thread must not use, so the request that finds an old entry recomputes it itself."""

    def submit(self, key, job: Callable[[], None]) -> bool:
        job()
        return True


class _State:
    def __init__(self, app):
        # gunicorn imports the app after the fork, so each worker draws its own share. Only the
        # aggregates, which every worker recomputes ahead on its refresh thread, need it.
        self.ttl_share = 1 - random.random() * TTL_SPREAD
        self.data = RenderCache(DATA_ENTRIES, CACHE_TTL * self.ttl_share)
        self.pages = RenderCache(PAGE_ENTRIES, CACHE_TTL)
        self.searches = RenderCache(PAGE_ENTRIES, SEARCH_TTL)
        self.places = RenderCache(PAGE_ENTRIES, CACHE_TTL)
        self.version: tuple[float, int] | None = None  # (valid until, change-log id)
        self.refresher = InlineRefresher() if app.testing else Refresher(app)


def _state() -> _State:
    state = current_app.extensions.get("public_cache")
    if state is None:
        app = current_app._get_current_object()
        state = current_app.extensions["public_cache"] = _State(app)
    return state


def warm_up(app, compute: Callable[[], None]) -> None:
    """compute() on the refresh thread at a worker's start, so the headline counts are there
    before the first visitor asks for them (the one case that would compute in a request)."""
    with app.app_context():
        if enabled():
            _state().refresher.submit(("warm-up",), compute)


def enabled() -> bool:
    configured = current_app.config.get("PUBLIC_CACHE")
    return not current_app.testing if configured is None else bool(configured)


def clear() -> None:
    """Forget everything (tests; a deployment never needs it)."""
    current_app.extensions["public_cache"] = _State(current_app._get_current_object())


def head_ttl() -> float:
    """Seconds a worker trusts its last freshness check: the data version here and the workshop
    page's head query. During a QR-scan burst a worker answers from memory; a second of extra
    staleness keeps a change visible within the seconds we promise. Off in tests unless set."""
    configured = current_app.config.get("PUBLIC_HEAD_TTL")
    if configured is None:
        return 0.0 if current_app.testing else HEAD_TTL_DEFAULT
    return float(configured)


def change_id() -> int:
    """The newest change-log id: one backward step on the primary key."""
    state = _state()
    ttl = head_ttl()
    now = time.monotonic()
    if ttl > 0 and state.version is not None and state.version[0] > now:
        return state.version[1]
    value = db.session.scalar(select(func.max(ChangeLog.id))) or 0
    state.version = (now + ttl, value)
    return value


def version() -> tuple[int, str]:
    return change_id(), today().isoformat()


def cached(name: str, args: tuple, compute: Callable):
    """compute() once per data version for (name, args), recomputed ahead (see above); the value
    must not hold ORM objects, and compute() must need no request (it may run on the refresh
    thread)."""
    if not enabled():
        return compute()
    state, key, current = _state(), (name, args), version()
    hit = state.data.peek(key)
    if hit is not None:
        age, (made_for, value) = hit
        ttl = CACHE_TTL * state.ttl_share
        if made_for == current and age <= ttl:
            return value
        if not g.get("public_cache_refreshing"):
            store = state.data

            def refresh():
                outer, g.public_cache_refreshing = g.get("public_cache_refreshing"), True
                try:  # values it reads are computed here too, not queued behind it
                    store.put(key, _computed(compute, current))
                finally:
                    g.public_cache_refreshing = outer

            if state.refresher.submit(key, refresh):
                age, (made_for, value) = state.data.peek(key) or hit  # an inline refresh is done
                if made_for != current or age > ttl:
                    g.public_cache_stale = True  # see _computed()
                return value
    made_for, value = _computed(compute, current)
    state.data.put(key, (made_for, value))
    return value


def _computed(compute: Callable, current) -> tuple:
    """(current, compute()), or (None, compute()) when compute() read a value that was being
    recomputed: the result is then served but counts as old, so it is made again (and a page
    built from it is not kept)."""
    outer, g.public_cache_stale = g.get("public_cache_stale", False), False
    try:
        value = compute()
        return (None if g.public_cache_stale else current), value
    finally:
        g.public_cache_stale = outer or g.public_cache_stale


def _kept(store: RenderCache, key, render: Callable):
    """store[key], else render() and keep it unless it was made from an old value."""
    hit = store.get(key)
    if hit is None:
        made_for, hit = _computed(render, True)
        if made_for:
            store.put(key, hit)
    return hit


def page(name: str, render: Callable, search: bool = False, place: bool = False):
    """A rendered public page (or API body), kept per data version and exact URL (the large-type
    link points back to it) and the large-type cookie. Never for a request carrying flashed
    messages. `search`: the answer comes from the search index (kept SEARCH_TTL seconds).
    `place`: an answer for one point on the map (nearby), kept apart so that phones' ever new
    positions push out only each other, not the pages."""
    if not enabled() or session.get("_flashes"):
        return render()
    key = (name, request.full_path, request.cookies.get("large_text") == "1", version())
    state = _state()
    return _kept(state.searches if search else state.places if place else state.pages, key, render)


def keyed(key: tuple, compute: Callable):
    """compute() once per `key` and day, for values whose own key says when they change (a
    workshop's last public change), independent of the global version."""
    if not enabled():
        return compute()
    return _kept(_state().pages, (key, today().isoformat()), compute)


# --- reference data shared by every card -----------------------------------------------------


def places() -> dict[int, cards.Place]:
    return cached("places", (), cards.read_places)


def current_place(code: str) -> cards.Place | None:
    """The jurisdiction with this code, or the station that took it over if it was merged."""
    found = next((p for p in places().values() if p.code == code), None)
    return found.successor if found is not None else None


def categories() -> dict[int, cards.Category]:
    return cached("categories", (), cards.read_categories)


def load_cards(ids) -> list[cards.Card]:
    return cards.load(ids, places(), categories())
