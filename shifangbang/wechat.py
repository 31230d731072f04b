"""The mini-program user: sign-in with wx.login, bearer sessions, bound cases, verified phone,
one-time subscriptions. Delivery of the notices is wechat_outbox.py; the HTTP calls wechat_client.py.

The openid is personal data: it stays in wechat_user and is read only to address a message.
Officers see a bound case as "已绑定微信" (officer_view). The session_key WeChat returns at sign-in
is not needed (no encrypted user data is decrypted here), so it is not kept.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from . import complaints, wechat_outbox
from .errors import DomainError
from .extensions import db
from .models import (
    Complaint,
    WechatBinding,
    WechatOutbox,
    WechatSession,
    WechatSubscription,
    WechatUser,
    Workshop,
)
from .timeutil import utcnow
from .tx import transactional
from .wechat_client import CODE_USED, INVALID_CODE, Client, WechatError

SESSION_DAYS = 30
RETRY_AFTER = 30  # seconds a client waits when WeChat is busy or rate-limited
MAX_ACTIVE_SUBSCRIPTIONS = 50  # per user: more is a client bug or abuse, not a person


class WechatUnavailable(Exception):
    """WeChat is not configured, busy or unreachable: try again after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int = RETRY_AFTER):
        super().__init__(message)
        self.retry_after = retry_after


class WechatRefused(DomainError):
    """The request cannot succeed as sent (an invalid code, an unknown case): the message is Chinese."""


def client() -> Client:
    if not current_app.config.get("WECHAT_APPID"):
        raise WechatUnavailable("本站尚未开通微信小程序服务。", 3600)
    return Client.from_config(current_app.config)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _unavailable(e: WechatError) -> WechatUnavailable:
    return WechatUnavailable("微信服务繁忙，请稍后再试。")


# --- sign-in --------------------------------------------------------------------------------------


@dataclass
class Login:
    token: str
    expires_in: int


def login(code: str) -> Login:
    """Exchange a wx.login code for a bearer token (returned once, stored only as its hash)."""
    code = (code or "").strip()
    if not code or len(code) > 128:
        raise WechatRefused("登录凭证 code 无效，请重新调用 wx.login。")
    try:
        answer = client().code2session(code)
    except WechatError as e:
        if e.errcode in (INVALID_CODE, CODE_USED):
            raise WechatRefused("登录凭证 code 无效或已使用，请重新调用 wx.login。") from None
        raise _unavailable(e) from None
    return _start_session(answer["openid"])


@transactional
def _start_session(openid: str) -> Login:
    now = utcnow()
    user = db.session.scalar(select(WechatUser).where(WechatUser.openid == openid))
    if user is None:
        user = WechatUser(openid=openid, created_at=now)
        db.session.add(user)
    user.last_login_at = now
    db.session.flush()
    db.session.execute(
        delete(WechatSession).where(
            WechatSession.user_id == user.id, WechatSession.expires_at < now
        )
    )
    token = secrets.token_urlsafe(32)
    ttl = timedelta(days=SESSION_DAYS)
    db.session.add(
        WechatSession(
            token_hash=_hash(token), user_id=user.id, created_at=now, expires_at=now + ttl
        )
    )
    return Login(token, int(ttl.total_seconds()))


def user_for_token(token: str) -> WechatUser | None:
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        select(WechatUser)
        .join(WechatSession, WechatSession.user_id == WechatUser.id)
        .where(WechatSession.token_hash == _hash(token), WechatSession.expires_at > utcnow())
    )


@transactional
def logout(token: str) -> None:
    """End this sign-in (the token stops working); the user's other sign-ins stay."""
    db.session.execute(delete(WechatSession).where(WechatSession.token_hash == _hash(token)))


@transactional
def forget(user: WechatUser) -> int:
    """Delete everything this site holds about a mini-program user (个人信息保护法 删除权): the
    openid, sign-ins, subscriptions, undelivered and delivered notices, and the links to their
    cases; returns how many cases were unbound. The cases stay, as the bureau's record of what was
    reported and done (a phone confirmed through WeChat stays confirmed), and can still be tracked
    with their number and query password; officers no longer see them as 已绑定微信."""
    unbound = db.session.execute(
        delete(WechatBinding).where(WechatBinding.user_id == user.id)
    ).rowcount
    for model in (WechatOutbox, WechatSubscription, WechatSession):
        db.session.execute(delete(model).where(model.user_id == user.id))
    db.session.execute(delete(WechatUser).where(WechatUser.id == user.id))
    return unbound


