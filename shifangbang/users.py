"""Regulator accounts: creation, passwords, sign-in with lockout."""
from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit
from .extensions import db
from .labels import ROLES
from .models import User
from .timeutil import utcnow

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
# A hash to compare against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = generate_password_hash("not a real password")


class UserError(ValueError):
    pass


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少 {MIN_PASSWORD_LENGTH} 位。")
    kinds = sum(any(f(c) for c in password) for f in (str.isdigit, str.isalpha, lambda c: not c.isalnum()))
    if kinds < 2:
        raise UserError("密码须包含字母、数字、符号中的至少两类。")


def create_user(actor, username: str, password: str, role: str, display_name: str,
                jurisdiction_id: int | None = None) -> User:
    if role not in ROLES:
        raise UserError(f"未知角色：{role}")
    if role != "admin" and jurisdiction_id is None:
        raise UserError("执法人员和只读账号必须指定所属辖区。")
    if db.session.scalar(select(User).where(User.username == username)):
        raise UserError(f"用户名 {username} 已存在。")
    check_password_strength(password)
    user = User(username=username, display_name=display_name, role=role, jurisdiction_id=jurisdiction_id,
                password_hash=generate_password_hash(password))
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id,
                 after={"username": username, "role": role, "jurisdiction_id": jurisdiction_id})
    return user


def set_password(actor, user: User, password: str) -> None:
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
