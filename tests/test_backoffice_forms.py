"""Confirmation before every publishing or destructive action (a page, no JavaScript), and
forms that keep what was typed on their error paths."""

import re
from datetime import date, timedelta

import pytest

from shifangbang import draws, rectification, tiers, titles, users
from shifangbang.extensions import db as _db
from shifangbang.models import Poster, RevocationProposal, Title, User
from shifangbang.timeutil import today

from . import factories as f


@pytest.fixture
def s(db):
    j = f.jurisdictions()
    data = {
        "j": j,
        "w": f.workshop(j["xinaobao"], tier_code="bronze", name="老东河凉糕作坊"),
        "o1": f.user("officer", j["xinaobao"]),
        "o2": f.user("officer", j["xinaobao"]),
        "admin": f.user("admin"),
        "other": f.user("officer", j["kun1"]),
    }
    db.session.commit()
    return data


def _confirm_page(r, title: str, keeps: dict | None = None) -> None:
    """The first POST answers with a confirmation page that re-posts the fields."""
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[:500]
    assert f"请确认：{title}" in html and 'name="confirmed" value="1"' in html
    assert "<script" not in html  # works without JavaScript (and under a strict CSP)
    assert "取消，返回" in html
    for name, value in (keeps or {}).items():
        assert re.search(f'name="{name}" value="{re.escape(value)}"', html), name


def test_tier_publish_and_ledger_strike_ask_first(client, s):
    d = tiers.propose(s["admin"], s["w"], "silver", "inspection", "检查良好")
    tiers.decide(s["admin"], d, True)
    item = rectification.add_item(s["admin"], s["w"], "地面破损", today() + timedelta(days=9))
    _db.session.commit()
    f.login(client, s["admin"])
    r = client.post(f"/admin/tiers/{d.id}/publish", data={"back": "/admin/tiers/"})
    _confirm_page(r, "发布", {"back": "/admin/tiers/"})
    assert "老东河凉糕作坊" in r.get_data(as_text=True) and "银榜" in r.get_data(as_text=True)
    assert d.status == "decided"
    client.post(f"/admin/tiers/{d.id}/publish", data={"confirmed": "1"})
    assert d.status == "published"

    _confirm_page(client.post(f"/admin/tiers/ledger/{item.id}/strike"), "销号")
    assert item.fixed_on is None
    client.post(f"/admin/tiers/ledger/{item.id}/strike", data={"confirmed": "1"})
    assert item.fixed_on == today()


def test_revocation_posters_accounts_draws_and_closing_ask_first(client, s):
    t = Title(name="包头市食品小作坊示范点", authority="包头市市场监管局", level="city")
    _db.session.add(t)
    _db.session.flush()
    g = titles.grant(s["admin"], s["w"], t, date(2024, 1, 1))
    titles.flag(s["admin"], g, "incident", "集体腹泻事件")
    p = titles.propose_revocations(g, actor=s["admin"])
    victim = f.user("viewer", s["j"]["xinaobao"])
    victim.totp_secret = users.new_totp_secret()
    d = draws.draw(s["admin"], s["j"]["donghe"].id, 1, per_target=2, seed="42")
    _db.session.commit()
    f.login(client, s["admin"])

    form = {"action": "confirm", "note": "经核实属实", "back": "/admin/titles/"}
    _confirm_page(client.post(f"/admin/titles/proposals/{p.id}", data=form), "确认撤销", form)
    assert g.status == "held"
    client.post(f"/admin/titles/proposals/{p.id}", data=dict(form, confirmed="1"))
    assert g.status == "revoked"
    assert _db.session.get(RevocationProposal, p.id).note == "经核实属实"

    form = {"station_id": str(s["j"]["xinaobao"].id), "size": "A5"}
    r = client.post("/admin/posters/issue", data=form)
    _confirm_page(r, "发放并打印", form)
    assert "1 家在营作坊" in r.get_data(as_text=True)
    assert _db.session.query(Poster).count() == 0

    for action, title in (("deactivate", "停用账号"), ("totp_reset", "清除动态验证码")):
        r = client.post(f"/admin/users/{victim.id}", data={"action": action})
        _confirm_page(r, title, {"action": action})
    _db.session.expire_all()
    victim = _db.session.get(User, victim.id)
    assert victim.active and victim.totp_secret
    client.post(f"/admin/users/{victim.id}", data={"action": "totp_reset", "confirmed": "1"})
    _db.session.expire_all()
    assert _db.session.get(User, victim.id).totp_secret is None

    _confirm_page(client.post(f"/admin/draws/{d.id}/publish"), "公开")
    assert not d.published

    w = s["w"]
    form = {
        "status": "revoked",
        "on": today().isoformat(),
        "reason": "无证生产被吊销",
        "version": str(w.version),
    }
    r = client.post(f"/admin/workshops/{w.id}/status", data=form)
    _confirm_page(r, "改为吊销", form)
    assert w.status == "open"
    client.post(f"/admin/workshops/{w.id}/status", data=dict(form, confirmed="1"))
    _db.session.expire_all()
    assert _db.session.get(type(w), w.id).status == "revoked"


