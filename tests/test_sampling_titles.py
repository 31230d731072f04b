"""Sampling re-tests and which failures count; titles: grant, bar, review and the revocation rules."""

import dataclasses
from datetime import date, timedelta

import pytest

from shifangbang import access, inspections, sampling, titles
from shifangbang.inspections import ItemResult
from shifangbang.models import AuditLog, ChangeLog, RevocationProposal, Title
from shifangbang.timeutil import today

from . import factories as f


@pytest.fixture
def s(db):
    j = f.jurisdictions()
    data = {
        "j": j,
        "w": f.workshop(j["xinaobao"], tier_code="gold"),
        "officer": f.user("officer", j["xinaobao"]),
        "o2": f.user("officer", j["xinaobao"]),
        "other": f.user("officer", j["kun1"]),
        "admin": f.user("admin"),
    }
    data["title"] = Title(
        name=f"东河区示范作坊{data['w'].id}", authority="东河区市场监督管理局", level="county"
    )
    db.session.add(data["title"])
    db.session.commit()
    return data


def fail(s, day: date, notice: date | None = None, who=None):
    return sampling.record(
        who or s["officer"],
        s["w"],
        sampled_on=day,
        product="豆腐",
        lab="包头市检验检测中心",
        result="fail",
        failed_item="苯甲酸",
        measured_value="0.31 g/kg",
        limit_value="不得使用",
        notice_no=f"BT{day:%Y%m%d}",
        notice_on=notice or day,
    )


# --- sampling ---------------------------------------------------------------------------------------


def test_failure_needs_item_values_and_notice(db, s):
    with pytest.raises(sampling.SamplingError, match="实测值"):
        sampling.record(
            s["officer"],
            s["w"],
            sampled_on=date(2025, 1, 2),
            product="豆腐",
            lab="x",
            result="fail",
        )
    with pytest.raises(sampling.SamplingError, match="通知书"):
        sampling.record(
            s["officer"],
            s["w"],
            sampled_on=date(2025, 1, 2),
            product="豆腐",
            lab="x",
            result="fail",
            failed_item="a",
            measured_value="1",
            limit_value="0.5",
        )
    ok = sampling.record(
        s["officer"],
        s["w"],
        sampled_on=date(2025, 1, 2),
        product="豆腐",
        lab="x",
        result="pass",
        failed_item="ignored",
    )
    assert ok.failed_item is None and not sampling.is_confirmed_failure(ok, date(2026, 1, 1))
    with pytest.raises(access.Forbidden):
        fail(s, date(2025, 1, 2), who=s["other"])


def test_retest_window_is_seven_working_days_after_notice(db, s):
    x = fail(s, date(2024, 12, 30), notice=date(2025, 1, 2))
    assert sampling.retest_deadline(x) == date(2025, 1, 13)  # Jan 4/5 and 11/12 are weekend days
    with pytest.raises(sampling.SamplingError, match="已逾期"):
        sampling.request_retest(s["officer"], x, date(2025, 1, 14))
    sampling.request_retest(s["officer"], x, date(2025, 1, 13))
    assert x.retest_status == "requested"
    # Over the National Day holiday (Oct 1–8) and the 11 October 2025 make-up working day.
    y = fail(s, date(2025, 9, 26), notice=date(2025, 9, 30))
    assert sampling.retest_deadline(y) == date(2025, 10, 16)


def test_only_confirmed_failures_count(db, s):
    pending = fail(s, date(2025, 3, 3))
    overturned = fail(s, date(2025, 3, 4))
    upheld = fail(s, date(2025, 3, 5))
    in_window = fail(s, date(2025, 3, 6))
    for x in (pending, overturned, upheld):
        sampling.request_retest(s["officer"], x, x.notice_on + timedelta(days=1))
    sampling.decide_retest(s["officer"], overturned, upheld=False, decided_on=date(2025, 3, 20))
    sampling.decide_retest(s["officer"], upheld, upheld=True, decided_on=date(2025, 3, 20))
    # In the window of `in_window` (deadline 17 March), only the upheld one counts.
    assert sampling.confirmed_failures(s["w"], on=date(2025, 3, 17)) == [upheld]
    # After the window closed without a request it counts; pending and overturned never do.
    assert sampling.confirmed_failures(s["w"], on=date(2025, 3, 18)) == [upheld, in_window]
    with pytest.raises(sampling.SamplingError):
        sampling.decide_retest(s["officer"], overturned, upheld=True, decided_on=date(2025, 3, 21))


