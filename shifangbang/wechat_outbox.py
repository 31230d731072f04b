"""Progress notices to the mini-program: queued with the change, delivered by a background worker.

Queueing: complaints._event (a status change or public reply on a case) calls `case_moved`, and
changes.touch (any public change of a workshop) calls `workshop_changed`; each turns the matching
active one-time subscriptions into outbox rows inside the caller's transaction, so a notice exists
exactly when the change committed.

Delivery: `deliver_due()` claims one row at a time with a conditional UPDATE (only one worker's
UPDATE matches: exactly-once claim on SQLite and PostgreSQL), sends it, and records the outcome.
A claim is a lease: a worker that dies mid-send leaves the row to be retried after LEASE. Busy or
rate-limited answers back off exponentially; 40001/42001 refresh the shared access token and retry
at once; 43101 (the user withdrew consent) drops the row and its subscription.
`start_worker()` runs it every POLL seconds in a daemon thread of each gunicorn worker
(shifangbang/wsgi.py, i.e. after the fork), only when WECHAT_APPID is set. A worker that stops (a
deploy, a restart) finishes the row in hand and claims no other, so a restart neither strands a
notice for a lease nor spends one of its attempts.
"""

import atexit
import logging
import random
import threading
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from .extensions import db
from .labels import COMPLAINT_KIND, COMPLAINT_STATUS, WORKSHOP_STATUS
from .models import (
    Complaint,
    ComplaintEvent,
    TitleGrant,
    WechatOutbox,
    WechatSubscription,
    WechatToken,
    WechatUser,
    Workshop,
)
from .timeutil import local, utcnow
from .wechat_client import STALE_TOKEN, USER_REFUSED, Client, WechatError

log = logging.getLogger(__name__)

POLL = 5.0  # seconds between looks at the outbox: a notice leaves well within a minute
LEASE = timedelta(seconds=60)  # a claimed row not finished by then is retried
BACKOFF_BASE = 10  # seconds; then 20, 40 … capped at BACKOFF_MAX
BACKOFF_MAX = 3600
MAX_ATTEMPTS = 10
TOKEN_MARGIN = timedelta(minutes=5)  # refresh the access token this long before it expires
BATCH = 20
STOP_WAIT = 15  # seconds a stopping worker waits for the row in hand (gunicorn's grace is 20)
# The keyword type (its name without the trailing number) → WeChat's length limit for its value.
VALUE_LIMITS = {"thing": 20, "phrase": 5, "character_string": 32, "letter": 32, "name": 10}


def enabled() -> bool:
    return bool(current_app.config.get("WECHAT_APPID"))


def _deployment():
    return current_app.extensions["deployment"].wechat


