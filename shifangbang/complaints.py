"""投诉举报: intake, routing, legal deadlines, the handling workflow, tracking and confidentiality.

A complaint (投诉) is a consumer's dispute: real name and mobile number, decided on within 7
working days, then mediation for at most 60 days. A report (举报) is a lead on a violation: may
be anonymous, verified and decided on within 15 working days (+15 once, with a reason), then a
case decided within 90 days (+30). One submission holding both becomes two rows sharing
`submission_id`.

The reporter's name and phone are read only through `reporter_identity()`, which checks that
the reader handles the item and writes an audit entry. Nothing else in the product shows them.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from . import access, audit, deadlines, photos, textinput, tiers, wechat_outbox
from .errors import DomainError
from .extensions import db
from .labels import (
    COMPLAINT_CATEGORIES,
    COMPLAINT_KIND,
    COMPLAINT_STATUS,
    OPEN_COMPLAINT_STATUSES,
    REFUSAL_REASONS,
    TERMINATION_REASONS,
)
from .models import (
    Attachment,
    Complaint,
    ComplaintEvent,
    Jurisdiction,
    User,
    WechatBinding,
    Workshop,
)
from .timeutil import local, today, utcnow
from .tx import transactional

# --- rules and constants -------------------------------------------------------------------------

COMPLAINT_ACCEPT_WORKING_DAYS = 7
MEDIATION_DAYS = 60
VERIFY_WORKING_DAYS = 15  # +15 once, with a recorded reason
CASE_DAYS = 90  # +30 once, with a recorded reason
VERIFY_EXTENSION_WORKING_DAYS = 15
CASE_EXTENSION_DAYS = 30
SIMILAR_DAYS = 7

MOBILE = re.compile(r"1[3-9]\d{9}")
# Real names: Chinese in any CJK character (the extension planes too: 王䶮, 𠮷), minority names
# joined by the middle dot (阿依古丽·买买提), or Latin letters; NAME_MIN–NAME_MAX characters.
CJK = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
REAL_NAME = re.compile(rf"[{CJK}]+(?:·[{CJK}]+)*|[A-Za-z][A-Za-z .'-]*")
# Dots that phones and input methods type for the middle dot of a name, stored as "·".
NAME_DOTS = str.maketrans(dict.fromkeys("•・‧∙⋅･．", "·"))
NAME_MIN, NAME_MAX = 2, 30
# The longest text each public form field accepts (longer is refused, never cut); the form shows
# these beside the fields.
FIELD_MAX = {
    "unregistered_name": 100,
    "unregistered_address": 200,
    "content": 2000,
    "product": 80,
    "demand": 300,
    "name": NAME_MAX,
}
CONTENT_MIN = 10
TRACKING_NO = re.compile(r"(TS|JB)\d{10}")
# No 0/O, 1/I/L: read aloud and typed on a phone without confusion. 10 symbols ≈ 50 bits.
PASSWORD_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PASSWORD_LENGTH = 10
# The password is random, not chosen by a person, so a fast salted hash is enough and keeps
# submission cheap (under 1 ms); /track is rate limited on top.
PASSWORD_METHOD = "pbkdf2:sha256:2000"
_DUMMY_HASH = generate_password_hash("X" * PASSWORD_LENGTH, method=PASSWORD_METHOD)
HONEYPOT_FIELD = "website"
TRACKING_PREFIX = {"complaint": "TS", "report": "JB"}
CLOSED_STATUSES = tuple(s for s in COMPLAINT_STATUS if s not in OPEN_COMPLAINT_STATUSES)
AUDIT_FIELDS = (
    "status",
    "due_on",
    "extended",
    "extension_reason",
    "assigned_to_id",
    "refusal_reason",
    "termination_reason",
    "verified",
    "jurisdiction_id",
    "closed_at",
)  # never the identity


class ComplaintError(DomainError):
    """A rule refused the operation; the message is Chinese and shown as is."""


class SubmissionInvalid(ComplaintError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("；".join(errors.values()))
        self.errors = errors


class SpamSuspected(ComplaintError):
    def __init__(self):
        super().__init__("提交未被接受，请刷新页面后重新填写。")


# --- the transition table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    kinds: tuple[str, ...]
    sources: tuple[str, ...]
    target: str
    reasons: dict | None = None  # a closed list the officer must choose from
    needs_note: str | None = None  # the prompt when a written explanation is required


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("accept", "受理", ("complaint",), ("new",), "accepted"),
        Transition(
            "refuse", "不予受理", ("complaint",), ("new",), "refused", reasons=REFUSAL_REASONS
        ),
        Transition("mediate", "调解成功", ("complaint",), ("accepted",), "mediated"),
        Transition(
            "terminate",
            "终止调解",
            ("complaint",),
            ("accepted",),
            "terminated",
            reasons=TERMINATION_REASONS,
        ),
        Transition("verify", "开始核查", ("report",), ("new",), "verifying"),
        Transition("open_case", "立案", ("report",), ("verifying",), "case_opened"),
        Transition(
            "no_case",
            "不予立案",
            ("report",),
            ("verifying",),
            "no_case",
            needs_note="不予立案的理由",
        ),
        Transition("close_case", "结案", ("report",), ("case_opened",), "case_closed"),
        Transition(
            "transfer",
            "移送其他部门",
            ("complaint", "report"),
            ("new", "verifying"),
            "transferred",
            needs_note="移送的部门及理由",
        ),
    )
}
# Who: officers whose jurisdiction contains the item's (its station, or the county for an
# unregistered workshop) and bureau administrators — access action "handle_complaint".


# --- deadlines -----------------------------------------------------------------------------------


def received_day(c: Complaint) -> date:
    return local(c.received_at).date()


def _stage_started(c: Complaint) -> date:
    """The day the item entered its current status (events are the record of that)."""
    at = (
        db.session.scalar(
            select(func.max(ComplaintEvent.at)).where(
                ComplaintEvent.complaint_id == c.id, ComplaintEvent.to_status == c.status
            )
        )
        if c.id
        else None
    )
    return local(at).date() if at else received_day(c)


def next_deadline(c: Complaint, stage_start: date | None = None) -> date:
    """The next legal deadline for the item in its current status; closed items keep theirs."""
    if c.status == "new" and c.kind == "complaint":
        return deadlines.add_working_days(received_day(c), COMPLAINT_ACCEPT_WORKING_DAYS)
    if c.status in ("new", "verifying"):  # 15 working days from receipt to the case decision
        extra = VERIFY_EXTENSION_WORKING_DAYS if c.extended else 0
        return deadlines.add_working_days(received_day(c), VERIFY_WORKING_DAYS + extra)
    start = stage_start or _stage_started(c)
    if c.status == "accepted":
        return deadlines.period_end(start, MEDIATION_DAYS)
    if c.status == "case_opened":
        return deadlines.period_end(start, CASE_DAYS + (CASE_EXTENSION_DAYS if c.extended else 0))
    return c.due_on


def is_open(c: Complaint) -> bool:
    return c.status in OPEN_COMPLAINT_STATUSES


def is_overdue(c: Complaint, on: date | None = None) -> bool:
    return is_open(c) and c.due_on < (on or today())


def due_provisional(c: Complaint) -> bool:
    """The due date was counted without an official holiday calendar for its year."""
    return is_open(c) and deadlines.provisional(received_day(c), c.due_on)


# Stages whose deadline counts working days; the others (mediation 60 days, case 90 days)
# count calendar days and only move their last day past a holiday.
WORKING_DAY_STAGES = ("new", "verifying")


def deadline_note(c: Complaint) -> str | None:
    """What the officer should know about how a provisional due date was counted, or None."""
    if not due_provisional(c):
        return None
    if c.status in WORKING_DAY_STAGES:
        return "该年度法定节假日尚未公布，暂按周一至周五计算"
    return "按日历日计算；该年度法定节假日尚未公布，期满日如逢节假日将顺延"


# --- submission ----------------------------------------------------------------------------------


@dataclass
class Receipt:
    """What the acknowledgement page shows, once: built only after the commit."""

    submission_id: str
    items: list[tuple[str, str, date]]  # (kind, tracking_no, due_on)
    password: str
    anonymous: bool
    photo_count: int
    similar_recent: bool = False
    bound: bool = False  # bound to the mini-program user who filed it


def normalise_phone(raw: str) -> str:
    phone = re.sub(r"[\s\-()（）]", "", raw or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    elif phone.startswith("86") and len(phone) == 13:
        phone = phone[2:]
    return phone


def fingerprint(
    client_ip: str | None, workshop_id: int | None, unregistered_name: str | None
) -> str:
    """Keyed hash of client and target: finds repeat submissions without storing the address."""
    target = f"w{workshop_id}" if workshop_id else f"u:{(unregistered_name or '').strip()}"
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{client_ip or ''}|{target}".encode(), hashlib.sha256).hexdigest()


def similar_recent(fp: str) -> bool:
    """Did the same client write about the same workshop in the last 7 days? A hint, not a block."""
    since = utcnow() - timedelta(days=SIMILAR_DAYS)
    return (
        db.session.scalar(
            select(Complaint.id)
            .where(Complaint.client_fingerprint == fp, Complaint.received_at >= since)
            .limit(1)
        )
        is not None
    )


def find_workshop(public_code: str | None) -> Workshop | None:
    code = (public_code or "").strip()
    if not code:
        return None
    return db.session.scalar(select(Workshop).where(Workshop.public_code == code))


def counties() -> list[Jurisdiction]:
    return list(
        db.session.scalars(
            select(Jurisdiction).where(Jurisdiction.level == "county").order_by(Jurisdiction.code)
        )
    )


TEXT_LABELS = {
    "unregistered_name": "作坊名称",
    "unregistered_address": "地址",
    "content": "具体情况",
    "product": "产品名称",
    "demand": "诉求",
    "name": "姓名",
}


def _text(form: Mapping, key: str, errors: dict[str, str]) -> str:
    value = textinput.clean(form.get(key) or "").strip()
    error = textinput.too_long(TEXT_LABELS[key], FIELD_MAX[key], value)
    if error:
        errors[key] = error
    return value


def normalise_name(raw: str) -> str:
    """Trim, drop the spaces an input method leaves around the middle dot, unify the dot."""
    name = " ".join(raw.split()).translate(NAME_DOTS)
    return name.replace(" ·", "·").replace("· ", "·")


def validate(form: Mapping) -> tuple[dict, dict[str, str]]:
    """Clean the public form; returns (values, errors by field). Messages are for the public."""
    errors: dict[str, str] = {}
    v: dict = {}
    kind = form.get("kind") or ""
    if kind not in ("complaint", "report", "both"):
        errors["kind"] = "请选择“投诉”“举报”或“投诉并举报”。"
    v["kinds"] = ["complaint", "report"] if kind == "both" else [kind]

    workshop = find_workshop(form.get("w"))
    v["workshop"] = workshop
    v["unregistered_name"] = v["unregistered_address"] = None
    v["county"] = None
    if form.get("w") and workshop is None:
        errors["w"] = "找不到这家作坊，请重新搜索选择，或填写未登记作坊的名称和地址。"
    elif workshop is None:
        v["unregistered_name"] = _text(form, "unregistered_name", errors) or None
        v["unregistered_address"] = _text(form, "unregistered_address", errors) or None
        if not v["unregistered_address"]:
            errors["unregistered_address"] = "请选择作坊，或填写未登记作坊（黑作坊）的具体地址。"
        county_id = form.get("county") or ""
        county = db.session.get(Jurisdiction, int(county_id)) if county_id.isdigit() else None
        if county is None or county.level != "county":
            errors["county"] = "请选择作坊所在的县区（旗）。"
        v["county"] = county

    category = form.get("category") or ""
    if category not in COMPLAINT_CATEGORIES:
        errors["category"] = "请选择问题类别。"
    v["category"] = category

    content = _text(form, "content", errors)
    if len(content) < CONTENT_MIN and "content" not in errors:
        errors["content"] = (
            f"请具体描述问题（至少 {CONTENT_MIN} 个字）：什么时间、什么产品、发现了什么。"
        )
    v["content"] = content
    v["product"] = _text(form, "product", errors) or None
    v["demand"] = _text(form, "demand", errors) or None
    if "complaint" in v["kinds"] and not v["demand"] and "demand" not in errors:
        errors["demand"] = "投诉请写明您的诉求（例如退款、赔偿、道歉）。"

    v["purchased_on"] = None
    raw_date = (form.get("purchased_on") or "").strip()
    if raw_date:
        try:
            v["purchased_on"] = date.fromisoformat(raw_date)
            if v["purchased_on"] > today():
                errors["purchased_on"] = "购买日期不能晚于今天。"
        except ValueError:
            errors["purchased_on"] = "购买日期格式不对，请按 2026-05-01 这样填写。"
    v["amount_yuan"] = None
    raw_amount = (form.get("amount") or "").strip()
    if raw_amount:
        try:
            v["amount_yuan"] = round(float(raw_amount), 2)
            if not 0 <= v["amount_yuan"] <= 1_000_000:
                raise ValueError
        except ValueError:
            errors["amount"] = "金额请填写数字（元）。"

    insider = form.get("insider") == "1"
    anonymous = form.get("anonymous") == "1" and not insider and kind == "report"
    if form.get("anonymous") == "1" and kind in ("complaint", "both"):
        errors["anonymous"] = "投诉需要实名，不能匿名。只反映违法线索请选择“举报”。"
    if insider and kind == "complaint":
        errors["insider"] = "内部知情人请选择“举报”或“投诉并举报”。"
    v["insider"], v["anonymous"] = insider, anonymous
    v["name"] = v["phone"] = None
    if not anonymous:
        name = normalise_name(_text(form, "name", errors))
        phone = normalise_phone(form.get("phone") or "")
        who = "内部知情人举报" if insider else ("投诉" if "complaint" in v["kinds"] else "实名举报")
        if not name:
            errors["name"] = f"{who}请填写真实姓名。"
        elif not NAME_MIN <= len(name) <= NAME_MAX:
            errors["name"] = f"姓名请填写 {NAME_MIN}–{NAME_MAX} 个字（现在是 {len(name)} 个字）。"
        elif not REAL_NAME.fullmatch(name):
            errors["name"] = (
                "姓名只能是汉字或英文字母；少数民族姓名中间用“·”隔开，例如：阿依古丽·买买提。"
            )
        if not MOBILE.fullmatch(phone):
            errors["phone"] = f"{who}请填写有效的 11 位手机号码。"
        v["name"], v["phone"] = name, phone
    return v, errors


def _new_tracking_no(kind: str) -> str:
    return TRACKING_PREFIX[kind] + "".join(secrets.choice("0123456789") for _ in range(10))


def new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def submit(
    form: Mapping,
    uploads: list[tuple[str, bytes]] = (),
    client_ip: str | None = None,
    channel: str = "web",
    wechat_user_id: int | None = None,
) -> Receipt:
    """Validate, store and commit a submission. Raises SubmissionInvalid (errors by field, photos
    under "photos"), SpamSuspected, or a database error — never returns before the commit.
    `wechat_user_id`: the mini-program user who filed it, bound unless the report is anonymous."""
    if (form.get(HONEYPOT_FIELD) or "").strip():
        raise SpamSuspected()
    values, errors = validate(form)
    try:
        stored = photos.process_uploads(list(uploads))
    except photos.PhotoError as e:
        errors["photos"] = str(e) + " 其余内容已保留，请重新选择照片。"
        stored = []
    if errors:
        raise SubmissionInvalid(errors)
    password = new_password()
    password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
    for attempt in range(3):  # a tracking-number collision (1 in 10^10) is retried, not shown
        try:
            return _store(
                values, stored, password, password_hash, client_ip, channel, wechat_user_id
            )
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@transactional
def _store(
    v: dict,
    stored: list[photos.Photo],
    password: str,
    password_hash: str,
    client_ip: str | None,
    channel: str,
    wechat_user_id: int | None = None,
) -> Receipt:
    workshop: Workshop | None = v["workshop"]
    jurisdiction_id = workshop.station_id if workshop else v["county"].id
    fp = fingerprint(client_ip, workshop.id if workshop else None, v["unregistered_name"])
    similar = similar_recent(fp)
    submission_id = secrets.token_hex(16)
    now = utcnow()
    items = []
    for kind in v["kinds"]:
        c = Complaint(
            tracking_no=_new_tracking_no(kind),
            password_hash=password_hash,
            submission_id=submission_id,
            kind=kind,
            channel=channel,
            workshop_id=workshop.id if workshop else None,
            unregistered_name=v["unregistered_name"],
            unregistered_address=v["unregistered_address"],
            jurisdiction_id=jurisdiction_id,
            category=v["category"],
            content=v["content"],
            product=v["product"],
            purchased_on=v["purchased_on"],
            amount_yuan=v["amount_yuan"],
            demand=v["demand"] if kind == "complaint" else None,
            reporter_name=v["name"],
            reporter_phone=v["phone"],
            anonymous=v["anonymous"],
            insider=v["insider"],
            status="new",
            received_at=now,
            client_fingerprint=fp,
        )
        c.due_on = next_deadline(c)
        # Photos belong to both items of a "both" submission: each is handled on its own.
        c.attachments = [
            Attachment(mime=p.mime, width=p.width, height=p.height, size=p.size, data=p.data)
            for p in stored
        ]
        c.events = [
            ComplaintEvent(
                at=now,
                from_status=None,
                to_status="new",
                note="在线提交" if channel == "web" else f"通过 {channel} 提交",
            )
        ]
        db.session.add(c)
        items.append(c)
    db.session.flush()
    # Anonymous stays anonymous: an openid beside the report would identify its author.
    bound = bool(wechat_user_id) and not v["anonymous"]
    if bound:
        db.session.add_all(WechatBinding(complaint_id=c.id, user_id=wechat_user_id) for c in items)
    return Receipt(
        submission_id=submission_id,
        items=[(c.kind, c.tracking_no, c.due_on) for c in items],
        password=password,
        anonymous=v["anonymous"],
        photo_count=len(stored),
        similar_recent=similar,
        bound=bound,
    )


# --- public tracking -----------------------------------------------------------------------------


@dataclass
class TrackEntry:
    at: datetime
    status: str | None  # a Chinese label, or None for a reply alone
    reason: str | None
    reply: str | None


@dataclass
class TrackView:
    """Only what the public tracking page may show: never the text, never the identity."""

    tracking_no: str
    kind: str
    category: str
    workshop_name: str | None
    received_at: datetime
    status: str
    is_open: bool
    due_on: date
    timeline: list[TrackEntry] = field(default_factory=list)
    # Codes beside the labels, for machine readers (the open API).
    kind_code: str = ""
    status_code: str = ""
    closed_at: datetime | None = None
    overdue: bool = False  # 已超期: still open after its legal deadline


def normalise_tracking_no(raw: str) -> str:
    return re.sub(r"[\s\-]", "", raw or "").upper()


def normalise_password(raw: str) -> str:
    """What /track compares: spaces and dashes dropped, upper case (passwords are read aloud)."""
    return re.sub(r"[\s\-]", "", raw or "").upper()


def track(number: str, password: str) -> TrackView | None:
    """None for a wrong number and for a wrong password alike (and in about the same time)."""
    number = normalise_tracking_no(number)
    password = normalise_password(password)
    c = None
    if TRACKING_NO.fullmatch(number):
        c = db.session.scalar(
            select(Complaint)
            .where(Complaint.tracking_no == number)
            .options(joinedload(Complaint.workshop))
        )
    ok = check_password_hash(c.password_hash if c else _DUMMY_HASH, password)
    if c is None or not ok:
        return None
    return track_view(c)


def track_view(c: Complaint) -> TrackView:
    """What the person who filed `c` may see (after the password, or their bound WeChat sign-in)."""
    events = db.session.scalars(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == c.id)
        .order_by(ComplaintEvent.at, ComplaintEvent.id)
    )
    timeline = []
    for e in events:
        if e.to_status is None and not e.public_reply:
            continue  # notes, assignment, identity views: internal
        reason = None
        if e.to_status == "refused":
            reason = REFUSAL_REASONS.get(c.refusal_reason)
        elif e.to_status == "terminated":
            reason = TERMINATION_REASONS.get(c.termination_reason)
        timeline.append(
            TrackEntry(
                at=e.at,
                status=COMPLAINT_STATUS.get(e.to_status) if e.to_status else None,
                reason=reason,
                reply=e.public_reply,
            )
        )
    return TrackView(
        tracking_no=c.tracking_no,
        kind=COMPLAINT_KIND[c.kind],
        category=COMPLAINT_CATEGORIES.get(c.category, ""),
        workshop_name=c.workshop.name if c.workshop else None,
        received_at=c.received_at,
        status=COMPLAINT_STATUS[c.status],
        is_open=is_open(c),
        due_on=c.due_on,
        overdue=is_overdue(c),
        timeline=timeline,
        kind_code=c.kind,
        status_code=c.status,
        closed_at=c.closed_at,
    )


# --- the regulator's side ------------------------------------------------------------------------


def _require_handle(actor, c: Complaint) -> None:
    access.require(actor, "handle_complaint", c.jurisdiction_id)


def _event(
    actor,
    c: Complaint,
    note: str = "",
    public_reply: str | None = None,
    from_status=None,
    to_status=None,
) -> ComplaintEvent:
    e = ComplaintEvent(
        complaint_id=c.id,
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        from_status=from_status,
        to_status=to_status,
        note=note,
        public_reply=public_reply or None,
    )
    db.session.add(e)
    if to_status or e.public_reply:  # what the person sees on /track moved: tell subscribers
        wechat_outbox.case_moved(c, e)
    return e


def _clean_reply(text: str | None) -> str | None:
    text = (text or "").strip()
    if len(text) > 2000:
        raise ComplaintError("答复不能超过 2000 字。")
    return text or None


def available_actions(actor, c: Complaint) -> list[Transition]:
    if not access.can(actor, "handle_complaint", c.jurisdiction_id):
        return []
    return [t for t in TRANSITIONS.values() if c.kind in t.kinds and c.status in t.sources]


def check_transition(
    actor, c: Complaint, action: str, reason: str | None, note: str, public_reply: str | None
) -> tuple[Transition, str, str | None]:
    """(the step, the note, the public reply) as transition() would take them, or the
    ComplaintError it would raise; changes nothing (the back office asks before a closing step
    only once the step would go through)."""
    _require_handle(actor, c)
    t = TRANSITIONS.get(action)
    if t is None:
        raise ComplaintError("未知的处理操作。")
    if c.kind not in t.kinds:
        raise ComplaintError(f"{COMPLAINT_KIND[c.kind]}不能进行“{t.label}”操作。")
    if c.status not in t.sources:
        raise ComplaintError(f"当前状态为“{COMPLAINT_STATUS[c.status]}”，不能进行“{t.label}”操作。")
    if t.reasons is not None and reason not in t.reasons:
        raise ComplaintError(f"请从列表中选择{t.label}的理由。")
    note = (note or "").strip()
    if t.needs_note and not note:
        raise ComplaintError(f"请填写{t.needs_note}。")
    return t, note, _clean_reply(public_reply)


@transactional
def transition(
    actor,
    c: Complaint,
    action: str,
    *,
    reason: str | None = None,
    note: str = "",
    public_reply: str | None = None,
) -> ComplaintEvent:
    """One step of the workflow; every rule checked here (check_transition), not in the view."""
    t, note, reply = check_transition(actor, c, action, reason, note, public_reply)
    before = audit.snapshot(c, AUDIT_FIELDS)
    source = c.status
    # Claim the step atomically: two officers acting at once cannot both move the item.
    claimed = db.session.execute(
        update(Complaint)
        .where(Complaint.id == c.id, Complaint.status == source)
        .values(status=t.target)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise ComplaintError("该事项刚被其他人处理过，请刷新页面后再操作。")
    c.status = t.target
    if action == "refuse":
        c.refusal_reason = reason
    if action == "terminate":
        c.termination_reason = reason
    if action == "open_case":
        c.extended, c.extension_reason = False, None  # a new period with its own single extension
    if t.target in CLOSED_STATUSES:
        c.closed_at = utcnow()
    c.due_on = next_deadline(c, stage_start=today())
    event = _event(actor, c, note, reply, from_status=source, to_status=t.target)
    audit.record(
        actor,
        f"complaint.{action}",
        "complaint",
        c.id,
        before=before,
        after=dict(audit.snapshot(c, AUDIT_FIELDS), note=note, public_reply=reply),
    )
    return event


@transactional
def extend(actor, c: Complaint, reason: str) -> ComplaintEvent:
    """+15 working days for verification, or +30 days for a case: once, with a recorded reason."""
    _require_handle(actor, c)
    reason = (reason or "").strip()
    if c.kind != "report" or c.status not in ("new", "verifying", "case_opened"):
        raise ComplaintError("只有核查中或已立案的举报可以延长办理期限。")
    if c.extended:
        raise ComplaintError("该阶段的办理期限已延长过一次，不能再次延长。")
    if not reason:
        raise ComplaintError("请填写延长期限的理由（经负责人批准的情况）。")
    before = audit.snapshot(c, AUDIT_FIELDS)
    c.extended, c.extension_reason = True, reason
    c.due_on = next_deadline(c)
    event = _event(actor, c, f"延长办理期限至 {c.due_on.isoformat()}：{reason}")
    audit.record(
        actor,
        "complaint.extend",
        "complaint",
        c.id,
        before=before,
        after=audit.snapshot(c, AUDIT_FIELDS),
    )
    return event


def assignable_officers(c: Complaint) -> list[User]:
    """Active officers who handle the item's jurisdiction, and administrators."""
    rows = db.session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_(("officer", "admin")))
        .order_by(User.role.desc(), User.display_name)
    )
    return [u for u in rows if access.can(u, "handle_complaint", c.jurisdiction_id)]


