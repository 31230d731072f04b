"""分级定榜: the queue (proposals to decide, decisions to publish), per-workshop history and
proposals with evidence, and the rectification ledger (一坊一策、挂账销号)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from shifangbang import current_deployment, labels, rectification, tiers
from shifangbang.errors import DomainError
from shifangbang.extensions import db
from shifangbang.models import (
    Complaint,
    Inspection,
    RectificationItem,
    Sampling,
    TierDecision,
    Workshop,
)
from shifangbang.timeutil import today

from .auth import role_required
from .confirm import confirm_first
from .helpers import (
    NOT_IN_JURISDICTION,
    InputError,
    find_workshop,
    get_visible,
    local_path,
    parse_date,
    scope,
)

bp = Blueprint("admin_tiers", __name__, url_prefix="/admin/tiers")


@bp.get("/")
@role_required()
def index():
    return _index_page()


def _index_page(kept=None, error=None):
    """The queue; a refused decision is shown again with what was typed (kept by decision id)."""
    ids = scope()
    q = (
        select(TierDecision)
        .join(Workshop, Workshop.id == TierDecision.workshop_id)
        .where(TierDecision.status.in_(("proposed", "decided")))
        .options(selectinload(TierDecision.workshop).selectinload(Workshop.station))
        .order_by(TierDecision.proposed_at, TierDecision.id)
    )
    if ids is not None:
        q = q.where(Workshop.station_id.in_(ids))
    rows = list(db.session.scalars(q))
    recent = (
        select(TierDecision)
        .join(Workshop, Workshop.id == TierDecision.workshop_id)
        .where(TierDecision.status == "published")
        .options(selectinload(TierDecision.workshop))
        .order_by(TierDecision.published_at.desc())
        .limit(20)
    )
    if ids is not None:
        recent = recent.where(Workshop.station_id.in_(ids))
    return render_template(
        "admin/tiers/index.html",
        proposed=[d for d in rows if d.status == "proposed"],
        decided=[d for d in rows if d.status == "decided"],
        recent=list(db.session.scalars(recent)),
        today=today(),
        kept=kept or {},
        error=error,
    )


@bp.get("/find")
@role_required()
def find():
    w = find_workshop(request.args.get("workshop"))
    if w is None:
        flash(NOT_IN_JURISDICTION, "error")
        return redirect(url_for(".index"))
    return redirect(url_for(".workshop", workshop_id=w.id))


@bp.post("/<int:decision_id>/decide")
@role_required("admin")
def decide(decision_id: int):
    d = get_visible(TierDecision, decision_id)
    approve = request.form.get("approve") == "1"
    try:
        tiers.decide(
            current_user,
            d,
            approve,
            parse_date(request.form.get("effective_on"), "生效日期", required=False),
            request.form.get("note", ""),
        )
    except DomainError as e:
        db.session.rollback()
        return _index_page({decision_id: request.form}, str(e)), 422
    flash(f"已{'同意，待发布' if approve else '驳回'}：{d.workshop.name}。", "success")
    return redirect(local_path(request.form.get("back"), url_for(".index")))


@bp.post("/<int:decision_id>/publish")
@role_required("admin")
@confirm_first(lambda decision_id: _ask_publish(decision_id))
def publish(decision_id: int):
    d = get_visible(TierDecision, decision_id)
    try:
        tiers.publish(current_user, d)
    except tiers.TierError as e:
        flash(str(e), "error")
    else:
        flash(
            f"已发布：{d.workshop.name} 现为{current_deployment().tier(d.to_tier).name}。",
            "success",
        )
    return redirect(local_path(request.form.get("back"), url_for(".index")))


def _ask_publish(decision_id: int):
    d = db.session.get(TierDecision, decision_id)
    if d is None:
        return None
    name = current_deployment().tier(d.to_tier).name
    return "发布", f"“{d.workshop.name}”的榜级将公开为“{name}”，公示页面、二维码和小程序随即显示。"


def _ask_strike(item_id: int):
    item = db.session.get(RectificationItem, item_id)
    if item is None:
        return None
    return "销号", f"“{item.workshop.name}”的整改问题“{item.problem}”将记为已整改并销号。"


def _evidence(model, raw, workshop):
    if not (raw or "").isdigit():
        return None
    obj = db.session.get(model, int(raw))
    if obj is None or obj.workshop_id != workshop.id:
        raise InputError("所选证据不属于该作坊。")
    return obj


@bp.route("/w/<int:workshop_id>", methods=["GET", "POST"])
@role_required()
def workshop(workshop_id: int):
    w = get_visible(Workshop, workshop_id, workshop_of=lambda o: o)
    form, error = request.form, None
    if request.method == "POST":
        try:
            d = tiers.propose(
                current_user,
                w,
                form.get("to_tier", ""),
                form.get("reason_category", ""),
                form.get("reason", "").strip(),
                public_reason=form.get("public_reason", ""),
                inspection=_evidence(Inspection, form.get("inspection_id"), w),
                sampling=_evidence(Sampling, form.get("sampling_id"), w),
                complaint=_evidence(Complaint, form.get("complaint_id"), w),
                upgrade_request=form.get("upgrade_request") == "1",
            )
        except DomainError as e:
            error = str(e)
        else:
            flash(f"已提交{labels.TIER_DIRECTION[d.direction]}建议，待县局决定。", "success")
            return redirect(url_for(".workshop", workshop_id=w.id))
    return _workshop_page(w, form, error), (422 if error else 200)


def _workshop_page(w, form, error=None, ledger_form=None, ledger_error=None):
    """The workshop's tier page; a refused form is shown again with what was typed."""
    return render_template(
        "admin/tiers/workshop.html",
        w=w,
        form=form,
        error=error,
        ledger_form=ledger_form or {},
        ledger_error=ledger_error,
        history=tiers.full_history(w),
        evidence=tiers.evidence_choices(w),
        ledger=rectification.ledger(w),
        needs_ledger=rectification.needs_ledger(w),
        today=today(),
        requests_used=tiers.upgrade_requests_in_last_year(w),
        requests_limit=current_deployment().bureau.upgrade_requests_per_year,
    )


