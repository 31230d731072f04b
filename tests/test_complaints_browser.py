"""End to end in chromium: a report with a photo from a phone, tracked; an officer handles it on a
desktop; the reply shows on the phone's tracking page."""

import io

import pytest
from PIL import Image
from sqlalchemy import select

from shifangbang.extensions import db
from shifangbang.models import Attachment, Complaint
from tests import complaint_data as cd
from tests import factories
from tests.conftest import screenshot, sign_in


@pytest.mark.browser
def test_report_with_photo_tracked_handled_and_answered(live_server, page, desktop_page, tmp_path):
    with live_server.app.app_context():
        j = factories.jurisdictions()
        w = factories.workshop(j["xinaobao"], name="老东河凉糕坊")
        officer = factories.user("officer", j["xinaobao"])
        db.session.commit()
        code, username = w.public_code, officer.username
    photo = tmp_path / "IMG_2041.jpg"
    photo.write_bytes(cd.jpeg_with_gps(size=(3000, 2000)))
    base = live_server.url

    # The phone: the form reached from the workshop page (QR code).
    page.goto(f"{base}/complain?w={code}")
    assert "老东河凉糕坊" in page.content()
    page.check("input[name=kind][value=report]")
    page.select_option("#category", "hygiene")
    page.fill("#content", "作坊后门的污水直接流进原料间，苍蝇很多，工人不戴手套。")
    page.check("input[name=anonymous]")
    page.set_input_files("#photos", str(photo))
    screenshot(page, "complaints-1-phone-form")
    page.click("button.big-button")
    page.wait_for_selector("[data-testid=tracking-no]")
    number = page.inner_text("[data-testid=tracking-no]").strip()
    password = page.inner_text("[data-testid=password]").strip()
    assert number.startswith("JB") and len(password) == 10
    screenshot(page, "complaints-2-phone-receipt")

    with live_server.app.app_context():
        c = db.session.scalar(select(Complaint).where(Complaint.tracking_no == number))
        assert c is not None and c.anonymous and c.reporter_name is None
        att = db.session.scalar(select(Attachment).where(Attachment.complaint_id == c.id))
        stored = Image.open(io.BytesIO(att.data))
        assert len(stored.getexif()) == 0 and max(stored.size) <= 1600
        complaint_id = c.id

    def track():
        page.goto(f"{base}/track")
        page.fill("#number", number)
        page.fill("#password", password)
        page.click("button.big-button")
        page.wait_for_selector("[data-testid=status]")

    track()
    assert page.inner_text("[data-testid=status]") == "待处理"
    assert "污水" not in page.content()
    screenshot(page, "complaints-3-phone-track-new")

    # The officer, at a desk.
    d = desktop_page
    sign_in(d, base, username)
    d.goto(f"{base}/admin/complaints")
    assert number in d.content()
    screenshot(d, "complaints-4-desk-inbox")
    d.click(f"text={number}")
    assert "污水直接流进原料间" in d.content()
    # The photo loads (waited for: on a busy machine the page is up before the image is).
    d.wait_for_function("document.querySelector(\"img[alt='照片 1']\").complete")
    assert d.locator("img[alt='照片 1']").evaluate("img => img.naturalWidth") > 0
    verify = d.locator("section.action", has_text="开始核查")
    verify.locator("textarea[name=public_reply]").fill(
        "已收到，执法人员将在三个工作日内到现场核查。"
    )
    verify.locator("button").click()
    d.wait_for_selector("text=已开始核查")
    d.fill("textarea[name=reply]", "现场核查已完成，已责令作坊立即整改。")
    d.click("text=发送答复")
    d.wait_for_selector("text=已答复")
    screenshot(d, "complaints-5-desk-detail")
    with live_server.app.app_context():
        assert db.session.get(Complaint, complaint_id).status == "verifying"

    # Back on the phone: the status and both replies.
    track()
    assert page.inner_text("[data-testid=status]") == "核查中"
    replies = page.locator("[data-testid=reply]").all_inner_texts()
    assert any("三个工作日内到现场核查" in r for r in replies)
    assert any("已责令作坊立即整改" in r for r in replies)
    screenshot(page, "complaints-6-phone-track-answered")
