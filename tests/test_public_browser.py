"""The workshop page and posters in chromium (phone viewport), with screenshots and QR decoding."""

import io
import time
from datetime import date, timedelta

import pytest
from PIL import Image

from shifangbang import changes
from shifangbang.extensions import db
from shifangbang.models import Inspection, Sampling, StaffMember, TierDecision, Title, TitleGrant
from shifangbang.timeutil import today, utcnow

from . import factories as f
from .conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def arrange(live_server, name: str, tier: str = "silver"):
    """A workshop with a tier, an inspection, samplings and a title; returns (code, officer username)."""
    with live_server.app.app_context():
        j = f.jurisdictions()
        j["xinaobao"].phone = "0472-4171234"
        w = f.workshop(
            j["xinaobao"],
            name=name,
            tier_code=tier,
            tier_since=today() - timedelta(days=60),
            last_inspected_on=today() - timedelta(days=45),
            safety_manager="李秀英",
            pledge_signed_on=date(2025, 3, 1),
            additives="食用碱",
            seven_in_place={
                k: True for k in ("purchase", "cleaning", "health", "process", "records")
            },
            regional_brand="老东河凉糕",
            plate_no="DH-0001",
        )
        w.staff = [StaffMember(name="赵小红", health_cert_expires=today() + timedelta(days=200))]
        officer = f.user("officer", j["xinaobao"])
        db.session.add(
            Inspection(
                workshop_id=w.id,
                inspected_on=today() - timedelta(days=45),
                kind="routine",
                result="pass",
            )
        )
        db.session.add(
            Sampling(
                workshop_id=w.id,
                sampled_on=today() - timedelta(days=20),
                product="凉糕",
                lab="包头市食品检验检测中心",
                result="pass",
            )
        )
        db.session.add(
            Sampling(
                workshop_id=w.id,
                sampled_on=today() - timedelta(days=80),
                product="凉糕（散装）",
                lab="包头市食品检验检测中心",
                result="fail",
                failed_item="菌落总数",
                measured_value="2.1×10⁵CFU/g",
                limit_value="≤1×10⁵CFU/g",
                retest_status="requested",
            )
        )
        db.session.add(
            TierDecision(
                workshop_id=w.id,
                from_tier="unrated",
                to_tier="bronze",
                direction="initial",
                reason_category="initial",
                status="published",
                effective_on=today() - timedelta(days=300),
                published_at=utcnow() - timedelta(days=300),
            )
        )
        db.session.add(
            TierDecision(
                workshop_id=w.id,
                from_tier="bronze",
                to_tier=tier,
                direction="upgrade",
                reason_category="inspection",
                status="published",
                effective_on=today() - timedelta(days=60),
                published_at=utcnow() - timedelta(days=60),
            )
        )
        t = Title(
            name=f"包头市食品小作坊示范点（{name}）", authority="包头市市场监督管理局", level="city"
        )
        db.session.add(t)
        db.session.flush()
        db.session.add(TitleGrant(workshop_id=w.id, title_id=t.id, granted_on=date(2025, 6, 1)))
        db.session.commit()
        return w.public_code, officer.username


def cjk_renders(page, selector: str) -> bool:
    """Two different Chinese strings must render differently: missing fonts give identical boxes."""

    def shot(text):
        page.eval_on_selector(selector, "(el, t) => el.textContent = t", text)
        return page.locator(selector).screenshot()

    original = page.locator(selector).text_content()
    a, b = shot("食品安全"), shot("监督检查")
    page.eval_on_selector(selector, "(el, t) => el.textContent = t", original)
    return a != b