@transactional
def assign(actor, c: Complaint, assignee: User | None) -> ComplaintEvent:
    _require_handle(actor, c)
    if assignee is not None and (
        assignee.role not in ("officer", "admin")
        or not access.can(assignee, "handle_complaint", c.jurisdiction_id)
    ):
        raise ComplaintError("只能指派给负责该辖区的执法人员。")
    before = audit.snapshot(c, AUDIT_FIELDS)
    c.assigned_to_id = assignee.id if assignee else None
    event = _event(
        actor,
        c,
        f"指派给 {assignee.display_name}（{assignee.username}）" if assignee else "取消指派",
    )
    audit.record(
        actor,
        "complaint.assign",
        "complaint",
        c.id,
        before=before,
        after=audit.snapshot(c, AUDIT_FIELDS),
    )
    return event


@transactional
def add_note(actor, c: Complaint, note: str) -> ComplaintEvent:
    _require_handle(actor, c)
    note = (note or "").strip()
    if not note:
        raise ComplaintError("请填写备注内容。")
    if len(note) > 5000:
        raise ComplaintError("备注不能超过 5000 字。")
    event = _event(actor, c, note)
    db.session.flush()
    audit.record(actor, "complaint.note", "complaint", c.id, after={"event_id": event.id})
    return event


