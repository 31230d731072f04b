"""双随机 draws and their replay; the upgrade-request window; the rectification ledger; statistics."""

import io
import random
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from shifangbang import access, draws, rectification, sampling, stats, tiers
from shifangbang.models import ConflictOfInterest, RandomDraw, RectificationItem
from shifangbang.timeutil import local_day_start, today

from . import factories as f


@pytest.fixture
def s(db):
    j = f.jurisdictions()
    meat = f.category("肉制品", high_risk=True)
    grain = f.category("粮食加工品", high_risk=False)
    codes = [f"D{n:03d}X{j['city'].id}" for n in range(12)]
    random.Random(7).shuffle(codes)  # inserted in an arbitrary order: ids do not follow codes
    ws = [
        f.workshop(
            j["xinaobao"] if i % 2 else j["nanmen"],
            public_code=c,
            categories=[meat if i % 3 else grain],
            tier_code="bronze" if i % 4 else "gold",
        )
        for i, c in enumerate(codes)
    ]
    officers = [
        f.user("officer", j["xinaobao"]),
        f.user("officer", j["nanmen"]),
        f.user("officer", j["donghe"]),
        f.user("officer", j["nanmen"]),
    ]
    data = {
        "j": j,
        "ws": ws,
        "officers": officers,
        "admin": f.user("admin"),
        "meat": meat,
        "kun_officer": f.user("officer", j["kun1"]),
        "outside": f.workshop(j["kun1"]),
    }
    db.session.commit()
    return data


# --- draws ---------------------------------------------------------------------------------------------


def test_compute_is_independent_of_input_order():
    pool = [f"W{i}" for i in range(30)]
    a = draws.compute("abc", pool, 5, 4, 2, {("W3", 1)})
    shuffled = pool[:]
    random.Random(1).shuffle(shuffled)
    assert draws.compute("abc", shuffled, 5, 4, 2, {("W3", 1)}) == a
    assert draws.compute("abd", pool, 5, 4, 2) != a  # the seed matters
    assert all(len(p["inspectors"]) == 2 and len(set(p["inspectors"])) == 2 for p in a)


def test_draw_filters_excludes_conflicts_and_replays(db, s, app):
    j, admin = s["j"], s["admin"]
    target = s["ws"][1]
    for u in s["officers"][:2]:  # only two officers left who may inspect `target`
        db.session.add(ConflictOfInterest(user_id=u.id, workshop_id=target.id, reason="亲属关系"))
    db.session.commit()
    d = draws.draw(
        admin,
        j["donghe"].id,
        8,
        category_ids=[s["meat"].id],
        high_risk_only=True,
        seed="公开种子-2026",
    )
    pool = [w for w in s["ws"] if w.categories[0].id == s["meat"].id]
    assert sorted(d.pool) == sorted(w.id for w in pool) and s["outside"].id not in d.pool
    assert d.pool == [w.id for w in sorted(pool, key=lambda w: w.public_code)]  # canonical order
    assert s["kun_officer"].id not in d.inspectors and len(d.inspectors) == 4
    assert len(d.result) == 8
    for r in d.result:
        assert len(r["inspector_ids"]) == 2
    assert {
        tuple(sorted(r["inspector_ids"])) for r in d.result if r["workshop_id"] == target.id
    } == {tuple(sorted(u.id for u in s["officers"][2:]))}
    assert draws.replay(d) == d.result
    draws.publish(admin, d)
    # The stored order is not trusted: a reversed pool and inspector list replay identically,
    # and workshops added to the jurisdiction later do not change the replay.
    d.pool = list(reversed(d.pool))
    d.inspectors = list(reversed(d.inspectors))
    f.workshop(j["xinaobao"], public_code="A0000", categories=[s["meat"]])
    db.session.commit()
    assert draws.replay_matches(d)
    out = app.test_cli_runner().invoke(args=["draws", "replay", str(d.id)])
    assert out.exit_code == 0 and "一致" in out.output
    d.result = list(reversed(d.result))
    db.session.commit()
    bad = app.test_cli_runner().invoke(args=["draws", "replay", str(d.id)])
    assert bad.exit_code == 1 and "不一致" in bad.output


def test_conflicts_can_make_a_draw_impossible(db, s):
    w = s["ws"][0]
    for u in s["officers"][:3]:
        db.session.add(ConflictOfInterest(user_id=u.id, workshop_id=w.id, reason="x"))
    db.session.commit()
    with pytest.raises(draws.DrawError, match="不足"):
        draws.draw(s["admin"], s["j"]["donghe"].id, 12, seed="s")
    assert db.session.query(RandomDraw).count() == 0


