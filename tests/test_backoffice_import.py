"""Imports that round-trip: the template passes its own dry run, an export imports back
unchanged (CSV and XLSX), and an optional 榜级/定榜日期 column brings in tiers published before
this system (存量导入), audited."""

import csv
import io
from datetime import date, timedelta

from sqlalchemy import select

from shifangbang import registry
from shifangbang.models import AuditLog, Jurisdiction, TierDecision, Workshop
from shifangbang.timeutil import today

from . import factories as f
from .registry_helpers import HEADER, cert_no, sheet_row, world

OIL = "食用油、油脂及其制品"


def _csv(header: list, rows: list[list]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def test_template_passes_its_own_dry_run(db):
    w = world(db)
    # The deployment's example number is taken: the template must offer another, unused one.
    example = registry.importing.current_deployment().certificate_example
    f.workshop(w.stations["nanmen"], cert_no=example)
    for actor in (w.admin, w.officer):
        content = registry.template_csv(actor)
        rows = registry.read_sheet("模板.csv", content)
        assert len(rows) == 1
        station = rows[0][1]["station"]
        assert db.session.scalar(
            select(Jurisdiction.id).where(
                Jurisdiction.name == station, Jurisdiction.level == "station"
            )
        )
        assert rows[0][1]["cert_no"] != example
        report = registry.dry_run(actor, rows)
        assert report.errors == [] and report.created == 1, report.errors
    # The officer's template names the officer's own station.
    assert registry.read_sheet("t.csv", registry.template_csv(w.officer))[0][1]["station"] == (
        "西脑包市场监管所"
    )


def _registry_with_awkward_data(db, w):
    """Workshops an export must carry back unchanged: a category whose name holds 、, two
    stations sharing a name, a published tier, empty optional fields, coordinates."""
    oil = f.category(OIL, True)
    twin = Jurisdiction(
        code="TWIN-2", name="西脑包市场监管所", level="station", parent=w.stations["kun"]
    )
    db.session.add(twin)
    db.session.flush()
    a = f.workshop(
        w.stations["xinaobao"],
        name="胡麻油坊",
        categories=[oil, w.tofu],
        lat=40.5812,
        lng=110.0533,
        operator_phone=None,
    )
    b = f.workshop(
        twin,
        name="重名所的糕点坊",
        categories=[w.cake],
        safety_manager="李四",
        plate_no="BT-0001",
        status="suspended",
    )
    a.tier_code, a.tier_since = "bronze", date(2023, 6, 1)
    db.session.commit()
    return a, b


def _all_unchanged(report, total):
    assert report.errors == [], report.errors[:5]
    assert (report.created, report.updated, report.unchanged) == (0, 0, total)
    assert [o for _, o, _ in report.outcomes] == ["无变化"] * total


def test_csv_export_imports_back_unchanged(db):
    w = world(db)
    _registry_with_awkward_data(db, w)
    content = registry.export_csv(w.admin, registry.Filters())
    rows = registry.read_sheet("导出.csv", content)
    assert len(rows) == 4
    assert any(OIL in r["category_names"] for _, r in rows)
    _all_unchanged(registry.dry_run(w.admin, rows), 4)
    # And the real import writes nothing, not even an audit row.
    before = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1))
    report = registry.import_rows(w.admin, rows)
    assert report.applied and report.unchanged == 4
    assert db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) == before


def test_xlsx_export_imports_back_unchanged(db):
    w = world(db)
    _registry_with_awkward_data(db, w)
    content = registry.export_xlsx(w.admin, registry.Filters())
    _all_unchanged(registry.dry_run(w.admin, registry.read_sheet("导出.xlsx", content)), 4)


def test_officer_export_imports_back_unchanged(db):
    w = world(db)
    _registry_with_awkward_data(db, w)
    content = registry.export_csv(w.officer, registry.Filters())
    rows = registry.read_sheet("导出.csv", content)
    assert len(rows) == 2  # the officer's station only
    _all_unchanged(registry.dry_run(w.officer, rows), 2)


def test_categories_by_code_or_by_a_name_holding_the_separator(db):
    w = world(db)
    oil = f.category(OIL, True)
    db.session.commit()
    rows = [
        sheet_row("西脑包市场监管所", 作坊名称="按名称", 食品类别=f"{OIL}、豆制品"),
        sheet_row("西脑包市场监管所", 作坊名称="按代码", 食品类别=f"{oil.code}，{w.cake.code}"),
        sheet_row("西脑包市场监管所", 作坊名称="有误", 食品类别="食用油、豆制品"),
    ]
    report = registry.dry_run(w.admin, registry.read_sheet("c.csv", _csv(HEADER, rows)))
    assert [n for n, _ in report.errors] == [4]
    assert "食用油" in report.errors[0][1]
    report = registry.import_rows(w.admin, registry.read_sheet("c.csv", _csv(HEADER, rows[:2])))
    assert report.applied
    by_name = {x.name: x for x in db.session.scalars(select(Workshop))}
    assert sorted(c.name for c in by_name["按名称"].categories) == sorted([OIL, "豆制品"])
    assert sorted(c.name for c in by_name["按代码"].categories) == sorted([OIL, "糕点"])