@transactional
def reply(actor, c: Complaint, text: str) -> ComplaintEvent:
    """A reply the person sees on /track."""
    _require_handle(actor, c)
    text = _clean_reply(text)
    if not text:
        raise ComplaintError("请填写答复内容。")
    event = _event(actor, c, public_reply=text)
    db.session.flush()
    audit.record(
        actor,
        "complaint.reply",
        "complaint",
        c.id,
        after={"event_id": event.id, "public_reply": text},
    )
    return event


@transactional
def record_finding(actor, c: Complaint, verified: bool, note: str = ""):
    """查实 (verified true) or 查无实据. 查实 on a registered workshop opens a tier review.
    Returns the review (TierDecision) or None."""
    _require_handle(actor, c)
    if c.status in ("new", "refused", "transferred"):
        raise ComplaintError("请先受理或开始核查，再记录核查结论。")
    if c.verified is not None:
        raise ComplaintError("该事项已记录核查结论。")
    before = audit.snapshot(c, AUDIT_FIELDS)
    c.verified = verified
    _event(
        actor,
        c,
        ("经查属实（查实）" if verified else "查无实据")
        + (f"：{note.strip()}" if note.strip() else ""),
    )
    audit.record(
        actor,
        "complaint.verified" if verified else "complaint.unfounded",
        "complaint",
        c.id,
        before=before,
        after=audit.snapshot(c, AUDIT_FIELDS),
    )
    review = None
    if verified and c.workshop_id:
        review = tiers.open_review(actor, db.session.get(Workshop, c.workshop_id), c)
    return review


