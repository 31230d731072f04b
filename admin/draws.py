"""双随机: draw targets and inspectors, see the result, publish it."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from shifangbang import draws
from shifangbang.errors import DomainError
from shifangbang.extensions import db
from shifangbang.models import IN_SERVICE, Jurisdiction, ProductCategory, RandomDraw

from .auth import role_required
from .confirm import confirm_first
from .helpers import parse_int, scope

bp = Blueprint("admin_draws", __name__, url_prefix="/admin/draws")


def _jurisdictions():
    ids = scope()
    q = select(Jurisdiction).where(IN_SERVICE).order_by(Jurisdiction.code)
    if ids is not None:
        q = q.where(Jurisdiction.id.in_(ids))
    return list(db.session.scalars(q))


@bp.route("/", methods=["GET", "POST"])
@role_required()
def index():
    form, error = request.form, None
    if request.method == "POST":
        try:
            d = draws.draw(
                current_user,
                parse_int(form.get("jurisdiction_id"), "辖区", 1, 10**9),
                parse_int(form.get("n"), "抽取数量", 1, 1000),
                category_ids=[int(c) for c in form.getlist("category_ids") if c.isdigit()],
                tiers=form.getlist("tiers"),
                high_risk_only=form.get("high_risk_only") == "1",
                per_target=parse_int(form.get("per_target", "2"), "每家检查人员数", 2, 10),
                seed=form.get("seed", ""),
            )
        except DomainError as e:
            error = str(e)
        else:
            flash(f"已完成第 {d.id} 次抽取，核对后请公开。", "success")
            return redirect(url_for(".show", draw_id=d.id))
    return render_template(
        "admin/draws/index.html",
        form=form,
        error=error,
        draws=draws.recent(scope()),
        jurisdictions=_jurisdictions(),
        categories=list(db.session.scalars(select(ProductCategory).order_by(ProductCategory.code))),
    )


@bp.get("/<int:draw_id>")
@role_required()
def show(draw_id: int):
    d = db.session.get(RandomDraw, draw_id)
    ids = scope()
    if d is None or (ids is not None and d.jurisdiction_id not in ids):
        return render_template("public/error.html", status=404, message="找不到该次抽取。"), 404
    return render_template(
        "admin/draws/show.html", d=d, v=draws.public_view(d), matches=draws.replay_matches(d)
    )


@bp.post("/<int:draw_id>/publish")
@role_required("admin")
@confirm_first(
    lambda draw_id: ("公开", f"第 {draw_id} 次双随机抽取的结果将在公众页面公开，公开后不能撤回。")
)
def publish(draw_id: int):
    d = db.session.get(RandomDraw, draw_id)
    try:
        draws.publish(current_user, d)
    except draws.DrawError as e:
        flash(str(e), "error")
    else:
        flash("已公开，公众可在公示页面查看并复算。", "success")
    return redirect(url_for(".show", draw_id=draw_id))
