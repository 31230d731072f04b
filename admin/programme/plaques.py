"""摘牌: revoked titles and the recovery of their plaques (date, by whom, overdue)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from shifangbang import plaques
from shifangbang.errors import DomainError
from shifangbang.models import TitleGrant

from ..auth import role_required
from ..helpers import get_visible, parse_date, scope

bp = Blueprint("admin_plaques", __name__, url_prefix="/admin/programme/plaques")


@bp.get("/")
@role_required()
def index():
    return render_template("admin/programme/plaques.html", states=plaques.states(scope()))


@bp.post("/<int:grant_id>")
@role_required("admin", "officer")
def recover(grant_id: int):
    g = get_visible(TitleGrant, grant_id)
    try:
        plaques.record_recovery(
            current_user,
            g,
            parse_date(request.form.get("recovered_on"), "收回日期"),
            request.form.get("note", ""),
        )
    except DomainError as e:
        flash(str(e), "error")
    else:
        flash(f"已登记收回 {g.workshop.name} 的“{g.title.name}”牌匾。", "success")
    return redirect(url_for(".index"))
