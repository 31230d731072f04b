"""监督检查: list, entry against the configured checklist, detail, rectification completion."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shifangbang import current_deployment, inspections, labels
from shifangbang.errors import DomainError
from shifangbang.extensions import db
from shifangbang.inspections import ItemResult
from shifangbang.models import Inspection, TierDecision, Workshop
from shifangbang.timeutil import today

from .auth import role_required
from .helpers import get_visible, parse_date, scope, workshop_to_record

bp = Blueprint("admin_inspections", __name__, url_prefix="/admin/inspections")


@bp.get("/")
@role_required()
def index():
    ids = scope()
    result = request.args.get("result") or ""
    q = (
        select(Inspection)
        .join(Workshop, Workshop.id == Inspection.workshop_id)
        .options(selectinload(Inspection.workshop), selectinload(Inspection.inspectors))
        .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())
        .limit(100)
    )
    if ids is not None:
        q = q.where(Workshop.station_id.in_(ids))
    if result in labels.INSPECTION_RESULT:
        q = q.where(Inspection.result == result)
    return render_template(
        "admin/inspections/index.html",
        rows=list(db.session.scalars(q)),
        result=result,
        overdue=inspections.overdue_rectifications(ids),
        today=today(),
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required("officer", "admin")
def new():
    workshop, picker = workshop_to_record("inspect")
    if workshop is None:
        return picker
    form = request.form
    error = None
    if request.method == "POST":
        try:
            items = [
                ItemResult(
                    c["code"],
                    form.get(f"outcome_{c['code']}", ""),
                    form.get(f"note_{c['code']}", ""),
                )
                for c in current_deployment().checklist_items()
                if form.get(f"outcome_{c['code']}")
            ]
            inspection = inspections.record(
                current_user,
                workshop,
                inspected_on=parse_date(form.get("inspected_on"), "检查日期"),
                kind=form.get("kind", ""),
                inspector_ids=[int(x) for x in form.getlist("inspectors") if x.isdigit()],
                items=items,
                summary=form.get("summary", ""),
                rectification_due=parse_date(
                    form.get("rectification_due"), "整改期限", required=False
                ),
            )
        except DomainError as e:
            error = str(e)
        else:
            msg = f"检查已记录，结果：{labels.INSPECTION_RESULT[inspection.result]}。"
            if inspection.proposal is not None:
                msg += f"系统已生成{labels.TIER_DIRECTION[inspection.proposal.direction]}建议，待县局决定。"
            flash(msg, "success")
            return redirect(url_for(".show", inspection_id=inspection.id))
    return render_template(
        "admin/inspections/new.html",
        w=workshop,
        form=form,
        error=error,
        inspectors=inspections.eligible_inspectors(workshop),
        checklist=current_deployment().checklist,
        today=today(),
    )


@bp.get("/<int:inspection_id>")
@role_required()
def show(inspection_id: int):
    return _show_page(get_visible(Inspection, inspection_id))


def _show_page(i, kept=None, error=None):
    """The inspection; a refused completion is shown again with what was typed."""
    proposals = list(
        db.session.scalars(select(TierDecision).where(TierDecision.inspection_id == i.id))
    )
    return render_template(
        "admin/inspections/show.html",
        i=i,
        proposals=proposals,
        today=today(),
        kept=kept or {},
        error=error,
    )


@bp.post("/<int:inspection_id>/complete")
@role_required("officer", "admin")
def complete(inspection_id: int):
    i = get_visible(Inspection, inspection_id)
    try:
        inspections.complete_rectification(
            current_user,
            i,
            parse_date(request.form.get("done_on"), "整改完成日期"),
            request.form.get("note", ""),
        )
    except DomainError as e:
        db.session.rollback()
        return _show_page(i, request.form, str(e)), 422
    flash("已确认整改完成，相关整改问题已销号。", "success")
    return redirect(url_for(".show", inspection_id=i.id))
