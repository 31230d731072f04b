"""色标化: progress per station, workshops by status, and the officer's status entry."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from shifangbang import colourcode, labels
from shifangbang.errors import DomainError
from shifangbang.extensions import db
from shifangbang.models import Workshop
from shifangbang.programme_models import ColourCodeAdoption

from ..auth import role_required
from ..helpers import get_visible, parse_date, scope

bp = Blueprint("admin_colour", __name__, url_prefix="/admin/programme/colour")


@bp.get("/")
@role_required()
def index():
    ids = scope()
    status = request.args.get("status", "not_started")
    if status not in labels.COLOUR_STATUS:
        status = "not_started"
    current = func.coalesce(ColourCodeAdoption.status, "not_started")
    q = (
        select(Workshop, ColourCodeAdoption)
        .outerjoin(ColourCodeAdoption, ColourCodeAdoption.workshop_id == Workshop.id)
        .where(Workshop.status == "open", current == status)
        .order_by(Workshop.station_id, Workshop.name)
        .limit(200)
    )
    if ids is not None:
        q = q.where(Workshop.station_id.in_(ids))
    return render_template(
        "admin/programme/colour.html",
        stations=colourcode.per_station(ids),
        rows=db.session.execute(q).all(),
        status=status,
    )


@bp.post("/<int:workshop_id>")
@role_required("admin", "officer")
def update(workshop_id: int):
    w = get_visible(Workshop, workshop_id, workshop_of=lambda o: o)
    f = request.form
    try:
        colourcode.set_status(
            current_user,
            w,
            f.get("status", ""),
            parse_date(f.get("checked_on"), "核查日期"),
            parse_date(f.get("completed_on"), "完成日期", required=False),
        )
    except DomainError as e:
        flash(str(e), "error")
    else:
        flash(f"已更新 {w.name} 的色标化进度。", "success")
    return redirect(request.form.get("back") or url_for(".index"))
