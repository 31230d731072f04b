"""Back-office screens for inspections, sampling, tiers, titles, draws and statistics."""

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event

from shifangbang import current_deployment, draws, sampling, tiers, titles
from shifangbang.extensions import db as _db
from shifangbang.models import Inspection, RevocationProposal, TierDecision, Title
from shifangbang.timeutil import today

from . import factories as f


@pytest.fixture
def s(db):
    j = f.jurisdictions()
    data = {
        "j": j,
        "w": f.workshop(j["xinaobao"], tier_code="silver", name="老东河凉糕作坊"),
        "far": f.workshop(j["kun1"], name="昆区面食坊"),
        "o1": f.user("officer", j["xinaobao"]),
        "o2": f.user("officer", j["xinaobao"]),
        "kun": f.user("officer", j["kun1"]),
        "admin": f.user("admin"),
        "viewer": f.user("viewer", j["donghe"]),
    }
    db.session.commit()
    return data


def inspection_form(s, fail=(), due=""):
    data = {
        "inspected_on": (today() - timedelta(days=1)).isoformat(),
        "kind": "routine",
        "inspectors": [str(s["o1"].id), str(s["o2"].id)],
        "summary": "现场检查",
        "rectification_due": due,
    }
    for c in current_deployment().checklist_items():
        data[f"outcome_{c['code']}"] = "fail" if c["code"] in fail else "pass"
        data[f"note_{c['code']}"] = "未按规定" if c["code"] in fail else ""
    return data


def test_record_failed_inspection_shows_proposal_and_keeps_input_on_error(client, s):
    f.login(client, s["o1"])
    code = s["w"].public_code
    page = client.get(f"/admin/inspections/new?workshop={code}").get_data(as_text=True)
    assert "A1" in page and "色标化管理" in page and 'name="csrf_token"' in page
    bad = inspection_form(s, fail=["A1"])  # no deadline
    r = client.post(f"/admin/inspections/new?workshop={code}", data=bad)
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "整改期限" in text and "现场检查" in text  # message, input kept
    r = client.post(
        f"/admin/inspections/new?workshop={code}",
        data=inspection_form(s, fail=["A1"], due=(today() + timedelta(days=10)).isoformat()),
        follow_redirects=True,
    )
    text = r.get_data(as_text=True)
    assert "不符合" in text and "降榜" in text and "橙榜" in text
    assert client.get("/admin/inspections/").status_code == 200


def test_any_rule_that_refuses_comes_back_on_the_form(client, s, monkeypatch):
    """A form view catches DomainError, not only its own module's error: a rule of another module
    that refuses inside the same step (here the tier rules under an inspection) shows its message
    next to what was typed, not a bare error page that loses it."""
    f.login(client, s["o1"])

    def refuse(*args, **kwargs):
        raise tiers.TierError("该作坊有未决的定榜建议，请先处理。")

    monkeypatch.setattr("shifangbang.inspections.record", refuse)
    code = s["w"].public_code
    form = inspection_form(s, due=(today() + timedelta(days=10)).isoformat())
    r = client.post(f"/admin/inspections/new?workshop={code}", data=form)
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "该作坊有未决的定榜建议" in text and "现场检查" in text


def test_other_station_cannot_see_or_record(client, s):
    f.login(client, s["kun"])
    r = client.get(f"/admin/inspections/new?workshop={s['w'].public_code}")
    assert "找不到该作坊" in r.get_data(as_text=True)
    d = tiers.propose(
        s["o1"], s["w"], "gold", "inspection", public_reason="经现场检查核实，依据检查结果调整。"
    )
    assert client.get(f"/admin/tiers/w/{s['w'].id}").status_code == 403
    assert client.post(f"/admin/tiers/{d.id}/decide", data={"approve": "1"}).status_code == 403


def test_tier_queue_decide_publish_only_admin(client, s):
    d = tiers.propose(
        s["o1"],
        s["w"],
        "bronze",
        "hygiene",
        "后厨卫生差",
        public_reason="经现场检查核实，依据检查结果调整。",
    )
    f.login(client, s["o1"])
    assert "后厨卫生差" in client.get("/admin/tiers/").get_data(as_text=True)
    assert client.post(f"/admin/tiers/{d.id}/decide", data={"approve": "1"}).status_code == 403
    client.post("/admin/logout")
    f.login(client, s["admin"])
    r = client.post(
        f"/admin/tiers/{d.id}/decide",
        data={"approve": "1", "effective_on": today().isoformat()},
        follow_redirects=True,
    )
    assert "待发布" in r.get_data(as_text=True)
    client.post(f"/admin/tiers/{d.id}/publish", data={"confirmed": "1"}, follow_redirects=True)
    assert s["w"].tier_code == "bronze" and d.status == "published"
    hist = client.get(f"/admin/tiers/w/{s['w'].id}").get_data(as_text=True)
    assert "已发布" in hist and "整改台账" in hist


