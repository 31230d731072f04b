"""Regulator accounts: creation, passwords, sign-in with growing delays, TOTP second factor,
and the per-user session nonce.

Account changes are for bureau administrators (access action "manage_users"); the CLI acts as
the system (actor None), which is only accepted outside a web request.
"""

import hmac
import re
import secrets
import time
from datetime import timedelta
from functools import cache
from pathlib import Path

import pyotp
from flask import has_request_context
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from . import access, audit
from .errors import DomainError
from .extensions import db
from .labels import ROLES
from .models import Jurisdiction, SignInThrottle, User
from .timeutil import utcnow

# Sign-in throttling instead of a lockout anyone could trigger. Failures are counted per typed
# username from one client (a person mistyping, or one attacker) and per username from anywhere
# (a distributed guess). Beyond the free failures each attempt waits twice as long as the last,
# up to the cap: the owner, from another client, waits at most ACCOUNT_MAX_DELAY.
MAX_FAILED_LOGINS = 5  # free failures per (username, client)
CLIENT_MAX_DELAY = 900  # seconds
ACCOUNT_FREE_FAILURES = 20
ACCOUNT_MAX_DELAY = 60
MIN_PASSWORD_LENGTH = 10
# A hash to compare against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = generate_password_hash("not a real password")
THROTTLED = "登录尝试过于频繁，已临时锁定，请 {seconds} 秒后再试（忘记密码请联系管理员）。"


class UserError(DomainError):
    pass


