"""The workshop registry: validation, create/edit/status, optimistic locking, import and export."""

import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from shifangbang import registry
from shifangbang.models import AuditLog, ChangeLog, Workshop
from shifangbang.timeutil import today

from . import factories as f
from .registry_helpers import HEADER, cert_no, csv_bytes, domain_data, sheet_row, world, xlsx_bytes


def test_create_validates_and_records(db):
    w = world(db)
    created = registry.create_workshop(
        w.officer, domain_data(w.stations["xinaobao"], name="东河凉糕坊")
    )
    assert created.id and len(created.public_code) <= 10
    assert (
        created.status == "open"
        and created.seven_in_place["purchase"]
        and not created.seven_in_place["storage"]
    )
    assert [s.name for s in created.staff] == ["赵六"] and created.staff[
        0
    ].health_cert_expires == date(2026, 12, 31)
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "workshop.create")).one()
    assert (
        row.actor_id == w.officer.id
        and row.after["name"] == "东河凉糕坊"
        and row.after["categories"] == ["豆制品"]
    )
    assert (
        db.session.scalar(
            select(func.count()).select_from(ChangeLog).where(ChangeLog.workshop_id == created.id)
        )
        == 1
    )


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("cert_type", "营业执照", "证件类型应为"),
        ("cert_no", "12345", "证件编号格式不对"),
        ("operator_phone", "1234567", "联系电话应为"),
        ("operator_phone", "23904721234", "联系电话应为"),
        ("valid_from", "2025-02-30", "有效期起不是有效日期"),
        ("valid_to", "2020-01-01", "有效期至不能早于有效期起"),
        ("lat", "95", "纬度应在"),
        ("lng", "东经", "经度应为数字"),
        ("name", "", "请填写作坊名称"),
        ("category_ids", [], "请至少选择一个食品类别"),
        ("category_ids", ["999999"], "不在目录中"),
        ("station_id", "", "请选择所属"),
    ],
)
def test_validation_messages_in_chinese(db, field, value, message):
    w = world(db)
    data = domain_data(w.stations["xinaobao"], **{field: value})
    with pytest.raises(registry.ValidationError) as e:
        registry.create_workshop(w.admin, data)
    assert message in str(e.value)
    assert db.session.scalar(select(func.count(Workshop.id))) == 2  # nothing written


def test_certificate_number_is_unique_and_phones_accepted(db):
    w = world(db)
    with pytest.raises(registry.ValidationError, match="已被其他作坊使用"):
        registry.create_workshop(w.admin, domain_data(w.stations["kun1"], cert_no=w.own.cert_no))
    ok = registry.create_workshop(
        w.admin, domain_data(w.stations["kun1"], operator_phone="0472-5155315")
    )
    assert ok.operator_phone == "0472-5155315"
    ok2 = registry.create_workshop(
        w.admin, domain_data(w.stations["kun1"], operator_phone="+86 139 0472 1234")
    )
    assert ok2.operator_phone == "13904721234"


def test_edit_records_before_after_and_bumps_version(db):
    w = world(db)
    version = w.own.version
    data = domain_data(
        w.own.station,
        name="西脑包新豆腐坊",
        cert_no=w.own.cert_no,
        operator_name=w.own.operator_name,
        address=w.own.address,
    )
    registry.update_workshop(w.officer, w.own.id, data, version)
    db.session.refresh(w.own)
    assert w.own.name == "西脑包新豆腐坊" and w.own.version == version + 1
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "workshop.edit")).one()
    assert row.before["name"] == "西脑包老豆腐坊" and row.after["name"] == "西脑包新豆腐坊"
    assert "cert_no" not in row.after  # unchanged fields are left out


