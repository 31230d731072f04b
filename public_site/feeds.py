"""Atom feeds of the tier announcements (评定结果公布) for people and newsrooms without the
mini-program: the whole city or one county (the same choice as /rankings/announcements), and one
workshop (its published history). Each entry says what was decided, why (the reason category the
page shows), when it took effect and when it was published."""

from datetime import UTC
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, abort, current_app, request, url_for

from shifangbang import codes, current_deployment, labels, rankings, tiers
from shifangbang.extensions import db
from shifangbang.models import Jurisdiction, TierDecision, Workshop
from shifangbang.timeutil import local_day_start, today

bp = Blueprint("feeds", __name__)

ATOM = "http://www.w3.org/2005/Atom"
ENTRIES = 50


def _stamp(dt) -> str:
    return dt.replace(tzinfo=UTC, microsecond=0).isoformat().replace("+00:00", "Z")


def _tag(kind: str, key) -> str:
    """A permanent entry/feed id (RFC 4151 tag URI) on the site's host."""
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    return f"tag:{host},2026:{kind}/{key}"


def _sub(parent, name: str, text: str | None = None, **attrs) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM}}}{name}", attrs)
    if text is not None:
        el.text = text
    return el


def _entry(feed: ET.Element, d: TierDecision, w: Workshop) -> None:
    deployment = current_deployment()
    base = current_app.config["BASE_URL"]
    before, after = deployment.tier(d.from_tier), deployment.tier(d.to_tier)
    direction = labels.TIER_DIRECTION.get(d.direction, "")
    reason = labels.TIER_REASONS.get(d.reason_category, "其他")
    effective = d.effective_on.isoformat() if d.effective_on else "—"
    published = d.published_at.date().isoformat() if d.published_at else "—"
    e = _sub(feed, "entry")
    _sub(e, "id", _tag("tier-decision", d.id))
    _sub(e, "title", f"{w.name}：{before.name} → {after.name}（{direction}）")
    _sub(e, "updated", _stamp(d.published_at))
    _sub(e, "published", _stamp(d.published_at))
    _sub(e, "link", rel="alternate", type="text/html", href=f"{base}/w/{w.public_code}")
    _sub(
        e,
        "summary",
        f"{w.name}由{before.name}调整为{after.name}（{direction}）。原因：{reason}。"
        f"生效日期 {effective}，公布日期 {published}。",
    )


def _feed(
    title: str,
    self_url: str,
    page_url: str,
    rows: list[tuple[TierDecision, Workshop]],
    quiet_since,
):
    """`quiet_since`: the feed's <updated> while it has no entry. A stable time, never "now": the
    body (and so its ETag) stays the same between changes, and a reader is not told of one."""
    ET.register_namespace("", ATOM)
    bureau = current_deployment().bureau
    feed = ET.Element(f"{{{ATOM}}}feed")
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "zh-CN")
    _sub(feed, "id", _tag("feed", self_url.split("://", 1)[-1]))
    _sub(feed, "title", title)
    _sub(feed, "updated", _stamp(max((d.published_at for d, _ in rows), default=quiet_since)))
    author = _sub(feed, "author")
    _sub(author, "name", bureau.name)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=page_url)
    for d, w in rows:
        _entry(feed, d, w)
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(body, mimetype="application/atom+xml")  # ETag, no-cache: caching.py


@bp.get("/rankings/announcements.atom")
def announcements():
    """The city's (or with ?county=<id>, one county's) announcements, as on the web page."""
    base = current_app.config["BASE_URL"]
    raw = request.args.get("county", "")
    county = None
    if raw:
        county = db.session.get(Jurisdiction, int(raw)) if raw.isdigit() and len(raw) < 10 else None
        if county is None or county.level != "county":
            abort(404)
    direction = request.args.get("direction") or None
    decisions, _ = rankings.announcements(direction, county.id if county else None, 1, ENTRIES)
    query = request.query_string.decode()
    place = county.name if county else current_deployment().bureau.city
    return _feed(
        f"{place}食品小作坊评定结果公布",
        base + url_for("feeds.announcements") + (f"?{query}" if query else ""),
        base + url_for("search.announcements") + (f"?{query}" if query else ""),
        [(d, d.workshop) for d in decisions],
        local_day_start(today()),  # nothing published yet: a new deployment
    )


@bp.get("/w/<code>/announcements.atom")
def workshop(code: str):
    """Every published tier decision of one workshop, newest first."""
    base = current_app.config["BASE_URL"]
    w = None
    if len(code) <= codes.MAX_LENGTH and "\x00" not in code:
        w = db.session.query(Workshop).filter_by(public_code=codes.normalise(code)).one_or_none()
    if w is None:
        abort(404)
    history = tiers.published_history(w)[:ENTRIES]
    return _feed(
        f"{w.name}的评定结果",
        base + url_for("feeds.workshop", code=w.public_code),
        f"{base}/w/{w.public_code}",
        [(d, w) for d in history],
        w.public_changed_at or w.created_at,  # its name is in the title
    )
