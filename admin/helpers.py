"""Small helpers shared by the back-office feature views."""

from datetime import date
from urllib.parse import urlsplit

from flask import abort, flash, render_template, request
from flask_login import current_user
from sqlalchemy import or_, select

from shifangbang import access
from shifangbang.errors import DomainError
from shifangbang.extensions import db
from shifangbang.models import Workshop


class InputError(DomainError):
    """Bad form input; the message is Chinese and shown next to the form."""


def parse_date(value: str | None, label: str, required: bool = True) -> date | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise InputError(f"请填写{label}。")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{label}格式应为 年-月-日，例如 2026-03-15。") from None


def parse_int(value, label: str, minimum: int = 1, maximum: int = 10_000) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise InputError(f"{label}须为整数。") from None
    if not minimum <= n <= maximum:
        raise InputError(f"{label}须在 {minimum} 到 {maximum} 之间。")
    return n


def posted(fields, apply) -> tuple[dict, str | None, bool]:
    """An edit form's POST: (what was typed, the refusal's message, whether it was applied).
    apply(**typed) runs the domain function; a DomainError is rolled back and its message kept
    to show beside the typed values. On GET: ({}, None, False)."""
    if request.method != "POST":
        return {}, None, False
    typed = {k: request.form.get(k, "") for k in fields}
    try:
        apply(**typed)
    except DomainError as e:
        db.session.rollback()
        return typed, str(e), False
    return typed, None, True


def scope():
    return access.visible_jurisdiction_ids(current_user)


def find_workshop(text: str | None) -> Workshop | None:
    """By public code or certificate number, within the user's jurisdiction."""
    text = (text or "").strip()
    if not text:
        return None
    q = select(Workshop).where(or_(Workshop.public_code == text, Workshop.cert_no == text))
    ids = scope()
    if ids is not None:
        q = q.where(Workshop.station_id.in_(ids))
    return db.session.scalar(q)


NOT_IN_JURISDICTION = "在您的辖区内找不到该作坊，请核对公示码或登记证号。"


def require_workshop(text: str | None) -> Workshop:
    """find_workshop, or an InputError the form shows beside what was typed."""
    workshop = find_workshop(text)
    if workshop is None:
        raise InputError(NOT_IN_JURISDICTION)
    return workshop


def workshop_to_record(action: str):
    """(workshop, None) for ?workshop= (public code or certificate number) that the user may
    `action` on; (None, the picker page) when it is missing or outside the jurisdiction."""
    code = request.values.get("workshop", "")
    workshop = find_workshop(code)
    if workshop is None:
        if code:
            flash(NOT_IN_JURISDICTION, "error")
        return None, render_template("admin/inspections/pick.html", code=code)
    access.require(current_user, action, workshop.station_id)
    return workshop, None


def get_visible(model, obj_id: int, workshop_of=lambda o: o.workshop):
    """The row, or 404; 403 (Chinese) when its workshop is outside the user's jurisdiction."""
    obj = db.session.get(model, obj_id)
    if obj is None:
        abort(404)
    access.require(current_user, "view", workshop_of(obj).station_id)
    return obj


def local_path(url: str | None, fallback: str) -> str:
    """`url` if it is a path on this site (a redirect target from a form or ?next=); else
    `fallback`. No scheme, no host, no protocol-relative `//` or `/\\` trick."""
    url = (url or "").strip()
    parts = urlsplit(url)
    ok = (
        url.startswith("/")
        and not url.startswith(("//", "/\\"))
        and not parts.scheme
        and not parts.netloc
        and not any(c in url for c in "\r\n\\")
    )
    return url if ok else fallback
