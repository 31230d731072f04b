"""摘牌 with plaque recovery and the revocation notice, 色标化 status, and 风险监测 apart from
监督抽检 (issue 17 parts 4, 5, 2): domain rules, admin pages, public page, API, open data."""

from datetime import date, timedelta

import pytest

from shifangbang import (
    access,
    colourcode,
    current_deployment,
    inspections,
    monitoring,
    opendata,
    plaques,
    public_status,
    sampling,
    titles,
)
from shifangbang.inspections import ItemResult
from shifangbang.models import AuditLog, Title
from shifangbang.programme_models import ColourCodeAdoption
from shifangbang.timeutil import today

from . import factories as f


@pytest.fixture
def s(db):
    j = f.jurisdictions()
    data = {
        "j": j,
        "w": f.workshop(j["xinaobao"], name="老东河凉糕作坊"),
        "far": f.workshop(j["kun1"], name="昆区面食坊"),
        "o1": f.user("officer", j["xinaobao"]),
        "o2": f.user("officer", j["xinaobao"]),
        "kun": f.user("officer", j["kun1"]),
        "admin": f.user("admin"),
        "viewer": f.user("viewer", j["donghe"]),
        "title": Title(
            name="包头市食品小作坊示范点", authority="包头市市场监督管理局", level="city"
        ),
    }
    db.session.add(data["title"])
    db.session.commit()
    return data


def revoked(s, days_ago: int, workshop=None):
    w = workshop or s["w"]
    g = titles.grant(s["admin"], w, s["title"], today() - timedelta(days=days_ago + 100))
    return titles.revoke(
        s["admin"],
        g,
        "serious_problem",
        "卫生条件严重不达标",
        on=today() - timedelta(days=days_ago),
    )


# --- 摘牌 ------------------------------------------------------------------------------------------


def test_plaque_overdue_then_recovered_and_audited(s, db):
    days = current_deployment().programme.plaque_recovery_days
    g = revoked(s, days + 1)
    state = next(x for x in plaques.states(None) if x.grant.id == g.id)
    assert state.overdue and state.due_on == g.revoked_on + timedelta(days=days)
    with pytest.raises(access.Forbidden):
        plaques.record_recovery(s["kun"], g, today())
    with pytest.raises(plaques.PlaqueError, match="早于撤销日期"):
        plaques.record_recovery(s["o1"], g, g.revoked_on - timedelta(days=1))
    plaques.record_recovery(s["o1"], g, today(), "当面收回")
    state = next(x for x in plaques.states(None) if x.grant.id == g.id)
    assert not state.overdue and state.recovery.recovered_by.id == s["o1"].id
    assert db.session.query(AuditLog).filter_by(action="plaque.recover").count() == 1
    with pytest.raises(plaques.PlaqueError, match="已登记"):
        plaques.record_recovery(s["o1"], g, today())


def test_recent_revocation_is_not_overdue(s):
    g = revoked(s, 2)
    assert not next(x for x in plaques.states(None) if x.grant.id == g.id).overdue


def test_plaque_page_and_public_revocation_notice(s, client, db):
    g = revoked(s, 40)
    other = revoked(s, 5, workshop=s["far"])
    db.session.commit()
    f.login(client, s["o1"])
    page = client.get("/admin/programme/plaques/").get_data(as_text=True)
    assert "逾期未收回" in page and s["w"].name in page and s["far"].name not in page  # scope
    r = client.post(
        f"/admin/programme/plaques/{g.id}",
        data={"recovered_on": today().isoformat(), "note": "已收回"},
    )
    assert r.status_code == 302
    assert client.post(f"/admin/programme/plaques/{other.id}", data={}).status_code == 403
    public = client.get("/rankings/announcements").get_data(as_text=True)
    assert "取消称号通报" in public and "老东河凉糕作坊" in public and "牌匾已于" in public
    assert (
        'href="#revocations">取消称号通报（2）' in public
    )  # found without scrolling past the list
    assert "牌匾收回中" in public  # the other one
    api = client.get("/api/v1/revocations").get_json()["items"]
    mine = next(i for i in api if i["workshop"]["code"] == s["w"].public_code)
    assert mine["plaque_recovered_on"] == today().isoformat()
    assert mine["title"] == "包头市食品小作坊示范点"


