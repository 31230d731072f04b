"""Jurisdictions (city → county → station): the names and contacts workshop pages show."""

import re

from . import access, audit, changes
from .errors import DomainError
from .extensions import db
from .models import Jurisdiction, Workshop
from .registry.validation import LANDLINE, MOBILE, normalise_phone
from .tx import transactional

FIELDS = ("name", "phone", "address")
HOTLINE = re.compile(r"1\d{4}")  # 12315, 12345


def _public_phone(phone: str) -> bool:
    """A number the public can call: 0472-4100000, 0472-4100000转8, 13904721234, 12315."""
    number, sep, extension = phone.partition("转")
    if sep and not (extension.isdigit() and len(extension) <= 6):
        return False
    return any(p.fullmatch(number) for p in (LANDLINE, MOBILE, HOTLINE))


class JurisdictionError(DomainError):
    pass


@transactional
def update(actor, j: Jurisdiction, name: str, phone: str = "", address: str = "") -> Jurisdiction:
    """Rename a station or county, or change its phone or address. Every workshop page in its
    subtree shows these (supervising station, complaint phone), so they all follow at once."""
    access.require(actor, "edit_jurisdiction")
    name, phone, address = ((v or "").strip() for v in (name, phone, address))
    if not name or len(name) > 80:
        raise JurisdictionError("请填写名称（不超过 80 字）。")
    phone = normalise_phone(phone)
    if phone and not _public_phone(phone):
        raise JurisdictionError(
            "电话应为带区号的固定电话（可加“转”分机号）、11 位手机号或 12315 这样的热线，"
            "如 0472-4100000。"
        )
    if len(address) > 200:
        raise JurisdictionError("地址不能超过 200 字。")
    before = {k: getattr(j, k) for k in FIELDS}
    j.name, j.phone, j.address = name, phone or None, address or None
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
