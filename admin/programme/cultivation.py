"""示范创建: the cultivation pool by grade and state, one entry's steps, and the targets."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from shifangbang import cultivation, labels
from shifangbang.errors import DomainError
from shifangbang.extensions import db
from shifangbang.models import Title
from shifangbang.programme_models import Cultivation

from ..auth import role_required
from ..helpers import InputError, get_visible, parse_date, require_workshop, scope

bp = Blueprint("admin_cultivation", __name__, url_prefix="/admin/programme/cultivation")


def _index(form=None, error=None):
    ids = scope()
    status = request.args.get("status") or ""
    page = render_template(
        "admin/programme/cultivation.html",
        rows=cultivation.listing(ids, status if status in labels.CULTIVATION_STATUS else None),
        progress=cultivation.progress(ids),
        titles=db.session.scalars(select(Title).order_by(Title.name)).all(),
        status=status,
        form=form or {},
        error=error,
    )
    return page, 422 if error else 200


@bp.get("/")
@role_required()
def index():
    return _index()


@bp.post("/")
@role_required("admin", "officer")
def enter():
    f = request.form
    try:
        w = require_workshop(f.get("workshop"))
        title = db.session.get(Title, f.get("title_id", type=int) or 0)
        if title is None:
            raise InputError("请选择称号。")
        c = cultivation.enter(
            current_user,
            w,
            title,
            f.get("grade", ""),
            parse_date(f.get("entered_on"), "入库日期"),
            f.get("note", ""),
        )
    except DomainError as e:
        return _index(f, str(e))
    flash(f"已将 {w.name} 纳入“{title.name}”培育库。", "success")
    return redirect(url_for(".show", cultivation_id=c.id))


@bp.get("/<int:cultivation_id>")
@role_required()
def show(cultivation_id: int):
    c = get_visible(Cultivation, cultivation_id)
    return render_template(
        "admin/programme/cultivation_show.html", c=c, standard=cultivation.standard()
    )


@bp.post("/<int:cultivation_id>/<step>")
@role_required("admin", "officer")
def act(cultivation_id: int, step: str):
    c = get_visible(Cultivation, cultivation_id)
    f = request.form
    try:
        if step == "apply":
            cultivation.apply(current_user, c, parse_date(f.get("applied_on"), "申报日期"))
            flash("已申报，等待验收。", "success")
        elif step == "accept":
            c = cultivation.accept(
                current_user,
                c,
                parse_date(f.get("checked_on"), "验收日期"),
                set(f.getlist("met")),
                f.get("note", ""),
            )
            flash("验收通过，可以授牌。" if c.status == "accepted" else "验收未通过。", "success")
        elif step == "award":
            cultivation.award(
                current_user,
                c,
                parse_date(f.get("granted_on"), "授牌日期"),
                f.get("certificate_no", ""),
            )
            flash(f"已授牌：{c.title.name}。", "success")
        elif step == "withdraw":
            cultivation.withdraw(current_user, c, f.get("note", ""))
            flash("已退出培育。", "success")
        else:
            abort(404)
    except DomainError as e:
        flash(str(e), "error")
    return redirect(url_for(".show", cultivation_id=cultivation_id))
