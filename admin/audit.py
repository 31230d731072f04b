"""Back office: the audit log, filterable, with before/after side by side (administrators only)."""

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import String, and_, cast, or_, select

from shifangbang import access, audit
from shifangbang.extensions import db
from shifangbang.labels import AUDIT_ACTIONS, AUDIT_ENTITIES
from shifangbang.models import AuditLog, RevocationProposal, TitleGrant, Workshop
from shifangbang.registry import parse_date
from shifangbang.timeutil import CHINA

from .audit_display import WORKSHOP_CHILDREN, Names, diff
from .auth import role_required

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit")
PER_PAGE = 50
FILTERS = ("actor", "action", "workshop", "entity", "entity_id", "date_from", "date_to")


def _utc_midnight(d):
    """Start of a China-local day, as the naive UTC the log stores."""
    return datetime.combine(d, time(), CHINA).astimezone(UTC).replace(tzinfo=None)


@bp.get("")
@role_required("admin")
def index():
    access.require(current_user, "view_audit")
    args = {k: (request.args.get(k) or "").strip() for k in FILTERS}
    q = select(AuditLog)
    if args["actor"]:
        q = q.where(AuditLog.actor_name == args["actor"])
    if args["action"]:
        q = q.where(AuditLog.action.startswith(args["action"]))
    if args["entity"]:
        q = q.where(AuditLog.entity == args["entity"])
    if args["entity_id"]:
        q = q.where(AuditLog.entity_id == args["entity_id"])
    errors = []
    if args["workshop"]:
        q = q.where(_about_workshops(args["workshop"]))
    for key, op in (("date_from", "ge"), ("date_to", "lt")):
        if args[key]:
            try:
                d = parse_date(args[key])
            except ValueError:
                errors.append(f"日期“{args[key]}”无效，应如 2026-03-01。")
                continue
            bound = _utc_midnight(d + timedelta(days=1 if op == "lt" else 0))
            q = q.where(AuditLog.at >= bound if op == "ge" else AuditLog.at < bound)
    page = max(1, request.args.get("page", 1, type=int))
    pagination = db.paginate(
        q.order_by(AuditLog.id.desc()), page=page, per_page=PER_PAGE, error_out=False
    )
    actors = db.session.scalars(
        select(AuditLog.actor_name).distinct().order_by(AuditLog.actor_name)
    ).all()
    return render_template(
        "admin/audit.html",
        pagination=pagination,
        args={k: v for k, v in args.items() if v},
        f=args,
        actors=actors,
        diff=diff,
        names=Names(pagination.items),
        errors=errors,
        action_labels=AUDIT_ACTIONS,
        entity_labels=AUDIT_ENTITIES,
    )


def _about_workshops(text: str):
    """Rows about the workshops a name, public code or certificate number matches: the
    workshop's own rows and those of its inspections, samplings, tiers, titles, complaints …"""
    like = f"%{text.replace('%', '').replace('_', '')}%"
    match = or_(Workshop.name.ilike(like), Workshop.public_code == text, Workshop.cert_no == text)
    ids = select(Workshop.id).where(match)
    clauses = [
        and_(
            AuditLog.entity == "workshop",
            AuditLog.entity_id.in_(select(cast(Workshop.id, String)).where(match)),
        )
    ]
    for entity, model in WORKSHOP_CHILDREN.items():
        children = select(cast(model.id, String)).where(model.workshop_id.in_(ids))
        clauses.append(and_(AuditLog.entity == entity, AuditLog.entity_id.in_(children)))
    proposals = select(cast(RevocationProposal.id, String)).where(
        RevocationProposal.grant_id.in_(
            select(TitleGrant.id).where(TitleGrant.workshop_id.in_(ids))
        )
    )
    clauses.append(
        and_(AuditLog.entity == "revocation_proposal", AuditLog.entity_id.in_(proposals))
    )
    return or_(*clauses)


@bp.post("/verify")
@role_required("admin")
def verify():
    access.require(current_user, "view_audit")
    checked, problems = audit.verify()
    if problems:
        flash(
            f"审计日志校验失败：{checked} 条记录中发现 {len(problems)} 处问题。"
            + "；".join(f"第 {p.seq} 条：{p.message}" for p in problems[:10]),
            "error",
        )
    else:
        flash(f"审计日志完整：{checked} 条记录，哈希链无误。", "success")
    return redirect(url_for(".index"))
