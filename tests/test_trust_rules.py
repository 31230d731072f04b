"""Reasons and rules that act: tier decisions carry a public reason, one open proposal per
workshop, 驳回 needs a reason; "一年内" is a rolling 12 months (calendar year as an option);
revocations need evidence; no title while a revocation is pending or during a ban; overdue cases
are marked 已超期 wherever they are shown."""

import dataclasses
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy.exc import IntegrityError

from shifangbang import sampling, tiers, titles
from shifangbang.models import RevocationProposal, TierDecision, Title
from shifangbang.timeutil import today, utcnow

from . import factories as f


@pytest.fixture
def s(db):
    j = f.jurisdictions()
    w = f.workshop(j["xinaobao"], tier_code="bronze", tier_since=date(2025, 3, 1))
    data = {
        "j": j,
        "w": w,
        "officer": f.user("officer", j["xinaobao"]),
        "admin": f.user("admin"),
    }
    data["title"] = Title(name=f"示范作坊{w.id}", authority="东河区市场监督管理局", level="county")
    data["title2"] = Title(name=f"名特优{w.id}", authority="山西省市场监督管理局", level="province")
    db.session.add_all([data["title"], data["title2"]])
    db.session.commit()
    return data


# --- 4. reasons ------------------------------------------------------------------------------------


def test_a_tier_decision_needs_a_category_that_fits_and_a_public_reason(db, s):
    w, officer = s["w"], s["officer"]
    with pytest.raises(tiers.TierError, match="公示的定榜理由"):
        tiers.propose(officer, w, "silver", "inspection", "内部")
    with pytest.raises(tiers.TierError, match="公示的定榜理由"):
        tiers.propose(officer, w, "silver", "inspection", public_reason="   ")
    with pytest.raises(tiers.TierError, match="首次评定"):
        tiers.propose(officer, w, "silver", "initial", public_reason="检查符合")
    with pytest.raises(tiers.TierError, match="原因类别"):
        tiers.propose(officer, w, "silver", "", public_reason="检查符合")
    d = tiers.propose(
        officer, w, "silver", "inspection", public_reason="2026年11月检查结果为符合。"
    )
    assert d.direction == "upgrade" and d.public_reason == "2026年11月检查结果为符合。"


def test_the_public_reads_the_public_reason_not_the_internal_note(client, db, s):
    w, officer, admin = s["w"], s["officer"], s["admin"]
    d = tiers.propose(
        officer, w, "silver", "inspection", "内部：负责人态度好", public_reason="复查符合要求。"
    )
    tiers.decide(admin, d, True)
    tiers.publish(admin, d)
    db.session.commit()
    page = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    assert "复查符合要求。" in page and "内部：负责人态度好" not in page
    api = client.get(f"/api/v1/workshops/{w.public_code}").get_json()
    assert api["tier_history"][0]["reason"] == "复查符合要求。"
    ann = client.get("/rankings/announcements").get_data(as_text=True)
    assert "复查符合要求。" in ann and "首次评定" not in ann