@transactional
def reroute(actor, c: Complaint, target: Jurisdiction, note: str = "") -> ComplaintEvent:
    """Hand an item to another station or county (e.g. a black workshop's county → its station)."""
    _require_handle(actor, c)
    access.require(actor, "handle_complaint", target.id)
    if c.status not in ("new", "verifying"):
        raise ComplaintError("只有待处理或核查中的事项可以转交其他所/中队。")
    if (
        target.level not in ("station", "county")
        or target.id == c.jurisdiction_id
        or target.merge is not None
    ):
        raise ComplaintError("请选择另一个所/中队或县区局。")
    before = audit.snapshot(c, AUDIT_FIELDS)
    old = c.jurisdiction
    c.jurisdiction_id, c.assigned_to_id = target.id, None
    event = _event(
        actor, c, f"由{old.name}转交{target.name}" + (f"：{note.strip()}" if note.strip() else "")
    )
    audit.record(
        actor,
        "complaint.reroute",
        "complaint",
        c.id,
        before=before,
        after=audit.snapshot(c, AUDIT_FIELDS),
    )
    return event


@dataclass(frozen=True)
class Identity:
    name: str | None
    phone: str | None
    anonymous: bool
    insider: bool


@transactional
def reporter_identity(actor, c: Complaint) -> Identity:
    """The ONLY way to read a reporter's name and phone: handling officers and administrators,
    and every reading is written to the audit log."""
    access.require(actor, "view_reporter", c.jurisdiction_id)
    audit.record(actor, "complaint.view_reporter", "complaint", c.id)
    return Identity(c.reporter_name, c.reporter_phone, c.anonymous, c.insider)


