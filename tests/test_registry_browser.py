"""A regulator's day in a real browser: sign in, create a workshop, import a sheet with bad rows,
read the errors, import the corrected sheet, and find the change in the audit log."""

import pytest

from shifangbang.extensions import db

from . import factories as f
from .conftest import screenshot, sign_in, submit
from .registry_helpers import cert_no, sheet_row, xlsx_bytes


@pytest.fixture
def arranged(live_server):
    with live_server.app.app_context():
        j = f.jurisdictions()
        j[
            "xinaobao"
        ].name = (
            "测试一所"  # the demo data has its own 西脑包所; a shared name is (rightly) ambiguous
        )
        f.category("豆制品", True)
        f.category("糕点", True)
        admin = f.user("admin", username="juzhang")
        station = j["xinaobao"].name
        db.session.commit()
        return {"username": admin.username, "station": station}


@pytest.mark.browser
def test_registry_day(live_server, desktop_page, browser, arranged):
    page, url = desktop_page, live_server.url
    sign_in(page, url, arranged["username"])

    # Create a workshop.
    page.click("nav >> text=作坊档案")
    page.click("text=新建作坊")
    page.fill("#f-name", "老东河凉糕坊")
    page.select_option("#f-cert_type", "登记证")
    page.fill("#f-cert_no", "12345")  # wrong on purpose: the message must say how
    page.fill("#f-operator_name", "刘桂兰")
    page.fill("#f-operator_phone", "13947200001")
    page.fill("#f-address", "包头市东河区南圪洞街3号")
    page.select_option("#f-station_id", label=arranged["station"])
    page.check("label:has-text('糕点') input")
    page.check("input[value=purchase]")
    page.fill("input[name='staff-0-name']", "刘桂兰")
    page.fill("input[name='staff-0-expires']", "2026-12-31")
    submit(page, "button:has-text('保存')")
    assert "证件编号格式不对" in page.inner_text("main")
    assert page.input_value("#f-name") == "老东河凉糕坊"  # nothing typed is lost
    screenshot(page, "registry-form-error")
    page.fill("#f-cert_no", cert_no())
    page.click("button:has-text('保存')")
    page.wait_for_selector("text=已建档：老东河凉糕坊")
    screenshot(page, "registry-created")

    # Import a sheet with bad rows.
    bad = xlsx_bytes(
        [
            sheet_row(arranged["station"], 作坊名称="萨拉齐凉皮坊"),
            sheet_row(arranged["station"], 作坊名称="固阳莜面坊", 证件编号="蒙食小作坊登字第12号"),
            sheet_row("火星市场监管所", 作坊名称="无名坊"),
        ]
    )
    page.goto(url + "/admin/workshops/import")
    page.set_input_files(
        "#file",
        files=[{"name": "台账.xlsx", "mimeType": "application/octet-stream", "buffer": bad}],
    )
    submit(page, "button:has-text('上传并检查')")
    errors = page.inner_text("table.errors")
    assert "第 3 行" in errors and "证件编号格式不对" in errors
    assert "第 4 行" in errors and "火星市场监管所" in errors
    assert page.locator("button:has-text('确认导入')").count() == 0
    screenshot(page, "registry-import-errors")

    good = xlsx_bytes(
        [
            sheet_row(arranged["station"], 作坊名称="萨拉齐凉皮坊"),
            sheet_row(arranged["station"], 作坊名称="固阳莜面坊", 食品类别="糕点"),
            sheet_row(arranged["station"], 作坊名称="东河豆腐坊"),
        ]
    )
    page.set_input_files(
        "#file",
        files=[{"name": "台账.xlsx", "mimeType": "application/octet-stream", "buffer": good}],
    )
    submit(page, "button:has-text('上传并检查')")
    assert "将新增 3 家" in page.inner_text("#import-report")
    page.click("button:has-text('确认导入')")
    page.wait_for_selector("text=导入完成：新增 3 家")
    assert "固阳莜面坊" in page.inner_text("table.grid")
    screenshot(page, "registry-list-after-import")

    # The change is in the audit log.
    page.click("nav >> text=审计日志")
    page.select_option("#a-action", "workshop.import_create")
    submit(page, "button:has-text('查询')")
    log = page.inner_text("main")
    assert "固阳莜面坊" in log and arranged["username"] in log and "共 3 条" in log
    screenshot(page, "registry-audit")

    # Accounts and the TOTP enrolment page render (QR as an inline SVG).
    page.click("nav >> text=账号")
    assert arranged["username"] in page.inner_text("table.grid")
    screenshot(page, "registry-users")
    page.goto(url + "/admin/account/totp")
    assert page.locator("img.qr").evaluate("img => img.naturalWidth") > 0
    screenshot(page, "registry-totp")

    # Tablet width: the list stays usable (no sideways page scroll, filters wrap).
    tablet = browser.new_context(viewport={"width": 768, "height": 1024}, locale="zh-CN")
    tpage = tablet.new_page()
    sign_in(tpage, url, arranged["username"])
    tpage.goto(url + "/admin/workshops")
    assert tpage.evaluate("document.documentElement.scrollWidth") <= 768
    screenshot(tpage, "registry-list-tablet")
    tpage.goto(url + "/admin/workshops/new")
    assert tpage.evaluate("document.documentElement.scrollWidth") <= 768
    screenshot(tpage, "registry-form-tablet")
    tablet.close()