def test_workshop_page_on_a_phone(live_server, page):
    code, _ = arrange(live_server, "老东河凉糕坊")
    page.goto(f"{live_server.url}/w/{code}")
    assert page.viewport_size["width"] == 390
    badge = page.locator(".badge.tier")
    assert badge.is_visible() and badge.text_content() == "银榜"
    assert page.locator("h1").text_content() == "老东河凉糕坊"
    since = today() - timedelta(days=60)
    dates = page.locator(".dates")
    assert (
        dates.is_visible() and f"{since.year}年{since.month}月{since.day}日" in dates.text_content()
    )
    assert "最近检查" in dates.text_content()
    # The complaint button is on the first screen, wide enough to hit.
    button = page.locator("a.cta").first
    assert button.is_visible() and button.get_attribute("href") == f"/complain?w={code}"
    box = button.bounding_box()
    assert box["y"] + box["height"] < 844 and box["width"] > 300
    page.locator("#board").scroll_into_view_if_needed()
    assert page.locator("#board").is_visible()
    assert page.get_by_text("食品质量安全承诺书（七承诺）").is_visible()
    assert page.get_by_text("复检中，结果待定").is_visible()
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert cjk_renders(page, "h1")
    screenshot(page, "public-workshop-phone")
    # Large type persists through the no-JavaScript toggle.
    page.get_by_text("大字模式").click()
    assert page.evaluate("document.documentElement.className") == "large"
    page.goto(f"{live_server.url}/w/{code}")
    assert page.evaluate("document.documentElement.className") == "large"
    screenshot(page, "public-workshop-phone-large")


def decode_png(png: bytes) -> list[str]:
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))]


def test_poster_prints_and_its_qr_decodes_then_goes_stale(live_server, browser, page):
    code, username = arrange(live_server, "西脑包豆腐坊", tier="gold")
    desk = browser.new_context(viewport={"width": 900, "height": 1200}, locale="zh-CN")
    try:
        admin = desk.new_page()
        sign_in(admin, live_server.url, username)
        admin.goto(f"{live_server.url}/admin/posters?q=西脑包豆腐坊")
        admin.locator("button[name=size][value=A4]").click()
        assert "请确认：发放并打印" in admin.inner_text("main")  # issuing asks first
        admin.locator("#confirm button", has_text="发放并打印").click()
        admin.wait_for_url("**/admin/posters/print?ids=*")
        assert "/admin/posters/print?ids=" in admin.url
        admin.emulate_media(media="print")
        sheet = admin.locator("section.sheet")
        assert sheet.count() == 1 and sheet.get_attribute("data-issue") == "1"
        assert admin.locator(".tier").text_content() == "金榜"
        box = sheet.bounding_box()
        assert (
            abs(box["width"] - 210 / 25.4 * 96) < 2 and abs(box["height"] - 297 / 25.4 * 96) < 2
        )  # A4
        png = sheet.screenshot()
        screenshot(admin, "poster-a4")
        assert decode_png(png) == [f"{live_server.url}/w/{code}?p=1"]
    finally:
        desk.close()

    # A consumer scans the fresh poster: no notice.
    page.goto(f"{live_server.url}/w/{code}?p=1")
    assert page.locator(".banner.stale").count() == 0
    # The bureau changes the workshop's public status: the same poster is now outdated.
    with live_server.app.app_context():
        from shifangbang.models import Workshop

        w = db.session.scalar(db.select(Workshop).where(Workshop.public_code == code))
        w.tier_code, w.tier_since = "bronze", today()
        changes.touch(w)
        db.session.commit()
    time.sleep(1.2)  # past the server's one-second head micro-cache (public_site/workshop.py)
    page.goto(f"{live_server.url}/w/{code}?p=1")
    page.reload()  # the page is cacheable for a minute: revalidate as a re-scan after that would
    notice = page.locator(".banner.stale")
    assert notice.is_visible() and "您扫描的公示牌已过期，请以本页信息为准" in notice.text_content()
    assert page.locator(".badge.tier").text_content() == "铜榜"
    screenshot(page, "public-outdated-poster")


def test_unknown_code_page_on_a_phone(live_server, page):
    response = page.goto(f"{live_server.url}/w/FAKE2345")
    assert response.status == 404
    assert page.get_by_text("这不是有效的官方公示二维码").is_visible()
    assert page.locator("a[href='/complain?category=fake_poster']").is_visible()
    screenshot(page, "public-unknown-code")
