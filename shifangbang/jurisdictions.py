"""Jurisdictions (city → county → station): the names and contacts workshop pages show."""

from . import access, audit, changes
from .errors import DomainError
from .extensions import db
from .models import Jurisdiction, Workshop
from .tx import transactional

FIELDS = ("name", "phone", "address")


class JurisdictionError(DomainError):
    pass


@transactional
def update(actor, j: Jurisdiction, name: str, phone: str = "", address: str = "") -> Jurisdiction:
    """Rename a station or county, or change its phone or address. Every workshop page in its
    subtree shows these (supervising station, complaint phone), so they all follow at once."""
    access.require(actor, "edit_jurisdiction")
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise JurisdictionError("请填写名称（不超过 80 字）。")
    before = {k: getattr(j, k) for k in FIELDS}
    j.name, j.phone, j.address = (
        name,
        (phone or "").strip() or None,
        (address or "").strip() or None,
    )
    db.session.flush()
    changes.touch_where(Workshop.station_id.in_(access.subtree_ids(j.id)))
    audit.record(
        actor,
        "jurisdiction.update",
        "jurisdiction",
        j.id,
        before=before,
        after={k: getattr(j, k) for k in FIELDS},
    )
    return j
