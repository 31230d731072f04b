"""Growth registers: the 小升规 培育台账 with stages and the 成长型名录."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from shifangbang import growth
from shifangbang.errors import DomainError
from shifangbang.programme_models import GrowthEntry

from ..auth import role_required
from ..helpers import get_visible, parse_date, require_workshop, scope

bp = Blueprint("admin_growth", __name__, url_prefix="/admin/programme/growth")


def _page(form=None, error=None):
    ids = scope()
    page = render_template(
        "admin/programme/growth.html",
        ledger=growth.listing(ids, "upgrade"),
        listed=growth.listing(ids, "growth"),
        counts=growth.counts(ids),
        stages=growth.stages(),
        form=form or {},
        error=error,
    )
    return page, 422 if error else 200


@bp.get("/")
@role_required()
def index():
    return _page()


@bp.post("/")
@role_required("admin", "officer")
def add():
    f = request.form
    try:
        w = require_workshop(f.get("workshop"))
        growth.add(
            current_user,
            w,
            f.get("register", ""),
            parse_date(f.get("entered_on"), "登记日期"),
            f.get("note", ""),
        )
    except DomainError as e:
        return _page(f, str(e))
    flash(f"已登记 {w.name}。", "success")
    return redirect(url_for(".index"))


@bp.post("/<int:entry_id>/advance")
@role_required("admin", "officer")
def advance(entry_id: int):
    e = get_visible(GrowthEntry, entry_id)
    try:
        growth.advance(
            current_user,
            e,
            parse_date(request.form.get("on"), "阶段日期"),
            request.form.get("note", ""),
        )
    except DomainError as err:
        flash(str(err), "error")
    else:
        flash(f"{e.workshop.name} 已进入“{e.stage}”阶段。", "success")
    return redirect(url_for(".index"))
