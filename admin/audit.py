"""Back office: the audit log, filterable, with before/after side by side (administrators only)."""
from datetime import datetime, time, timedelta, timezone

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from shifangbang import access, audit
from shifangbang.extensions import db
from shifangbang.models import AuditLog
from shifangbang.registry import parse_date
from shifangbang.timeutil import CHINA

from .auth import role_required

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit")
PER_PAGE = 50
FILTERS = ("actor", "action", "entity", "entity_id", "date_from", "date_to")


def _utc_midnight(d):
    """Start of a China-local day, as the naive UTC the log stores."""
    return datetime.combine(d, time(), CHINA).astimezone(timezone.utc).replace(tzinfo=None)


def diff(before: dict | None, after: dict | None) -> list[tuple[str, object, object, bool]]:
    """(field, before, after, changed) for every field either side mentions."""
    before, after = before or {}, after or {}
    keys = list(dict.fromkeys([*before, *after]))
    return [(k, before.get(k), after.get(k), before.get(k) != after.get(k)) for k in keys]


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
    pagination = db.paginate(q.order_by(AuditLog.id.desc()), page=page, per_page=PER_PAGE, error_out=False)
    actions = db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)).all()
    entities = db.session.scalars(select(AuditLog.entity).distinct().order_by(AuditLog.entity)).all()
    return render_template("admin/audit.html", pagination=pagination, args={k: v for k, v in args.items() if v},
                           f=args, actions=actions, entities=entities, diff=diff, errors=errors)


@bp.post("/verify")
@role_required("admin")
def verify():
    access.require(current_user, "view_audit")
    checked, problems = audit.verify()
    if problems:
        flash(f"审计日志校验失败：{checked} 条记录中发现 {len(problems)} 处问题。"
              + "；".join(f"第 {p.seq} 条：{p.message}" for p in problems[:10]), "error")
    else:
        flash(f"审计日志完整：{checked} 条记录，哈希链无误。", "success")
    return redirect(url_for(".index"))
