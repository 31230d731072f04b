"""The workshop's public page (the QR target), its QR images and the WeChat verification file.

Caching: every input that changes the page goes into the ETag — the workshop's last public
change, today's date (超期未检 and expiry flags depend on it), the poster being checked, the
large-type cookie, the exact URL (the large-type link points back to it), the templates and the
deployment file (tier names and colours).
Each worker keeps rendered pages keyed by that ETag and the head query's answer for a second, so
a QR-scan burst costs at most one small query per code per second per worker; a CDN or browser
gets `304` (Cache-Control: no-cache, set once for the whole public site in caching.py).
"""

import hashlib
import os
import time
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request

from shifangbang import codes, posters, public_cache, public_status, qr
from shifangbang.public_status import health_cert_state
from shifangbang.timeutil import CHINA, today

from .views import LARGE_TEXT_COOKIE

bp = Blueprint("workshop", __name__, template_folder="templates")

QR_MAX_AGE = 7 * 24 * 3600  # the URL in a QR never changes for a workshop's life
RENDER_CACHE_SIZE = 512
RENDER_CACHE_TTL = 60  # seconds; a safety net for changes that forgot changes.touch()
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _template_version() -> str:
    """Changes when the page's templates or styles change, so a deploy invalidates old ETags."""
    h = hashlib.sha256()
    for rel in (
        "public_site/templates/public/workshop.html",
        "public_site/templates/public/layout.html",
        "static/css/site.css",
        "static/css/workshop.css",
    ):
        try:
            with open(os.path.join(_ROOT, rel), "rb") as f:
                h.update(f.read())
        except OSError:
            pass
    return h.hexdigest()[:12]


_VERSION = _template_version()


# Rendered pages keyed by ETag, so an entry is never stale (public_cache's bounded LRU).
render_cache = public_cache.RenderCache(RENDER_CACHE_SIZE, RENDER_CACHE_TTL)

# Micro-cache of the head query (public_cache.head_ttl): during a QR-scan burst a worker answers
# from memory without touching the database.
_HEADS_MAX = 4096
_heads: dict[tuple[str, int | None], tuple[float, public_status.Head | None]] = {}


def _head(code: str, poster_issue_no: int | None) -> public_status.Head | None:
    ttl = public_cache.head_ttl()
    if ttl <= 0:
        return public_status.head(code, poster_issue_no)
    key, now = (code, poster_issue_no), time.monotonic()
    hit = _heads.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    h = public_status.head(code, poster_issue_no)
    if len(_heads) >= _HEADS_MAX:  # unknown codes and ?p= values cannot grow memory
        _heads.clear()
    _heads[key] = (now + ttl, h)
    return h


def _poster_param() -> int | None:
    return posters.issue_no_param(request.args.get("p"))


def _large_text() -> bool:
    return request.cookies.get(LARGE_TEXT_COOKIE) == "1"


def _last_modified(changed_at: datetime) -> datetime:
    """The later of the last public change and today's start (date-derived states change daily)."""
    midnight = datetime.combine(today(), datetime.min.time(), tzinfo=CHINA).astimezone(UTC)
    return max(changed_at.replace(tzinfo=UTC), midnight).replace(microsecond=0)


def _etag(h: public_status.Head, poster_issue_no: int | None) -> str:
    parts = [
        _VERSION,
        current_app.extensions["deployment"].fingerprint,
        str(h.workshop_id),
        h.public_changed_at.isoformat(),
        today().isoformat(),
        str(poster_issue_no),
        h.poster_issued_at.isoformat() if h.poster_issued_at else "-",
        "L" if _large_text() else "S",
        request.full_path,
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _not_modified(etag: str, last_modified: datetime) -> bool:
    if request.if_none_match:
        return request.if_none_match.contains_weak(etag)
    since = request.if_modified_since
    return since is not None and last_modified <= since


def _cache_headers(response: Response, etag: str, last_modified: datetime) -> Response:
    response.set_etag(etag)
    response.last_modified = last_modified
    # The large-type cookie changes the markup; shared caches must keep the variants apart.
    response.vary.add("Cookie")
    return response


def unknown_code(code: str):
    html = render_template("public/workshop_unknown.html", code=code)
    response = Response(html, status=404, mimetype="text/html")
    response.vary.add("Cookie")
    return response


@bp.get("/w/<code>")
def page(code: str):
    normal = codes.normalise(code)
    if normal != code and len(normal) <= codes.MAX_LENGTH:
        # Typed by hand from a poster: send the reader to the canonical address.
        return redirect(
            f"/w/{normal}" + (f"?p={_poster_param()}" if _poster_param() is not None else ""), 301
        )
    if len(code) > codes.MAX_LENGTH:
        return unknown_code(code[:20])
    poster_issue_no = _poster_param()
    h = _head(code, poster_issue_no)
    if h is None:
        return unknown_code(code)
    etag = _etag(h, poster_issue_no)
    last_modified = _last_modified(h.public_changed_at)
    if _not_modified(etag, last_modified):
        return _cache_headers(Response(status=304), etag, last_modified)
    html = render_cache.get(etag) if current_app.config.get("PUBLIC_PAGE_CACHE", True) else None
    if html is None:
        status = public_status.assemble(code, poster_issue_no)
        if status is None:  # deleted between the two queries
            return unknown_code(code)
        html = render_template(
            "public/workshop.html",
            s=status,
            w=status.workshop,
            health_cert_state=health_cert_state,
            complain_url=f"/complain?w={code}",
            canonical=qr.page_url(code),
        )
        render_cache.put(etag, html)
    return _cache_headers(Response(html, mimetype="text/html"), etag, last_modified)


def _qr_response(code: str, body: bytes | str, mimetype: str) -> Response:
    url = qr.page_url(code)
    etag = hashlib.sha256(f"{mimetype}|{url}|{qr.BORDER}".encode()).hexdigest()[:24]
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = Response(body() if callable(body) else body, mimetype=mimetype)
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={QR_MAX_AGE}"
    return response


def _known(code: str) -> None:
    if len(code) > codes.MAX_LENGTH or public_status.head(code) is None:
        abort(404)


@bp.get("/w/<code>/qr.svg")
def qr_svg(code: str):
    _known(code)
    return _qr_response(code, lambda: qr.svg(qr.page_url(code)), "image/svg+xml")


@bp.get("/w/<code>/qr.png")
def qr_png(code: str):
    _known(code)
    return _qr_response(code, lambda: qr.png(qr.page_url(code)), "image/png")


def wechat_verify():
    """WeChat's domain-verification file for the 'scan a link QR to open the mini-program' rule."""
    bureau = current_app.extensions["deployment"].bureau
    content = bureau.wechat_verify_content
    if not bureau.wechat_verify_file or not content:
        abort(404)
    response = Response(content, mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.record_once
def _register_wechat_file(state):
    """Serve /<configured name> only when one is configured: no catch-all route at the root."""
    name = (state.app.extensions["deployment"].bureau.wechat_verify_file).strip().lstrip("/")
    if name and "/" not in name:
        state.app.add_url_rule(f"/{name}", "wechat_verify", wechat_verify)


if os.environ.get("SHIFANGBANG_BENCH") == "1":
    # The benchmark's baseline: the same app, middleware and gunicorn, doing no work.
    @bp.get("/_bench/hello")
    def bench_hello():
        return Response("hello", mimetype="text/plain")

    @bp.after_app_request
    def bench_worker(response):
        # Which worker answered: the warm-up repeats a URL until every worker has served it.
        response.headers["X-Bench-Worker"] = str(os.getpid())
        return response