def test_propose_with_evidence_and_ledger_through_views(client, s):
    x = sampling.record(
        s["o1"],
        s["w"],
        sampled_on=date(2025, 5, 5),
        product="凉糕",
        lab="检测中心",
        result="fail",
        failed_item="菌落总数",
        measured_value="5.2×10⁵",
        limit_value="1×10⁵",
        notice_no="N-9",
        notice_on=date(2025, 5, 8),
    )
    f.login(client, s["o1"])
    r = client.post(
        f"/admin/tiers/w/{s['w'].id}",
        data={
            "to_tier": "bronze",
            "reason_category": "sampling",
            "reason": "抽检不合格",
            "public_reason": "2025年抽检豆腐菌落总数不合格。",
            "sampling_id": str(x.id),
        },
        follow_redirects=True,
    )
    assert "已提交降榜建议" in r.get_data(as_text=True)
    assert _db.session.query(TierDecision).filter_by(sampling_id=x.id).count() == 1
    r = client.post(
        f"/admin/tiers/w/{s['w'].id}",
        data={"to_tier": "gold", "reason_category": "nonsense", "reason": "我写的理由"},
    )
    assert "请选择定榜原因类别" in r.get_data(as_text=True) and "我写的理由" in r.get_data(
        as_text=True
    )
    due = (today() + timedelta(days=20)).isoformat()
    client.post(f"/admin/tiers/w/{s['w'].id}/ledger", data={"problem": "库房未离地", "due_on": due})
    page = client.get(f"/admin/tiers/w/{s['w'].id}").get_data(as_text=True)
    assert "库房未离地" in page and "整改中" in page
    assert client.get("/admin/tiers/ledger").status_code == 200
    sp = client.get(f"/admin/sampling/{x.id}").get_data(as_text=True)
    assert "菌落总数" in sp and "已确认不合格" in sp


def test_sampling_entry_and_retest(client, s):
    f.login(client, s["o1"])
    code = s["w"].public_code
    r = client.post(
        f"/admin/sampling/new?workshop={code}",
        data={
            "sampled_on": (today() - timedelta(days=3)).isoformat(),
            "product": "凉糕",
            "lab": "检测中心",
            "result": "fail",
            "failed_item": "苯甲酸",
            "measured_value": "0.1",
            "limit_value": "不得使用",
            "notice_no": "N1",
            "notice_on": (today() - timedelta(days=1)).isoformat(),
        },
        follow_redirects=True,
    )
    assert "复检申请截止" in r.get_data(as_text=True)
    x = _db.session.query(sampling.Sampling).filter_by(notice_no="N1").one()
    client.post(
        f"/admin/sampling/{x.id}/retest",
        data={"action": "request", "requested_on": today().isoformat()},
    )
    assert x.retest_status == "requested"
    assert "复检中" in client.get("/admin/sampling/?only=retest").get_data(as_text=True)


def test_titles_pages_and_confirm(client, s):
    t = Title(name="东河区示范作坊", authority="东河区市场监督管理局", level="county")
    _db.session.add(t)
    _db.session.commit()
    f.login(client, s["admin"])
    r = client.post(
        "/admin/titles/grant",
        data={
            "workshop": s["w"].public_code,
            "title_id": str(t.id),
            "granted_on": "2024-01-01",
            "certificate_no": "DH-1",
        },
        follow_redirects=True,
    )
    assert "已向" in r.get_data(as_text=True)
    g = _db.session.query(titles.TitleGrant).one()
    client.post(
        f"/admin/titles/grants/{g.id}/flag", data={"kind": "incident", "note": "集体腹泻事件"}
    )
    p = _db.session.query(RevocationProposal).one()
    assert "发生食品安全事故" in client.get("/admin/titles/").get_data(as_text=True)
    client.post(f"/admin/titles/proposals/{p.id}", data={"action": "confirm", "confirmed": "1"})
    assert g.status == "revoked" and g.barred_until == titles.add_years(today(), 2)
    r = client.post(
        "/admin/titles/grant",
        data={
            "workshop": s["w"].public_code,
            "title_id": str(t.id),
            "granted_on": today().isoformat(),
        },
    )
    assert r.status_code == 422 and "不得再申请" in r.get_data(as_text=True)
    client.post("/admin/logout")
    f.login(client, s["o1"])
    assert (
        client.post(f"/admin/titles/proposals/{p.id}", data={"action": "dismiss"}).status_code
        == 403
    )


