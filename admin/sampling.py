"""监督抽检: list, result entry, re-test request and decision."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shifangbang import sampling
from shifangbang.errors import DomainError
from shifangbang.extensions import db
from shifangbang.models import Sampling, TierDecision, Workshop
from shifangbang.timeutil import today

from .auth import role_required
from .helpers import get_visible, parse_date, scope, workshop_to_record

bp = Blueprint("admin_sampling", __name__, url_prefix="/admin/sampling")


@bp.get("/")
@role_required()
def index():
    ids = scope()
    only = request.args.get("only", "")
    q = (
        select(Sampling)
        .join(Workshop, Workshop.id == Sampling.workshop_id)
        .options(selectinload(Sampling.workshop))
        .order_by(Sampling.sampled_on.desc(), Sampling.id.desc())
        .limit(200)
    )
    if ids is not None:
        q = q.where(Workshop.station_id.in_(ids))
    if only == "fail":
        q = q.where(Sampling.result == "fail")
    elif only == "retest":
        q = q.where(Sampling.retest_status == "requested")
    rows = list(db.session.scalars(q))
    return render_template(
        "admin/sampling/index.html",
        rows=rows,
        only=only,
        today=today(),
        confirmed={s.id for s in rows if sampling.is_confirmed_failure(s)},
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required("officer", "admin")
def new():
    w, picker = workshop_to_record("sample")
    if w is None:
        return picker
    form, error = request.form, None
    if request.method == "POST":
        try:
            s = sampling.record(
                current_user,
                w,
                sampled_on=parse_date(form.get("sampled_on"), "抽样日期"),
                product=form.get("product", ""),
                batch=form.get("batch", ""),
                lab=form.get("lab", ""),
                result=form.get("result", ""),
                failed_item=form.get("failed_item"),
                measured_value=form.get("measured_value"),
                limit_value=form.get("limit_value"),
                notice_no=form.get("notice_no"),
                notice_on=parse_date(form.get("notice_on"), "通知书送达日期", required=False),
            )
        except DomainError as e:
            error = str(e)
        else:
            flash("抽检结果已记录。", "success")
            return redirect(url_for(".show", sampling_id=s.id))
    return render_template("admin/sampling/new.html", w=w, form=form, error=error, today=today())


@bp.get("/<int:sampling_id>")
@role_required()
def show(sampling_id: int):
    return _show_page(get_visible(Sampling, sampling_id))


def _show_page(s, kept=None, error=None):
    """The sampling record; a refused re-test entry is shown again with what was typed."""
    proposals = list(
        db.session.scalars(select(TierDecision).where(TierDecision.sampling_id == s.id))
    )
    return render_template(
        "admin/sampling/show.html",
        s=s,
        deadline=sampling.retest_deadline(s),
        confirmed=sampling.is_confirmed_failure(s),
        proposals=proposals,
        today=today(),
        kept=kept or {},
        error=error,
    )


@bp.post("/<int:sampling_id>/retest")
@role_required("officer", "admin")
def retest(sampling_id: int):
    s = get_visible(Sampling, sampling_id)
    try:
        if request.form.get("action") == "request":
            sampling.request_retest(
                current_user, s, parse_date(request.form.get("requested_on"), "复检申请日期")
            )
            flash("已登记复检申请，结果在复检结论前显示为“复检中”。", "success")
        else:
            sampling.decide_retest(
                current_user,
                s,
                request.form.get("upheld") == "1",
                parse_date(request.form.get("decided_on"), "复检结论日期"),
            )
            flash("已录入复检结论。", "success")
    except DomainError as e:
        db.session.rollback()
        return _show_page(s, request.form, str(e)), 422
    return redirect(url_for(".show", sampling_id=s.id))