@cache
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    words = (line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(w for w in words if w and not w.startswith("#"))


def check_password_strength(password: str, username: str | None = None) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少 {MIN_PASSWORD_LENGTH} 位。")
    kinds = sum(
        any(f(c) for c in password) for f in (str.isdigit, str.isalpha, lambda c: not c.isalnum())
    )
    if kinds < 2:
        raise UserError("密码须包含字母、数字、符号中的至少两类。")
    lowered = password.lower()
    # "Password12", "qwerty2026!": a listed word with digits or symbols around it is still guessed first.
    core = re.sub(r"^[\d\W_]+|[\d\W_]+$", "", lowered)
    common = _common_passwords()
    mostly_common = any(len(w) >= 4 and w in lowered and 2 * len(w) >= len(lowered) for w in common)
    if lowered in common or core in common or mostly_common or len(set(lowered)) < 4:
        raise UserError("这个密码太常见，很容易被猜到，请换一个。")
    name = (username or "").strip().lower()
    if len(name) >= 3 and (name in lowered or lowered in name):
        raise UserError("密码不能包含用户名。")


def _authorise(actor) -> None:
    if actor is None and not has_request_context():
        return  # the CLI, run by whoever operates the server
    access.require(actor, "manage_users")


def _check_role(role: str, jurisdiction_id: int | None) -> None:
    if role not in ROLES:
        raise UserError(f"未知角色：{role}")
    if role != "admin" and jurisdiction_id is None:
        raise UserError("执法人员和只读账号必须指定所属辖区。")
    j = db.session.get(Jurisdiction, jurisdiction_id) if jurisdiction_id is not None else None
    if j is not None and j.merged_note:
        raise UserError(j.merged_note)


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
    check_password_strength(password, username)
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
    """An administrator's (or the CLI's) reset: also lifts the sign-in delays and signs the
    user out everywhere."""
    _authorise(actor)
    check_password_strength(password, user.username)
    user.password_hash = generate_password_hash(password)
    user.failed_logins = 0
    user.locked_until = None
    _forget_failures(user.username)
    rotate_session_token(user)
    audit.record(actor, "user.reset_password", "user", user.id)


def change_own_password(user: User, current: str, new: str, confirm: str) -> None:
    """A signed-in user changes their own password; every other session of theirs ends."""
    if not check_password_hash(user.password_hash, current or ""):
        raise UserError("当前密码不正确。")
    if new != confirm:
        raise UserError("两次输入的新密码不一致。")
    if hmac.compare_digest(new.encode(), (current or "").encode()):
        raise UserError("新密码不能与当前密码相同。")
    check_password_strength(new, user.username)
    user.password_hash = generate_password_hash(new)
    rotate_session_token(user)
    audit.record(user, "user.change_password", "user", user.id)


def rotate_session_token(user: User) -> str:
    """A new session nonce: every session signed in before this one stops working."""
    user.session_token = secrets.token_urlsafe(24)
    return user.session_token


def session_token_matches(user: User, token: str | None) -> bool:
    return bool(user.session_token and token) and hmac.compare_digest(user.session_token, token)


# --- sign-in throttling ------------------------------------------------------------------------


def _keys(username: str, client: str | None) -> tuple[str, str]:
    name = username.strip().lower()[:100]
    return f"u:{name}", f"c:{(client or '-')[:60]}:{name}"


def _delay(failures: int, free: int, cap: int) -> int:
    return 0 if failures < free else min(cap, 2 ** (failures - free + 1))


def throttle_wait(username: str, client: str | None) -> int:
    """Seconds before this username may be tried again from this client (0: now)."""
    account_key, pair_key = _keys(username, client)
    rows = {
        t.key: t
        for t in db.session.scalars(
            select(SignInThrottle).where(SignInThrottle.key.in_((account_key, pair_key)))
        )
    }
    now, wait = utcnow(), 0
    for key, free, cap in (
        (account_key, ACCOUNT_FREE_FAILURES, ACCOUNT_MAX_DELAY),
        (pair_key, MAX_FAILED_LOGINS, CLIENT_MAX_DELAY),
    ):
        t = rows.get(key)
        if t is not None:
            until = t.last_failed_at + timedelta(seconds=_delay(t.failures, free, cap))
            wait = max(wait, int((until - now).total_seconds() + 0.999))
    return wait


def throttled_accounts() -> dict[str, int]:
    """Usernames whose sign-in waits for every client (many failures from anywhere: a guessing
    attack, or the owner's forgotten password) → seconds left. For the accounts page."""
    now, out = utcnow(), {}
    for t in db.session.scalars(select(SignInThrottle).where(SignInThrottle.key.like("u:%"))):
        until = t.last_failed_at + timedelta(
            seconds=_delay(t.failures, ACCOUNT_FREE_FAILURES, ACCOUNT_MAX_DELAY)
        )
        if until > now:
            out[t.key[2:]] = int((until - now).total_seconds() + 0.999)
    return out


def _count_failure(username: str, client: str | None) -> int:
    """Count one failure under both keys; returns the (username, client) count. Two workers
    failing at once each add one (an UPDATE, else an INSERT that may lose the race)."""
    now, counts = utcnow(), {}
    for key in _keys(username, client):
        for _attempt in range(2):
            done = db.session.execute(
                update(SignInThrottle)
                .where(SignInThrottle.key == key)
                .values(failures=SignInThrottle.failures + 1, last_failed_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if done:
                break
            try:
                with db.session.begin_nested():
                    db.session.add(SignInThrottle(key=key, failures=1, last_failed_at=now))
                break
            except IntegrityError:
                continue
        counts[key] = db.session.scalar(
            select(SignInThrottle.failures).where(SignInThrottle.key == key)
        )
    return counts[_keys(username, client)[1]] or 0


def _forget_failures(username: str, client: str | None = None) -> None:
    """After a success, that client's failures for the name; with no client, all of them."""
    account_key, pair_key = _keys(username, client)
    if client is None:
        prefix = pair_key.split(":", 1)[0] + ":"
        name = account_key[2:]
        db.session.execute(
            delete(SignInThrottle)
            .where(
                or_(
                    SignInThrottle.key == account_key,
                    SignInThrottle.key.like(f"{prefix}%:{name}"),
                )
            )
            .execution_options(synchronize_session=False)
        )
    else:
        db.session.execute(
            delete(SignInThrottle)
            .where(SignInThrottle.key.in_((account_key, pair_key)))
            .execution_options(synchronize_session=False)
        )


def _failed(user: User | None, username: str, client: str | None) -> None:
    count = _count_failure(username, client)
    if user is not None and count == MAX_FAILED_LOGINS:
        audit.record(None, "user.locked", "user", user.id)  # delays begin: worth a look


def authenticate(
    username: str, password: str, client: str | None = None
) -> tuple[User | None, str | None]:
    """(user, None) on success, else (None, a Chinese message). The same message, and about the
    same time, for an unknown name, a deactivated account and a wrong password; a throttled name
    is refused before any lookup, so it too answers alike whether or not it exists.

    The caller commits: failure counts must persist even when sign-in fails.
    """
    wait = throttle_wait(username, client)
    if wait:
        return None, THROTTLED.format(seconds=wait)
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        _failed(None, username, client)
        return None, "用户名或密码错误。"
    if not check_password_hash(user.password_hash, password):
        _failed(user, username, client)
        return None, "用户名或密码错误。"
    _forget_failures(username, client)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
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
        _forget_failures(user.username)
    else:
        rotate_session_token(user)  # signed out everywhere at once
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
    user.totp_pending_secret = None
    audit.record(user, "user.totp_enable", "user", user.id)


def reset_totp(actor, user: User, required: bool | None = None) -> None:
    """Forget the user's second factor (lost phone); optionally (un)require enrolment."""
    _authorise(actor)
    before = {"totp": bool(user.totp_secret), "totp_required": user.totp_required}
    user.totp_secret = user.totp_pending_secret = None
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


def check_totp(user: User, code: str, client: str | None = None) -> str | None:
    """None when the code is right; else a Chinese message. Wrong codes count like wrong
    passwords (same delays).

    The caller commits, as with authenticate().
    """
    wait = throttle_wait(user.username, client)
    if wait:
        return THROTTLED.format(seconds=wait)
    step = _code_step(user.totp_secret, code) if user.totp_secret else None
    if step is not None and _claim_step(user, step):
        _forget_failures(user.username, client)
        user.last_login_at = utcnow()
        return None
    _failed(user, user.username, client)
    return "动态验证码不正确。"