def test_actions_that_are_not_destructive_need_no_confirmation(client, s):
    f.login(client, s["admin"])
    victim = f.user("viewer", s["j"]["xinaobao"])
    victim.active = False
    _db.session.commit()
    r = client.post(f"/admin/users/{victim.id}", data={"action": "activate"})
    assert r.status_code == 302
    # And the confirmation comes after authorisation: an officer gets 403, not a question.
    f.login(client, s["o1"])
    d = tiers.propose(s["admin"], s["w"], "silver", "inspection")
    tiers.decide(s["admin"], d, True)
    _db.session.commit()
    assert client.post(f"/admin/tiers/{d.id}/publish").status_code == 403


def test_ledger_add_with_a_past_deadline_keeps_what_was_typed(client, s):
    f.login(client, s["o1"])
    yesterday = (today() - timedelta(days=1)).isoformat()
    r = client.post(
        f"/admin/tiers/w/{s['w'].id}/ledger",
        data={"problem": "原料未离地存放", "measure": "加装货架并建立台账", "due_on": yesterday},
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'value="原料未离地存放"' in html and 'value="加装货架并建立台账"' in html
    assert f'value="{yesterday}"' in html and "整改期限" in html
    assert rectification.ledger(s["w"]) == []


def test_tier_decision_and_title_forms_keep_what_was_typed(client, s):
    d = tiers.propose(s["admin"], s["w"], "silver", "inspection")
    t = Title(name="县级示范点", authority="东河区市场监管局", level="county")
    _db.session.add(t)
    _db.session.flush()
    g = titles.grant(s["admin"], s["w"], t, date(2024, 1, 1))
    _db.session.commit()
    f.login(client, s["admin"])
    r = client.post(
        f"/admin/tiers/{d.id}/decide",
        data={"approve": "1", "effective_on": "2026-02-30", "note": "同意升为银榜"},
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'value="同意升为银榜"' in html and "生效日期" in html
    r = client.post(
        f"/admin/titles/grants/{g.id}/flag", data={"kind": "unknown", "note": "群众反映问题严重"}
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "群众反映问题严重</textarea>" in html


def test_account_form_keeps_what_was_typed(client, s):
    f.login(client, s["admin"])
    r = client.post(
        f"/admin/users/{s['admin'].id}",
        data={
            "action": "update",
            "display_name": "改过的姓名",
            "role": "viewer",
            "jurisdiction_id": str(s["j"]["nanmen"].id),
        },
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "不能取消自己的管理员角色" in html
    assert 'value="改过的姓名"' in html
    assert re.search(r'<option value="viewer" selected>', html)
    assert re.search(rf'<option value="{s["j"]["nanmen"].id}" selected>', html)


def test_inspection_and_sampling_forms_keep_what_was_typed(client, s):
    from shifangbang.models import Inspection, Sampling

    i = Inspection(
        workshop_id=s["w"].id,
        inspected_on=today() - timedelta(days=5),
        kind="routine",
        result="basic",
        rectification_required=True,
        rectification_due=today() + timedelta(days=5),
    )
    smp = Sampling(
        workshop_id=s["w"].id,
        sampled_on=today() - timedelta(days=20),
        product="凉糕",
        batch="B2",
        lab="包头市质检所",
        result="fail",
        failed_item="菌落总数",
        notice_on=today() - timedelta(days=15),
    )
    _db.session.add_all([i, smp])
    _db.session.commit()
    f.login(client, s["o1"])
    tomorrow = (today() + timedelta(days=1)).isoformat()
    r = client.post(
        f"/admin/inspections/{i.id}/complete", data={"done_on": tomorrow, "note": "复查地面已修补"}
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "不晚于今天" in html
    assert 'value="复查地面已修补"' in html and f'value="{tomorrow}"' in html
    early = (today() - timedelta(days=18)).isoformat()
    r = client.post(
        f"/admin/sampling/{smp.id}/retest", data={"action": "request", "requested_on": early}
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "不能早于通知书送达日期" in html and f'value="{early}"' in html