def fill(template, values: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """The template's keyword values from ours, each cut to its type's limit; and its page."""
    data = {}
    for keyword, name in template.fields.items():
        value = str(values.get(name) or "-")
        kind = keyword.rstrip("0123456789")
        limit = VALUE_LIMITS.get(kind)
        if limit and len(value) > limit:
            value = value[: limit - 1] + "…"
        data[keyword] = value
    page = template.page.format(**values) if template.page else None
    return data, page


def _when(at) -> str:
    return local(at).strftime("%Y年%m月%d日 %H:%M")


def _queue(sub: WechatSubscription, template, values: dict) -> None:
    data, page = fill(template, values)
    db.session.add(
        WechatOutbox(
            subscription_id=sub.id,
            user_id=sub.user_id,
            template_id=sub.template_id,
            page=page,
            data=data,
            status="pending",
            next_attempt_at=utcnow(),
        )
    )
    sub.status, sub.used_at = "used", utcnow()  # one-time: one message per acceptance


def case_moved(c: Complaint, event: ComplaintEvent) -> None:
    """Queue a notice for each active subscription to the case (called inside its transaction)."""
    if not enabled():
        return
    subs = db.session.scalars(
        select(WechatSubscription).where(
            WechatSubscription.complaint_id == c.id, WechatSubscription.status == "active"
        )
    ).all()
    if not subs:
        return
    values = {
        "tracking_no": c.tracking_no,
        "kind": COMPLAINT_KIND.get(c.kind, ""),
        "status": COMPLAINT_STATUS.get(c.status, ""),
        "updated_at": _when(event.at or utcnow()),
        "due_on": c.due_on.strftime("%Y年%m月%d日") if c.due_on else "",
        "reply": event.public_reply or f"办理状态：{COMPLAINT_STATUS.get(c.status, '')}",
        "workshop_name": c.workshop.name if c.workshop else (c.unregistered_name or "未登记作坊"),
    }
    for sub in subs:
        _queue(sub, _deployment().case_progress, values)


def workshop_face(w: Workshop) -> dict:
    """What a workshop subscription watches: the published tier, the held titles and the state."""
    titles = db.session.scalars(
        select(TitleGrant.title_id)
        .where(TitleGrant.workshop_id == w.id, TitleGrant.status == "held")
        .order_by(TitleGrant.title_id)
    ).all()
    return {"tier": w.tier_code, "titles": list(titles), "state": w.status}


def _change_text(before: dict, after: dict, w: Workshop) -> str:
    deployment = current_app.extensions["deployment"]
    parts = []
    if before.get("tier") != after["tier"]:
        parts.append(f"榜级变为{deployment.tier(after['tier']).name}")
    gained = set(after["titles"]) - set(before.get("titles") or [])
    lost = set(before.get("titles") or []) - set(after["titles"])
    if gained:
        parts.append("获得示范称号")
    if lost:
        parts.append("示范称号被撤销")
    if before.get("state") != after["state"]:
        parts.append(f"经营状态变为{WORKSHOP_STATUS.get(after['state'], after['state'])}")
    return "，".join(parts)


def workshop_changed(w: Workshop) -> None:
    """Queue a notice for each active subscription whose watched face of `w` changed."""
    if not enabled() or w.id is None:
        return
    subs = db.session.scalars(
        select(WechatSubscription).where(
            WechatSubscription.workshop_id == w.id, WechatSubscription.status == "active"
        )
    ).all()
    if not subs:
        return
    face = workshop_face(w)
    deployment = current_app.extensions["deployment"]
    for sub in subs:
        if sub.baseline == face:
            continue  # e.g. a decision approved but not yet published, an address edit
        values = {
            "code": w.public_code,
            "workshop_name": w.name,
            "tier": deployment.tier(w.tier_code).name,
            "titles": f"{len(face['titles'])} 项示范称号",
            "state": WORKSHOP_STATUS.get(w.status, w.status),
            "change": _change_text(sub.baseline or {}, face, w),
            "updated_at": _when(utcnow()),
        }
        _queue(sub, deployment.wechat.workshop_change, values)


# --- the access token, shared through the database ------------------------------------------------


def access_token(client: Client, stale: str | None = None) -> str:
    """The app's access token. `stale`: a token WeChat just refused (40001); it is replaced by a
    forced refresh unless another worker already replaced it."""
    # A forced refresh invalidates the token other workers hold: take the row's lock (PostgreSQL)
    # so that of several workers told 40001 at once only the first refreshes.
    row = db.session.get(WechatToken, 1, populate_existing=True, with_for_update=stale is not None)
    if row is None:  # the migration creates it; a hand-made database may not have it
        row = WechatToken(id=1, access_token="", expires_at=utcnow())
        db.session.add(row)
    fresh = row.access_token and row.expires_at > utcnow() + TOKEN_MARGIN
    if fresh and (stale is None or row.access_token != stale):
        token = row.access_token
        db.session.commit()
        return token
    token, expires_in = client.stable_token(force_refresh=stale is not None)
    row.access_token, row.expires_at = token, utcnow() + timedelta(seconds=expires_in)
    db.session.commit()
    return token


def call_with_token(client: Client, fn):
    """fn(access_token), retried once with a refreshed token when WeChat says it is stale."""
    token = access_token(client)
    try:
        return fn(token)
    except WechatError as e:
        if e.errcode not in STALE_TOKEN:
            raise
    return fn(access_token(client, stale=token))


# --- delivery -------------------------------------------------------------------------------------


def _due(now):
    return or_(
        and_(WechatOutbox.status == "pending", WechatOutbox.next_attempt_at <= now),
        and_(WechatOutbox.status == "sending", WechatOutbox.claimed_until < now),
    )


def claim(row_id: int) -> bool:
    """Take the row for this worker: one conditional UPDATE, so exactly one claimant matches."""
    now = utcnow()
    claimed = db.session.execute(
        update(WechatOutbox)
        .where(WechatOutbox.id == row_id, _due(now))
        .values(
            status="sending",
            claimed_until=now + LEASE,
            attempts=WechatOutbox.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, attempts - 1)))


