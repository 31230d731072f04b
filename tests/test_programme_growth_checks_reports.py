"""Growth registers, registration spot checks and station draws, the reporting calendar
(issue 17 parts 7, 8, 9): rules, pages, roles, dashboard."""

from datetime import date, timedelta

import pytest

from shifangbang import access, current_deployment, draws, growth, reporting, spotcheck
from shifangbang.models import AuditLog
from shifangbang.programme_models import GrowthEntry, StationReport
from shifangbang.timeutil import today

from . import factories as f


@pytest.fixture
def s(db):
    j = f.jurisdictions()
    recent = today() - timedelta(days=20)
    data = {
        "j": j,
        "w": f.workshop(j["xinaobao"], name="老东河凉糕作坊"),
        "new": [
            f.workshop(j["xinaobao" if k % 2 else "nanmen"], valid_from=recent) for k in range(30)
        ],
        "far": f.workshop(j["kun1"], valid_from=recent),
        "o1": f.user("officer", j["xinaobao"]),
        "o2": f.user("officer", j["nanmen"]),
        "county": f.user("officer", j["donghe"]),
        "kun": f.user("officer", j["kun1"]),
        "admin": f.user("admin"),
        "viewer": f.user("viewer", j["donghe"]),
    }
    db.session.commit()
    return data


# --- growth registers -------------------------------------------------------------------------------


def test_growth_list_then_ledger_through_the_stages(s, db):
    w, stages = s["w"], growth.stages()
    with pytest.raises(growth.GrowthError, match="不能超过 300 字"):  # refused, never cut
        growth.add(s["o1"], w, "growth", today(), "长" * 301)
    listed = growth.add(s["o1"], w, "growth", today() - timedelta(days=90), "条件尚不具备")
    with pytest.raises(growth.GrowthError, match="已在此名录"):
        growth.add(s["o1"], w, "growth", today())
    e = growth.add(s["o1"], w, "upgrade", today() - timedelta(days=60))
    assert listed.closed_on == today() - timedelta(days=60) and e.stage == stages[0]
    with pytest.raises(access.Forbidden):
        growth.advance(s["kun"], e, today())
    for k in range(1, len(stages)):
        growth.advance(s["o1"], e, today() - timedelta(days=60 - 10 * k))
        assert e.stage == stages[k]
    assert e.closed_on is not None  # licensed
    with pytest.raises(growth.GrowthError):
        growth.advance(s["o1"], e, today())
    counts = growth.counts(None)
    assert counts["upgrade"] == {stages[-1]: 1} and counts["growth"] == {}
    assert db.session.query(AuditLog).filter_by(action="growth.advance").count() == len(stages) - 1


def test_growth_pages(s, client, db):
    f.login(client, s["o1"])
    r = client.post(
        "/admin/programme/growth/",
        data={
            "workshop": s["w"].public_code,
            "register": "upgrade",
            "entered_on": today().isoformat(),
        },
    )
    assert r.status_code == 302
    e = db.session.query(GrowthEntry).one()
    page = client.get("/admin/programme/growth/").get_data(as_text=True)
    assert "老东河凉糕作坊" in page and growth.stages()[0] in page
    client.post(f"/admin/programme/growth/{e.id}/advance", data={"on": today().isoformat()})
    db.session.refresh(e)
    assert e.stage == growth.stages()[1]
    r = client.post(
        "/admin/programme/growth/",
        data={
            "workshop": s["far"].public_code,
            "register": "growth",
            "entered_on": today().isoformat(),
        },
    )
    assert r.status_code == 422 and "找不到该作坊" in r.get_data(as_text=True)
    assert "成长培育" in client.get("/admin/stats/").get_data(as_text=True)


# --- spot checks and station draws ------------------------------------------------------------------


