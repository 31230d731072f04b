"""Current within seconds: revalidation (ETag + no-cache) on every public channel, posters that
know what they showed, and renames that reach every page showing the renamed thing."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shifangbang import access, jurisdictions, public_status, titles
from shifangbang.models import ChangeLog, Poster, Title
from shifangbang.timeutil import today, utcnow

from . import factories as f


@pytest.fixture
def s(db):
    j = f.jurisdictions()
    w = f.workshop(j["xinaobao"], tier_code="gold", tier_since=today(), last_inspected_on=today())
    admin = f.user("admin")
    title = Title(name=f"东河区示范作坊{w.id}", authority="东河区市场监督管理局", level="county")
    db.session.add(title)
    db.session.commit()
    return {"j": j, "w": w, "admin": admin, "title": title}


PUBLIC_GETS = (
    "/",
    "/w/{code}",
    "/w/{code}/badge.svg",
    "/search?q=测试",
    "/rankings",
    "/rankings/announcements",
    "/draws",
    "/api/v1/workshops/{code}",
    "/api/v1/workshops",
    "/api/v1/tiers",
    "/rankings/announcements.atom",
    "/w/{code}/announcements.atom",
)


def test_every_public_channel_revalidates_and_answers_304(client, s):
    code = s["w"].public_code
    for path in PUBLIC_GETS:
        url = path.format(code=code)
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["Cache-Control"] == "public, no-cache", url
        etag = r.headers.get("ETag")
        assert etag, url
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"", url
    # Private answers keep their own policy; the back office is never public.
    assert client.get("/track").headers["Cache-Control"] == "no-store"
    assert "public" not in client.get("/admin/login").headers.get("Cache-Control", "")


def test_a_revoked_title_changes_the_etag_of_page_badge_and_api(client, db, s):
    w, admin = s["w"], s["admin"]
    g = titles.grant(admin, w, s["title"], today() - timedelta(days=10))
    db.session.commit()
    before = {
        u: client.get(u).headers["ETag"]
        for u in (f"/w/{w.public_code}", f"/api/v1/workshops/{w.public_code}")
    }
    titles.revoke(admin, g, "serious_problem", "现场发现严重问题")
    db.session.commit()
    for url, etag in before.items():
        r = client.get(url, headers={"If-None-Match": etag})
        assert r.status_code == 200, url
        assert "已撤销" in r.get_data(as_text=True) or r.get_json()["titles"]["held"] == []


def test_a_poster_printed_while_a_title_was_held_is_outdated_after_revocation(client, db, s):
    w, admin = s["w"], s["admin"]
    g = titles.grant(admin, w, s["title"], today() - timedelta(days=30))
    db.session.commit()
    db.session.add(
        Poster(workshop_id=w.id, issue_no=1, size="A4", tier_code="gold", issued_at=utcnow())
    )
    db.session.commit()
    notice = "您扫描的公示牌已过期"
    assert notice not in client.get(f"/w/{w.public_code}?p=1").get_data(as_text=True)
    titles.revoke(admin, g, "serious_problem", "现场发现严重问题")
    db.session.commit()
    assert notice in client.get(f"/w/{w.public_code}?p=1").get_data(as_text=True)


def test_poster_currency_covers_tier_titles_and_state(db, s):
    w = s["w"]
    issued = utcnow() + timedelta(seconds=30)  # after the last touch: only the facts decide
    assert not public_status.poster_outdated(w, "gold", issued, [])
    assert public_status.poster_outdated(w, "silver", issued, [])  # tier changed
    w.status = "suspended"
    assert public_status.poster_outdated(w, "gold", issued, [])  # state changed
    w.status = "open"

    class G:
        granted_on, revoked_on, status = today() + timedelta(days=1), None, "held"

    assert public_status.poster_outdated(w, "gold", issued, [G()])  # title granted later

    class R:
        granted_on, revoked_on, status = today() - timedelta(days=99), today(), "revoked"

    assert public_status.poster_outdated(w, "gold", issued, [R()])  # title revoked since


def test_renaming_a_title_reaches_the_pages_that_show_it(client, db, s):
    w, admin = s["w"], s["admin"]
    titles.grant(admin, w, s["title"], today() - timedelta(days=10))
    db.session.commit()
    r = client.get(f"/w/{w.public_code}")
    assert s["title"].name in r.get_data(as_text=True)
    titles.update_title(
        admin, s["title"], "东河区食品小作坊示范点（新）", "东河区市场监督管理局", "county"
    )
    db.session.commit()
    again = client.get(f"/w/{w.public_code}", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 200 and "东河区食品小作坊示范点（新）" in again.get_data(
        as_text=True
    )
    with pytest.raises(titles.TitleError):
        titles.update_title(admin, s["title"], "", "x", "county")


def test_the_titles_screen_renames_a_title_and_keeps_bad_input(client, db, s):
    w, admin, title = s["w"], s["admin"], s["title"]
    titles.grant(admin, w, title, today() - timedelta(days=10))
    db.session.commit()
    f.login(client, admin)
    index = client.get("/admin/titles/").get_data(as_text=True)
    url = f"/admin/titles/kinds/{title.id}"
    assert url in index and "现有 1 家作坊持有此称号" in client.get(url).get_data(as_text=True)
    long = {"name": "称" * 81, "authority": "东河区市场监督管理局", "level": "county"}
    resp = client.post(url, data=long)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "不能超过 80 字" in text and "称" * 81 in text
    new = {"name": "东河区食品小作坊示范点", "authority": "东河区市场监督管理局", "level": "city"}
    assert client.post(url, data=new).status_code == 302
    page = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    assert "东河区食品小作坊示范点" in page
    officer = f.user("officer", s["j"]["xinaobao"])
    db.session.commit()
    client.post("/admin/logout")
    f.login(client, officer)
    assert client.post(url, data=new | {"name": "改名"}).status_code == 403


def test_renaming_a_station_reaches_every_workshop_page_below_it(client, db, s):
    w, admin, j = s["w"], s["admin"], s["j"]
    other = f.workshop(j["kun1"])
    db.session.commit()
    page = client.get(f"/w/{w.public_code}")
    untouched = client.get(f"/w/{other.public_code}")

    def logged():
        q = select(func.count()).select_from(ChangeLog).where(ChangeLog.workshop_id == w.id)
        return db.session.scalar(q)

    before = logged()
    jurisdictions.update(admin, j["xinaobao"], "西脑包市场监督管理所", "0472-4100000")
    db.session.commit()
    again = client.get(f"/w/{w.public_code}", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 200
    assert "西脑包市场监督管理所" in again.get_data(
        as_text=True
    ) and "0472-4100000" in again.get_data(as_text=True)
    same = client.get(
        f"/w/{other.public_code}", headers={"If-None-Match": untouched.headers["ETag"]}
    )
    assert same.status_code == 304
    officer = f.user("officer", j["xinaobao"])
    with pytest.raises(access.Forbidden):
        jurisdictions.update(officer, j["xinaobao"], "改名")
    assert logged() == before + 1  # the search index follows the rename too


def test_an_edited_deployment_file_changes_the_workshop_page_etag(app, client, s):
    """Tier names and colours come from the deployment file, read at start: after a restart on
    an edited file the page is sent again, never a 304 for the old wording."""
    import dataclasses

    w = s["w"]
    first = client.get(f"/w/{w.public_code}")
    assert first.status_code == 200
    saved = app.extensions["deployment"]
    gold = saved.tier("gold")
    renamed = dataclasses.replace(gold, name="五星作坊")
    app.extensions["deployment"] = dataclasses.replace(
        saved, tiers=tuple(renamed if t is gold else t for t in saved.tiers)
    )
    try:
        again = client.get(f"/w/{w.public_code}", headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 200 and again.headers["ETag"] != first.headers["ETag"]
        assert "五星作坊" in again.get_data(as_text=True)
    finally:
        app.extensions["deployment"] = saved
    back = client.get(f"/w/{w.public_code}", headers={"If-None-Match": first.headers["ETag"]})
    assert back.status_code == 304
