"""The two places where the API stands in for another feature's domain code.

ADAPTER NOTE (for the lead): `search()` and `submit()` / `track()` are thin, self-contained
versions written before search_index (issue 4) and shifangbang/complaints.py (issue 5) were
merged. After merging, rewire them to the real domain functions; the request and response
shapes are fixed by the OpenAPI document (public_site/api/openapi.py) and must not change.
"""
import io
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from shifangbang import deadlines, labels
from shifangbang.extensions import db
from shifangbang.models import Attachment, Complaint, Jurisdiction, Workshop
from shifangbang.timeutil import today
from shifangbang.tx import transactional

from . import queries

MAX_PHOTOS = 3
MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_PHOTO_SIDE = 2048
PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read aloud over the phone
DECIDE_WORKING_DAYS = {"complaint": 7, "report": 15}
_DUMMY_HASH = generate_password_hash("not a real password")  # same work for unknown numbers


# --- search --------------------------------------------------------------------------------------


def search(filters: dict, page: int, per_page: int) -> tuple[list[Workshop], int]:
    """ADAPTER: database LIKE filter for now; rewire to search_index's query (issue 4) after merging.

    `filters` holds q, tier, county, station, category, high_risk, status; returns (page rows, total).
    """
    return queries.page_of(queries.filtered(filters), page, per_page)


# --- complaints and reports ------------------------------------------------------------------------


class SubmissionError(ValueError):
    """Invalid submission: `errors` maps field → Chinese message (rendered as a 422)."""

    def __init__(self, errors: dict):
        super().__init__("提交的内容有误，请检查后重试。")
        self.errors = errors


@dataclass
class Submitted:
    items: list[Complaint]
    password: str
    extra: dict = field(default_factory=dict)


def _clean_photo(storage) -> Attachment:
    """Re-encode as JPEG (drops EXIF, including GPS) and bound the size, like the web form."""
    data = storage.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise SubmissionError({"photos": "每张照片不能超过 8 MB。"})
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            img = img.convert("RGB")
            img.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
            out = io.BytesIO()
            img.save(out, "JPEG", quality=85)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise SubmissionError({"photos": "照片无法识别，请上传 JPG 或 PNG 图片。"}) from None
    blob = out.getvalue()
    return Attachment(mime="image/jpeg", width=img.width, height=img.height, size=len(blob), data=blob)


def _county_of(j: Jurisdiction) -> Jurisdiction:
    return j.county or j


def _date(value: str | None, name: str, errors: dict) -> date | None:
    if not value:
        return None
    try:
        d = date.fromisoformat(value)
    except ValueError:
        errors[name] = "日期格式应为 YYYY-MM-DD。"
        return None
    if d > today():
        errors[name] = "日期不能晚于今天。"
    return d