def test_draw_seed_recorded_when_not_given_and_stations_draw_only_at_home(db, s):
    d = draws.draw(s["admin"], s["j"]["donghe"].id, 3, tiers=["gold"])
    assert len(d.seed) == 32 and all(
        db.session.get(type(s["ws"][0]), r["workshop_id"]).tier_code == "gold" for r in d.result
    )
    # Issue 17: stations run their own draws, within their jurisdiction only; the bureau publishes.
    with pytest.raises(access.Forbidden):
        draws.draw(s["officers"][0], s["j"]["donghe"].id, 1)
    with pytest.raises(access.Forbidden):
        draws.draw(s["officers"][1], s["j"]["xinaobao"].id, 1)
    own = draws.draw(s["officers"][1], s["j"]["nanmen"].id, 1)
    assert {w for w in own.pool} <= {w.id for w in s["ws"] if w.station_id == s["j"]["nanmen"].id}
    with pytest.raises(access.Forbidden):
        draws.publish(s["officers"][1], own)


def test_public_draw_page_only_when_published(db, s, client):
    d = draws.draw(s["admin"], s["j"]["donghe"].id, 2, seed="seed-xyz")
    assert client.get(f"/draws/{d.id}").status_code == 404
    draws.publish(s["admin"], d)
    page = client.get(f"/draws/{d.id}").get_data(as_text=True)
    assert "seed-xyz" in page and f"flask draws replay {d.id}" in page
    chosen = db.session.get(type(s["ws"][0]), d.result[0]["workshop_id"])
    assert chosen.name in page and "测试人员" in page
    assert chosen.operator_phone not in page


# --- the upgrade-request window -----------------------------------------------------------------------


def test_upgrade_request_window_is_twelve_calendar_months(db, s):
    w, officer = s["ws"][1], s["officers"][0]
    d = tiers.propose(officer, w, "gold", "upgrade_request", upgrade_request=True)
    # Made (China time) on 10 March 2025, 08:30.
    d.proposed_at = local_day_start(date(2025, 3, 10)) + timedelta(hours=8, minutes=30)
    db.session.commit()
    assert tiers.upgrade_requests_in_last_year(w, on=date(2026, 3, 9)) == 1
    assert tiers.upgrade_requests_in_last_year(w, on=date(2026, 3, 10)) == 0
    # Made just before midnight China time on 31 Dec 2025 (16:59 UTC the same day).
    d.proposed_at = datetime(2025, 12, 31, 15, 59)
    db.session.commit()
    assert tiers.upgrade_requests_in_last_year(w, on=date(2026, 12, 31)) == 0
    assert tiers.upgrade_requests_in_last_year(w, on=date(2026, 12, 30)) == 1


def test_upgrade_limit_counts_requests_of_the_last_twelve_months_only(db, s):
    w, officer = s["ws"][1], s["officers"][0]
    old = tiers.propose(officer, w, "gold", "upgrade_request", upgrade_request=True)
    tiers.propose(officer, w, "gold", "upgrade_request", upgrade_request=True)
    old.proposed_at = local_day_start(
        today().replace(year=today().year - 1)
    )  # exactly a year ago: outside
    db.session.commit()
    tiers.propose(officer, w, "silver", "upgrade_request", upgrade_request=True)
    with pytest.raises(tiers.TierError, match="已达上限"):
        tiers.propose(officer, w, "gold", "upgrade_request", upgrade_request=True)


def test_evidence_must_belong_to_the_workshop(db, s):
    a, b = s["ws"][1], s["ws"][3]
    x = sampling.record(
        s["officers"][0], a, sampled_on=date(2025, 1, 2), product="豆腐", lab="x", result="pass"
    )
    with pytest.raises(tiers.TierError, match="不属于"):
        tiers.propose(s["officers"][0], b, "orange", "sampling", sampling=x)


# --- the rectification ledger -------------------------------------------------------------------------


def test_ledger_add_strike_off_and_authorisation(db, s):
    w = s["ws"][1]
    assert rectification.needs_ledger(w)
    item = rectification.add_item(
        s["officers"][0], w, "原料库房未离地存放", today() + timedelta(days=30), "加装货架"
    )
    with pytest.raises(access.Forbidden):
        rectification.add_item(s["kun_officer"], w, "x", today() + timedelta(days=3))
    with pytest.raises(rectification.RectificationError):
        rectification.add_item(s["officers"][0], w, "x", today() - timedelta(days=1))
    assert rectification.ledger(w) == [item]
    rectification.strike_off(s["officers"][0], item)
    assert item.fixed_on == today()
    with pytest.raises(rectification.RectificationError, match="已销号"):
        rectification.strike_off(s["officers"][0], item)


