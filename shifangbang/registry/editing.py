"""Creating and editing a workshop's record, and changing its status (在营、停业、注销、吊销).

Every change is authorised, written to the audit log with before/after, and touches the change
log. Edits carry the version the user loaded (optimistic locking): a stale version is refused
with a conflict message, never silently overwritten.
"""

from sqlalchemy.orm.exc import StaleDataError

from .. import audit, changes
from ..extensions import db
from ..labels import CLOSED_STATUSES, WORKSHOP_STATUS
from ..models import StaffMember, Workshop
from ..timeutil import today
from ..tx import transactional
from .errors import ConflictError, RegistryError, ValidationError
from .guard import require
from .validation import clean, parse_date

# Everything before/after snapshots in the audit log show.
AUDIT_FIELDS = (
    "cert_type",
    "cert_no",
    "name",
    "operator_name",
    "operator_phone",
    "address",
    "station_id",
    "lat",
    "lng",
    "varieties",
    "valid_from",
    "valid_to",
    "status",
    "status_changed_on",
    "safety_manager",
    "plate_no",
    "trademark",
    "time_honoured",
    "geo_indication",
    "intangible_heritage",
    "regional_brand",
    "pledge_signed_on",
    "seven_in_place",
    "additives",
)


def snapshot(w: Workshop) -> dict:
    snap = audit.snapshot(w, AUDIT_FIELDS)
    snap["categories"] = sorted(c.name for c in w.categories)
    snap["staff"] = [[s.name, s.role, audit._jsonable(s.health_cert_expires)] for s in w.staff]
    return snap


def apply_values(w: Workshop, values: dict) -> None:
    """Copy cleaned values onto the workshop (staff only when the values carry them)."""
    for key, value in values.items():
        if key not in ("categories", "staff"):
            setattr(w, key, value)
    w.categories = values["categories"]
    if "staff" in values:
        w.staff = [StaffMember(**s) for s in values["staff"]]


def get_workshop(actor, workshop_id: int, action: str = "view") -> Workshop:
    w = db.session.get(Workshop, workshop_id)
    if w is None:
        raise RegistryError("找不到该作坊。")
    require(actor, action, w.station_id)
    return w


def _check_version(w: Workshop, version) -> None:
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise ConflictError("缺少版本号，请刷新页面后重新提交。") from None
    if version != w.version:
        raise ConflictError()


@transactional
def create_workshop(actor, data) -> Workshop:
    from ..codes import new_public_code

    require(actor, "create", None)
    values = clean(data)
    require(actor, "create", values["station_id"])
    w = Workshop(public_code=new_public_code(), status="open", status_changed_on=today())
    apply_values(w, values)
    db.session.add(w)
    db.session.flush()
    audit.record(actor, "workshop.create", "workshop", w.id, after=snapshot(w))
    changes.touch(w)
    return w


@transactional
def update_workshop(actor, workshop_id: int, data, version) -> Workshop:
    w = get_workshop(actor, workshop_id, "edit")
    _check_version(w, version)
    values = clean(data, workshop_id=w.id)
    require(
        actor, "edit", values["station_id"]
    )  # moving it to another station needs rights there too
    before = snapshot(w)
    apply_values(w, values)
    after = snapshot(w)
    if after != before:
        touch_checked(w)
        audit.record(
            actor,
            "workshop.edit",
            "workshop",
            w.id,
            before=diff(before, after),
            after=diff(after, before),
        )
    return w


def touch_checked(w: Workshop) -> None:
    """changes.touch() flushes the UPDATE, which version_id_col checks against the version we
    loaded: a writer that committed in between makes it match no row."""
    try:
        changes.touch(w)
    except StaleDataError:
        raise ConflictError() from None


def diff(a: dict, b: dict) -> dict:
    """The keys of `a` whose values differ in `b`: audit rows stay short and readable."""
    return {k: v for k, v in a.items() if b.get(k) != v}


@transactional
def change_status(actor, workshop_id: int, status: str, on, reason: str, version) -> Workshop:
    w = get_workshop(actor, workshop_id, "change_status")
    _check_version(w, version)
    errors = {}
    if status not in WORKSHOP_STATUS:
        errors["status"] = "请选择状态：在营、停业、注销或吊销。"
    elif status == w.status:
        errors["status"] = f"该作坊已是“{WORKSHOP_STATUS[status]}”状态。"
    try:
        on = parse_date(on)
    except ValueError:
        on = None
    if on is None:
        errors["on"] = "请填写状态变更日期（如 2026-03-01）。"
    elif on > today():
        errors["on"] = "状态变更日期不能晚于今天。"
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "请填写变更原因。"
    elif len(reason) > 500:
        errors["reason"] = "变更原因不超过 500 字。"
    if errors:
        raise ValidationError(errors)
    before = {"status": w.status, "status_changed_on": audit._jsonable(w.status_changed_on)}
    w.status = status
    w.status_changed_on = on
    touch_checked(w)
    audit.record(
        actor,
        "workshop.status",
        "workshop",
        w.id,
        before=before,
        after={"status": status, "status_changed_on": on, "reason": reason},
    )
    return w


def is_closed(w: Workshop) -> bool:
    return w.status in CLOSED_STATUSES
