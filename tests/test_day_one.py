"""Day one of a real deployment: an empty database gets its jurisdiction tree and product
categories from the bureau's sheets (`flask jurisdictions import`, `flask categories import`),
then accounts and workshops can name their station, and the public page shows its phone."""

import csv
import io

from sqlalchemy import func, select

from shifangbang import categories, jurisdictions
from shifangbang.models import AuditLog, Jurisdiction, ProductCategory, User, Workshop

from .registry_helpers import csv_bytes, sheet_row

TREE = ["辖区代码", "名称", "层级", "上级代码", "电话", "地址"]
CATS = ["类别代码", "类别名称", "高风险"]


def sheet(header, rows, encoding="utf-8-sig") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def rows_of(header, rows) -> list[tuple[int, dict]]:
    columns = jurisdictions.COLUMNS if header is TREE else categories.COLUMNS
    return [
        (n, {columns[h]: v for h, v in zip(header, row)}) for n, row in enumerate(rows, start=2)
    ]


BAOTOU = [
    # Children before their parents: the file's order does not matter.
    ["D1", "西脑包市场监督管理所", "所", "150202", "0472-4100001", "东河区西脑包大街 1 号"],
    ["150202", "东河区市场监督管理局", "区", "150200", "0472-4100000", ""],
    ["150200", "包头市市场监督管理局", "市", "", "12315", ""],
    ["K1", "昆北市场监督管理所", "中队", "150203", "", ""],
    ["150203", "昆都仑区市场监督管理局", "县", "150200", "", ""],
]


def audit_count(db, action: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
    )


def test_an_empty_database_is_set_up_from_the_bureaus_sheets(runner, db, client, tmp_path):
    assert db.session.scalar(select(func.count(Jurisdiction.id))) == 0
    tree = tmp_path / "辖区.csv"
    tree.write_bytes(sheet(TREE, BAOTOU, encoding="gb18030"))  # as older Chinese Excel saves it
    out = runner.invoke(args=["jurisdictions", "import", str(tree), "--dry-run"])
    assert out.exit_code == 0 and "将新增 5 个辖区" in out.output, out.output
    assert db.session.scalar(select(func.count(Jurisdiction.id))) == 0
    out = runner.invoke(args=["jurisdictions", "import", str(tree)])
    assert out.exit_code == 0 and "已新增 5 个辖区" in out.output, out.output
    station = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "D1"))
    assert station.level == "station" and station.parent.code == "150202"
    assert station.parent.parent.level == "city" and station.phone == "0472-4100001"
    assert audit_count(db, "jurisdiction.create") == 5

    cats = tmp_path / "类别.csv"
    cats.write_bytes(sheet(CATS, [["25", "豆制品", "是"], ["24", "糕点", "否"]]))
    out = runner.invoke(args=["categories", "import", str(cats)])
    assert out.exit_code == 0 and "已新增 2 个类别" in out.output, out.output
    assert db.session.scalar(select(ProductCategory).where(ProductCategory.code == "25")).high_risk

    # Accounts and workshops can now name their station.
    out = runner.invoke(
        args=[
            "users",
            "create",
            "zhang",
            "--role",
            "officer",
            "--name",
            "张执法",
            "--jurisdiction",
            "D1",
        ],
        input="Dongfang-zhifa-2026\nDongfang-zhifa-2026\n",
    )
    assert out.exit_code == 0, out.output
    assert (
        db.session.scalar(select(User).where(User.username == "zhang")).jurisdiction_id
        == station.id
    )
    shops = tmp_path / "作坊.csv"
    shops.write_bytes(csv_bytes([sheet_row("D1", 作坊名称="西脑包王记豆腐坊")]))
    out = runner.invoke(args=["registry", "import", str(shops)])
    assert out.exit_code == 0 and "已新增 1 家" in out.output, out.output
    w = db.session.scalar(select(Workshop).where(Workshop.name == "西脑包王记豆腐坊"))
    page = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    assert "西脑包市场监督管理所" in page and "0472-4100001" in page

    # The same sheet again changes nothing; a new phone reaches the page at once.
    out = runner.invoke(args=["jurisdictions", "import", str(tree)])
    assert "已新增 0 个辖区" in out.output and "5 个辖区无变化" in out.output, out.output
    BAOTOU_NEW = [row[:] for row in BAOTOU]
    BAOTOU_NEW[0][4] = "0472-4199999"
    tree.write_bytes(sheet(TREE, BAOTOU_NEW))
    out = runner.invoke(args=["jurisdictions", "import", str(tree)])
    assert "已更新 1 个辖区" in out.output, out.output
    assert audit_count(db, "jurisdiction.update") == 1
    assert "0472-4199999" in client.get(f"/w/{w.public_code}").get_data(as_text=True)


