"""Regulator accounts: creation, passwords, sign-in with lockout, TOTP second factor.

Account changes are for bureau administrators (access action "manage_users"); the CLI acts as
the system (actor None), which is only accepted outside a web request.
"""

import hmac
import time
from datetime import timedelta

import pyotp
from flask import has_request_context
from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from . import access, audit
from .errors import DomainError
from .extensions import db
from .labels import ROLES
from .models import User
from .timeutil import utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
# A hash to compare against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = generate_password_hash("not a real password")


class UserError(DomainError):
    pass


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少 {MIN_PASSWORD_LENGTH} 位。")
    kinds = sum(
        any(f(c) for c in password) for f in (str.isdigit, str.isalpha, lambda c: not c.isalnum())
    )
    if kinds < 2:
        raise UserError("密码须包含字母、数字、符号中的至少两类。")


def _authorise(actor) -> None:
    if actor is None and not has_request_context():
        return  # the CLI, run by whoever operates the server
    access.require(actor, "manage_users")


def _check_role(role: str, jurisdiction_id: int | None) -> None:
    if role not in ROLES:
        raise UserError(f"未知角色：{role}")
    if role != "admin" and jurisdiction_id is None:
        raise UserError("执法人员和只读账号必须指定所属辖区。")


def create_user(
    actor,
    username: str,
    password: str,
    role: str,
    display_name: str,
    jurisdiction_id: int | None = None,
) -> User:
    _authorise(actor)
    username = (username or "").strip()
    display_name = (display_name or "").strip()
    if not username or not display_name:
        raise UserError("请填写用户名和姓名。")
    if len(username) > 40 or len(display_name) > 40:
        raise UserError("用户名和姓名不超过 40 个字。")
    _check_role(role, jurisdiction_id)
    if db.session.scalar(select(User).where(User.username == username)):
        raise UserError(f"用户名 {username} 已存在。")
    check_password_strength(password)
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        jurisdiction_id=jurisdiction_id,
        password_hash=generate_password_hash(password),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor,
        "user.create",
        "user",
        user.id,
        after={"username": username, "role": role, "jurisdiction_id": jurisdiction_id},
    )
    return user


def set_password(actor, user: User, password: str) -> None:
    _authorise(actor)
    check_password_strength(password)
    user.password_hash = generate_password_hash(password)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(actor, "user.reset_password", "user", user.id)


def authenticate(username: str, password: str) -> tuple[User | None, str | None]:
    """(user, None) on success, else (None, a Chinese message). Locks after repeated failures.

    The caller commits: failure counters must persist even when sign-in fails.
    """
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None, "用户名或密码错误。"
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        return None, "密码错误次数过多，账号已临时锁定，请 15 分钟后再试或联系管理员。"
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            audit.record(None, "user.locked", "user", user.id)
        return None, "用户名或密码错误。"
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user, None


USER_FIELDS = ("username", "display_name", "role", "jurisdiction_id", "active", "totp_required")


def update_user(
    actor, user: User, *, role: str, jurisdiction_id: int | None, display_name: str
) -> None:
    """Change role, jurisdiction and name. Administrators cannot demote themselves (no lock-out)."""
    _authorise(actor)
    _check_role(role, jurisdiction_id)
    if actor is not None and actor.id == user.id and role != "admin":
        raise UserError("不能取消自己的管理员角色，请由其他管理员操作。")
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 40:
        raise UserError("姓名不能为空，且不超过 40 个字。")
    before = audit.snapshot(user, USER_FIELDS)
    user.role = role
    user.jurisdiction_id = None if role == "admin" and jurisdiction_id is None else jurisdiction_id
    user.display_name = display_name
    audit.record(
        actor,
        "user.update",
        "user",
        user.id,
        before=before,
        after=audit.snapshot(user, USER_FIELDS),
    )


def set_active(actor, user: User, active: bool) -> None:
    _authorise(actor)
    if actor is not None and actor.id == user.id and not active:
        raise UserError("不能停用自己的账号。")
    before = audit.snapshot(user, USER_FIELDS)
    user.active = active
    if active:
        user.failed_logins = 0
        user.locked_until = None
    audit.record(
        actor,
        "user.activate" if active else "user.deactivate",
        "user",
        user.id,
        before=before,
        after=audit.snapshot(user, USER_FIELDS),
    )


# --- TOTP second factor -----------------------------------------------------------------------

TOTP_ISSUER = "食坊榜监管后台"


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)


def _code_step(secret: str, code: str) -> int | None:
    """The 30-second step whose code this is, or None. One step either side tolerates a phone
    clock that is ~30 s off."""
    code = "".join((code or "").split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp, now = pyotp.TOTP(secret), time.time()
    for offset in (0, -1, 1):
        at = now + offset * totp.interval
        if hmac.compare_digest(totp.at(at), code):
            return int(at) // totp.interval  # pyotp's own timecode for that moment
    return None


def enable_totp(user: User, secret: str, code: str) -> None:
    """The user confirms enrolment by typing a code from the app (proves the secret was saved)."""
    if _code_step(secret, code) is None:
        raise UserError("动态验证码不正确，请核对手机上的 6 位数字后重试。")
    user.totp_secret = secret
    audit.record(user, "user.totp_enable", "user", user.id)


def reset_totp(actor, user: User, required: bool | None = None) -> None:
    """Forget the user's second factor (lost phone); optionally (un)require enrolment."""
    _authorise(actor)
    before = {"totp": bool(user.totp_secret), "totp_required": user.totp_required}
    user.totp_secret = None
    if required is not None:
        user.totp_required = required
    audit.record(
        actor,
        "user.totp_reset",
        "user",
        user.id,
        before=before,
        after={"totp": False, "totp_required": user.totp_required},
    )


def set_totp_required(actor, user: User, required: bool) -> None:
    _authorise(actor)
    before = {"totp_required": user.totp_required}
    user.totp_required = required
    audit.record(
        actor,
        "user.totp_require",
        "user",
        user.id,
        before=before,
        after={"totp_required": required},
    )


def _claim_step(user: User, step: int) -> bool:
    """Mark this step used, unless it (or a later one) already was: a code seen over a shoulder
    or replayed from a captured request does not sign in a second time. One UPDATE, so two
    sign-ins racing with the same code cannot both win."""
    claimed = (
        db.session.execute(
            update(User)
            .where(
                User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step)
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    if claimed:
        set_committed_value(user, "totp_last_step", step)
    return claimed


def check_totp(user: User, code: str) -> str | None:
    """None when the code is right; else a Chinese message. Wrong codes count towards lockout.

    The caller commits, as with authenticate().
    """
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        return "错误次数过多，账号已临时锁定，请 15 分钟后再试或联系管理员。"
    step = _code_step(user.totp_secret, code) if user.totp_secret else None
    if step is not None and _claim_step(user, step):
        user.failed_logins = 0
        user.last_login_at = now
        return None
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.locked_until = now + LOCKOUT
        user.failed_logins = 0
        audit.record(None, "user.locked", "user", user.id)
    return "动态验证码不正确。"
