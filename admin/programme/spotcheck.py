"""Registration spot checks: 5 % of a county's newly registered workshops, a replayable draw."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from shifangbang import current_deployment, spotcheck
from shifangbang.errors import DomainError
from shifangbang.extensions import db
from shifangbang.models import Jurisdiction

from ..auth import role_required
from ..helpers import parse_date, parse_int, scope

bp = Blueprint("admin_spotcheck", __name__, url_prefix="/admin/programme/spotcheck")


@bp.route("/", methods=["GET", "POST"])
@role_required()
def index():
    ids = scope()
    form, error = request.form, None
    if request.method == "POST":
        try:
            d = spotcheck.draw(
                current_user,
                parse_int(form.get("county_id"), "区县", 1, 10**9),
                parse_date(form.get("start"), "登记期间开始日期"),
                parse_date(form.get("end"), "登记期间结束日期"),
                form.get("seed", ""),
            )
        except DomainError as e:
            error = str(e)
        else:
            flash(f"已抽取 {len(d.result)} 家新登记作坊进行核查。", "success")
            return redirect(url_for("admin_draws.show", draw_id=d.id))
    q = select(Jurisdiction).where(Jurisdiction.level == "county").order_by(Jurisdiction.code)
    if ids is not None:
        q = q.where(Jurisdiction.id.in_(ids))
    page = render_template(
        "admin/programme/spotcheck.html",
        counties=list(db.session.scalars(q)),
        checks=spotcheck.recent(ids),
        share=current_deployment().programme.registration_check_share,
        form=form,
        error=error,
    )
    return page, 422 if error else 200