# --- 色标化 ------------------------------------------------------------------------------------------


def record_inspection(s, h1="pass", h2="pass", on=None):
    items = [
        ItemResult(
            c["code"],
            {"H1": h1, "H2": h2}.get(c["code"], "pass"),
            "未按色标分类" if {"H1": h1, "H2": h2}.get(c["code"]) == "fail" else "",
        )
        for c in current_deployment().checklist_items()
    ]
    fails = "fail" in (h1, h2)
    return inspections.record(
        s["o1"],
        s["w"],
        inspected_on=on or today(),
        kind="routine",
        inspector_ids=[s["o1"].id, s["o2"].id],
        items=items,
        rectification_due=(on or today()) + timedelta(days=10) if fails else None,
    )


def test_inspection_checklist_sets_colour_status(s, db):
    w = s["w"]
    assert public_status.colour_codes_for([w.id])[w.id].status == "not_started"
    record_inspection(s, "pass", "fail", on=today() - timedelta(days=20))
    assert db.session.get(ColourCodeAdoption, w.id).status == "partial"
    record_inspection(s, "pass", "pass", on=today() - timedelta(days=10))
    row = db.session.get(ColourCodeAdoption, w.id)
    assert row.status == "done" and row.completed_on == today() - timedelta(days=10)
    record_inspection(s, "pass", "pass")  # still done: the completion day stays the first one
    assert db.session.get(ColourCodeAdoption, w.id).completed_on == today() - timedelta(days=10)
    record_inspection(s, "na", "na")  # not checked: unchanged
    assert db.session.get(ColourCodeAdoption, w.id).status == "done"


def test_colour_status_public_page_api_open_data_and_deadline(s, client, db):
    w = s["w"]
    colourcode.set_status(s["o1"], w, "partial", today())
    db.session.commit()
    html = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    assert 'id="colour-status"' in html and "部分完成" in html
    api = client.get(f"/api/v1/workshops/{w.public_code}").get_json()["colour_code"]
    deadline = current_deployment().programme.colour_code_deadline
    assert api["status"] == "partial" and api["deadline"] == deadline.isoformat()
    row = next(r for r in opendata.records(None) if r["code"] == w.public_code)
    assert row["colour_code_status"] == "partial"
    after = public_status.colour_codes_for([w.id], deadline + timedelta(days=1))[w.id]
    assert after.overdue and not public_status.colour_codes_for([w.id], deadline)[w.id].overdue


def test_colour_page_counts_per_station_and_officer_sets_status(s, client, db):
    f.login(client, s["o1"])
    page = client.get("/admin/programme/colour/").get_data(as_text=True)
    assert "西脑包市场监管所" in page and "昆北市场监管所" not in page
    r = client.post(
        f"/admin/programme/colour/{s['w'].id}",
        data={"status": "done", "checked_on": today().isoformat()},
    )
    assert r.status_code == 302
    rows = {r["station"].name: r for r in colourcode.per_station(None)}
    assert rows["西脑包市场监管所"]["done"] == 1
    stats = client.get("/admin/stats/").get_data(as_text=True)
    assert "色标化完成情况" in stats and "西脑包市场监管所" in stats
    assert client.post(f"/admin/programme/colour/{s['far'].id}", data={}).status_code == 403
    r = client.post(
        f"/admin/programme/colour/{s['w'].id}",
        data={"status": "done", "checked_on": (today() + timedelta(days=2)).isoformat()},
        follow_redirects=True,
    )
    assert "不能晚于今天" in r.get_data(as_text=True)