# --- titles: grant and bar --------------------------------------------------------------------------


def test_grant_is_admin_only_and_not_twice(db, s):
    with pytest.raises(access.Forbidden):
        titles.grant(s["officer"], s["w"], s["title"], date(2024, 1, 1))
    g = titles.grant(s["admin"], s["w"], s["title"], date(2024, 1, 1), "DH-001")
    assert (
        g.status == "held"
        and db.session.query(ChangeLog).filter_by(workshop_id=s["w"].id).count() == 1
    )
    with pytest.raises(titles.TitleError, match="已持有"):
        titles.grant(s["admin"], s["w"], s["title"], date(2024, 2, 1))


def test_bar_expires_on_its_day(db, s):
    g = titles.grant(s["admin"], s["w"], s["title"], date(2023, 1, 1))
    titles.flag(s["admin"], g, "incident", "2024年2月发生集体食源性疾病事件")
    p = titles.propose_revocations(g, date(2024, 3, 1))
    assert p.rule == "incident" and p.bar_years == 2
    titles.confirm(s["admin"], p, on=date(2024, 3, 1))
    assert (g.status, g.revoked_on, g.revoke_rule, g.barred_until) == (
        "revoked",
        date(2024, 3, 1),
        "incident",
        date(2026, 3, 1),
    )
    with pytest.raises(titles.TitleError, match="2026年3月1日前不得再申请"):
        titles.grant(s["admin"], s["w"], s["title"], date(2026, 2, 28))
    assert titles.grant(s["admin"], s["w"], s["title"], date(2026, 3, 1)).status == "held"


# --- titles: the rules engine -------------------------------------------------------------------------


def rules(s, on=date(2026, 6, 1), granted=date(2020, 1, 1)):
    g = titles.grant(s["admin"], s["w"], s["title"], granted)
    return [x.rule for x in titles.evaluate(g, on)], g


@pytest.fixture
def calendar_years(app, monkeypatch):
    """The deployment option title_year_window = "calendar" ("一年内" = one calendar year)."""
    dep = app.extensions["deployment"]
    bureau = dataclasses.replace(dep.bureau, title_year_window="calendar")
    monkeypatch.setitem(app.extensions, "deployment", dataclasses.replace(dep, bureau=bureau))


def test_calendar_year_boundary(db, s, calendar_years):
    fail(s, date(2024, 12, 31))
    fail(s, date(2025, 1, 1))
    found, g = rules(s)
    assert found == []  # 31 December and 1 January: one failure in each of two years
    fail(s, date(2025, 12, 31))
    assert [x.rule for x in titles.evaluate(g, date(2026, 6, 1))] == ["two_failures"]


def test_pending_and_overturned_do_not_count(db, s):
    fail(s, date(2025, 3, 3))
    b = fail(s, date(2025, 5, 5))
    sampling.request_retest(s["officer"], b, date(2025, 5, 6))
    found, g = rules(s)
    assert found == []
    sampling.decide_retest(s["officer"], b, upheld=False, decided_on=date(2025, 6, 1))
    assert titles.evaluate(g, date(2026, 6, 1)) == []
    c = fail(s, date(2025, 7, 7))
    assert [x.rule for x in titles.evaluate(g, date(2026, 6, 1))] == ["two_failures"]
    assert [e["id"] for e in titles.evaluate(g, date(2026, 6, 1))[0].evidence["samplings"]] == [
        x.id for x in sampling.confirmed_failures(s["w"], on=date(2026, 6, 1))
    ]
    assert c.id in [e["id"] for e in titles.evaluate(g, date(2026, 6, 1))[0].evidence["samplings"]]


def test_three_in_a_year_bars(db, s):
    for d in (date(2025, 2, 3), date(2025, 6, 2), date(2025, 12, 1)):
        fail(s, d)
    found, g = rules(s)
    assert found == ["three_failures"]
    assert titles.evaluate(g, date(2026, 6, 1))[0].bar_years == 2


