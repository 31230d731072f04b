"""No cell of any CSV or XLSX we write can run as a formula (admin exports, the statistics sheet,
the import template, open-data CSVs, the LIVES zip); such names are refused at input."""

import csv
import io
import zipfile

from openpyxl import load_workbook

from shifangbang import opendata, registry, spreadsheet

from ..registry_helpers import csv_bytes, form, login_as, sheet_row, world

EVIL = {
    "name": '=HYPERLINK("http://evil.example/x","豆腐坊")',
    "operator_name": "+cmd|' /C calc'!A0",
    "address": "@SUM(1+1)*cmd",
    "varieties": "-2+3+cmd",
    "safety_manager": "\t=1+1",
    "additives": "\r=1+1",
}


def _plant(w) -> None:
    """As if stored before input was checked (an old import, a direct database edit)."""
    for key, value in EVIL.items():
        setattr(w.own, key, value)


def _no_formula_text(cells, where: str) -> int:
    n = 0
    for value in cells:
        if isinstance(value, str) and value:
            assert not value.startswith(spreadsheet.FORMULA_START), (where, value)
            n += 1
    return n


def _csv_cells(data: bytes, encoding: str = "utf-8-sig") -> list:
    return [c for row in csv.reader(io.StringIO(data.decode(encoding))) for c in row]


def test_admin_exports_neutralise_formulas(app, db):
    w = world(db)
    _plant(w)
    j = w.stations["xinaobao"]
    j.name = "=1+1 西脑包"
    db.session.commit()
    admin = login_as(app, w.admin)
    cells = _csv_cells(admin.get("/admin/workshops/export.csv").data)
    assert _no_formula_text(cells, "export.csv") and f"'{EVIL['name']}" in cells
    book = load_workbook(io.BytesIO(admin.get("/admin/workshops/export.xlsx").data))
    xcells = [c for ws in book for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in xcells)
    assert _no_formula_text([c.value for c in xcells], "export.xlsx")
    assert f"'{EVIL['name']}" in [c.value for c in xcells]
    sheet = admin.get(f"/admin/stats/sheet.xlsx?jurisdiction={j.id}")
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.data))
    xcells = [c for ws in book for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in xcells)
    assert _no_formula_text([c.value for c in xcells], "sheet.xlsx")


def test_open_data_csv_and_lives_zip_neutralise_formulas(app, db):
    w = world(db)
    _plant(w)
    db.session.commit()
    cells = _csv_cells(opendata.to_csv(opendata.records(None)))
    assert _no_formula_text(cells, "open-data csv")
    assert any(c.startswith("'=HYPERLINK") for c in cells)
    with zipfile.ZipFile(io.BytesIO(opendata.lives_zip(None))) as z:
        for name in z.namelist():
            if name.endswith(".csv"):
                _no_formula_text(_csv_cells(z.read(name), "utf-8"), name)
        businesses = _csv_cells(z.read("businesses.csv"), "utf-8")
    assert any("HYPERLINK" in c for c in businesses)


def test_registry_refuses_formula_like_text(app, db):
    w = world(db)
    admin = login_as(app, w.admin)
    r = admin.post("/admin/workshops/new", data=form(w.stations["xinaobao"], name=EVIL["name"]))
    assert r.status_code == 422 and "不能以 = + - @ 开头" in r.get_data(as_text=True)
    row = sheet_row(w.stations["xinaobao"].name)
    row[0] = "@SUM(1)"
    report = registry.import_rows(w.admin, registry.read_sheet("a.csv", csv_bytes([row])))
    assert not report.applied
    assert any("不能以 = + - @ 开头" in e for _, e in report.errors)