def _finish(row_id: int, **values) -> None:
    db.session.execute(
        update(WechatOutbox)
        .where(WechatOutbox.id == row_id)
        .values(claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def deliver(client: Client, row_id: int) -> str:
    """Send one claimed row; returns its new status."""
    row = db.session.get(WechatOutbox, row_id, populate_existing=True)
    if row is None:  # its user deleted their account (wechat.forget) after the claim
        return "dropped"
    openid = db.session.scalar(select(WechatUser.openid).where(WechatUser.id == row.user_id))
    state = _deployment().miniprogram_state
    try:
        call_with_token(
            client,
            lambda token: client.send_subscribe(
                token, openid, row.template_id, row.data, row.page, state
            ),
        )
    except WechatError as e:
        error = str(e)[:200]
        if e.errcode == USER_REFUSED:
            if row.subscription_id:
                db.session.execute(
                    update(WechatSubscription)
                    .where(WechatSubscription.id == row.subscription_id)
                    .values(status="dropped")
                )
            _finish(row_id, status="dropped", last_error=error)
            return "dropped"
        if e.transient or e.errcode in STALE_TOKEN:
            if row.attempts < MAX_ATTEMPTS:
                _finish(
                    row_id,
                    status="pending",
                    last_error=error,
                    next_attempt_at=utcnow() + backoff(row.attempts),
                )
                return "pending"
        _finish(row_id, status="failed", last_error=error)
        log.warning("subscribe message %s failed for good: %s", row_id, error)
        return "failed"
    _finish(row_id, status="sent", sent_at=utcnow(), last_error=None)
    return "sent"


def deliver_due(
    client: Client | None = None, limit: int = BATCH, stopping=lambda: False
) -> dict[str, int]:
    """Claim and send what is due, until `stopping()`; {status: count}. Safe to run in any
    number of workers."""
    client = client or Client.from_config(current_app.config)
    ids = db.session.scalars(
        select(WechatOutbox.id)
        .where(_due(utcnow()))
        .order_by(WechatOutbox.next_attempt_at, WechatOutbox.id)
        .limit(limit)
    ).all()
    db.session.commit()  # end the read: SQLite would refuse an UPDATE from an older snapshot
    counts: dict[str, int] = {}
    for row_id in ids:
        if stopping():
            break
        if claim(row_id):
            status = deliver(client, row_id)
            counts[status] = counts.get(status, 0) + 1
    return counts


class Worker(threading.Thread):
    """Delivers the outbox every POLL seconds until stop()."""

    def __init__(self, app):
        super().__init__(name="wechat-outbox", daemon=True)
        self.app = app
        self.stopping = threading.Event()

    def run(self) -> None:
        # Workers started together look at different times.
        waited = self.stopping.wait(random.uniform(0, POLL))
        while not waited:
            try:
                with self.app.app_context():
                    deliver_due(stopping=self.stopping.is_set)
            except Exception:  # keep the thread alive; the rows stay for the next round
                log.exception("WeChat outbox delivery failed")
            waited = self.stopping.wait(POLL)

    def stop(self, timeout: float = STOP_WAIT) -> None:
        """Finish the row in hand, claim no other."""
        self.stopping.set()
        if self.is_alive():
            self.join(timeout)


def start_worker(app) -> Worker | None:
    """Start the delivery thread of this process; None when WeChat is not set up. It is stopped
    at exit (gunicorn's worker ends with sys.exit), before the interpreter drops daemon threads."""
    if not app.config.get("WECHAT_APPID"):
        return None
    worker = Worker(app)
    worker.start()
    atexit.register(worker.stop)
    return worker
