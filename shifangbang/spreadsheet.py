"""Every CSV and XLSX this system writes goes through here: no cell can become a formula.

A text cell that starts with = + - @ (or a tab or carriage return, which some programs skip
before looking for those) is run as a formula by Excel, WPS and LibreOffice: a workshop named
`=HYPERLINK("http://evil.example/x","豆腐坊")` would be a live link in a regulator's export.
Following OWASP's CSV-injection guidance such a cell is prefixed with a single quote, so it is
shown as the text it is. Numbers and dates are left alone (they are never formulas). Input is
refused earlier as well (registry validation, `formula_like`), so real data never needs this.
"""

import csv
import io
from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_like(text: str) -> bool:
    return isinstance(text, str) and text.startswith(FORMULA_START)


def safe_cell(value):
    return "'" + value if formula_like(value) else value


def safe_row(row: Iterable) -> list:
    return [safe_cell(v) for v in row]


def csv_text(rows: Iterable[Iterable], **writer_options) -> str:
    """The rows (header first) as CSV text, every cell made safe."""
    buf = io.StringIO()
    writer = csv.writer(buf, **writer_options)
    for row in rows:
        writer.writerow(safe_row(row))
    return buf.getvalue()


def dict_csv_text(fields: Iterable[str], rows: Iterable[dict], **writer_options) -> str:
    """Dicts as CSV text with a header row; None as an empty cell; every cell made safe."""
    fields = list(fields)
    return csv_text(
        [fields, *([("" if r.get(k) is None else r[k]) for k in fields] for r in rows)],
        **writer_options,
    )


def xlsx_append(ws, row: Iterable) -> None:
    """ws.append for an openpyxl sheet (openpyxl itself stores any "=…" string as a formula)."""
    ws.append(safe_row(row))
