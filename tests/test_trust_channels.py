"""One public truth: every channel says what public_status decides, for every state × tier.

Channels: the workshop page, /api/v1 detail and list, badge.svg, the open-data export, search
result cards and the home page. Each workshop is checked against rules written out here (not
only against the read model), so a channel and the read model cannot agree on a wrong answer.
"""

import html
import re
from datetime import datetime, timedelta

import pytest

from shifangbang import changes, current_deployment, labels, opendata, public_status
from shifangbang.timeutil import today

from . import factories as f

STATUSES = ("open", "suspended", "cancelled", "revoked")
TIERS = ("gold", "silver", "bronze", "orange", "unrated")
# Inspection histories: recent, overdue (366 days), exactly at the limit (365), never.
HISTORIES = ("recent", "overdue", "limit", "never")


@pytest.fixture
def shops(db, app):
    j = f.jurisdictions()
    now = today()
    out = []
    k = 0
    for status in STATUSES:
        for tier in TIERS:
            history = HISTORIES[k % len(HISTORIES)]
            k += 1
            last = {
                "recent": now - timedelta(days=30),
                "overdue": now - timedelta(days=366),
                "limit": now - timedelta(days=365),
                "never": None,
            }[history]
            w = f.workshop(
                j["xinaobao"],
                name=f"一致{status}{tier}坊",
                tier_code=tier,
                tier_since=now - timedelta(days=400) if tier != "unrated" else None,
                last_inspected_on=last,
                status=status,
                status_changed_on=None if status == "open" else now - timedelta(days=20),
            )
            # Registered long ago, so a never-inspected workshop is overdue too.
            w.created_at = datetime(now.year - 2, 1, 5, 2)
            changes.touch(w)
            out.append((w, status, tier, history))
    db.session.commit()
    return out


def expected(w, status, tier, history) -> dict:
    """The rules, written out independently of public_status."""
    d = current_deployment()
    operating = status == "open"
    overdue = operating and history in ("overdue", "never")
    if not operating:
        headline = "已" + labels.WORKSHOP_STATUS[status]
    else:
        headline = d.tier(tier).name
    return {"operating": operating, "overdue": overdue, "headline": headline}


def card_attrs(page: str, code: str) -> tuple[str, str]:
    """The data-headline / data-overdue of the card that links to /w/<code>."""
    for m in re.finditer(
        r'<li class="card[^"]*" data-headline="([^"]*)" data-overdue="(\w+)">(.*?)</li>', page, re.S
    ):
        if f'/w/{code}"' in m.group(3):
            return html.unescape(m.group(1)), m.group(2)
    raise AssertionError(f"no card for {code}")


def test_every_state_and_tier_agrees_on_every_channel(app, client, db, shops, index):
    index.rebuild()
    rows = {r["code"]: r for r in opendata.records(None)}
    home = client.get("/").get_data(as_text=True)
    gold_meaning = current_deployment().tier("gold").description
    for w, status, tier, history in shops:
        exp = expected(w, status, tier, history)
        said = public_status.summary(w)
        where = f"{status}/{tier}/{history}"
        assert (said.headline, said.overdue, said.operating) == (
            exp["headline"],
            exp["overdue"],
            exp["operating"],
        ), where
        flag = "yes" if exp["overdue"] else "no"

        # The page.
        page = client.get(f"/w/{w.public_code}").get_data(as_text=True)
        assert f'data-headline="{exp["headline"]}"' in page, where
        assert f'data-overdue="{flag}"' in page, where
        assert html.escape(said.statement, quote=False) in page or said.statement in page, where
        if not exp["operating"]:
            assert "不得生产经营食品" in page and "起" in page, where
            assert gold_meaning not in page and "推荐消费者" not in page, where
        if history == "never":
            assert "距最近一次监督检查" not in page, where
            assert "尚无检查记录" in page, where
        if exp["overdue"] and history == "never":
            assert "尚无监督检查记录" in page, where

        # The API: detail and list.
        api = client.get(f"/api/v1/workshops/{w.public_code}").get_json()
        ps = api["public_status"]
        assert (ps["headline"], ps["inspection_overdue"], ps["operating"]) == (
            exp["headline"],
            exp["overdue"],
            exp["operating"],
        ), where
        assert api["states"]["inspection_overdue"] == exp["overdue"], where
        assert ps["statement"] == said.statement, where
        if not exp["operating"]:
            assert api["tier"]["description"] is None and ps["meaning"] is None, where

        # The badge.
        svg = client.get(f"/w/{w.public_code}/badge.svg").get_data(as_text=True)
        assert exp["headline"] in svg, where
        assert ("超期未检" in svg) == exp["overdue"], where
        if not exp["operating"]:
            assert current_deployment().tier(tier).name not in svg, where

        # Open data.
        row = rows[w.public_code]
        assert (row["headline"], row["inspection_overdue"], row["statement"]) == (
            exp["headline"],
            exp["overdue"],
            said.statement,
        ), where

        # Search result cards.
        found = client.get("/search", query_string={"q": w.name, "status": "all"}).get_data(
            as_text=True
        )
        assert card_attrs(found, w.public_code) == (exp["headline"], flag), where

        # The home page lists operating rated workshops.
        if exp["operating"] and tier != "unrated":
            assert card_attrs(home, w.public_code) == (exp["headline"], flag), where

    listed = client.get("/api/v1/workshops", query_string={"status": "all", "per_page": 100})
    for item in listed.get_json()["items"]:
        match = [s for s in shops if s[0].public_code == item["code"]]
        if match:
            assert item["public_status"]["headline"] == expected(*match[0])["headline"]
            assert item["public_status"]["inspection_overdue"] == expected(*match[0])["overdue"]


def test_a_title_under_review_shows_on_page_api_and_open_data(app, client, db):
    """称号复核中: a revocation proposal pending longer than the configured working days."""
    from shifangbang.models import RevocationProposal, Title, TitleGrant
    from shifangbang.timeutil import utcnow

    j = f.jurisdictions()
    w = f.workshop(j["xinaobao"], tier_code="gold", last_inspected_on=today())
    t = Title(name=f"示范点{w.id}", authority="包头市市场监督管理局", level="city")
    db.session.add(t)
    db.session.flush()
    g = TitleGrant(workshop_id=w.id, title_id=t.id, granted_on=today() - timedelta(days=300))
    db.session.add(g)
    db.session.flush()
    p = RevocationProposal(
        grant_id=g.id,
        rule="two_failures",
        evidence={"samplings": [{"id": 1, "sampled_on": "2026-01-01"}]},
        created_at=utcnow() - timedelta(days=3),
    )
    db.session.add(p)
    changes.touch(w)
    db.session.commit()
    assert "称号复核中" not in client.get(f"/w/{w.public_code}").get_data(as_text=True)
    p.created_at = utcnow() - timedelta(days=40)  # well past 10 working days
    changes.touch(w)
    db.session.commit()
    assert "称号复核中" in client.get(f"/w/{w.public_code}").get_data(as_text=True)
    api = client.get(f"/api/v1/workshops/{w.public_code}").get_json()
    assert api["public_status"]["titles_under_review"] == [t.name]
    assert api["titles"]["held"][0]["under_review"] is True
    row = next(r for r in opendata.records(None) if r["code"] == w.public_code)
    assert row["titles_under_review"] == [t.name]