# --- inbox queries -------------------------------------------------------------------------------


DUE_SOON_DAYS = 3  # an open item due within this many days is near its deadline (待办)


@dataclass
class InboxFilter:
    status: str = "open"  # a status code, "open", or "" for all
    kind: str = ""
    jurisdiction_id: int | None = None
    overdue: bool = False
    due_soon: bool = False  # open and due within DUE_SOON_DAYS days (overdue ones apart)
    assignee_id: int | None = None  # 0: unassigned
    q: str = ""  # tracking number, workshop (name or public code), or the reporter's phone
    page: int = 1
    per_page: int = 30


def inbox(actor, f: InboxFilter) -> tuple[list[Complaint], int]:
    """The items the actor may see, new first, then most recent; (page of items, total)."""
    access.require(actor, "view")
    q = select(Complaint)
    scope = access.visible_jurisdiction_ids(actor)
    if scope is not None:
        q = q.where(Complaint.jurisdiction_id.in_(scope))
    if f.jurisdiction_id:
        q = q.where(Complaint.jurisdiction_id.in_(access.subtree_ids(f.jurisdiction_id)))
    if f.status == "open":
        q = q.where(Complaint.status.in_(OPEN_COMPLAINT_STATUSES))
    elif f.status in COMPLAINT_STATUS:
        q = q.where(Complaint.status == f.status)
    if f.kind in COMPLAINT_KIND:
        q = q.where(Complaint.kind == f.kind)
    if f.overdue:
        q = q.where(Complaint.status.in_(OPEN_COMPLAINT_STATUSES), Complaint.due_on < today())
    if f.due_soon:
        q = q.where(
            Complaint.status.in_(OPEN_COMPLAINT_STATUSES),
            Complaint.due_on >= today(),
            Complaint.due_on <= today() + timedelta(days=DUE_SOON_DAYS),
        )
    if f.q:
        q = q.where(_search(actor, f.q))
    if f.assignee_id == 0:
        q = q.where(Complaint.assigned_to_id.is_(None))
    elif f.assignee_id:
        q = q.where(Complaint.assigned_to_id == f.assignee_id)
    total = db.session.scalar(select(func.count()).select_from(q.subquery()))
    page = max(1, f.page)
    items = (
        db.session.scalars(
            q.options(
                joinedload(Complaint.workshop),
                joinedload(Complaint.jurisdiction),
                joinedload(Complaint.assigned_to),
            )
            .order_by(
                case((Complaint.status == "new", 0), else_=1),
                Complaint.received_at.desc(),
                Complaint.id.desc(),
            )
            .offset((page - 1) * f.per_page)
            .limit(f.per_page)
        )
        .unique()
        .all()
    )
    return list(items), total


