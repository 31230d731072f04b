"""Product categories (食品生产许可分类目录: 粮食加工品, 豆制品, 糕点 …) that workshops are
registered under, imported on day one by code (`flask categories import`); a later sheet renames
a category or changes its high-risk mark, which the risk filters and 双随机 use."""

import re

from sqlalchemy import select

from . import audit, changes
from .extensions import db
from .models import ProductCategory, Workshop, workshop_category
from .registry.guard import require
from .registry.importing import ImportReport, cell_text, outcome, preview, tally
from .tx import transactional

COLUMNS = {"类别代码": "code", "类别名称": "name", "高风险": "high_risk"}
REQUIRED_COLUMNS = ("类别代码", "类别名称")
YES, NO = {"是", "高", "y", "yes", "true", "1"}, {"", "否", "低", "n", "no", "false", "0"}
CODE = re.compile(r"[0-9A-Za-z]{1,10}")
FIELDS = ("name", "high_risk")


def _check(rows: list[tuple[int, dict]]) -> tuple[ImportReport, list[tuple[int, dict]]]:
    report, good = ImportReport(total=len(rows)), []
    known = {c.code: c for c in db.session.scalars(select(ProductCategory))}
    names = {c.name: c.code for c in known.values()}
    codes_seen: dict[str, int] = {}
    names_seen: dict[str, int] = {}
    for row_no, raw in rows:
        code, name = cell_text(raw.get("code")), cell_text(raw.get("name"))
        current = known.get(code)
        risk = cell_text(raw.get("high_risk")).lower()
        if "high_risk" not in raw and current is not None:  # no 高风险 column: keep the mark
            risk = "是" if current.high_risk else "否"
        problems = []
        if not CODE.fullmatch(code):
            problems.append("类别代码应为 1–10 位数字或字母，如 25。")
        elif code in codes_seen:
            problems.append(f"类别代码 {code} 与第 {codes_seen[code]} 行重复。")
        if not name or len(name) > 40:
            problems.append("请填写类别名称（不超过 40 字）。")
        elif name in names_seen:
            problems.append(f"类别名称“{name}”与第 {names_seen[name]} 行重复。")
        elif names.get(name, code) != code:
            problems.append(f"系统中类别代码 {names[name]} 已叫“{name}”。")
        if risk not in YES | NO:
            problems.append("“高风险”请填 是 或 否。")
        codes_seen.setdefault(code, row_no)
        names_seen.setdefault(name, row_no)
        if problems:
            report.errors.append((row_no, "".join(problems)))
            continue
        good.append((row_no, dict(code=code, name=name, high_risk=risk in YES, current=current)))
    return report, good


def check_categories(actor, rows: list[tuple[int, dict]]) -> ImportReport:
    """What importing these rows would do, writing nothing."""
    require(actor, "edit_category")
    return preview(*_check(rows), FIELDS)


@transactional
def import_categories(actor, rows: list[tuple[int, dict]]) -> ImportReport:
    """Create the categories a sheet names, update those already here (by code): all rows or
    none; audited; the workshops of a changed category follow on every channel."""
    require(actor, "edit_category")
    report, good = _check(rows)
    if report.errors:
        return report
    for _row_no, values in good:
        c = values["current"]
        done = outcome(c, values, FIELDS)
        tally(report, done)
        after = {k: values[k] for k in FIELDS}
        if done == "created":
            c = ProductCategory(code=values["code"], **after)
            db.session.add(c)
            db.session.flush()
            audit.record(actor, "category.create", "product_category", c.id, after=after)
        elif done == "updated":
            before = {k: getattr(c, k) for k in FIELDS}
            c.name, c.high_risk = values["name"], values["high_risk"]
            db.session.flush()
            in_category = select(workshop_category.c.workshop_id).where(
                workshop_category.c.category_id == c.id
            )
            changes.touch_where(Workshop.id.in_(in_category))
            audit.record(
                actor, "category.update", "product_category", c.id, before=before, after=after
            )
    return report
