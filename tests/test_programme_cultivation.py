"""示范创建 (issue 17 part 1): pool → application → acceptance against the standard → award that
grants the title through titles.grant; targets per county and station; pages, roles, audit."""

from datetime import timedelta

import pytest

from shifangbang import access, cultivation, current_deployment, titles
from shifangbang.models import AuditLog, Title, TitleGrant
from shifangbang.programme_models import Cultivation
from shifangbang.timeutil import today

from . import factories as f


@pytest.fixture
def s(db):
    j = f.jurisdictions()
    data = {
        "j": j,
        "w": f.workshop(j["xinaobao"], name="老东河凉糕作坊"),
        "others": [f.workshop(j["xinaobao"]) for _ in range(9)],
        "far": f.workshop(j["kun1"]),
        "o1": f.user("officer", j["xinaobao"]),
        "kun": f.user("officer", j["kun1"]),
        "admin": f.user("admin"),
        "viewer": f.user("viewer", j["donghe"]),
        "title": Title(
            name="吕梁市食品小作坊示范点", authority="吕梁市市场监督管理局", level="city"
        ),
    }
    db.session.add(data["title"])
    db.session.commit()
    return data


def test_pool_to_plaque_grants_the_title(s, db):
    grade = current_deployment().programme.cultivation_grades[0]
    d0 = today() - timedelta(days=30)
    c = cultivation.enter(s["o1"], s["w"], s["title"], grade, d0)
    with pytest.raises(cultivation.CultivationError, match="已在此称号的培育库"):
        cultivation.enter(s["o1"], s["w"], s["title"], grade, d0)
    with pytest.raises(access.Forbidden):
        cultivation.enter(s["kun"], s["others"][0], s["title"], grade, d0)
    cultivation.apply(s["o1"], c, d0 + timedelta(days=5))
    with pytest.raises(access.Forbidden):  # acceptance is the bureau's
        cultivation.accept(s["o1"], c, d0 + timedelta(days=10), set())
    items = set(cultivation.standard())
    cultivation.accept(s["admin"], c, d0 + timedelta(days=10), items - {next(iter(items))})
    assert c.status == "rejected" and not all(c.checklist.values())
    with pytest.raises(cultivation.CultivationError, match="验收通过后"):
        cultivation.award(s["admin"], c, today())
    cultivation.apply(s["o1"], c, d0 + timedelta(days=12))
    cultivation.accept(s["admin"], c, d0 + timedelta(days=20), items)
    assert c.status == "accepted"
    grant = cultivation.award(s["admin"], c, today(), "LLSF-2026-01")
    assert c.status == "awarded" and c.grant_id == grant.id and grant.status == "held"
    actions = {a.action for a in db.session.query(AuditLog)}
    assert {
        "cultivation.enter",
        "cultivation.accept",
        "cultivation.award",
        "title.grant",
    } <= actions


def test_barred_workshop_cannot_enter_the_pool(s):
    g = titles.grant(s["admin"], s["w"], s["title"], today() - timedelta(days=400))
    titles.revoke(s["admin"], g, "incident", "食品安全事故", bar_years=2)
    with pytest.raises(cultivation.CultivationError, match="不得申请"):
        cultivation.enter(s["o1"], s["w"], s["title"], "重点培育", today())


def test_targets_per_station_and_county(s, db):
    progress = {(p.unit.name, p.title.name): p for p in cultivation.progress(None)}
    station = progress[("西脑包市场监管所", "吕梁市食品小作坊示范点")]
    assert station.open_workshops == 10 and station.target == 1 and not station.met
    titles.grant(s["admin"], s["others"][0], s["title"], today())
    progress = {(p.unit.name, p.title.name): p for p in cultivation.progress(None)}
    assert progress[("西脑包市场监管所", "吕梁市食品小作坊示范点")].met
    county = progress[("东河区", "吕梁市食品小作坊示范点")]
    assert county.open_workshops == 10 and county.holders == 1 and county.met
    assert not progress[("昆北市场监管所", "吕梁市食品小作坊示范点")].met
    mine = {p.unit.name for p in cultivation.progress(access.visible_jurisdiction_ids(s["o1"]))}
    assert mine == {"西脑包市场监管所"}


def test_cultivation_pages_drive_the_whole_flow(s, client, db):
    f.login(client, s["o1"])
    page = client.get("/admin/programme/cultivation/").get_data(as_text=True)
    assert "创建目标" in page and "西脑包市场监管所" in page
    r = client.post(
        "/admin/programme/cultivation/",
        data={
            "workshop": s["far"].public_code,
            "title_id": s["title"].id,
            "grade": "重点培育",
            "entered_on": today().isoformat(),
        },
    )
    assert r.status_code == 422 and "找不到该作坊" in r.get_data(as_text=True)
    r = client.post(
        "/admin/programme/cultivation/",
        data={
            "workshop": s["w"].public_code,
            "title_id": s["title"].id,
            "grade": "重点培育",
            "entered_on": today().isoformat(),
        },
    )
    assert r.status_code == 302
    c = db.session.query(Cultivation).one()
    url = f"/admin/programme/cultivation/{c.id}"
    client.post(f"{url}/apply", data={"applied_on": today().isoformat()})
    assert "提交验收结果" not in client.get(url).get_data(as_text=True)  # officers do not accept
    client.post("/admin/logout")
    f.login(client, s["admin"])
    page = client.get(url).get_data(as_text=True)
    assert all(item in page for item in cultivation.standard())
    client.post(
        f"{url}/accept",
        data={"checked_on": today().isoformat(), "met": list(cultivation.standard())},
    )
    r = client.post(f"{url}/award", data={"granted_on": today().isoformat()}, follow_redirects=True)
    assert "已授牌" in r.get_data(as_text=True)
    assert db.session.query(TitleGrant).filter_by(workshop_id=s["w"].id, status="held").count() == 1
    client.post("/admin/logout")
    f.login(client, s["kun"])
    assert client.get(url).status_code == 403
