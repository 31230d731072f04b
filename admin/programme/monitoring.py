"""风险监测: results apart from 监督抽检, and the 跟踪抽检 tasks a problem opens."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from shifangbang import monitoring
from shifangbang.errors import DomainError

from ..auth import role_required
from ..helpers import parse_date, scope, workshop_to_record

bp = Blueprint("admin_monitoring", __name__, url_prefix="/admin/programme/monitoring")


@bp.get("/")
@role_required()
def index():
    ids = scope()
    result = request.args.get("result") or ""
    return render_template(
        "admin/programme/monitoring.html",
        rows=monitoring.listing(ids, result),
        follow_ups=monitoring.open_follow_ups(ids),
        result=result,
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required("admin", "officer")
def new():
    workshop, picker = workshop_to_record("sample")
    if picker is not None:
        return picker
    error = None
    f = request.form
    if request.method == "POST":
        try:
            monitoring.record(
                current_user,
                workshop,
                sampled_on=parse_date(f.get("sampled_on"), "监测日期"),
                product=f.get("product", ""),
                hazard=f.get("hazard", ""),
                lab=f.get("lab", ""),
                result=f.get("result", ""),
                measured_value=f.get("measured_value", ""),
                note=f.get("note", ""),
            )
        except DomainError as e:
            error = str(e)
        else:
            flash(f"已登记 {workshop.name} 的风险监测结果。", "success")
            return redirect(url_for(".index"))
    page = render_template(
        "admin/programme/monitoring_new.html",
        w=workshop,
        form=f,
        error=error,
        hazards=monitoring.COMMON_HAZARDS,
    )
    return page, 422 if error else 200