def test_registration_check_draws_five_percent_reproducibly(s, db):
    start, end = today() - timedelta(days=30), today()
    pool = spotcheck.pool_size(s["j"]["donghe"].id, start, end)
    assert pool == 30  # the old workshop and the other county's are not in the period's pool
    d = spotcheck.draw(s["admin"], s["j"]["donghe"].id, start, end, seed="2026-11")
    share = current_deployment().programme.registration_check_share
    assert len(d.result) == max(1, -(-pool * share // 1)) == 2
    assert draws.replay_matches(d) and d.params["purpose"] == "registration_check"
    again = spotcheck.draw(s["admin"], s["j"]["donghe"].id, start, end, seed="2026-11")
    assert again.result == d.result
    assert {x.id for x in spotcheck.recent(None)} == {d.id, again.id}
    with pytest.raises(draws.DrawError, match="没有新登记"):
        spotcheck.draw(s["admin"], s["j"]["donghe"].id, date(2001, 1, 1), date(2001, 2, 1))
    with pytest.raises(access.Forbidden):  # a station cannot draw for the county
        spotcheck.draw(s["o1"], s["j"]["donghe"].id, start, end)
    d2 = spotcheck.draw(s["county"], s["j"]["donghe"].id, start, end)  # the county's officer can
    assert d2.jurisdiction_id == s["j"]["donghe"].id


def test_spotcheck_page(s, client, db):
    f.login(client, s["admin"])
    r = client.post(
        "/admin/programme/spotcheck/",
        data={
            "county_id": s["j"]["donghe"].id,
            "start": (today() - timedelta(days=30)).isoformat(),
            "end": today().isoformat(),
            "seed": "abc",
        },
        follow_redirects=True,
    )
    assert "一致" in r.get_data(as_text=True)
    assert "查看与复算" in client.get("/admin/programme/spotcheck/").get_data(as_text=True)
    r = client.post(
        "/admin/programme/spotcheck/",
        data={
            "county_id": s["j"]["donghe"].id,
            "start": today().isoformat(),
            "end": (today() - timedelta(days=3)).isoformat(),
        },
    )
    assert r.status_code == 422 and "开始日期不晚于结束日期" in r.get_data(as_text=True)


# --- reporting calendar -----------------------------------------------------------------------------


def test_reporting_states_and_rules(s, db):
    period = reporting.current_period()
    prev = reporting.previous_period(period)
    day = current_deployment().programme.report_due_day
    assert reporting.due_on(prev) == date(int(prev[:4]), int(prev[5:]), day)
    reporting.submit(s["o1"], s["j"]["xinaobao"], "monthly_stats", prev, reporting.due_on(prev))
    with pytest.raises(reporting.ReportError, match="已报送"):
        reporting.submit(s["o1"], s["j"]["xinaobao"], "monthly_stats", prev, today())
    with pytest.raises(access.Forbidden):
        reporting.submit(s["o1"], s["j"]["nanmen"], "monthly_stats", prev, today())
    with pytest.raises(reporting.ReportError, match="所/中队"):
        reporting.submit(s["admin"], s["j"]["donghe"], "monthly_stats", prev, today())
    with pytest.raises(reporting.ReportError, match="格式"):
        reporting.submit(s["o1"], s["j"]["xinaobao"], "monthly_stats", "2026-13", today())
    rows = {(r.station.name, r.kind, r.period): r for r in reporting.calendar(None, [prev, period])}
    assert rows[("西脑包市场监管所", "monthly_stats", prev)].state == "submitted"
    assert rows[("西脑包市场监管所", "three_lists", prev)].state == "overdue"  # prev's 24th passed
    expected = "overdue" if today() > reporting.due_on(period) else "due"
    assert rows[("南门外市场监管所", "three_lists", period)].state == expected


def test_reports_page_and_dashboard(s, client, db):
    f.login(client, s["o1"])
    dash = client.get("/admin/").get_data(as_text=True)
    assert "所/中队报表（三清单、月报）逾期未报" in dash  # last month's, past the 24th
    page = client.get("/admin/programme/reports/").get_data(as_text=True)
    assert "西脑包市场监管所" in page and "南门外市场监管所" not in page
    prev = reporting.previous_period(reporting.current_period())
    r = client.post(
        "/admin/programme/reports/",
        data={
            "station_id": s["j"]["xinaobao"].id,
            "kind": "three_lists",
            "period": prev,
            "submitted_on": today().isoformat(),
        },
    )
    assert r.status_code == 302
    assert db.session.query(StationReport).filter_by(kind="three_lists", period=prev).count() == 1
    assert (
        client.post(
            "/admin/programme/reports/",
            data={
                "station_id": s["j"]["nanmen"].id,
                "kind": "three_lists",
                "period": prev,
                "submitted_on": today().isoformat(),
            },
        ).status_code
        == 403
    )
    overview = client.get("/admin/programme/").get_data(as_text=True)
    assert "逾期未报" in overview and "新登记作坊抽查" in overview