# --- bound cases ----------------------------------------------------------------------------------


def my_complaints(user: WechatUser) -> list[complaints.TrackView]:
    rows = db.session.scalars(
        select(Complaint)
        .join(WechatBinding, WechatBinding.complaint_id == Complaint.id)
        .where(WechatBinding.user_id == user.id)
        .order_by(Complaint.received_at.desc(), Complaint.id.desc())
    ).all()
    return [complaints.track_view(c) for c in rows]


def _bound(user: WechatUser, tracking_no: str) -> Complaint:
    """The user's own bound case with this number; LookupError otherwise."""
    number = complaints.normalise_tracking_no(tracking_no)
    found = db.session.scalar(
        select(Complaint)
        .join(WechatBinding, WechatBinding.complaint_id == Complaint.id)
        .where(Complaint.tracking_no == number, WechatBinding.user_id == user.id)
    )
    if found is None:
        raise LookupError("找不到您提交的这件投诉举报。")
    return found


def verify_phone(user: WechatUser, tracking_no: str, code: str) -> datetime:
    """Confirm the reporter's phone of a bound, named case with a getPhoneNumber code."""
    c = _bound(user, tracking_no)
    if not c.reporter_phone:
        raise WechatRefused("这件举报是匿名的，没有需要验证的手机号。")
    code = (code or "").strip()
    if not code or len(code) > 128:
        raise WechatRefused("手机号凭证 code 无效，请重新获取。")
    wx = client()
    try:
        info = wechat_outbox.call_with_token(wx, lambda token: wx.phone_number(token, code))
    except WechatError as e:
        if e.transient:
            raise _unavailable(e) from None
        raise WechatRefused("手机号凭证 code 无效或已过期，请重新获取。") from None
    phone = complaints.normalise_phone(info.get("purePhoneNumber") or info.get("phoneNumber"))
    if phone != c.reporter_phone:
        raise WechatRefused("微信绑定的手机号与投诉登记的手机号不一致。")
    return _mark_verified(c)


@transactional
def _mark_verified(c: Complaint) -> datetime:
    c.reporter_phone_verified_at = c.reporter_phone_verified_at or utcnow()
    return c.reporter_phone_verified_at


@dataclass(frozen=True)
class OfficerView:
    """All an officer learns about the WeChat side of a case: never the openid."""

    label: str  # "已绑定微信", or "" once the user deleted their account
    phone_verified: bool


def officer_view(c: Complaint) -> OfficerView | None:
    bound = db.session.get(WechatBinding, c.id) is not None
    verified = c.reporter_phone_verified_at is not None
    if not bound and not verified:
        return None
    return OfficerView("已绑定微信" if bound else "", verified)


# --- subscriptions --------------------------------------------------------------------------------


@transactional
def subscribe(
    user: WechatUser, kind: str, tracking_no: str = "", workshop_code: str = ""
) -> WechatSubscription:
    """Record one accepted one-time subscription ('case': a bound case; 'workshop': any workshop)."""
    templates = current_app.extensions["deployment"].wechat
    template = templates.case_progress if kind == "case" else templates.workshop_change
    if kind not in ("case", "workshop"):
        raise WechatRefused("订阅类型只能是 case（办理进度）或 workshop（作坊榜级变化）。")
    if not template.template_id:
        raise WechatUnavailable("本站尚未开通这类订阅消息。", 3600)
    active = db.session.scalars(
        select(WechatSubscription.id).where(
            WechatSubscription.user_id == user.id, WechatSubscription.status == "active"
        )
    ).all()
    if len(active) >= MAX_ACTIVE_SUBSCRIPTIONS:
        raise WechatRefused("订阅过多，请等已订阅的通知发出后再订阅。")
    sub = WechatSubscription(user_id=user.id, kind=kind, template_id=template.template_id)
    if kind == "case":
        c = _bound(user, tracking_no)
        if not complaints.is_open(c):
            raise WechatRefused("这件投诉举报已办结，不会再有进度通知。")
        sub.complaint_id = c.id
    else:
        w = db.session.scalar(select(Workshop).where(Workshop.public_code == workshop_code))
        if w is None:
            raise LookupError("找不到这个作坊。请核对作坊编号。")
        sub.workshop_id = w.id
        sub.baseline = wechat_outbox.workshop_face(w)
    db.session.add(sub)
    db.session.flush()
    return sub
