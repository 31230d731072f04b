"""Public pages that are not owned by a feature module: home, health check, display preferences."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import text

from shifangbang import public_cache, rankings
from shifangbang.extensions import db

bp = Blueprint("public", __name__, template_folder="templates")

LARGE_TEXT_COOKIE = "large_text"


@bp.app_context_processor
def display_prefs():
    return {"large_text": request.cookies.get(LARGE_TEXT_COOKIE) == "1"}


@bp.get("/")
def home():
    def render():
        counts = rankings.tier_counts()
        return render_template(
            "public/home.html",
            counts=counts,
            featured=rankings.featured(limit=24),
            total=sum(counts.values()),
        )

    return public_cache.page("home", render)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a consumer to another host."""
    if not target:
        return url_for("public.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("public.home")
    return target


@bp.get("/prefs/large-text")
def toggle_large_text():
    """适老化: a link (no JavaScript) that switches large type on or off and remembers it."""
    on = request.args.get("on") == "1"
    response = make_response(redirect(_safe_next(request.args.get("next"))))
    response.set_cookie(
        LARGE_TEXT_COOKIE,
        "1" if on else "0",
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


@bp.get("/healthz")
def healthz():
    import search_index

    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as e:  # the point of a health check is to report, not to raise
        db.session.rollback()
        checks["database"] = {"ok": False, "detail": type(e).__name__}
    checks["search_index"] = search_index.health()
    ok = all(c["ok"] for c in checks.values())
    return jsonify(status="ok" if ok else "degraded", checks=checks), 200 if checks["database"][
        "ok"
    ] else 503
