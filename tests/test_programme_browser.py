"""Browser: the action programme end to end with real forms (CSRF on) on gunicorn — an inspection
with 色标化 items, its printed 整改通知书, a case and a published penalty, a plaque recovered and
the public revocation notice, a risk-monitoring problem, and a workshop from the pool to its plaque."""

import re
from datetime import timedelta

import pytest

from shifangbang import titles
from shifangbang.extensions import db
from shifangbang.models import Title
from shifangbang.timeutil import today

from . import factories as f
from .conftest import screenshot, sign_in, submit


@pytest.mark.browser
def test_programme_in_the_browser(live_server, desktop_page):
    app, base, page = live_server.app, live_server.url, desktop_page
    with app.app_context():
        j = f.jurisdictions()
        w = f.workshop(j["xinaobao"], name="萨拉齐凉皮坊")
        shop = f.workshop(j["xinaobao"], name="固阳莜面坊")
        f.user("officer", j["xinaobao"], username="prog_officer")
        o2 = f.user("officer", j["xinaobao"], username="prog_officer2")
        admin = f.user("admin", username="prog_admin")
        title = Title(name="包头市示范作坊（测试）", authority="包头市市场监督管理局", level="city")
        db.session.add(title)
        db.session.flush()
        g = titles.grant(admin, shop, title, today() - timedelta(days=300))
        titles.revoke(admin, g, "serious_problem", "卫生条件差", on=today() - timedelta(days=40))
        db.session.commit()
        code, shop_code, o2_id, grant_id = w.public_code, shop.public_code, o2.id, g.id

    # An officer inspects: 色标化 partly done (H2 fails), a deadline, and prints the notice.
    sign_in(page, base, "prog_officer")
    page.goto(f"{base}/admin/inspections/new?workshop={code}")
    page.check(f"input[name=inspectors][value='{o2_id}']")
    page.check("input[name=outcome_H2][value=fail]")
    page.fill("input[name=note_H2]", "未张贴色标说明")
    page.fill("#rectification_due", (today() + timedelta(days=10)).isoformat())
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/admin/inspections/*")
    inspection_url = page.url
    page.click("text=打印整改通知书")
    page.wait_for_url("**/admin/programme/notices/*")
    assert "责令整改通知书" in page.inner_text("body") and "H2" in page.inner_text("body")
    assert page.locator("#notice svg").count() == 1
    screenshot(page, "programme-notice")
    page.goto(f"{base}/admin/programme/colour/?status=partial")
    assert "萨拉齐凉皮坊" in page.inner_text("#colour-workshops")

    # The plaque of the revoked title comes back.
    page.goto(f"{base}/admin/programme/plaques/")
    assert "逾期未收回" in page.inner_text("#plaques")
    page.fill(f"#note-{grant_id}", "所长当面收回")
    submit(page, "#plaques form button")
    assert "已于" in page.inner_text("#plaques")

    # A risk-monitoring problem opens a follow-up sampling task.
    page.goto(f"{base}/admin/programme/monitoring/new?workshop={code}")
    page.fill("#product", "凉皮")
    page.fill("#hazard", "非法添加物")
    page.fill("#lab", "包头市检验检测中心")
    page.select_option("#result", "fail")
    page.fill("#measured_value", "检出硼砂")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/admin/programme/monitoring/")
    assert "萨拉齐凉皮坊" in page.inner_text("#follow-ups")

    # The officer opens a case from the inspection; the bureau decides it.
    page.goto(inspection_url)
    page.click("#programme-actions >> text=立案")
    page.fill("#summary", "使用非法添加物")
    page.click("form.card button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/programme/cases/\d+$"))
    case_url = page.url
    page.click("text=退出")
    sign_in(page, base, "prog_admin")
    page.goto(case_url)
    page.fill("#decision_no", "包市监罚〔2026〕88号")
    page.fill("#violation", "在凉皮中添加硼砂")
    page.fill("#penalty", "没收违法所得，罚款一万元")
    submit(page, "text=作出决定并公示")
    assert "公示期至" in page.inner_text("#case")

    # 示范创建: into the pool, applied, accepted against the whole standard, plaque awarded.
    page.goto(f"{base}/admin/programme/cultivation/")
    page.fill("#workshop", code)
    page.select_option("#title_id", label="包头市示范作坊（测试）")
    page.click("button:has-text('纳入培育库')")
    page.wait_for_url(re.compile(r".*/admin/programme/cultivation/\d+$"))
    submit(page, "button:has-text('申报')")
    for box in page.locator("input[name=met]").all():
        box.check()
    submit(page, "text=提交验收结果")
    assert "验收通过" in page.inner_text("body")
    submit(page, "text=授牌并授予称号")
    assert "已授牌" in page.inner_text("#cultivation")
    screenshot(page, "programme-cultivation")

    # The public sees the penalty, the 色标化 status, the new title and the revocation notice.
    page.goto(f"{base}/w/{code}")
    body = page.inner_text("body")
    assert (
        "包市监罚〔2026〕88号" in body and "部分完成" in body and "包头市示范作坊（测试）" in body
    )
    screenshot(page, "programme-public-workshop")
    page.goto(f"{base}/rankings/announcements")
    notice = page.inner_text("#revocations + ul")
    assert "固阳莜面坊" in notice and "牌匾已于" in notice
    screenshot(page, "programme-public-revocations")
    assert shop_code
