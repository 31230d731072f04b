"""立案 and 行政处罚: case list, the 取缔 register, opening from a report or an inspection, decisions."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from shifangbang import access, cases, labels
from shifangbang.errors import DomainError
from shifangbang.extensions import db
from shifangbang.models import Complaint, Inspection
from shifangbang.programme_models import EnforcementCase

from ..auth import role_required
from ..helpers import InputError, get_visible, parse_date, scope

bp = Blueprint("admin_cases", __name__, url_prefix="/admin/programme/cases")


def _visible_case(case_id: int) -> EnforcementCase:
    case = db.session.get(EnforcementCase, case_id)
    if case is None:
        abort(404)
    access.require(current_user, "view", case.station_id)
    return case


@bp.get("/")
@role_required()
def index():
    ids = scope()
    status = request.args.get("status") or None
    register = request.args.get("register") == "closed"
    return render_template(
        "admin/programme/cases.html",
        rows=cases.listing(ids, status if status in labels.CASE_STATUS else None, register),
        reports=cases.open_reports(ids),
        status=status,
        register=register,
        is_overdue=cases.is_overdue,
    )


def _source():
    """The report or inspection the case is opened from (?report= or ?inspection=)."""
    report_id = request.values.get("report", type=int)
    if report_id:
        c = db.session.get(Complaint, report_id)
        if c is None:
            abort(404)
        access.require(current_user, "handle_complaint", c.jurisdiction_id)
        return "report", c
    inspection_id = request.values.get("inspection", type=int)
    if inspection_id:
        return "inspection", get_visible(Inspection, inspection_id)
    abort(404)


@bp.route("/new", methods=["GET", "POST"])
@role_required("admin", "officer")
def new():
    kind, source = _source()
    existing = db.session.scalar(
        select(EnforcementCase.id).where(
            (EnforcementCase.complaint_id if kind == "report" else EnforcementCase.inspection_id)
            == source.id
        )
    )
    if existing and request.method == "GET":
        return redirect(url_for(".show", case_id=existing))
    error = None
    if request.method == "POST":
        try:
            opened_on = parse_date(request.form.get("opened_on"), "立案日期")
            summary = request.form.get("summary", "")
            if kind == "report":
                case = cases.open_from_report(current_user, source, opened_on, summary)
            else:
                case = cases.open_from_inspection(current_user, source, opened_on, summary)
        except DomainError as e:
            error = str(e)
        else:
            flash(f"已立案，案件编号 {case.case_no}。", "success")
            return redirect(url_for(".show", case_id=case.id))
    return (
        render_template(
            "admin/programme/case_new.html",
            kind=kind,
            source=source,
            form=request.form,
            error=error,
        ),
        422 if error else 200,
    )


@bp.get("/<int:case_id>")
@role_required()
def show(case_id: int):
    case = _visible_case(case_id)
    return render_template(
        "admin/programme/case.html", case=case, overdue=cases.is_overdue(case), form={}
    )


def _fine(value: str | None) -> float | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise InputError("罚款金额须为数字（元）。") from None


@bp.post("/<int:case_id>/decide")
@role_required("admin")
def decide(case_id: int):
    case = _visible_case(case_id)
    f = request.form
    try:
        cases.decide(
            current_user,
            case,
            decision_no=f.get("decision_no", ""),
            decided_on=parse_date(f.get("decided_on"), "决定日期"),
            violation=f.get("violation", ""),
            penalty=f.get("penalty", ""),
            fine_yuan=_fine(f.get("fine_yuan")),
        )
    except DomainError as e:
        case = _visible_case(case_id)  # reloaded after the rollback
        page = render_template(
            "admin/programme/case.html",
            case=case,
            overdue=cases.is_overdue(case),
            form=f,
            error=str(e),
        )
        return page, 422
    flash(
        f"已作出处罚决定 {case.decision_no}，公示至 {case.publish_until.isoformat()}。", "success"
    )
    return redirect(url_for(".show", case_id=case.id))


@bp.post("/<int:case_id>/drop")
@role_required("admin")
def drop(case_id: int):
    case = _visible_case(case_id)
    try:
        cases.drop(current_user, case, request.form.get("reason", ""))
    except cases.CaseError as e:
        flash(str(e), "error")
    else:
        flash("已撤案。", "success")
    return redirect(url_for(".show", case_id=case.id))


@bp.post("/<int:case_id>/close-unlicensed")
@role_required("admin", "officer")
def close_unlicensed(case_id: int):
    case = _visible_case(case_id)
    try:
        cases.close_unlicensed(
            current_user, case, parse_date(request.form.get("closed_on"), "取缔日期")
        )
    except DomainError as e:
        flash(str(e), "error")
    else:
        flash("已登记取缔。", "success")
    return redirect(url_for(".show", case_id=case.id))