TIER_HEADER = [*HEADER, "榜级", "定榜日期"]


def test_legacy_tier_column_creates_published_initial_decisions(db):
    w = world(db)
    n1, n2 = cert_no(), cert_no()
    rows = [
        [*sheet_row("西脑包市场监管所", 作坊名称="存量铜榜坊", 证件编号=n1), "铜榜", "2023-05-01"],
        [*sheet_row("西脑包市场监管所", 作坊名称="存量金榜坊", 证件编号=n2), "gold", "2024/3/8"],
        # An existing, unrated workshop gets its legacy tier too.
        [
            *sheet_row("西脑包市场监管所", 作坊名称=w.own.name, 证件编号=w.own.cert_no),
            "银榜",
            "2023-01-01",
        ],
        [*sheet_row("西脑包市场监管所", 作坊名称="未评定坊"), "待评定", ""],
    ]
    rows[2][HEADER.index("食品类别")] = "豆制品"
    report = registry.import_rows(w.admin, registry.read_sheet("t.csv", _csv(TIER_HEADER, rows)))
    assert report.applied, report.errors
    assert (report.created, report.updated) == (3, 1)
    shops = {x.cert_no: x for x in db.session.scalars(select(Workshop))}
    assert (shops[n1].tier_code, shops[n1].tier_since) == ("bronze", date(2023, 5, 1))
    assert (shops[n2].tier_code, shops[n2].tier_since) == ("gold", date(2024, 3, 8))
    assert shops[w.own.cert_no].tier_code == "silver"
    decisions = db.session.scalars(select(TierDecision).order_by(TierDecision.id)).all()
    assert len(decisions) == 3
    for d in decisions:
        assert (d.status, d.direction, d.reason_category) == (
            "published",
            "initial",
            "legacy_import",
        )
        assert "存量导入" in d.reason and d.decided_by_id == w.admin.id
    audits = db.session.scalars(select(AuditLog).where(AuditLog.action == "tier.import")).all()
    assert len(audits) == 3 and all(a.after["source"] == "存量导入" for a in audits)
    # Importing the same file again changes nothing.
    again = registry.dry_run(w.admin, registry.read_sheet("t.csv", _csv(TIER_HEADER, rows)))
    assert again.errors == [] and again.unchanged == 4


def test_legacy_tier_rows_are_checked(db):
    w = world(db)
    w.other.tier_code, w.other.tier_since = "gold", date(2024, 1, 1)
    db.session.commit()
    tomorrow = (today() + timedelta(days=2)).isoformat()
    rows = [
        [*sheet_row("西脑包市场监管所"), "钻石榜", "2023-01-01"],
        [*sheet_row("西脑包市场监管所"), "铜榜", tomorrow],
        [*sheet_row("西脑包市场监管所"), "铜榜", ""],
        [*sheet_row("西脑包市场监管所"), "铜榜", "去年"],
        [
            *sheet_row(
                "昆北市场监管所", 证件编号=w.other.cert_no, 作坊名称=w.other.name, 食品类别="豆制品"
            ),
            "铜榜",
            "2024-01-01",
        ],
    ]
    report = registry.dry_run(w.admin, registry.read_sheet("t.csv", _csv(TIER_HEADER, rows)))
    errors = dict(report.errors)
    assert sorted(errors) == [2, 3, 4, 5, 6]
    assert "榜级“钻石榜”应为金榜、银榜、铜榜、橙榜或待评定" in errors[2]
    assert "不能晚于今天" in errors[3]
    assert "请同时填写定榜日期" in errors[4]
    assert "不是有效日期" in errors[5]
    assert "榜级变更请在分级定榜中办理" in errors[6]
    # A station officer may import workshops, not decide tiers.
    officer_rows = [[*sheet_row("西脑包市场监管所"), "铜榜", "2023-01-01"]]
    report = registry.dry_run(
        w.officer, registry.read_sheet("t.csv", _csv(TIER_HEADER, officer_rows))
    )
    assert "只有县局管理员可以导入存量榜级" in report.errors[0][1]


def test_import_page_lists_each_row_outcome(db, app):
    from .registry_helpers import login_as

    w = world(db)
    client = login_as(app, w.admin)
    content = registry.export_csv(w.admin, registry.Filters())
    resp = client.post(
        "/admin/workshops/import",
        data={"file": (io.BytesIO(content), "导出.csv")},
        content_type="multipart/form-data",
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html[:2000]
    assert html.count("<td>无变化</td>") == 2
