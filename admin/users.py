"""Back office: regulator accounts (bureau administrators only)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from shifangbang import access, users
from shifangbang.extensions import db
from shifangbang.labels import ROLES
from shifangbang.models import IN_SERVICE, Jurisdiction, User

from .auth import role_required
from .confirm import confirm_first

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")


def _jurisdictions():
    return list(
        db.session.scalars(select(Jurisdiction).where(IN_SERVICE).order_by(Jurisdiction.code))
    )


def _jid(raw) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("")
@role_required("admin")
def index():
    access.require(current_user, "manage_users")
    return _list({})


def _list(v: dict, status: int = 200):
    accounts = db.session.scalars(
        select(User).options(joinedload(User.jurisdiction)).order_by(User.username)
    ).all()
    return render_template(
        "admin/users.html",
        accounts=accounts,
        roles=ROLES,
        jurisdictions=_jurisdictions(),
        v=v,
        throttled=users.throttled_accounts(),
    ), status


@bp.post("")
@role_required("admin")
def create():
    f = request.form
    try:
        user = users.create_user(
            current_user,
            f.get("username", ""),
            f.get("password", ""),
            f.get("role", ""),
            f.get("display_name", ""),
            _jid(f.get("jurisdiction_id")),
        )
        if f.get("totp_required"):
            users.set_totp_required(current_user, user, True)
    except users.UserError as e:
        db.session.rollback()
        flash(str(e), "error")
        return _list(
            {k: f.get(k, "") for k in ("username", "display_name", "role", "jurisdiction_id")}, 422
        )
    db.session.commit()
    flash(f"已创建账号 {user.username}。", "success")
    return redirect(url_for(".index"))


def _ask_user_action(user_id: int):
    user = db.session.get(User, user_id)
    action = request.form.get("action")
    if user is None or action not in ("deactivate", "totp_reset"):
        return None
    who = f"{user.display_name}（{user.username}）"
    if action == "deactivate":
        return "停用账号", f"{who}将立即无法登录，直到再次启用。"
    return "清除动态验证码", f"{who}的动态验证码将被清除，下次登录后须重新绑定。"


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
@confirm_first(_ask_user_action)
def edit(user_id: int):
    access.require(current_user, "manage_users")
    user = _user(user_id)
    if request.method == "POST":
        f = request.form
        action = f.get("action")
        try:
            if action == "update":
                users.update_user(
                    current_user,
                    user,
                    role=f.get("role", ""),
                    jurisdiction_id=_jid(f.get("jurisdiction_id")),
                    display_name=f.get("display_name", ""),
                )
                message = "已保存。"
            elif action == "password":
                users.set_password(current_user, user, f.get("password", ""))
                message = "已重置密码并解除锁定，请当面或电话告知本人。"
            elif action in ("deactivate", "activate"):
                users.set_active(current_user, user, action == "activate")
                message = (
                    "账号已启用。" if action == "activate" else "账号已停用，该用户将无法登录。"
                )
            elif action == "totp_reset":
                users.reset_totp(current_user, user)
                message = "已清除动态验证码，该用户下次登录后可重新绑定。"
            elif action in ("totp_require", "totp_optional"):
                users.set_totp_required(current_user, user, action == "totp_require")
                message = (
                    "已要求启用动态验证码。"
                    if action == "totp_require"
                    else "已改为自愿启用动态验证码。"
                )
            else:
                abort(400)
        except users.UserError as e:
            db.session.rollback()
            flash(str(e), "error")
            typed = f.to_dict() if action == "update" else {}  # shown again as typed
            return render_template(
                "admin/user.html",
                user=user,
                roles=ROLES,
                jurisdictions=_jurisdictions(),
                typed=typed,
            ), 422
        db.session.commit()
        flash(message, "success")
        return redirect(url_for(".edit", user_id=user.id))
    return render_template(
        "admin/user.html", user=user, roles=ROLES, jurisdictions=_jurisdictions()
    )
