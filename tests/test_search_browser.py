"""A shopper on a phone searches, narrows to one tier and opens a result (real server, chromium)."""

import re

import pytest

from shifangbang import changes
from shifangbang.extensions import db

from . import factories as f
from .conftest import screenshot


@pytest.mark.browser
def test_phone_search_filter_by_tier_and_open(live_server, page):
    # Rows arranged through live_server.app reach the server's own index through the change log.
    with live_server.app.app_context():
        j = f.jurisdictions()
        cat = f.category("糕点", high_risk=True)
        made = {}
        # 琥珀凉糕 is in no demo workshop, so exactly these three match alongside the demo data.
        for name, tier, varieties in (
            ("蓝天凉糕坊", "gold", "琥珀凉糕、黄米凉糕"),
            ("白云凉糕坊", "bronze", "琥珀凉糕"),
            ("彩虹凉糕铺", "silver", "琥珀凉糕、月饼"),
        ):
            w = f.workshop(
                j["xinaobao"], name=name, tier_code=tier, varieties=varieties, categories=[cat]
            )
            changes.touch(w)
            made[name] = w.public_code
        db.session.commit()

    page.goto(live_server.url + "/")
    page.fill("#q", "琥珀凉糕")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url(re.compile(r"/search\?q="))
    for _ in range(20):  # the worker applies the change log at most a second late
        # Until then the query finds only near misses (other 凉糕 makers): wait for the three.
        if all(name in page.locator("main").inner_text() for name in made):
            break
        page.wait_for_timeout(300)
        page.reload()
    results = page.locator(".result")
    assert results.count() == 3
    assert "琥珀" in "".join(page.locator(".result mark").all_inner_texts())

    page.click("details.filters summary")
    page.select_option("#tier", "gold")
    page.click("button.apply")
    page.wait_for_url(re.compile(r"tier=gold"))
    assert page.locator(".result").count() == 1
    assert "蓝天凉糕坊" in page.locator(".result").inner_text()
    assert page.locator("#tier").input_value() == "gold"  # the form keeps the choice
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # no sideways scrolling on a phone
    screenshot(page, "search-phone-gold")

    page.click(".result a.hit")
    page.wait_for_url(re.compile(rf"/w/{made['蓝天凉糕坊']}$"))