def test_three_consecutive_years_vs_a_gap_year(db, s, calendar_years):
    for d in (date(2021, 5, 6), date(2022, 5, 6), date(2024, 5, 6)):
        fail(s, d)
    found, g = rules(s)
    assert found == []  # 2021, 2022, (gap) 2024
    fail(s, date(2023, 5, 8))
    findings = titles.evaluate(g, date(2026, 6, 1))
    assert [x.rule for x in findings] == ["three_years"] and findings[0].evidence["years"] == [
        2022,
        2023,
        2024,
    ]


def test_failures_before_the_grant_do_not_count(db, s):
    fail(s, date(2021, 5, 6))
    fail(s, date(2021, 6, 7))
    assert rules(s, granted=date(2022, 1, 1))[0] == []


def test_late_rectification_and_serious_problem(db, s):
    found, g = rules(s, on=today())
    assert found == []
    items = [
        ItemResult(c["code"], "pass")
        for c in __import__("shifangbang").current_deployment().checklist_items()
    ]
    items[1] = ItemResult(items[1].code, "fail", "防蝇设施缺失")
    insp = inspections.record(
        s["officer"],
        s["w"],
        inspected_on=today() - timedelta(days=20),
        kind="routine",
        inspector_ids=[s["officer"].id, s["o2"].id],
        items=items,
        rectification_due=today() - timedelta(days=1),
    )
    assert [x.rule for x in titles.evaluate(g, today())] == ["late_rectification"]
    assert titles.evaluate(g, today() - timedelta(days=1)) == []  # due day itself is not late
    titles.flag(s["admin"], g, "serious_problem", "擅自扩大生产品种")
    assert [x.rule for x in titles.evaluate(g, today())] == [
        "late_rectification",
        "serious_problem",
    ]
    assert insp.id == titles.evaluate(g, today())[0].evidence["inspections"][0]["id"]


def test_proposals_confirm_dismiss_and_no_duplicates(db, s):
    fail(s, date(2025, 3, 3))
    fail(s, date(2025, 4, 4))
    found, g = rules(s)
    p = titles.propose_revocations(g, date(2026, 6, 1))
    assert p.rule == "two_failures" and p.bar_years == 0 and len(p.evidence["samplings"]) == 2
    assert titles.propose_revocations(g, date(2026, 6, 1)) is None  # already pending
    with pytest.raises(access.Forbidden):
        titles.dismiss(s["officer"], p, "不同意")
    with pytest.raises(titles.TitleError, match="理由"):
        titles.dismiss(s["admin"], p, "")
    titles.dismiss(s["admin"], p, "两次为同一批次，复核后认定为一次")
    assert titles.propose_revocations(g, date(2026, 6, 1)) is None  # same evidence was dismissed
    fail(s, date(2025, 5, 5))  # new evidence: now three in a year
    p2 = titles.propose_revocations(g, date(2026, 6, 1))
    assert p2.rule == "three_failures" and p2.bar_years == 2
    titles.confirm(s["admin"], p2, "", on=date(2026, 6, 1))
    assert (
        g.status == "revoked"
        and g.barred_until == date(2028, 6, 1)
        and g.revoke_rule == "three_failures"
    )
    assert {"title.confirm_revocation", "title.revoke"} <= {
        a.action for a in db.session.query(AuditLog)
    }
    with pytest.raises(titles.TitleError):
        titles.confirm(s["admin"], p2)


def test_review_records_and_runs_rules(db, s):
    fail(s, date(2025, 3, 3))
    fail(s, date(2025, 4, 4))
    g = titles.grant(s["admin"], s["w"], s["title"], date(2020, 1, 1))
    p = titles.review(s["admin"], g, date(2026, 1, 5))
    assert g.last_reviewed_on == date(2026, 1, 5) and p is not None and p.rule == "two_failures"


def test_cli_evaluate_over_all_held_grants(db, s, app):
    for d in (date(2025, 3, 3), date(2025, 4, 4)):
        fail(s, d)
    titles.grant(s["admin"], s["w"], s["title"], date(2020, 1, 1))
    result = app.test_cli_runner().invoke(args=["titles", "evaluate", "--on", "2026-06-01"])
    assert result.exit_code == 0, result.output
    assert "新增 1 条撤销建议" in result.output
    assert db.session.query(RevocationProposal).filter_by(status="pending").count() == 1
    again = app.test_cli_runner().invoke(args=["titles", "evaluate", "--on", "2026-06-01"])
    assert "新增 0 条" in again.output
