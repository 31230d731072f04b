"""Posters: numbering, tier at issue, audit, authorisation, and the print pages."""

import re

import pytest
from sqlalchemy import select

from shifangbang import access, posters
from shifangbang.models import AuditLog, Poster, Title, TitleGrant
from shifangbang.timeutil import today

from . import factories as f


@pytest.fixture
def j(db):
    return f.jurisdictions()


def test_issue_numbers_increase_per_workshop_and_record_the_tier(db, j):
    officer = f.user("officer", j["xinaobao"])
    a = f.workshop(j["xinaobao"], tier_code="silver")
    b = f.workshop(j["xinaobao"])
    db.session.commit()
    p1 = posters.issue(officer, a, "A4")
    a.tier_code = "gold"
    db.session.commit()
    p2 = posters.issue(officer, a, "A5")
    q1 = posters.issue(officer, b)
    assert (p1.issue_no, p2.issue_no, q1.issue_no) == (1, 2, 1)
    assert (p1.tier_code, p2.tier_code, p2.size) == ("silver", "gold", "A5")
    assert p1.issued_by_id == officer.id
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "poster.issue")).all()
    assert {r.entity_id for r in rows} == {str(p1.id), str(p2.id), str(q1.id)}
    assert next(r for r in rows if r.entity_id == str(p2.id)).after["issue_no"] == 2


def test_only_officers_of_the_station_and_admins_issue(db, j):
    shop = f.workshop(j["xinaobao"])
    other_officer = f.user("officer", j["nanmen"])
    county_officer = f.user("officer", j["donghe"])  # the county includes the station
    viewer = f.user("viewer", j["xinaobao"])
    admin = f.user("admin")
    db.session.commit()
    for actor in (other_officer, viewer, None):
        with pytest.raises(access.Forbidden):
            posters.issue(actor, shop)
    assert db.session.scalar(select(Poster).where(Poster.workshop_id == shop.id)) is None
    assert posters.issue(county_officer, shop).issue_no == 1
    assert posters.issue(admin, shop).issue_no == 2


def test_bad_size_and_closed_workshops_are_refused(db, j):
    officer = f.user("officer", j["xinaobao"])
    closed = f.workshop(j["xinaobao"], status="revoked")
    shop = f.workshop(j["xinaobao"])
    db.session.commit()
    with pytest.raises(posters.PosterError, match="A4 或 A5"):
        posters.issue(officer, shop, "A3")
    with pytest.raises(posters.PosterError, match="不在营"):
        posters.issue(officer, closed)


def test_station_batch_issues_one_poster_per_open_workshop(db, j):
    officer = f.user("officer", j["xinaobao"])
    shops = [f.workshop(j["xinaobao"]) for _ in range(3)]
    f.workshop(j["xinaobao"], status="suspended")
    f.workshop(j["nanmen"])
    db.session.commit()
    posters.issue(officer, shops[0])
    batch = posters.issue_for_station(officer, j["xinaobao"], "A5")
    assert sorted(p.workshop_id for p in batch) == sorted(w.id for w in shops)
    assert {p.workshop_id: p.issue_no for p in batch}[shops[0].id] == 2
    assert all(p.size == "A5" for p in batch)
    with pytest.raises(access.Forbidden):
        posters.issue_for_station(officer, j["nanmen"])


def test_poster_pages_in_the_back_office(client, db, j, app):
    officer = f.user("officer", j["xinaobao"])
    shop = f.workshop(
        j["xinaobao"], name="西脑包豆腐坊", tier_code="bronze", plate_no="DH-XNB-0007"
    )
    t = Title(name="包头市食品小作坊示范点", authority="包头市市场监督管理局", level="city")
    db.session.add(t)
    db.session.flush()
    db.session.add(TitleGrant(workshop_id=shop.id, title_id=t.id, granted_on=today()))
    db.session.commit()
    f.login(client, officer)
    page = client.get("/admin/posters?q=西脑包")
    assert page.status_code == 200 and "西脑包豆腐坊" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    r = client.post(
        "/admin/posters/issue", data={"workshop_id": shop.id, "size": "A4", "confirmed": "1"}
    )
    assert r.status_code == 302 and "/admin/posters/print?ids=" in r.headers["Location"]
    sheet = client.get(r.headers["Location"]).get_data(as_text=True)
    # The print size comes from the sheet's class through a named @page in the static style sheet
    # (no inline <style>: the Content-Security-Policy allows style sheets from this site only).
    css = client.get("/static/css/poster.css").get_data(as_text=True)
    # The print styles from a (fingerprinted) file, never inline.
    assert re.search(r"/static/css/poster\.(\w+\.)?css", sheet) and "<style" not in sheet
    assert "@page a4{size:A4 portrait;margin:0}" in css and ".A4{page:a4}" in css
    assert sheet.count('class="sheet A4"') == 1
    for text in (
        "包头市市场监督管理局",
        "西脑包豆腐坊",
        shop.cert_no,
        "DH-XNB-0007",
        "铜榜",
        "bg-a0522d",  # the bronze colour (palette.py)
        "包头市食品小作坊示范点",
        "第 1 期",
        f"{today().year}年{today().month}月{today().day}日",
        "<svg",
    ):
        assert text in sheet, text
    # Batch for the station: one sheet per open workshop, A5.
    f.workshop(j["xinaobao"])
    db.session.commit()
    r = client.post(
        "/admin/posters/issue",
        data={"station_id": j["xinaobao"].id, "size": "A5", "confirmed": "1"},
    )
    batch = client.get(r.headers["Location"]).get_data(as_text=True)
    assert batch.count('class="sheet A5"') == 2 and "@page a5{size:A5 portrait" in css
    assert ".A5{page:a5}" in css and "break-after:page" in css


def test_poster_pages_refuse_other_stations_and_viewers(client, db, j):
    mine = f.user("officer", j["xinaobao"])
    other = f.user("officer", j["nanmen"])
    viewer = f.user("viewer", j["xinaobao"])
    shop = f.workshop(j["xinaobao"])
    db.session.commit()
    poster = posters.issue(mine, shop)
    f.login(client, other)
    assert client.get(f"/admin/posters/print?ids={poster.id}").status_code == 403
    assert (
        client.post(
            "/admin/posters/issue", data={"workshop_id": shop.id, "size": "A4", "confirmed": "1"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/admin/posters/issue", data={"station_id": j["xinaobao"].id, "confirmed": "1"}
        ).status_code
        == 403
    )
    assert "西脑包市场监管所" not in client.get("/admin/posters").get_data(as_text=True)
    client.post("/admin/logout")
    f.login(client, viewer)
    assert client.get("/admin/posters").status_code == 403
    client.post("/admin/logout")
    assert client.get("/admin/posters").status_code == 302  # to the sign-in page


def test_poster_qr_encodes_the_url_with_the_issue_number(client, db, j):
    officer = f.user("officer", j["xinaobao"])
    shop = f.workshop(j["xinaobao"])
    db.session.commit()
    posters.issue(officer, shop)
    poster = posters.issue(officer, shop)
    f.login(client, officer)
    sheet = client.get(f"/admin/posters/print?ids={poster.id}").get_data(as_text=True)
    from shifangbang import qr

    with client.application.test_request_context():
        expected = qr.svg(f"https://sfb.example.cn/w/{shop.public_code}?p=2")
    assert re.search(r'<path fill="#000" d="([^"]+)"', expected).group(1) in sheet