def test_one_open_proposal_per_workshop_in_the_domain_and_the_database(db, s):
    w, officer, admin = s["w"], s["officer"], s["admin"]
    d = tiers.propose(officer, w, "silver", "inspection", public_reason="检查符合。")
    with pytest.raises(tiers.TierError, match="已有一项待决定或待发布"):
        tiers.propose(officer, w, "orange", "hygiene", public_reason="卫生差。")
    tiers.decide(admin, d, True)  # decided, not yet published: still open
    with pytest.raises(tiers.TierError, match="已有一项"):
        tiers.propose(officer, w, "orange", "hygiene", public_reason="卫生差。")
    db.session.commit()
    # The database refuses a second open row even if a caller skips the domain function.
    db.session.add(
        TierDecision(
            workshop_id=w.id,
            from_tier="bronze",
            to_tier="orange",
            direction="downgrade",
            reason_category="hygiene",
            public_reason="x",
            status="proposed",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    tiers.publish(admin, db.session.get(TierDecision, d.id))
    db.session.commit()
    assert tiers.propose(officer, w, "orange", "hygiene", public_reason="卫生差。")


def test_rejecting_needs_a_reason_and_the_form_keeps_the_input(client, db, s):
    w, officer, admin = s["w"], s["officer"], s["admin"]
    d = tiers.propose(officer, w, "silver", "inspection", public_reason="检查符合。")
    db.session.commit()
    with pytest.raises(tiers.TierError, match="驳回定榜建议须说明理由"):
        tiers.decide(admin, d, approve=False, note="  ")
    f.login(client, officer)
    r = client.post(
        f"/admin/tiers/w/{w.id}",
        data={"to_tier": "gold", "reason_category": "inspection", "reason": "内部说明"},
    )
    page = r.get_data(as_text=True)
    assert "请填写向公众公示的定榜理由" in page or "已有一项" in page
    assert "内部说明" in page  # what was typed is still in the form
    tiers.decide(admin, d, approve=False, note="证据不足")
    db.session.commit()
    r = client.post(
        f"/admin/tiers/w/{w.id}",
        data={"to_tier": "gold", "reason_category": "inspection", "reason": "内部说明"},
    )
    assert "请填写向公众公示的定榜理由" in r.get_data(as_text=True)


def test_dismissing_a_title_proposal_needs_a_reason(db, s):
    g = titles.grant(s["admin"], s["w"], s["title"], date(2024, 1, 1))
    p = RevocationProposal(grant_id=g.id, rule="serious_problem", evidence={"note": "x"})
    db.session.add(p)
    db.session.commit()
    with pytest.raises(titles.TitleError, match="须说明理由"):
        titles.dismiss(s["admin"], p, "")


# --- 5. title rules --------------------------------------------------------------------------------


def fail(s, day):
    x = sampling.record(
        s["officer"],
        s["w"],
        sampled_on=day,
        product="豆腐",
        lab="包头市检验检测中心",
        result="fail",
        failed_item="铅",
        measured_value="0.8",
        limit_value="0.5",
        notice_no=f"BT{day:%Y%m%d}",
        notice_on=day,
    )
    x.retest_status = "upheld"  # re-test upheld: a confirmed failure at once
    return x


def test_one_year_is_a_rolling_twelve_months_by_default(db, s):
    g = titles.grant(s["admin"], s["w"], s["title"], date(2025, 1, 1))
    fail(s, date(2025, 12, 20))
    fail(s, date(2026, 1, 12))
    db.session.commit()
    found = titles.evaluate(g, date(2026, 6, 1))
    assert [x.rule for x in found] == ["two_failures"]
    assert [e["sampled_on"] for e in found[0].evidence["samplings"]] == [
        "2025-12-20",
        "2026-01-12",
    ]
    # 12 months and more apart: not "一年内".
    apart = [
        SimpleNamespace(id=k, sampled_on=d, product="", failed_item="", notice_no="")
        for k, d in ((1, date(2025, 1, 12)), (2, date(2026, 1, 12)))
    ]
    assert titles.findings_from(apart) == []
    apart[0].sampled_on = date(2025, 1, 13)
    assert [x.rule for x in titles.findings_from(apart)] == ["two_failures"]


def test_calendar_year_is_a_deployment_option(app, db, s, monkeypatch):
    dep = app.extensions["deployment"]
    monkeypatch.setitem(
        app.extensions,
        "deployment",
        dataclasses.replace(
            dep, bureau=dataclasses.replace(dep.bureau, title_year_window="calendar")
        ),
    )
    g = titles.grant(s["admin"], s["w"], s["title"], date(2025, 1, 1))
    fail(s, date(2025, 12, 20))
    fail(s, date(2026, 1, 12))
    db.session.commit()
    assert titles.evaluate(g, date(2026, 6, 1)) == []


def test_the_deployment_file_refuses_an_unknown_window(tmp_path):
    from shifangbang import deployment

    text = deployment.DEFAULT_FILE.read_text(encoding="utf-8").replace(
        'title_year_window = "rolling"', 'title_year_window = "fiscal"'
    )
    bad = tmp_path / "d.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="title_year_window"):
        deployment.load(bad)


def test_a_proposal_carries_dated_evidence_and_cannot_be_confirmed_without_it(db, s):
    g = titles.grant(s["admin"], s["w"], s["title"], date(2025, 1, 1))
    fail(s, date(2026, 3, 2))
    fail(s, date(2026, 4, 9))
    p = titles.propose_revocations(g, date(2026, 6, 1))
    assert p.rule == "two_failures"
    assert [x["sampled_on"] for x in p.evidence["samplings"]] == ["2026-03-02", "2026-04-09"]
    empty = RevocationProposal(grant_id=g.id, rule="two_failures", evidence={}, status="dismissed")
    db.session.add(empty)
    db.session.commit()
    empty.status = "pending"
    p.status = "dismissed"
    p.note = "x"
    db.session.commit()
    with pytest.raises(titles.TitleError, match="没有附证据"):
        titles.confirm(s["admin"], empty)
    assert g.status == "held"


def test_no_title_is_granted_while_a_revocation_is_pending_or_during_a_ban(db, s):
    w, admin = s["w"], s["admin"]
    g = titles.grant(admin, w, s["title"], date(2025, 1, 1))
    fail(s, date(2026, 3, 2))
    fail(s, date(2026, 4, 9))
    p = titles.propose_revocations(g, date(2026, 6, 1))
    db.session.commit()
    with pytest.raises(titles.TitleError, match="待处理的称号撤销建议"):
        titles.grant(admin, w, s["title2"], today())
    titles.dismiss(admin, p, "复检材料表明两次不合格系同一批次")
    db.session.commit()
    assert titles.grant(admin, w, s["title2"], today())
    g2 = next(x for x in w_grants(db, w) if x.title_id == s["title2"].id)
    titles.revoke(admin, g2, "incident", "食品安全事故", bar_years=2)
    db.session.commit()
    with pytest.raises(titles.TitleError, match="不得再申请"):
        titles.grant(admin, w, s["title2"], today())


def w_grants(db, w):
    from shifangbang.models import TitleGrant

    return db.session.query(TitleGrant).filter_by(workshop_id=w.id).all()


def test_stale_proposals_rise_on_the_dashboard(client, db, s):
    g = titles.grant(s["admin"], s["w"], s["title"], date(2025, 1, 1))
    p = RevocationProposal(
        grant_id=g.id,
        rule="serious_problem",
        evidence={"note": "发现严重问题"},
        created_at=utcnow() - timedelta(days=2),
    )
    db.session.add(p)
    db.session.commit()
    f.login(client, s["admin"])
    label = "称号撤销建议待决超过 10 个工作日"
    assert label not in client.get("/admin/").get_data(as_text=True)
    p.created_at = utcnow() - timedelta(days=40)
    db.session.commit()
    page = client.get("/admin/").get_data(as_text=True)
    assert label in page  # a 待办 item, urgent: listed first
    assert page.index(label) < page.index("辖区概况")
    assert titles.overdue_proposals(None) == [p]


# --- 6. overdue cases ------------------------------------------------------------------------------


def test_an_overdue_case_is_marked_on_track_inbox_and_statistics(client, db, s):
    from shifangbang.models import Complaint

    from . import complaint_data as cd

    receipt = cd.submit(s["w"], kind="report")
    number = receipt.items[0][1]
    c = db.session.query(Complaint).filter_by(tracking_no=number).one()
    r = client.post("/track", data={"number": number, "password": receipt.password})
    assert r.status_code == 200 and "已超期" not in r.get_data(as_text=True)
    c.due_on = today() - timedelta(days=1)
    db.session.commit()
    r = client.post("/track", data={"number": number, "password": receipt.password})
    assert 'data-testid="overdue">已超期' in r.get_data(as_text=True)
    api = client.get(
        f"/api/v1/complaints/{number}", headers={"X-Tracking-Password": receipt.password}
    )
    assert api.status_code == 200 and api.get_json()["overdue"] is True
    f.login(client, s["admin"])
    assert "已超期" in client.get("/admin/complaints").get_data(as_text=True)
    assert "已超期 1" in client.get("/admin/stats/").get_data(as_text=True)