def validate(form: dict) -> dict:
    """Check a submission (a dict of strings) and return the cleaned values; SubmissionError otherwise."""
    errors: dict[str, str] = {}
    # NUL cannot be stored in PostgreSQL text and is never meaningful in a form field.
    get = lambda k: (form.get(k) or "").replace("\x00", "").strip()  # noqa: E731
    kind = get("kind") or "report"
    if kind not in ("complaint", "report", "both"):
        errors["kind"] = "类型只能是 complaint（投诉）、report（举报）或 both。"
    category = get("category") or "other"
    if category not in labels.COMPLAINT_CATEGORIES:
        errors["category"] = "请选择有效的问题类别。"
    content = get("content")
    if len(content) < 5:
        errors["content"] = "请至少用 5 个字说明情况。"
    elif len(content) > 2000:
        errors["content"] = "情况说明最多 2000 字。"
    workshop = None
    jurisdiction = None
    code = get("workshop_code")
    if code:
        workshop = db.session.scalar(select(Workshop).where(Workshop.public_code == code))
        if workshop is None:
            errors["workshop_code"] = "找不到这个作坊编号。"
        else:
            jurisdiction = workshop.station
    else:
        if not get("unregistered_name") and not get("unregistered_address"):
            errors["workshop_code"] = "请填写作坊编号，或者说明无证作坊的名称或地址。"
        jcode = get("jurisdiction")
        if jcode:
            jurisdiction = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == jcode))
        if jurisdiction is None:
            errors["jurisdiction"] = "请选择作坊所在的区县（jurisdiction）。"
        else:
            jurisdiction = _county_of(jurisdiction)
    anonymous = get("anonymous").lower() in ("true", "1", "on", "yes")
    name, phone = get("reporter_name"), get("reporter_phone")
    if kind in ("complaint", "both"):
        # 投诉 goes to mediation: it needs a real name and phone.
        anonymous = False
        if not name:
            errors["reporter_name"] = "投诉须填写真实姓名。"
        if not phone:
            errors["reporter_phone"] = "投诉须填写联系电话。"
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 20):
        errors["reporter_phone"] = "联系电话只能是 7 到 20 位数字。"
    if len(name) > 40:
        errors["reporter_name"] = "姓名最多 40 个字。"
    amount = None
    if get("amount_yuan"):
        try:
            amount = float(get("amount_yuan"))
            if not 0 <= amount <= 10_000_000:
                raise ValueError
        except ValueError:
            errors["amount_yuan"] = "金额应为 0 到 10000000 之间的数字。"
    purchased_on = _date(get("purchased_on"), "purchased_on", errors)
    for key, limit in (("product", 80), ("demand", 300), ("unregistered_name", 100), ("unregistered_address", 200)):
        if len(get(key)) > limit:
            errors[key] = f"最多 {limit} 个字。"
    if errors:
        raise SubmissionError(errors)
    return {
        "kinds": ["complaint", "report"] if kind == "both" else [kind],
        "workshop": workshop, "jurisdiction": jurisdiction, "category": category, "content": content,
        "product": get("product") or None, "purchased_on": purchased_on, "amount_yuan": amount,
        "demand": get("demand") or None, "reporter_name": None if anonymous else (name or None),
        "reporter_phone": None if anonymous else (phone or None), "anonymous": anonymous or not (name or phone),
        "insider": get("insider").lower() in ("true", "1", "on", "yes"),
        "unregistered_name": None if workshop else (get("unregistered_name") or None),
        "unregistered_address": None if workshop else (get("unregistered_address") or None),
    }


def _tracking_no() -> str:
    while True:
        candidate = f"{today():%Y%m%d}{secrets.randbelow(10**8):08d}"
        if not db.session.scalar(select(Complaint.id).where(Complaint.tracking_no == candidate)):
            return candidate


@transactional
def submit(form: dict, files: list, channel: str = "api") -> Submitted:
    """ADAPTER: creates the tracked item(s) directly; rewire to complaints.submit() (issue 5) after merging.

    One submission holding both a complaint and a report becomes two items sharing one password.
    """
    if len(files) > MAX_PHOTOS:
        raise SubmissionError({"photos": f"最多上传 {MAX_PHOTOS} 张照片。"})
    values = validate(form)
    photos = [_clean_photo(f) for f in files]
    password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(8))
    password_hash = generate_password_hash(password)
    submission_id = uuid.uuid4().hex
    items = []
    for kind in values["kinds"]:
        c = Complaint(
            tracking_no=_tracking_no(), password_hash=password_hash, submission_id=submission_id, kind=kind,
            channel=channel, workshop_id=values["workshop"].id if values["workshop"] else None,
            unregistered_name=values["unregistered_name"], unregistered_address=values["unregistered_address"],
            jurisdiction_id=values["jurisdiction"].id, category=values["category"], content=values["content"],
            product=values["product"], purchased_on=values["purchased_on"], amount_yuan=values["amount_yuan"],
            demand=values["demand"] if kind == "complaint" else None,
            reporter_name=values["reporter_name"], reporter_phone=values["reporter_phone"],
            anonymous=values["anonymous"] if kind == "report" else False, insider=values["insider"],
            status="new", due_on=deadlines.add_working_days(today(), DECIDE_WORKING_DAYS[kind]),
        )
        c.attachments = [Attachment(mime=p.mime, width=p.width, height=p.height, size=p.size, data=p.data)
                         for p in photos]
        db.session.add(c)
        db.session.flush()
        items.append(c)
    return Submitted(items=items, password=password)


def track(tracking_no: str, password: str) -> Complaint | None:
    """ADAPTER: status by tracking number and password; rewire to complaints.py (issue 5) after merging.

    Returns None for an unknown number or a wrong password alike, so neither can be probed.
    """
    c = db.session.scalar(select(Complaint).where(Complaint.tracking_no == tracking_no))
    ok = check_password_hash(c.password_hash if c else _DUMMY_HASH, password or "")
    return c if c is not None and ok and password else None
