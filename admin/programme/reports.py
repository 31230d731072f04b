"""The reporting calendar: each station's 三清单 and monthly 统计表, due on the 24th."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from shifangbang import reporting
from shifangbang.errors import DomainError
from shifangbang.extensions import db
from shifangbang.models import Jurisdiction

from ..auth import role_required
from ..helpers import parse_date, scope

bp = Blueprint("admin_reports", __name__, url_prefix="/admin/programme/reports")


@bp.get("/")
@role_required()
def index():
    current = reporting.current_period()
    periods = [reporting.previous_period(reporting.previous_period(current))]
    periods += [reporting.previous_period(current), current]
    return render_template(
        "admin/programme/reports.html",
        rows=reporting.calendar(scope(), periods[::-1]),
        state_labels=reporting.STATE_LABELS,
    )


@bp.post("/")
@role_required("admin", "officer")
def submit():
    f = request.form
    station = db.session.get(Jurisdiction, f.get("station_id", type=int) or 0)
    if station is None:
        abort(404)
    try:
        reporting.submit(
            current_user,
            station,
            f.get("kind", ""),
            f.get("period", ""),
            parse_date(f.get("submitted_on"), "报送日期"),
            f.get("note", ""),
        )
    except DomainError as e:
        flash(str(e), "error")
    else:
        flash(f"已登记 {station.name} {f.get('period')} 报表。", "success")
    return redirect(url_for(".index"))