def _search(actor, text: str):
    """Match by tracking number, by workshop (registered name or public code, or the name a
    report gave a black workshop), and by the reporter's phone for those who may read identities
    (the same people reporter_identity() serves; the scope is already the actor's)."""
    text = text.strip()[:50]
    like = f"%{text.replace('%', '').replace('_', '')}%"
    shops = select(Workshop.id).where(or_(Workshop.name.ilike(like), Workshop.public_code == text))
    clauses = [
        Complaint.tracking_no.ilike(like),
        Complaint.workshop_id.in_(shops),
        Complaint.unregistered_name.ilike(like),
    ]
    phone = normalise_phone(text)
    if phone.isdigit() and len(phone) >= 7 and access.can(actor, "view_reporter"):
        clauses.append(Complaint.reporter_phone == phone)
    return or_(*clauses)


def get_for(actor, complaint_id: int) -> Complaint | None:
    """The item if the actor may see it (Forbidden otherwise); None if there is no such item."""
    c = db.session.scalar(
        select(Complaint)
        .where(Complaint.id == complaint_id)
        .options(
            joinedload(Complaint.workshop),
            joinedload(Complaint.jurisdiction),
            joinedload(Complaint.assigned_to),
        )
    )
    if c is None:
        return None
    access.require(actor, "view", c.jurisdiction_id)
    return c