def test_stale_version_is_a_conflict_not_a_lost_update(db):
    w = world(db)
    loaded = w.own.version
    first = domain_data(w.own.station, name="甲改的名字", cert_no=w.own.cert_no)
    second = domain_data(w.own.station, name="乙改的名字", cert_no=w.own.cert_no)
    registry.update_workshop(w.officer, w.own.id, first, loaded)
    with pytest.raises(registry.ConflictError, match="该作坊已被他人修改"):
        registry.update_workshop(w.admin, w.own.id, second, loaded)
    with pytest.raises(registry.ConflictError):
        registry.change_status(w.admin, w.own.id, "suspended", today(), "停业整顿", loaded)
    db.session.refresh(w.own)
    assert w.own.name == "甲改的名字" and w.own.status == "open"


def test_concurrent_write_between_read_and_flush_is_caught(db):
    """The version check in the form can race; the UPDATE … WHERE version = n cannot."""
    w = world(db)
    version = w.own.version
    db.session.execute(
        Workshop.__table__.update()
        .where(Workshop.id == w.own.id)
        .values(version=version + 1, name="别人")
    )
    # The session still holds the old version in memory, as if read just before the other commit.
    with pytest.raises(registry.ConflictError):
        registry.update_workshop(
            w.admin, w.own.id, domain_data(w.own.station, cert_no=w.own.cert_no), version
        )


def test_change_status_needs_date_and_reason(db):
    w = world(db)
    with pytest.raises(registry.ValidationError) as e:
        registry.change_status(w.officer, w.own.id, "revoked", "", "", w.own.version)
    assert "请填写状态变更日期" in str(e.value) and "请填写变更原因" in str(e.value)
    with pytest.raises(registry.ValidationError, match="不能晚于今天"):
        registry.change_status(
            w.officer, w.own.id, "revoked", today() + timedelta(days=3), "x", w.own.version
        )
    registry.change_status(
        w.officer, w.own.id, "suspended", "2026-01-05", "季节性停产", w.own.version
    )
    db.session.refresh(w.own)
    assert w.own.status == "suspended" and w.own.status_changed_on == date(2026, 1, 5)
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "workshop.status")).one()
    assert row.before["status"] == "open" and row.after == {
        "status": "suspended",
        "status_changed_on": "2026-01-05",
        "reason": "季节性停产",
    }


def test_list_query_search_filters_and_scope(db):
    w = world(db)
    f.workshop(
        w.stations["nanmen"],
        name="南门外糕点坊",
        categories=[w.cake],
        tier_code="gold",
        status="suspended",
    )

    def names(actor, **kw):
        return sorted(
            x.name for x in db.session.scalars(registry.list_query(actor, registry.Filters(**kw)))
        )

    assert len(names(w.admin)) == 3
    assert names(w.officer) == ["西脑包老豆腐坊"]  # own station only
    assert names(w.admin, q="糕点") == ["南门外糕点坊"]
    assert names(w.admin, q=w.other.cert_no[-8:]) == ["昆北凉糕坊"]
    assert names(w.admin, category_id=w.cake.id, tier="gold", status="suspended") == [
        "南门外糕点坊"
    ]
    assert names(w.admin, station_id=w.stations["donghe"].id) == [
        "南门外糕点坊",
        "西脑包老豆腐坊",
    ]  # a county: its stations


def test_list_query_has_no_n_plus_one(db, app):
    w = world(db)
    for _ in range(15):
        f.workshop(w.stations["kun1"], categories=[w.tofu, w.cake])
    db.session.commit()
    from sqlalchemy import event

    assert w.admin.role == "admin"  # loaded before counting
    statements = []
    engine = db.session.get_bind()
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        rows = list(db.session.scalars(registry.list_query(w.admin, registry.Filters())))
        for r in rows:
            _ = [c.name for c in r.categories], r.station.name
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(rows) == 17 and len(selects) <= 3, selects


# --- import -----------------------------------------------------------------------------------