def test_bad_rows_are_all_listed_in_chinese_and_nothing_is_written(db):
    bad = [
        ["150200", "包头市市场监督管理局", "市", "", "", ""],
        ["150202", "东河区市场监督管理局", "区", "150200", "4100000", ""],  # no area code
        ["150202", "重复", "区", "150200", "", ""],
        ["D1", "西脑包所", "所", "150200", "", ""],  # a station under the city
        ["D2", "南门外所", "所", "999999", "", ""],  # unknown parent
        ["D3", "", "站", "150202", "", ""],  # no name, unknown level
        ["=1+1", "公式", "所", "150202", "", ""],
    ]
    report = jurisdictions.import_tree(None, rows_of(TREE, bad))
    messages = dict(report.errors)
    assert sorted(messages) == [3, 4, 5, 6, 7, 8]
    assert "区号" in messages[3] and "与第 3 行重复" in messages[4]
    assert "县（区、旗）级" in messages[5] and "999999" in messages[6]
    assert "名称" in messages[7] and "层级" in messages[7] and "辖区代码" in messages[8]
    assert db.session.scalar(select(func.count(Jurisdiction.id))) == 0  # all or none

    cats = [["25", "豆制品", "是"], ["26", "豆制品", ""], ["2 5", "x", "也许"]]
    report = categories.import_categories(None, rows_of(CATS, cats))
    messages = dict(report.errors)
    assert sorted(messages) == [3, 4] and "与第 2 行重复" in messages[3]
    assert "类别代码" in messages[4] and "是 或 否" in messages[4]
    assert db.session.scalar(select(func.count(ProductCategory.id))) == 0


def test_a_known_code_keeps_its_place_in_the_tree(db):
    assert not jurisdictions.import_tree(None, rows_of(TREE, BAOTOU)).errors
    moved = [["D1", "西脑包市场监督管理所", "所", "150203", "", ""]]  # to another county
    report = jurisdictions.check_tree(None, rows_of(TREE, moved))
    assert "只能更新名称、电话和地址" in report.errors[0][1]


def test_a_category_renamed_or_marked_high_risk_reaches_its_workshops(runner, db, client, tmp_path):
    assert not jurisdictions.import_tree(None, rows_of(TREE, BAOTOU)).errors
    assert not categories.import_categories(None, rows_of(CATS, [["25", "豆制品", "否"]])).errors
    shops = tmp_path / "作坊.csv"
    shops.write_bytes(csv_bytes([sheet_row("D1", 作坊名称="西脑包李记豆腐坊")]))
    assert runner.invoke(args=["registry", "import", str(shops)]).exit_code == 0
    w = db.session.scalar(select(Workshop).where(Workshop.name == "西脑包李记豆腐坊"))
    before = w.public_changed_at
    report = categories.import_categories(None, rows_of(CATS, [["25", "豆制品（含豆腐干）", "是"]]))
    assert (report.updated, report.errors) == (1, [])
    db.session.refresh(w)
    assert w.public_changed_at > before  # its page, ETag and index entry follow
    assert "豆制品（含豆腐干）" in client.get(f"/w/{w.public_code}").get_data(as_text=True)
    assert audit_count(db, "category.update") == 1


def test_a_sheet_without_the_optional_columns_keeps_what_is_stored(db):
    assert not jurisdictions.import_tree(None, rows_of(TREE, BAOTOU)).errors
    assert not categories.import_categories(None, rows_of(CATS, [["25", "豆制品", "是"]])).errors
    # Names only: phones, addresses and the high-risk mark stay; an empty cell would clear them.
    names = [(2, {"code": "D1", "name": "西脑包所", "level": "所", "parent": "150202"})]
    report = jurisdictions.import_tree(None, names)
    assert (report.updated, report.errors) == (1, [])
    station = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == "D1"))
    assert (station.name, station.phone) == ("西脑包所", "0472-4100001")
    assert station.address == "东河区西脑包大街 1 号"
    report = categories.import_categories(None, [(2, {"code": "25", "name": "豆制品类"})])
    assert (report.updated, report.errors) == (1, [])
    assert db.session.scalar(select(ProductCategory).where(ProductCategory.code == "25")).high_risk
    cleared = [(2, dict(names[0][1], phone=""))]
    assert not jurisdictions.import_tree(None, cleared).errors
    assert station.phone is None


def test_officers_cannot_import_the_tree(db):
    from shifangbang import access

    from . import factories as f

    j = f.jurisdictions()
    officer = f.user("officer", j["xinaobao"])
    for fn, header in ((jurisdictions.import_tree, TREE), (categories.import_categories, CATS)):
        try:
            fn(officer, rows_of(header, []))
        except access.Forbidden:
            continue
        raise AssertionError(f"{fn.__name__} accepted an officer")
