"""In a real browser: export the whole registry (Excel and CSV), upload the file to the import,
and the dry run reports 无变化 for every row."""

import pytest
from sqlalchemy import func, select

from shifangbang.extensions import db
from shifangbang.models import ProductCategory, User, Workshop

from . import factories as f
from .conftest import screenshot, sign_in


@pytest.fixture
def admin_name(live_server):
    with live_server.app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "daochu"))
        admin = admin or f.user("admin", username="daochu")
        db.session.commit()
        oil_shops = db.session.scalar(
            select(func.count(Workshop.id)).where(
                Workshop.categories.any(ProductCategory.name == "食用油、油脂及其制品")
            )
        )
        total = db.session.scalar(select(func.count(Workshop.id)))
        return admin.username, oil_shops, total


@pytest.mark.browser
@pytest.mark.parametrize("fmt, button", [("xlsx", "导出 Excel"), ("csv", "导出 CSV")])
def test_export_then_dry_run_import_reports_no_change(
    live_server, desktop_page, admin_name, fmt, button
):
    page, url = desktop_page, live_server.url
    username, oil_shops, total = admin_name
    assert oil_shops > 0  # the demo registry holds the category whose name contains 、
    sign_in(page, url, username)

    page.click("nav >> text=作坊档案")
    with page.expect_download() as info:
        page.click(f"text={button}")
    path = info.value.path()
    content = open(path, "rb").read()

    page.click("text=批量导入")
    page.set_input_files(
        "#file",
        files=[{"name": f"导出.{fmt}", "mimeType": "application/octet-stream", "buffer": content}],
    )
    page.click("button:has-text('上传并检查')")
    page.wait_for_selector("#import-report")
    report = page.inner_text("#import-report")
    assert "有误" not in report, report[:2000]
    outcomes = page.locator("#import-rows tbody tr td:nth-child(2)").all_inner_texts()
    assert len(outcomes) == total
    assert set(outcomes) == {"无变化"}
    assert f"{total} 家无变化" in report.replace("\n", "")
    screenshot(page, f"registry-roundtrip-{fmt}")
