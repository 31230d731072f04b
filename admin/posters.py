"""公示牌: issue numbered QR posters for a workshop or a whole station, and print them (A4/A5)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from shifangbang import access, posters, qr
from shifangbang.extensions import db
from shifangbang.models import IN_SERVICE, Jurisdiction, Workshop

from .auth import role_required
from .confirm import confirm_first

bp = Blueprint("posters", __name__, url_prefix="/admin/posters", template_folder="templates")

SEARCH_LIMIT = 50
PRINT_LIMIT = 1000  # posters per print job (a station rarely has more than a few hundred)


def _stations():
    scope = access.visible_jurisdiction_ids(current_user)
    q = (
        select(Jurisdiction)
        .where(Jurisdiction.level == "station", IN_SERVICE)
        .order_by(Jurisdiction.code)
    )
    if scope is not None:
        q = q.where(Jurisdiction.id.in_(scope))
    return list(db.session.scalars(q))


@bp.get("")
@role_required("admin", "officer")
def index():
    q = request.args.get("q", "").strip()[:60]
    found = []
    if q:
        like = f"%{q}%"
        query = (
            select(Workshop)
            .where(
                or_(
                    Workshop.name.like(like),
                    Workshop.public_code == q.upper(),
                    Workshop.cert_no.like(like),
                )
            )
            .order_by(Workshop.name)
            .limit(SEARCH_LIMIT)
        )
        scope = access.visible_jurisdiction_ids(current_user)
        if scope is not None:
            query = query.where(Workshop.station_id.in_(scope))
        found = list(db.session.scalars(query))
    return render_template(
        "admin/posters.html",
        q=q,
        found=found,
        stations=_stations(),
        recent=posters.recent(current_user),
        sizes=posters.SIZES,
    )


def _ask_issue():
    if request.form.get("station_id"):
        station = db.session.get(Jurisdiction, request.form.get("station_id", type=int) or 0)
        if station is None:
            return None
        n = db.session.scalar(
            select(func.count(Workshop.id)).where(
                Workshop.station_id == station.id, Workshop.status == "open"
            )
        )
        return (
            "发放并打印",
            f"将为{station.name}的 {n} 家在营作坊各登记发放一张新公示牌，并打开打印页。",
        )
    shop = db.session.get(Workshop, request.form.get("workshop_id", type=int) or 0)
    if shop is None:
        return None
    return "发放并打印", f"将为“{shop.name}”登记发放一张新公示牌，并打开打印页。"


@bp.post("/issue")
@role_required("admin", "officer")
@confirm_first(_ask_issue)
def issue():
    size = request.form.get("size", "A4")
    try:
        if request.form.get("station_id"):
            station = db.session.get(Jurisdiction, request.form.get("station_id", type=int) or 0)
            if station is None or station.level != "station":
                abort(404)
            issued = posters.issue_for_station(current_user, station, size)
        else:
            shop = db.session.get(Workshop, request.form.get("workshop_id", type=int) or 0)
            if shop is None:
                abort(404)
            issued = [posters.issue(current_user, shop, size)]
    except posters.PosterError as e:
        flash(str(e), "error")
        return redirect(url_for("posters.index", q=request.form.get("q", "")))
    return redirect(url_for("posters.print_view", ids=",".join(str(p.id) for p in issued)))


@bp.get("/print")
@role_required("admin", "officer")
def print_view():
    raw = request.args.get("ids", "")
    ids = [int(x) for x in raw.split(",") if x.isdigit()][:PRINT_LIMIT]
    sheets = posters.for_printing(current_user, ids)
    if not sheets:
        abort(404)
    size = sheets[0][0].size
    rendered = [
        (p, w, titles, qr.svg(qr.page_url(w.public_code, p.issue_no))) for p, w, titles in sheets
    ]
    return render_template("admin/poster_print.html", sheets=rendered, size=size)