def test_draw_pages(client, s):
    f.login(client, s["o1"])  # a station draws within its own jurisdiction only (issue 17)
    r = client.post("/admin/draws/", data={"jurisdiction_id": str(s["j"]["donghe"].id), "n": "1"})
    assert r.status_code == 403
    r = client.post("/admin/draws/", data={"jurisdiction_id": str(s["j"]["xinaobao"].id), "n": "1"})
    assert r.status_code == 302
    own = _db.session.query(draws.RandomDraw).one()
    assert client.post(f"/admin/draws/{own.id}/publish").status_code == 403
    _db.session.delete(own)
    _db.session.commit()
    client.post("/admin/logout")
    f.login(client, s["admin"])
    r = client.post(
        "/admin/draws/",
        data={
            "jurisdiction_id": str(s["j"]["donghe"].id),
            "n": "1",
            "per_target": "2",
            "seed": "20261123",
        },
        follow_redirects=True,
    )
    text = r.get_data(as_text=True)
    assert "一致" in text and "老东河凉糕作坊" in text
    d = _db.session.query(draws.RandomDraw).one()
    client.post(f"/admin/draws/{d.id}/publish", data={"confirmed": "1"})
    assert d.published and "20261123" in client.get(f"/draws/{d.id}").get_data(as_text=True)
    r = client.post("/admin/draws/", data={"jurisdiction_id": str(s["j"]["donghe"].id), "n": "abc"})
    assert "抽取数量须为整数" in r.get_data(as_text=True)


def test_stats_page_scope_xlsx_and_no_identity(client, s, app):
    from shifangbang.models import Complaint

    _db.session.add(
        Complaint(
            tracking_no="T1",
            password_hash="x",
            submission_id="s1",
            kind="complaint",
            workshop_id=s["far"].id,
            jurisdiction_id=s["j"]["kun1"].id,
            category="quality",
            content="内容",
            reporter_name="李秘密",
            reporter_phone="13800001111",
            due_on=today() - timedelta(days=1),
        )
    )
    _db.session.commit()
    f.login(client, s["o1"])
    page = client.get("/admin/stats/").get_data(as_text=True)
    assert "统计：西脑包市场监管所" in page and "<script" not in page and 'class="fill w-' in page
    assert client.get(f"/admin/stats/?jurisdiction={s['j']['kun1'].id}").status_code == 403
    client.post("/admin/logout")
    f.login(client, s["admin"])
    page = client.get(f"/admin/stats/?jurisdiction={s['j']['kun1'].id}").get_data(as_text=True)
    assert "超期 1" in page and "李秘密" not in page and "13800001111" not in page
    r = client.get(
        f"/admin/stats/sheet.xlsx?jurisdiction={s['j']['kun1'].id}&year={today().year}&month={today().month}"
    )
    assert r.status_code == 200 and "filename*=UTF-8''" in r.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(r.data))
    values = {row[0]: row[1] for row in wb["投诉举报"].iter_rows(min_row=5, values_only=True)}
    assert values["办理超期（截至统计日）"] == 1
    assert not any(
        "李秘密" in str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row
    )


def test_lists_do_not_grow_queries_with_rows(client, s, app):
    """No N+1: the list pages issue the same number of queries for 2 rows as for 12."""

    def count_queries(path):
        n = [0]

        def inc(*a, **k):
            n[0] += 1

        event.listen(_db.session.get_bind(), "before_cursor_execute", inc)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(_db.session.get_bind(), "before_cursor_execute", inc)
        return n[0]

    def add_rows(k):
        for _ in range(k):
            w = f.workshop(s["j"]["xinaobao"], tier_code="bronze")
            tiers.propose(
                s["o1"], w, "orange", "hygiene", public_reason="经现场检查核实，依据检查结果调整。"
            )
            sampling.record(
                s["o1"], w, sampled_on=date(2025, 1, 2), product="x", lab="y", result="pass"
            )
            _db.session.add(
                Inspection(
                    workshop_id=w.id,
                    inspected_on=date(2025, 1, 3),
                    kind="routine",
                    result="basic",
                    rectification_required=True,
                    rectification_due=date(2025, 2, 1),
                    inspectors=[s["o1"], s["o2"]],
                )
            )
        _db.session.commit()

    f.login(client, s["admin"])
    paths = [
        "/admin/inspections/",
        "/admin/sampling/",
        "/admin/tiers/",
        "/admin/tiers/ledger",
        "/admin/titles/",
    ]
    add_rows(2)
    before = {p: count_queries(p) for p in paths}
    add_rows(10)
    after = {p: count_queries(p) for p in paths}
    assert all(n > 0 for n in before.values()) and before == after