def test_dry_run_lists_every_bad_row_and_writes_nothing(db):
    w = world(db)
    dup = cert_no()
    rows = [
        sheet_row("西脑包市场监管所", 证件编号=dup),
        sheet_row("西脑包市场监管所", 证件编号="蒙食小作坊登字第123号"),
        sheet_row("不存在的所"),
        sheet_row("西脑包市场监管所", 食品类别="豆制品、火星食品"),
        sheet_row("西脑包市场监管所", 联系电话="12345", 有效期至="2028年13月1日"),
        sheet_row("西脑包市场监管所", 证件编号=dup),
        sheet_row("西脑包市场监管所", 状态="歇业"),
    ]
    parsed = registry.read_sheet("x.csv", csv_bytes(rows))
    before = db.session.scalar(select(func.count(AuditLog.id)))
    report = registry.dry_run(w.admin, parsed)
    errors = dict(report.errors)
    assert sorted(errors) == [3, 4, 5, 6, 7, 8]  # sheet rows (header is row 1)
    assert "证件编号格式不对" in errors[3]
    assert "所属所“不存在的所”不存在" in errors[4]
    assert "火星食品" in errors[5]
    assert "联系电话" in errors[6] and "有效期至不是有效日期" in errors[6]
    assert "与第 2 行重复" in errors[7]
    assert "状态“歇业”" in errors[8]
    assert db.session.scalar(select(func.count(Workshop.id))) == 2
    assert db.session.scalar(select(func.count(AuditLog.id))) == before
    # And the real import refuses the whole file.
    report = registry.import_rows(w.admin, parsed)
    assert not report.applied and db.session.scalar(select(func.count(Workshop.id))) == 2


def test_import_is_idempotent_by_certificate_number(db):
    w = world(db)
    rows = [sheet_row("西脑包市场监管所", 作坊名称=f"导入作坊{i}") for i in range(3)]
    rows.append(
        sheet_row(
            w.stations["kun1"].code,
            证件编号=w.other.cert_no,
            作坊名称="昆北凉糕坊（更名）",
            食品类别="糕点、豆制品",
        )
    )
    content = xlsx_bytes(rows)
    first = registry.import_rows(w.admin, registry.read_sheet("a.xlsx", content))
    assert (first.created, first.updated, first.applied) == (3, 1, True)
    assert db.session.scalar(select(func.count(Workshop.id))) == 5
    db.session.refresh(w.other)
    assert w.other.name == "昆北凉糕坊（更名）" and sorted(c.name for c in w.other.categories) == [
        "糕点",
        "豆制品",
    ]
    audits = db.session.scalar(select(func.count(AuditLog.id)))
    again = registry.import_rows(w.admin, registry.read_sheet("a.xlsx", content))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert db.session.scalar(select(func.count(Workshop.id))) == 5
    assert (
        db.session.scalar(select(func.count(AuditLog.id))) == audits
    )  # nothing changed, nothing logged
    # A changed status in the sheet updates, never duplicates.
    rows[0][HEADER.index("状态")] = "停业"
    third = registry.import_rows(w.admin, registry.read_sheet("a.csv", csv_bytes(rows)))
    assert (third.created, third.updated) == (0, 1)
    assert (
        db.session.scalar(select(Workshop.status).where(Workshop.name == "导入作坊0"))
        == "suspended"
    )


def test_import_keeps_fields_the_sheet_does_not_carry(db):
    w = world(db)
    w.own.seven_in_place = {"purchase": True}
    w.own.trademark = "老东河"
    db.session.commit()
    row = sheet_row("西脑包市场监管所", 证件编号=w.own.cert_no, 作坊名称="改名豆腐坊")
    report = registry.import_rows(w.officer, registry.read_sheet("b.csv", csv_bytes([row])))
    assert report.updated == 1
    db.session.refresh(w.own)
    assert (
        w.own.name == "改名豆腐坊"
        and w.own.trademark == "老东河"
        and w.own.seven_in_place["purchase"] is True
    )