def test_progress_against_dated_targets(db, s):
    w = s["ws"][1]
    rows = []
    for n in range(4):
        r = RectificationItem(
            workshop_id=w.id,
            problem=f"问题{n}",
            due_on=date(2025, 5, 1),
            created_at=local_day_start(date(2025, 2, 1)),
        )
        db.session.add(r)
        rows.append(r)
    rows[0].fixed_on, rows[1].fixed_on, rows[2].fixed_on = (
        date(2025, 6, 30),
        date(2025, 6, 10),
        date(2025, 7, 1),
    )
    db.session.add(
        RectificationItem(
            workshop_id=w.id,
            problem="去年",
            due_on=date(2024, 12, 1),
            created_at=local_day_start(date(2025, 1, 1)) - timedelta(seconds=1),
        )
    )
    db.session.commit()
    p = rectification.progress({s["j"]["xinaobao"].id}, 2025, on=date(2025, 12, 31))
    assert (p["total"], p["fixed"], p["overdue"]) == (4, 3, 1)
    half, all_ = p["targets"]
    assert (half.by, half.required, half.fixed_by_then, half.state) == (
        date(2025, 6, 30),
        2,
        2,
        "met",
    )
    assert (all_.by, all_.required, all_.fixed_by_then, all_.state) == (
        date(2025, 10, 31),
        4,
        3,
        "missed",
    )
    mid = rectification.progress({s["j"]["xinaobao"].id}, 2025, on=date(2025, 6, 20))
    assert [t.state for t in mid["targets"]] == ["pending", "pending"]
    assert rectification.progress({s["j"]["kun1"].id}, 2025, on=date(2025, 12, 31))["total"] == 0


# --- statistics --------------------------------------------------------------------------------------


def test_stats_scope_and_xlsx(db, s):
    w = s["ws"][1]
    sampling.record(
        s["officers"][0], w, sampled_on=date(2025, 3, 3), product="豆腐", lab="x", result="pass"
    )
    sampling.record(
        s["officers"][0],
        w,
        sampled_on=date(2025, 3, 4),
        product="豆腐",
        lab="x",
        result="fail",
        failed_item="a",
        measured_value="2",
        limit_value="1",
        notice_no="N1",
        notice_on=date(2025, 3, 4),
    )
    d = tiers.propose(s["officers"][0], w, "orange", "hygiene")
    tiers.decide(s["admin"], d, True)
    tiers.publish(s["admin"], d)
    figures = stats.compute(
        {s["j"]["xinaobao"].id}, date(2025, 1, 1), date(2026, 1, 1), on=date(2025, 12, 31)
    )
    assert figures["workshops"]["total"] == 6
    assert figures["sampling"]["total"] == 2 and figures["sampling"]["pass_rate"] == 0.5
    everywhere = stats.compute(None, date(2025, 1, 1), date(2026, 1, 1), on=date(2025, 12, 31))
    assert everywhere["workshops"]["total"] >= 13
    current = stats.compute(
        {s["j"]["xinaobao"].id}, *stats.month_bounds(today().year, today().month)
    )
    month = f"{today().year}-{today().month:02d}"
    assert current["tier_changes"][month]["downgrade"] == 1
    data = stats.xlsx(figures, "西脑包市场监管所")
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == [
        "作坊概况",
        "监督检查",
        "监督抽检",
        "投诉举报",
        "榜级变动",
        "示范称号",
        "整改进度",
    ]
    values = {row[0]: row[1] for row in wb["监督抽检"].iter_rows(min_row=5, values_only=True)}
    assert values["抽检批次"] == 2 and values["合格率"] == "50.0%"
    assert "西脑包市场监管所" in wb["作坊概况"]["A1"].value


def test_targets_measure_only_problems_logged_by_their_date(db, s):
    w = s["ws"][1]
    db.session.add(
        RectificationItem(
            workshop_id=w.id,
            problem="早",
            due_on=date(2025, 4, 1),
            fixed_on=date(2025, 3, 20),
            created_at=local_day_start(date(2025, 3, 1)),
        )
    )
    db.session.add(
        RectificationItem(
            workshop_id=w.id,
            problem="晚",
            due_on=date(2025, 8, 1),
            created_at=local_day_start(date(2025, 7, 1)),
        )
    )  # logged after 30 June
    db.session.commit()
    half, all_ = rectification.progress({s["j"]["xinaobao"].id}, 2025, on=date(2025, 12, 1))[
        "targets"
    ]
    assert (half.total, half.fixed_by_then, half.state) == (1, 1, "met")
    assert (all_.total, all_.fixed_by_then, all_.state) == (2, 1, "missed")
