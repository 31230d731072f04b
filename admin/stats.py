"""统计: figures for the user's jurisdiction (admins pick any), CSS bar charts, the xlsx sheet."""

from datetime import date
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request
from flask_login import current_user
from sqlalchemy import select

from shifangbang import access, current_deployment, labels, stats
from shifangbang.extensions import db
from shifangbang.models import Jurisdiction
from shifangbang.timeutil import today

from .auth import role_required
from .programme.overview import programme_figures

bp = Blueprint("admin_stats", __name__, url_prefix="/admin/stats")


def _params():
    """(jurisdiction ids or None, scope name, chosen jurisdiction id, year, month or None)."""
    t = today()
    try:
        year = int(request.args.get("year") or t.year)
        month = int(request.args["month"]) if request.args.get("month") else None
        if not (2000 <= year <= 2100) or (month is not None and not 1 <= month <= 12):
            raise ValueError
    except ValueError:
        year, month = t.year, None
    chosen = request.args.get("jurisdiction", type=int)
    if chosen:
        access.require(current_user, "view", chosen)
        j = db.session.get(Jurisdiction, chosen)
        ids, name = (access.subtree_ids(chosen), j.name) if j else (set(), "")
    elif current_user.role == "admin":
        ids, name = None, "全部辖区"
    else:
        ids = access.visible_jurisdiction_ids(current_user)
        name = current_user.jurisdiction.name if current_user.jurisdiction else ""
    return ids, name, chosen, year, month


def _period(year, month):
    return stats.month_bounds(year, month) if month else (date(year, 1, 1), date(year + 1, 1, 1))


@bp.get("/")
@role_required()
def index():
    ids, name, chosen, year, month = _params()
    figures = stats.compute(ids, *_period(year, month))
    options = select(Jurisdiction).order_by(Jurisdiction.code)
    visible = access.visible_jurisdiction_ids(current_user)
    if visible is not None:
        options = options.where(Jurisdiction.id.in_(visible))
    dep = current_deployment()
    colours = {t.name: t.colour for t in (*dep.tiers, dep.unrated)}
    charts = {
        "tiers": stats.bar_rows(
            [(n, c) for _, n, _, c in figures["workshops"]["by_tier"]], colours
        ),
        "categories": stats.bar_rows(figures["workshops"]["by_category"]),
        "status": stats.bar_rows(
            [
                (labels.WORKSHOP_STATUS.get(k, k), v)
                for k, v in figures["workshops"]["by_status"].items()
            ]
        ),
        "inspections": stats.bar_rows(
            [
                (labels.INSPECTION_RESULT[k], figures["inspections"]["by_result"].get(k, 0))
                for k in labels.INSPECTION_RESULT
            ]
        ),
        "complaints": stats.bar_rows(
            [(labels.COMPLAINT_STATUS[k], v) for k, v in figures["complaints"]["by_status"].items()]
        ),
        "months": stats.bar_rows(
            [
                (
                    m,
                    c.get("upgrade", 0)
                    + c.get("downgrade", 0)
                    + c.get("initial", 0)
                    + c.get("reconfirm", 0),
                )
                for m, c in figures["tier_changes"].items()
            ]
        ),
    }
    return render_template(
        "admin/stats/index.html",
        f=figures,
        charts=charts,
        name=name,
        chosen=chosen,
        year=year,
        month=month,
        jurisdictions=list(db.session.scalars(options)),
        target_state=stats.TARGET_STATE,
        programme=programme_figures(ids),
    )


@bp.get("/sheet.xlsx")
@role_required()
def sheet():
    ids, name, chosen, year, month = _params()
    access.require(current_user, "export", chosen)
    # The sheet covers what the page shows: the chosen month, or the whole year (全年).
    figures = stats.compute(ids, *_period(year, month))
    data = stats.xlsx(figures, name)
    part = f"{year}-{month:02d}" if month else f"{year}"
    filename = f"统计表-{name}-{part}{'' if month else '全年'}.xlsx"
    return Response(
        data,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="sheet-{part}.xlsx"; '
            f"filename*=UTF-8''{quote(filename)}"
        },
    )
