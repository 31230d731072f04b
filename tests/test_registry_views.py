"""The registry screens: list, edit conflict, import upload → dry run → confirm, export, audit log."""

import io
from datetime import timedelta

from sqlalchemy import func, select

from shifangbang import audit
from shifangbang.models import AuditLog, Workshop
from shifangbang.timeutil import today as china_today

from . import factories as f
from .registry_helpers import csv_bytes, edit_form, form, login_as, sheet_row, world, xlsx_bytes


def test_list_search_filters_and_pagination(app, db):
    w = world(db)
    for i in range(55):
        f.workshop(w.stations["nanmen"], name=f"南门外豆腐坊{i:02d}")
    db.session.commit()
    client = login_as(app, w.admin)
    page1 = client.get("/admin/workshops?q=南门外豆腐坊").get_data(as_text=True)
    assert "共 55 家" in page1 and "第 1 / 2 页" in page1 and "下一页" in page1
    page2 = client.get("/admin/workshops?q=南门外豆腐坊&page=2").get_data(as_text=True)
    assert page2.count("南门外豆腐坊") >= 5 and "上一页" in page2
    body = client.get(f"/admin/workshops?station={w.stations['kun1'].id}&status=open").get_data(
        as_text=True
    )
    assert "共 1 家" in body and w.other.name in body
    assert "导出 Excel" in body and f"export.xlsx?station={w.stations['kun1'].id}" in body


def test_edit_conflict_keeps_typed_values_and_saves_nothing(app, db):
    w = world(db)
    stale = edit_form(w.own, name="乙的改名")
    alice = login_as(app, w.officer)
    assert (
        alice.post(
            f"/admin/workshops/{w.own.id}/edit", data=edit_form(w.own, name="甲的改名")
        ).status_code
        == 302
    )
    bob = login_as(app, w.admin)
    r = bob.post(f"/admin/workshops/{w.own.id}/edit", data=stale)
    body = r.get_data(as_text=True)
    assert r.status_code == 409 and "该作坊已被他人修改" in body
    assert 'value="乙的改名"' in body and "当前保存的值：甲的改名" in body
    db.session.expire_all()
    current = db.session.get(Workshop, w.own.id)
    assert current.name == "甲的改名"
    # The form now carries the current version: saving again is a deliberate, informed overwrite.
    assert f'name="version" value="{current.version}"' in body


def test_invalid_form_shows_chinese_errors_and_keeps_input(app, db):
    w = world(db)
    r = login_as(app, w.officer).post(
        "/admin/workshops/new",
        data=form(w.stations["xinaobao"], cert_no="第123号", operator_phone="110", name="保留我"),
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "证件编号格式不对" in body and "联系电话应为" in body
    assert 'value="保留我"' in body and 'value="第123号"' in body


def test_import_upload_dry_run_then_confirm(app, db):
    w = world(db)
    client = login_as(app, w.officer)
    bad = xlsx_bytes(
        [
            sheet_row("西脑包市场监管所", 作坊名称="好行"),
            sheet_row("西脑包市场监管所", 证件编号="错号"),
            sheet_row("昆北市场监管所"),
        ]
    )
    r = client.post(
        "/admin/workshops/import",
        data={"file": (io.BytesIO(bad), "台账.xlsx")},
        content_type="multipart/form-data",
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "有 2 行有误" in body
    assert "第 3 行" in body and "证件编号格式不对" in body and "第 4 行" in body and "无权" in body
    assert "确认导入</button>" not in body
    good = csv_bytes([sheet_row("西脑包市场监管所", 作坊名称=f"好行{i}") for i in range(3)], "gbk")
    r = client.post(
        "/admin/workshops/import",
        data={"file": (io.BytesIO(good), "台账.csv")},
        content_type="multipart/form-data",
    )
    body = r.get_data(as_text=True)
    assert (
        r.status_code == 200
        and "将新增 <strong>3</strong> 家" in body
        and "确认导入</button>" in body
    )
    assert db.session.scalar(select(func.count(Workshop.id))) == 2  # a dry run writes nothing
    payload = body.split('name="payload" value="')[1].split('"')[0]
    r = client.post(
        "/admin/workshops/import", data={"confirm": "1", "filename": "台账.csv", "payload": payload}
    )
    assert r.status_code == 302
    assert db.session.scalar(select(func.count(Workshop.id))) == 5
    r = client.post(
        "/admin/workshops/import", data={"confirm": "1", "filename": "台账.csv", "payload": payload}
    )
    assert db.session.scalar(select(func.count(Workshop.id))) == 5  # idempotent


def test_import_template_round_trips(app, db):
    w = world(db)
    client = login_as(app, w.admin)
    template = client.get("/admin/workshops/import/template.csv").data
    r = client.post(
        "/admin/workshops/import",
        data={"file": (io.BytesIO(template), "模板.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200 and "将新增 <strong>1</strong> 家" in r.get_data(as_text=True)


def test_export_xlsx_download(app, db):
    from openpyxl import load_workbook

    w = world(db)
    r = login_as(app, w.viewer).get("/admin/workshops/export.xlsx")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(r.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "作坊名称" and [x[0] for x in rows[1:]] == [w.own.name]


def test_audit_page_filters_and_shows_the_diff(app, db):
    w = world(db)
    officer = login_as(app, w.officer)
    officer.post(
        f"/admin/workshops/{w.own.id}/edit", data=edit_form(w.own, name="审计可见的新名字")
    )
    admin = login_as(app, w.admin)
    body = admin.get(f"/admin/audit?actor={w.officer.username}&entity=workshop").get_data(
        as_text=True
    )
    assert (
        '<strong data-action="workshop.edit">修改作坊</strong>' in body
        and "西脑包老豆腐坊" in body
        and "审计可见的新名字" in body
    )
    assert 'class="changed"' in body
    body = admin.get("/admin/audit?actor=nobody").get_data(as_text=True)
    assert "没有符合条件的记录" in body
    tomorrow = (china_today() + timedelta(days=1)).isoformat()
    assert '<strong data-action="workshop.edit">修改作坊</strong>' not in admin.get(
        f"/admin/audit?date_from={tomorrow}"
    ).get_data(as_text=True)
    today = china_today().isoformat()  # the filter counts days in China time
    assert '<strong data-action="workshop.edit">修改作坊</strong>' in admin.get(
        f"/admin/audit?date_from={today}&date_to={today}&action=workshop"
    ).get_data(as_text=True)
    r = admin.post("/admin/audit/verify", follow_redirects=True)
    assert "哈希链无误" in r.get_data(as_text=True)


def test_audit_page_verify_reports_tampering(app, db):
    w = world(db)
    audit.record(w.admin, "test.tamper", "thing", 1, after={"v": 1})
    db.session.commit()
    db.session.execute(
        AuditLog.__table__.update()
        .where(AuditLog.action == "test.tamper")
        .values(actor_name="mallory")
    )
    db.session.commit()
    r = login_as(app, w.admin).post("/admin/audit/verify", follow_redirects=True)
    assert "审计日志校验失败" in r.get_data(as_text=True) and "记录被修改" in r.get_data(
        as_text=True
    )