# --- 风险监测 ---------------------------------------------------------------------------------------


def test_monitoring_failure_is_not_an_official_failure_and_opens_follow_up(s, db):
    w = s["w"]
    g = titles.grant(s["admin"], w, s["title"], today() - timedelta(days=200))
    for k in range(3):
        monitoring.record(
            s["o1"],
            w,
            sampled_on=today() - timedelta(days=50 + k),
            product="牛肉干",
            hazard="兽药残留",
            lab="包头市检验检测中心",
            result="fail",
            measured_value="克伦特罗 0.8μg/kg",
        )
    assert sampling.confirmed_failures(w, since=date(2000, 1, 1), until=today(), on=today()) == []
    assert titles.evaluate(g) == []  # three monitoring failures: no revocation rule fires
    tasks = monitoring.open_follow_ups(None)
    days = current_deployment().programme.follow_up_sampling_days
    assert len(tasks) == 3 and tasks[0].result.follow_up_due == today() - timedelta(
        days=52
    ) + timedelta(days=days)
    assert all(t.overdue for t in tasks)
    sampling.record(
        s["o1"],
        w,
        sampled_on=today(),
        product="牛肉干",
        lab="包头市检验检测中心",
        result="pass",
    )
    assert monitoring.open_follow_ups(None) == []


def test_monitoring_pages(s, client, db):
    f.login(client, s["o1"])
    code = s["w"].public_code
    r = client.post(
        f"/admin/programme/monitoring/new?workshop={code}",
        data={
            "workshop": code,
            "sampled_on": today().isoformat(),
            "product": "熟牛肉",
            "hazard": "动物源性成分",
            "lab": "市检测中心",
            "result": "fail",
        },
    )
    assert r.status_code == 422 and "请填写检测值" in r.get_data(as_text=True)
    r = client.post(
        f"/admin/programme/monitoring/new?workshop={code}",
        data={
            "workshop": code,
            "sampled_on": today().isoformat(),
            "product": "熟牛肉",
            "hazard": "动物源性成分",
            "lab": "市检测中心",
            "result": "fail",
            "measured_value": "检出猪源性成分",
        },
    )
    assert r.status_code == 302
    page = client.get("/admin/programme/monitoring/").get_data(as_text=True)
    assert "检出猪源性成分" in page and "待跟踪抽检（1）" in page
    overview = client.get("/admin/programme/").get_data(as_text=True)
    assert "待跟踪抽检 1 家" in overview
    # Not public: the workshop page says nothing about it.
    assert "检出猪源性成分" not in client.get(f"/w/{code}").get_data(as_text=True)
    client.post("/admin/logout")
    f.login(client, s["kun"])
    assert "检出猪源性成分" not in client.get("/admin/programme/monitoring/").get_data(as_text=True)
    assert "找不到该作坊" in client.get(
        f"/admin/programme/monitoring/new?workshop={code}", follow_redirects=True
    ).get_data(as_text=True)
    client.post("/admin/logout")
    f.login(client, s["viewer"])
    assert client.get(f"/admin/programme/monitoring/new?workshop={code}").status_code == 403


def test_revocation_notices_in_the_open_data_export(s, client, db, tmp_path, app):
    g = revoked(s, 3)
    plaques.record_recovery(s["o1"], g, today())
    db.session.commit()
    original = app.config.get("OPENDATA_DIR")
    app.config["OPENDATA_DIR"] = str(tmp_path)
    try:
        page = client.get("/open-data/").get_data(as_text=True)
        assert "取消称号通报（JSON）" in page
        data = client.get("/open-data/revocations.json").get_json()
    finally:
        app.config["OPENDATA_DIR"] = original
    mine = [r for r in data["revocations"] if r["code"] == s["w"].public_code]
    assert mine and mine[0]["plaque_recovered_on"] == today().isoformat()
    assert mine[0]["title"] == "包头市食品小作坊示范点"