def test_gbk_csv_and_excel_dates_and_numbers(db):
    w = world(db)
    rows = [
        sheet_row(
            "西脑包市场监管所",
            作坊名称="萨拉齐凉皮坊",
            有效期起="2025/3/1",
            有效期至="2028年2月28日",
        )
    ]
    report = registry.import_rows(w.admin, registry.read_sheet("gbk.csv", csv_bytes(rows, "gbk")))
    assert report.created == 1, report.errors
    made = db.session.scalar(select(Workshop).where(Workshop.name == "萨拉齐凉皮坊"))
    assert made.valid_from == date(2025, 3, 1) and made.valid_to == date(2028, 2, 28)
    # xlsx: real date cells and a phone number stored as a number.
    from datetime import datetime

    rows = [
        sheet_row(
            "西脑包市场监管所",
            作坊名称="固阳莜面坊",
            联系电话=13904721111,
            有效期起=datetime(2025, 5, 1),
        )
    ]
    report = registry.import_rows(w.admin, registry.read_sheet("d.xlsx", xlsx_bytes(rows)))
    made = db.session.scalar(select(Workshop).where(Workshop.name == "固阳莜面坊"))
    assert made.operator_phone == "13904721111" and made.valid_from == date(2025, 5, 1)


def test_unreadable_files_are_refused_in_chinese(db):
    with pytest.raises(registry.ImportFileError, match="只支持"):
        registry.read_sheet("a.xls", b"x")
    with pytest.raises(registry.ImportFileError, match="缺少列"):
        registry.read_sheet("a.csv", "作坊名称,地址\n甲,乙\n".encode())
    with pytest.raises(registry.ImportFileError, match="无法读取"):
        registry.read_sheet("a.xlsx", b"not a zip")


def test_cli_import_dry_run_then_import(runner, db, tmp_path):
    w = world(db)
    good = tmp_path / "good.csv"
    good.write_bytes(
        csv_bytes(
            [sheet_row(w.stations["xinaobao"].code, 作坊名称=f"命令行作坊{i}") for i in range(5)]
        )
    )
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([sheet_row("西脑包市场监管所"), sheet_row("无此所")]))
    result = runner.invoke(args=["registry", "import", str(bad), "--dry-run"])
    assert result.exit_code == 1 and "第 3 行" in result.output and "无此所" in result.output
    result = runner.invoke(args=["registry", "import", str(good), "--dry-run"])
    assert result.exit_code == 0 and "将新增 5 家" in result.output, result.output
    assert db.session.scalar(select(func.count(Workshop.id))) == 2
    result = runner.invoke(args=["registry", "import", str(good)])
    assert result.exit_code == 0 and "已新增 5 家" in result.output, result.output
    assert db.session.scalar(select(func.count(Workshop.id))) == 7
    result = runner.invoke(args=["registry", "import", str(good)])
    assert (
        "已新增 0 家" in result.output and db.session.scalar(select(func.count(Workshop.id))) == 7
    )


# --- export -----------------------------------------------------------------------------------


def test_export_csv_and_xlsx_follow_filters_and_omit_id_numbers(db):
    w = world(db)
    w.own.operator_id_no = "150202198001011234"
    db.session.commit()
    body = registry.export_csv(w.admin, registry.Filters(q="豆腐")).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["作坊名称", "证件类型", "证件编号"] and len(rows) == 2
    assert rows[1][0] == "西脑包老豆腐坊" and rows[1][4] == "13904721234"
    assert "150202198001011234" not in body
    wb = load_workbook(io.BytesIO(registry.export_xlsx(w.officer, registry.Filters())))
    values = list(wb.active.iter_rows(values_only=True))
    assert [r[0] for r in values[1:]] == ["西脑包老豆腐坊"]  # the officer's jurisdiction only
    # What was exported can be imported back unchanged (same column names).
    parsed = registry.read_sheet("back.csv", body.encode("utf-8"))
    report = registry.dry_run(w.admin, parsed)
    assert report.ok and report.unchanged == 1, (report, parsed)
