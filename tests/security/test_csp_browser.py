"""In chromium, with the app's Content-Security-Policy: no page (public or back office) triggers a
violation — nothing needed was inline — and the character counter works."""

from datetime import timedelta

import pytest

from shifangbang.extensions import db
from shifangbang.timeutil import today

from .. import factories as f
from ..conftest import screenshot

WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || ''));
});
"""


def _violations(page) -> list:
    page.wait_for_load_state("load")
    return page.evaluate("window.__csp || []")


@pytest.mark.browser
def test_pages_run_under_the_policy_without_violations(live_server, desktop_page):
    app, base, page = live_server.app, live_server.url, desktop_page
    with app.app_context():
        j = f.jurisdictions()
        # A consistent record (a tier has its date): other browser tests export the whole registry.
        since = today() - timedelta(days=30)
        w = f.workshop(
            j["xinaobao"],
            tier_code="gold",
            tier_since=since,
            last_inspected_on=since,
            name="策略测试豆腐坊",
        )
        f.user("admin", username="csp_admin")
        db.session.commit()
        code = w.public_code
    page.add_init_script(WATCH)
    for path in ("/", "/search?q=豆腐", f"/w/{code}", "/rankings", "/track", "/open-data/"):
        page.goto(base + path)
        assert _violations(page) == [], path
    # The tier's colour comes from the deployment file through a class, not a style attribute.
    page.goto(f"{base}/w/{code}")
    colour = app.extensions["deployment"].tier("gold").colour
    rgb = "rgb({}, {}, {})".format(*(int(colour[i : i + 2], 16) for i in (1, 3, 5)))
    badge = "getComputedStyle(document.querySelector('.badge.tier')).backgroundColor"
    border = "getComputedStyle(document.querySelector('section.status')).borderTopColor"
    assert page.evaluate(badge) == rgb and page.evaluate(border) == rgb
    page.goto(f"{base}/complain?w={code}")
    assert "已写 0 字" in page.inner_text("#limit-content")  # complain.js ran under the CSP
    page.fill("#content", "后厨地面有积水")
    assert "已写 7 字" in page.inner_text("#limit-content")
    assert _violations(page) == []

    page.goto(base + "/admin/login")
    page.fill("#username", "csp_admin")
    page.fill("#password", f.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/**")
    for path in (
        "/admin/",
        "/admin/stats",
        "/admin/workshops",
        "/admin/account/totp",
        "/admin/account/password",
    ):
        page.goto(base + path)
        assert _violations(page) == [], path
    assert (
        page.evaluate("document.querySelector('link[href*=\"/css/admin.\"]').sheet.cssRules.length")
        > 0
    )
    page.goto(base + "/admin/stats")
    width = page.evaluate("getComputedStyle(document.querySelector('table.bars .fill')).display")
    assert width == "block"  # stats.css (formerly an inline <style>) applied
    screenshot(page, "security-csp-stats")
