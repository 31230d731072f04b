"""The back office as officers use it every day: the 待办 home page scoped to the jurisdiction,
cross-links on the workshop record, search in the complaints inbox, and menus that show only
what the role may open, at canonical URLs."""

import re
from datetime import date, timedelta

import pytest

from shifangbang import complaints, draws, rectification, tiers, titles, todo
from shifangbang.extensions import db as _db
from shifangbang.models import Inspection, Sampling, Title
from shifangbang.timeutil import today

from . import complaint_data as cd
from . import factories as f


@pytest.fixture
def p(db):
    place = cd.place()
    place["w"] = place["workshop"]
    place["w"].tier_code = "bronze"
    place["far"] = f.workshop(place["kun1"], name="昆区面食坊", tier_code="orange")
    place["kun_officer"] = f.user("officer", place["kun1"])
    place["o2"] = f.user("officer", place["xinaobao"])
    db.session.commit()
    return place


def _todos(user, on=None) -> dict[str, int]:
    return {t.label: t.count for t in todo.for_user(user, on)}


def test_todo_counts_are_scoped_to_the_jurisdiction(p):
    t = today()
    # Complaints: one overdue and one due soon at 西脑包; one overdue at 昆北.
    late = cd.one(cd.submit(p["w"], ip="10.9.0.1"))
    soon = cd.one(cd.submit(p["w"], ip="10.9.0.2"))
    far = cd.one(cd.submit(p["far"], ip="10.9.0.3"))
    late.due_on, soon.due_on, far.due_on = (
        t - timedelta(days=1),
        t + timedelta(days=2),
        t - timedelta(days=5),
    )
    # Proposals waiting: a tier proposal here, a decided one at 昆北.
    tiers.propose(p["admin"], p["w"], "silver", "inspection")
    d = tiers.propose(p["admin"], p["far"], "bronze", "inspection")
    tiers.decide(p["admin"], d, True)
    # Rectifications: one overdue item here (logged, then its deadline passed), one due soon.
    overdue_item = rectification.add_item(p["admin"], p["w"], "地面破损", t + timedelta(days=1))
    overdue_item.due_on = t - timedelta(days=3)
    rectification.add_item(p["admin"], p["w"], "防蝇设施缺失", t + timedelta(days=5))
    rectification.add_item(p["admin"], p["far"], "台账不全", t + timedelta(days=2))
    _db.session.commit()

    mine = _todos(p["officer"])
    assert mine["投诉举报已超过法定期限"] == 1
    assert mine["投诉举报 3 日内到期"] == 1
    assert mine["新收到待处理的投诉举报"] == 2
    assert mine["定榜建议待决定"] == 1 and "定榜结果待发布" not in mine
    assert mine["挂账问题逾期未销号"] == 1 and mine["挂账问题 7 日内到期"] == 1
    theirs = _todos(p["kun_officer"])
    assert theirs["投诉举报已超过法定期限"] == 1 and "投诉举报 3 日内到期" not in theirs
    assert theirs["定榜结果待发布"] == 1 and "定榜建议待决定" not in theirs
    assert theirs["挂账问题 7 日内到期"] == 1
    everything = _todos(p["admin"])
    assert everything["投诉举报已超过法定期限"] == 2 and everything["新收到待处理的投诉举报"] == 3
    # Urgent items come first.
    assert todo.for_user(p["officer"])[0].urgent


def test_draws_titles_and_the_monthly_sheet_on_the_list(p):
    title = Title(name="县级示范点", authority="东河区市场监管局", level="county")
    _db.session.add(title)
    _db.session.flush()
    g = titles.grant(p["admin"], p["w"], title, date(2024, 1, 1))
    titles.flag(p["admin"], g, "incident", "集体腹泻事件")
    titles.propose_revocations(g, actor=p["admin"])
    d = draws.draw(p["admin"], p["xinaobao"].id, 1, per_target=2, seed="7")
    _db.session.commit()
    mine = _todos(p["officer"])
    assert mine["撤销称号建议待确认"] == 1
    assert mine[f"第 {d.id} 次双随机抽取：待检查的作坊"] == 1
    assert f"第 {d.id} 次双随机抽取待公开" not in mine  # officers do not publish draws
    assert _todos(p["admin"])[f"第 {d.id} 次双随机抽取待公开"] == 1
    target = d.result[0]["workshop_id"]
    _db.session.add(
        Inspection(workshop_id=target, inspected_on=today(), kind="random", result="pass")
    )
    _db.session.commit()
    assert f"第 {d.id} 次双随机抽取：待检查的作坊" not in _todos(p["officer"])
    # The monthly 统计表 (due on the 24th) shows in the week before only.
    assert any("统计表" in k for k in _todos(p["officer"], date(2026, 3, 20)))
    assert not any("统计表" in k for k in _todos(p["officer"], date(2026, 3, 10)))
    assert not any("统计表" in k for k in _todos(p["officer"], date(2026, 3, 25)))


