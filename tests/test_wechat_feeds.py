"""Atom feeds of the tier announcements: whole city, one county, one workshop; valid Atom (RFC 4287
required elements, parsed with xml.etree) and linked from the pages they follow."""

import re
from datetime import datetime
from xml.etree import ElementTree as ET

import pytest

from shifangbang import tiers
from shifangbang.labels import TIER_REASONS
from tests import complaint_data as cd
from tests import factories

A = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def shops(db):
    p = cd.place()
    other = factories.workshop(p["kun1"], name="昆北面食坊")
    for w, tier in ((p["workshop"], "silver"), (other, "orange")):
        d = tiers.propose(
            p["admin"], w, tier, "inspection", "检查结果", public_reason="依据监督检查结果调整。"
        )
        tiers.decide(p["admin"], d, True)
        tiers.publish(p["admin"], d)
    db.session.commit()
    return dict(p, other=other)


def rfc3339(text: str) -> datetime:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_atom(response) -> ET.Element:
    """The feed, after checking every element RFC 4287 requires of a feed and its entries."""
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{A}feed"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{A}{name}")) == 1 and feed.find(f"{A}{name}").text, name
    rfc3339(feed.find(f"{A}updated").text)
    assert feed.find(f"{A}author/{A}name").text  # so entries need no author of their own
    rels = {link.get("rel"): link.get("href") for link in feed.findall(f"{A}link")}
    assert rels["self"].startswith("https://") and rels["alternate"].startswith("https://")
    ids = set()
    for entry in feed.findall(f"{A}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{name}")) == 1 and entry.find(f"{A}{name}").text, name
        rfc3339(entry.find(f"{A}updated").text)
        assert entry.find(f"{A}id").text.startswith("tag:")
        alternate = [x for x in entry.findall(f"{A}link") if x.get("rel") == "alternate"]
        assert alternate or entry.find(f"{A}content") is not None
        assert entry.find(f"{A}summary").text
        ids.add(entry.find(f"{A}id").text)
    assert len(ids) == len(feed.findall(f"{A}entry"))  # ids are unique
    return feed


def titles(feed) -> list[str]:
    return [e.find(f"{A}title").text for e in feed.findall(f"{A}entry")]


def test_city_feed_lists_the_announcements_with_reason_and_dates(client, shops):
    feed = parse_atom(client.get("/rankings/announcements.atom?direction=all"))
    found = titles(feed)
    assert any(t.startswith(shops["workshop"].name) and "银榜" in t for t in found)
    assert any(t.startswith("昆北面食坊") and "橙榜" in t for t in found)
    entry = feed.find(f"{A}entry")
    summary = entry.find(f"{A}summary").text
    assert TIER_REASONS["inspection"] in summary and "生效日期" in summary
    assert "公布日期" in summary
    link = entry.find(f"{A}link").get("href")
    assert re.search(r"/w/[A-Z0-9]+$", link)


def test_county_feed_keeps_to_the_county(client, shops):
    feed = parse_atom(
        client.get(f"/rankings/announcements.atom?direction=all&county={shops['kun'].id}")
    )
    assert titles(feed) and all(t.startswith("昆北面食坊") for t in titles(feed))
    assert feed.find(f"{A}title").text.startswith("昆都仑区")
    assert client.get("/rankings/announcements.atom?county=999999").status_code == 404
    assert client.get(f"/rankings/announcements.atom?county={shops['kun1'].id}").status_code == 404


def test_workshop_feed_is_its_published_history(client, shops):
    w = shops["workshop"]
    feed = parse_atom(client.get(f"/w/{w.public_code}/announcements.atom"))
    assert len(titles(feed)) == 1 and titles(feed)[0].startswith(w.name)
    assert client.get("/w/NOSUCHCODE/announcements.atom").status_code == 404


def test_pages_link_their_feeds(client, shops):
    w = shops["workshop"]
    html = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    m = re.search(r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"', html)
    assert m and m.group(1) == f"/w/{w.public_code}/announcements.atom"
    parse_atom(client.get(m.group(1)))
    html = client.get(f"/rankings/announcements?county={shops['kun'].id}").get_data(as_text=True)
    m = re.search(r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"', html)
    assert m and f"county={shops['kun'].id}" in m.group(1)
    feed = parse_atom(client.get(m.group(1).replace("&amp;", "&")))
    assert all(t.startswith("昆北面食坊") for t in titles(feed))


def test_a_feed_without_entries_keeps_its_date_and_etag(client, db):
    """No announcement yet: <updated> is the workshop's last public change, not the moment of
    the request, so the body and its ETag stay the same and revalidation answers 304."""
    import time

    from shifangbang.models import Workshop

    p = cd.place()
    w = p["workshop"]
    db.session.commit()
    url = f"/w/{w.public_code}/announcements.atom"
    first = client.get(url)
    feed = parse_atom(first)
    assert feed.findall(f"{A}entry") == []
    changed = db.session.get(Workshop, w.id).public_changed_at
    assert rfc3339(feed.find(f"{A}updated").text).replace(tzinfo=None) == changed.replace(
        microsecond=0
    )
    time.sleep(1.1)  # a clock-based date would have moved on by now
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    city = client.get("/rankings/announcements.atom")
    time.sleep(1.1)
    assert (
        client.get(
            "/rankings/announcements.atom", headers={"If-None-Match": city.headers["ETag"]}
        ).status_code
        == 304
    )
