"""The live badge /w/<code>/badge.svg: tier, colour and date, for online shops to embed.

Always current (revalidated on every use: ETag with no-cache), so a shop never shows a stale
tier. What it says comes from the read model (public_status.summary): a workshop that is not
operating shows 已停业/已注销/已吊销 and since when, never its former tier.
"""

import unicodedata

from flask import Blueprint, Response
from markupsafe import escape
from sqlalchemy import select

from shifangbang import public_status
from shifangbang.extensions import db
from shifangbang.models import Workshop

bp = Blueprint("badge", __name__)

LABEL = "食坊榜"
FONT_SIZE = 12
HEIGHT = 22


def text_width(text: str) -> int:
    """Approximate rendered width: CJK and full-width glyphs are one em, Latin about 0.6 em."""
    return int(
        sum(FONT_SIZE if unicodedata.east_asian_width(c) in "WF" else FONT_SIZE * 0.6 for c in text)
    )


def render(label: str, value: str, colour: str, title: str) -> str:
    lw, vw = text_width(label) + 12, text_width(value) + 12
    width = lw + vw
    # markupsafe escapes quotes too: the text goes into attributes (aria-label, fill) as well as
    # elements. (xml.sax.saxutils.escape left " alone: a name could add attributes to <svg>.)
    label, value, title, colour = escape(label), escape(value), escape(title), escape(colour)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" role="img" '
        f'aria-label="{title}"><title>{title}</title>'
        f'<rect width="{lw}" height="{HEIGHT}" rx="3" fill="#343a40"/>'
        f'<rect x="{lw}" width="{vw}" height="{HEIGHT}" rx="3" fill="{colour}"/>'
        f'<rect x="{lw}" width="4" height="{HEIGHT}" fill="{colour}"/>'
        f'<g fill="#fff" font-family="PingFang SC,Microsoft YaHei,Noto Sans CJK SC,sans-serif" '
        f'font-size="{FONT_SIZE}" text-anchor="middle">'
        f'<text x="{lw / 2:g}" y="15">{label}</text><text x="{lw + vw / 2:g}" y="15">{value}</text></g></svg>'
    )


@bp.get("/w/<code>/badge.svg")
def badge(code: str):
    w = (
        db.session.scalar(select(Workshop).where(Workshop.public_code == code))
        if len(code) <= 20
        else None
    )
    if w is None:
        svg, status = render(LABEL, "未找到该作坊", "#6c757d", "食坊榜：未找到该作坊"), 404
    else:
        said = public_status.summary(w)
        value, colour = said.badge_text, said.colour
        svg, status = render(LABEL, value, colour, f"食坊榜：{w.name} {value}"), 200
    response = Response(svg, status=status, mimetype="image/svg+xml")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response  # ETag with no-cache: public_site.caching