def test_dashboard_lists_todos_as_links(client, p):
    c = cd.one(cd.submit(p["w"]))
    c.due_on = today() - timedelta(days=1)
    _db.session.commit()
    f.login(client, p["officer"])
    html = client.get("/admin/").get_data(as_text=True)
    assert "<h1>待办</h1>" in html
    m = re.search(r'<a href="([^"]+)">投诉举报已超过法定期限</a>：<strong>1</strong>', html)
    assert m, html[html.index("todo") :][:800]
    inbox = client.get(m[1].replace("&amp;", "&")).get_data(as_text=True)
    assert c.tracking_no in inbox
    soon = client.get("/admin/complaints?due_soon=1").get_data(as_text=True)
    assert c.tracking_no not in soon


def test_workshop_record_links_to_everything_about_it(client, p):
    w = p["w"]
    i = Inspection(workshop_id=w.id, inspected_on=today(), kind="routine", result="basic")
    s = Sampling(
        workshop_id=w.id,
        sampled_on=today(),
        product="豆腐",
        batch="B1",
        lab="包头市质检所",
        result="pass",
    )
    _db.session.add_all([i, s])
    d = tiers.propose(p["admin"], w, "silver", "inspection")
    title = Title(name="县级示范点", authority="东河区市场监管局", level="county")
    _db.session.add(title)
    _db.session.flush()
    g = titles.grant(p["admin"], w, title, date(2024, 1, 1))
    c = cd.one(cd.submit(w))
    _db.session.commit()
    f.login(client, p["officer"])
    html = client.get(f"/admin/workshops/{w.id}").get_data(as_text=True)
    for href in (
        f"/admin/inspections/{i.id}",
        f"/admin/sampling/{s.id}",
        f"/admin/tiers/w/{w.id}",
        f"/admin/titles/grants/{g.id}",
        f"/admin/complaints/{c.id}",
    ):
        assert f'href="{href}"' in html, href
        assert client.get(href).status_code == 200, href
    assert "待评定 → 银榜" in html or "铜榜 → 银榜" in html
    assert d.status == "proposed"
    # The audit-log link is for those who may open the log.
    assert "修改记录" not in html
    f.login(client, p["admin"])
    assert "修改记录" in client.get(f"/admin/workshops/{w.id}").get_data(as_text=True)


def test_inbox_search_by_number_workshop_and_phone_for_those_allowed(client, p):
    mine = cd.one(cd.submit(p["w"], phone="13900001111"))
    other = cd.one(cd.submit(p["w"], phone="13900002222", ip="10.8.0.2"))
    complaints.transition(p["officer"], other, "refuse", reason="not_consumption")
    _db.session.commit()
    f.login(client, p["officer"])

    def found(q):
        html = client.get("/admin/complaints", query_string={"q": q}).get_data(as_text=True)
        return {x.tracking_no for x in (mine, other) if x.tracking_no in html}

    assert found(mine.tracking_no) == {mine.tracking_no}
    assert found(p["w"].name) == {mine.tracking_no, other.tracking_no}  # closed ones too
    assert found(p["w"].public_code) == {mine.tracking_no, other.tracking_no}
    assert found("139 0000 1111") == {mine.tracking_no}
    assert found("无此作坊") == set()
    # A viewer may not read identities: searching by phone finds nothing.
    f.login(client, p["viewer"])
    assert found("13900001111") == set()
    assert found(mine.tracking_no) == {mine.tracking_no}
    assert "投诉人电话" not in client.get("/admin/complaints").get_data(as_text=True)


def _menu(html: str) -> dict[str, str]:
    nav = html[html.index('<nav class="nav">') : html.index("</nav>")]
    return {label: href for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)}


@pytest.mark.parametrize("role", ["viewer", "officer", "admin"])
def test_menu_shows_only_what_opens_at_canonical_urls(client, p, role):
    f.login(client, p[role])
    menu = _menu(client.get("/admin/").get_data(as_text=True))
    assert ("公示牌" in menu) is (role != "viewer")
    assert ("审计日志" in menu) is (role == "admin") and ("账号" in menu) is (role == "admin")
    assert {"首页", "作坊档案", "投诉举报", "统计"} <= set(menu)
    for label, href in menu.items():
        r = client.get(href)
        assert r.status_code == 200, (label, href, r.status_code)  # no 308, no 403