@bp.post("/w/<int:workshop_id>/ledger")
@role_required("officer", "admin")
def ledger_add(workshop_id: int):
    w = get_visible(Workshop, workshop_id, workshop_of=lambda o: o)
    try:
        rectification.add_item(
            current_user,
            w,
            request.form.get("problem", ""),
            parse_date(request.form.get("due_on"), "整改期限"),
            request.form.get("measure", ""),
        )
    except DomainError as e:
        db.session.rollback()
        return _workshop_page(w, {}, ledger_form=request.form, ledger_error=str(e)), 422
    flash("问题已挂账。", "success")
    return redirect(url_for(".workshop", workshop_id=w.id) + "#ledger")


@bp.post("/ledger/<int:item_id>/strike")
@role_required("officer", "admin")
@confirm_first(lambda item_id: _ask_strike(item_id))
def ledger_strike(item_id: int):
    item = get_visible(RectificationItem, item_id)
    try:
        rectification.strike_off(
            current_user, item, parse_date(request.form.get("fixed_on"), "销号日期", required=False)
        )
    except DomainError as e:
        flash(str(e), "error")
    else:
        flash("已销号。", "success")
    return redirect(url_for(".workshop", workshop_id=item.workshop_id) + "#ledger")


@bp.get("/ledger")
@role_required()
def ledger():
    """Workshops on tiers that need rectification, with their open and overdue problem counts."""
    ids = scope()
    codes = [t.code for t in current_deployment().tiers if t.needs_rectification]
    q = (
        select(Workshop)
        .where(Workshop.tier_code.in_(codes), Workshop.status == "open")
        .options(selectinload(Workshop.station))
        .order_by(Workshop.name)
        .limit(500)
    )
    if ids is not None:
        q = q.where(Workshop.station_id.in_(ids))
    ws = list(db.session.scalars(q))
    counts = {}
    if ws:
        rows = db.session.execute(
            select(RectificationItem.workshop_id, func.count(), func.min(RectificationItem.due_on))
            .where(
                RectificationItem.workshop_id.in_([w.id for w in ws]),
                RectificationItem.fixed_on.is_(None),
            )
            .group_by(RectificationItem.workshop_id)
        ).all()
        counts = {wid: (n, due) for wid, n, due in rows}
    return render_template("admin/tiers/ledger.html", ws=ws, counts=counts, today=today())