def attachment_for(actor, complaint_id: int, attachment_id: int) -> Attachment | None:
    c = get_for(actor, complaint_id)
    if c is None:
        return None
    return db.session.scalar(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.complaint_id == c.id)
    )


def attachment_meta(c: Complaint) -> list[tuple[int, int, int, int]]:
    """(id, width, height, size) without loading the image bytes."""
    return db.session.execute(
        select(Attachment.id, Attachment.width, Attachment.height, Attachment.size)
        .where(Attachment.complaint_id == c.id)
        .order_by(Attachment.id)
    ).all()


def related(c: Complaint) -> list[Complaint]:
    """Other items on the same workshop within 7 days either side, and the submission's twin."""
    window = timedelta(days=SIMILAR_DAYS)
    cond = Complaint.submission_id == c.submission_id
    if c.workshop_id:
        cond = cond | (
            (Complaint.workshop_id == c.workshop_id)
            & Complaint.received_at.between(c.received_at - window, c.received_at + window)
        )
    return list(
        db.session.scalars(
            select(Complaint)
            .where(cond, Complaint.id != c.id)
            .order_by(Complaint.received_at.desc())
            .limit(20)
        )
    )


def events_for(c: Complaint) -> list[ComplaintEvent]:
    return list(
        db.session.scalars(
            select(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == c.id)
            .options(joinedload(ComplaintEvent.actor))
            .order_by(ComplaintEvent.at, ComplaintEvent.id)
        )
    )


# --- a new holiday calendar ----------------------------------------------------------------------


@dataclass
class Recomputed:
    tracking_no: str
    old: date
    new: date


@transactional
def recompute_deadlines(
    actor=None, everything: bool = False, dry_run: bool = False
) -> list[Recomputed]:
    """After chinese-calendar learns a new year's holidays: recount the due dates of open items
    (only those counted provisionally, unless `everything`), each change audited."""
    changed = []
    items = db.session.scalars(
        select(Complaint)
        .where(Complaint.status.in_(OPEN_COMPLAINT_STATUSES))
        .order_by(Complaint.id)
    )
    for c in items:
        if not everything and not deadlines.provisional(received_day(c), c.due_on):
            continue
        new = next_deadline(c)
        if new == c.due_on:
            continue
        changed.append(Recomputed(c.tracking_no, c.due_on, new))
        if dry_run:
            continue
        before = audit.snapshot(c, AUDIT_FIELDS)
        c.due_on = new
        audit.record(
            actor,
            "complaint.deadline_recompute",
            "complaint",
            c.id,
            before=before,
            after=audit.snapshot(c, AUDIT_FIELDS),
        )
    return changed
