"""Jinja filters and globals shared by the public site and the back office."""

from datetime import date, datetime

from flask import Flask

from . import labels, palette
from .timeutil import local, today


def date_cn(value: date | datetime | None, empty: str = "—") -> str:
    if value is None:
        return empty
    if isinstance(value, datetime):
        value = local(value)
    return f"{value.year}年{value.month}月{value.day}日"


def datetime_cn(value: datetime | None, empty: str = "—") -> str:
    if value is None:
        return empty
    value = local(value)
    return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"


def mask_name(name: str | None) -> str:
    """张三丰 → 张**: the public sees a surname only."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else "****"


def init_app(app: Flask) -> None:
    deployment = app.extensions["deployment"]
    app.jinja_env.filters.update(
        date_cn=date_cn,
        datetime_cn=datetime_cn,
        mask_name=mask_name,
        mask_phone=mask_phone,
        bg=palette.bg,
        bd=palette.bd,
    )
    from .public_status import summary

    app.jinja_env.globals.update(
        deployment=deployment,
        labels=labels,
        tier=deployment.tier,
        today=today,
        public_summary=summary,  # cards: the read model's statement, no query
    )
