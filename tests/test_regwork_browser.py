"""Browser: an officer records a failed inspection, the bureau decides and publishes the proposed
downgrade; the published tier reaches the database, the change log and (once merged) the public pages."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from shifangbang.extensions import db
from shifangbang.models import ChangeLog, TierDecision, Workshop
from shifangbang.timeutil import today

from . import factories as f
from .conftest import screenshot, sign_in


def check_public_pages(page, base, workshop_code, workshop_name, tier_name):
    """Public side of the story: the published tier shows on /w/<code> and in the announcements."""
    page.goto(f"{base}/w/{workshop_code}")
    assert tier_name in page.inner_text("body")
    screenshot(page, "regwork-public-workshop")
    page.goto(f"{base}/rankings/announcements")
    body = page.inner_text("body")
    assert workshop_name in body and tier_name in body
    screenshot(page, "regwork-public-announcements")


@pytest.mark.browser
def test_failed_inspection_to_published_downgrade(live_server, desktop_page):
    app, base, page = live_server.app, live_server.url, desktop_page
    with app.app_context():
        j = f.jurisdictions()
        w = f.workshop(j["xinaobao"], tier_code="silver", name="老东河凉糕坊")
        f.user("officer", j["xinaobao"], username="regwork_officer")
        o2 = f.user("officer", j["xinaobao"], username="regwork_officer2")
        o2.display_name = "李检查"
        f.user("admin", username="regwork_admin")
        db.session.commit()
        code, wid, o2_id = w.public_code, w.id, o2.id

    sign_in(page, base, "regwork_officer")
    page.goto(f"{base}/admin/inspections/new?workshop={code}")
    page.check(f"input[name=inspectors][value='{o2_id}']")
    page.check("input[name=outcome_A1][value=fail]")  # key item: premises changed without approval
    page.fill("input[name=note_A1]", "擅自将生产场所迁至后院")
    page.fill("#rectification_due", (today() + timedelta(days=15)).isoformat())
    screenshot(page, "regwork-inspection-form")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/admin/inspections/*")
    body = page.inner_text("body")
    assert "不符合" in body and "降榜" in body and "橙榜" in body
    screenshot(page, "regwork-inspection-result")
    page.click("button.link")  # 退出

    sign_in(page, base, "regwork_admin")
    page.goto(base + "/admin/tiers/")
    row = page.locator("#proposed tr", has_text="老东河凉糕坊")
    assert "监督检查结果" in row.inner_text()
    row.locator("button[name=approve][value='1']").click()
    page.wait_for_url("**/admin/tiers/")
    row = page.locator("#decided tr", has_text="老东河凉糕坊")
    screenshot(page, "regwork-tier-queue-decided")
    row.locator("button", has_text="发布").click()
    page.locator("#confirm button", has_text="发布").click()  # the confirmation page
    page.wait_for_url("**/admin/tiers/")
    assert "现为橙榜" in page.inner_text("body")
    screenshot(page, "regwork-tier-published")

    with app.app_context():
        w = db.session.get(Workshop, wid)
        assert w.tier_code == "orange" and w.tier_since == today()
        d = db.session.scalar(select(TierDecision).where(TierDecision.workshop_id == wid))
        assert (d.status, d.reason_category, d.from_tier) == ("published", "inspection", "silver")
        assert d.inspection_id is not None and d.published_at is not None
        assert (
            db.session.scalar(
                select(ChangeLog.id).where(
                    ChangeLog.workshop_id == wid, ChangeLog.at >= d.published_at
                )
            )
            is not None
        )
    check_public_pages(page, base, code, "老东河凉糕坊", "橙榜")


@pytest.mark.browser
def test_stats_charts_and_public_draw_page(live_server, desktop_page, page):
    from shifangbang import draws

    app, base = live_server.app, live_server.url
    with app.app_context():
        j = f.jurisdictions()
        for n, tier in enumerate(["gold", "silver", "silver", "bronze", "orange", "unrated"]):
            f.workshop(j["nanmen"], tier_code=tier, name=f"南门作坊{n}")
        for _ in range(3):
            f.user("officer", j["nanmen"])
        admin = f.user("admin", username="regwork_stats_admin")
        db.session.commit()
        d = draws.draw(admin, j["nanmen"].id, 3, seed="2026-11-双随机")
        draws.publish(admin, d)
        draw_id = d.id
    sign_in(desktop_page, base, "regwork_stats_admin")
    desktop_page.goto(base + "/admin/stats/")
    assert desktop_page.locator("table.bars .fill").count() >= 6
    assert "整改进度" in desktop_page.inner_text("body")
    screenshot(desktop_page, "regwork-stats")
    page.goto(f"{base}/draws/{draw_id}")  # phone, no login
    body = page.inner_text("body")
    assert "2026-11-双随机" in body and "如何复算" in body and body.count("检查人员：") == 3
    screenshot(page, "regwork-public-draw")
