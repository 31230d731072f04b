"""Back office: the audit log, filterable, with before/after side by side (administrators only)."""

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from shifangbang import access, audit
from shifangbang.extensions import db
from shifangbang.labels import ROLES, SEVEN_IN_PLACE, WORKSHOP_STATUS
from shifangbang.models import AuditLog
from shifangbang.registry import parse_date
from shifangbang.timeutil import CHINA

from .auth import role_required

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit")
PER_PAGE = 50
FILTERS = ("actor", "action", "entity", "entity_id", "date_from", "date_to")


def _utc_midnight(d):
    """Start of a China-local day, as the naive UTC the log stores."""
    return datetime.combine(d, time(), CHINA).astimezone(UTC).replace(tzinfo=None)


ACTION_LABELS = {
    "workshop.create": "新建作坊",
    "workshop.edit": "修改作坊",
    "workshop.status": "变更作坊状态",
    "workshop.import_create": "导入新增作坊",
    "workshop.import_update": "导入更新作坊",
    "user.create": "新建账号",
    "user.update": "修改账号",
    "user.reset_password": "重置密码",
    "user.change_password": "修改本人密码",
    "user.locked": "账号锁定",
    "user.activate": "启用账号",
    "user.deactivate": "停用账号",
    "user.totp_enable": "绑定动态验证码",
    "user.totp_reset": "清除动态验证码",
    "user.totp_require": "设置动态验证码要求",
}
ENTITY_LABELS = {"workshop": "作坊", "user": "账号"}

FIELD_LABELS = {
    "cert_type": "证件类型",
    "cert_no": "证件编号",
    "name": "作坊名称",
    "operator_name": "经营者",
    "operator_phone": "联系电话",
    "address": "地址",
    "station_id": "所属所（编号）",
    "lat": "纬度",
    "lng": "经度",
    "varieties": "品种明细",
    "valid_from": "有效期起",
    "valid_to": "有效期至",
    "status": "状态",
    "status_changed_on": "状态变更日期",
    "reason": "原因",
    "safety_manager": "食品安全管理员",
    "plate_no": "公示牌编号",
    "trademark": "商标",
    "time_honoured": "老字号",
    "geo_indication": "地理标志",
    "intangible_heritage": "非遗",
    "regional_brand": "区域公用品牌",
    "pledge_signed_on": "承诺书签署日期",
    "seven_in_place": "七到位",
    "additives": "食品添加剂",
    "categories": "食品类别",
    "staff": "从业人员（姓名、岗位、健康证有效期）",
    "username": "用户名",
    "display_name": "姓名",
    "role": "角色",
    "jurisdiction_id": "辖区（编号）",
    "active": "启用",
    "totp": "动态验证码",
    "totp_required": "必须启用动态验证码",
}


def show(field: str, value) -> str:
    """A value as a regulator reads it: Chinese labels, lists joined, booleans as 是/否."""
    if value is None or value == "" or value == [] or value == {}:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if field == "status":
        return WORKSHOP_STATUS.get(value, value)
    if field == "role":
        return ROLES.get(value, value)
    if field == "seven_in_place" and isinstance(value, dict):
        done = [SEVEN_IN_PLACE.get(k, k) for k, v in value.items() if v]
        return "、".join(done) if done else "均未到位"
    if isinstance(value, dict):
        return "；".join(f"{k}：{show(k, v)}" for k, v in value.items())
    if isinstance(value, list):
        return "；".join(
            show("", v) if not isinstance(v, list) else " ".join(str(x or "") for x in v)
            for v in value
        )
    return str(value)


def diff(before: dict | None, after: dict | None) -> list[tuple[str, str, str, bool]]:
    """(label, before, after, changed) for every field either side mentions with a value."""
    before, after = before or {}, after or {}
    rows = []
    for key in dict.fromkeys([*before, *after]):
        b, a = show(key, before.get(key)), show(key, after.get(key))
        if b == a == "（空）":
            continue
        rows.append((FIELD_LABELS.get(key, key), b, a, b != a))
    return rows


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
    pagination = db.paginate(
        q.order_by(AuditLog.id.desc()), page=page, per_page=PER_PAGE, error_out=False
    )
    actions = db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)).all()
    entities = db.session.scalars(
        select(AuditLog.entity).distinct().order_by(AuditLog.entity)
    ).all()
    return render_template(
        "admin/audit.html",
        pagination=pagination,
        args={k: v for k, v in args.items() if v},
        f=args,
        actions=actions,
        entities=entities,
        diff=diff,
        errors=errors,
        action_labels=ACTION_LABELS,
        entity_labels=ENTITY_LABELS,
    )


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
