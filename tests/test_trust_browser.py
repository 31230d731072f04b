"""Browser: a consumer has a workshop page open; an officer of the bureau revokes its title in
the back office (real sign-in, CSRF); the consumer's next visit shows the change within 5 s —
no max-age window keeps the old page in the browser's cache."""

import time
from datetime import timedelta

import pytest

from shifangbang.extensions import db
from shifangbang.models import RevocationProposal, Title, TitleGrant
from shifangbang.timeutil import today, utcnow

from . import factories as f
from .conftest import PHONE, screenshot, sign_in


@pytest.mark.browser
def test_a_revoked_title_reaches_an_open_browser_within_five_seconds(
    live_server, browser, desktop_page
):
    app, base = live_server.app, live_server.url
    with app.app_context():
        j = f.jurisdictions()
        w = f.workshop(
            j["xinaobao"],
            name="河东示范豆腐坊",
            tier_code="gold",
            tier_since=today() - timedelta(days=100),
            last_inspected_on=today() - timedelta(days=20),
        )
        t = Title(
            name=f"包头市食品小作坊示范点{w.id}", authority="包头市市场监督管理局", level="city"
        )
        db.session.add(t)
        db.session.flush()
        g = TitleGrant(workshop_id=w.id, title_id=t.id, granted_on=today() - timedelta(days=200))
        db.session.add(g)
        db.session.flush()
        p = RevocationProposal(
            grant_id=g.id,
            rule="serious_problem",
            evidence={"note": f"{today() - timedelta(days=3)} 现场检查发现使用过期原料"},
            created_at=utcnow() - timedelta(days=1),
        )
        db.session.add(p)
        f.user("admin", username="trust_admin")
        db.session.commit()
        code, title_name, proposal_id = w.public_code, t.name, p.id

    consumer = browser.new_context(**PHONE)
    try:
        shop = consumer.new_page()
        url = f"{base}/w/{code}"
        first = shop.goto(url)
        assert first.headers["cache-control"] == "public, no-cache" and first.headers.get("etag")
        titles_box = shop.inner_text("#titles")
        assert title_name in titles_box and "有效" in titles_box and "已撤销" not in titles_box

        # The bureau revokes the title in the back office.
        admin = desktop_page
        sign_in(admin, base, "trust_admin")
        admin.goto(f"{base}/admin/titles/#proposal-{proposal_id}")
        row = admin.locator(f"#proposal-{proposal_id}")
        row.locator("input[name=note]").fill("经复核属实，撤销称号并收回牌匾")
        row.locator("button[value=confirm]").click()
        admin.wait_for_selector("#confirm")  # the back office asks before a revocation
        admin.click("#confirm button[type=submit]")
        admin.wait_for_load_state()
        assert "已撤销" in admin.inner_text("body")
        revoked_at = time.monotonic()

        # The consumer navigates to the page again (a normal navigation, which a max-age
        # window would answer from the browser's cache).
        seen = None
        while time.monotonic() - revoked_at < 5:
            shop.goto(base + "/rankings")  # elsewhere, then back to the page by its address
            shop.goto(url)
            box = shop.inner_text("#titles")
            if "已撤销" in box:
                seen = time.monotonic() - revoked_at
                break
            time.sleep(0.25)
        screenshot(shop, "trust-revoked-title")
        assert seen is not None, "the revocation did not reach the open browser within 5 s"
        assert title_name in shop.inner_text("#titles")
        assert "有效" not in shop.inner_text("#titles")
    finally:
        consumer.close()
