"""Statistics fixes, each against hand-counted data: 受理总数 counts accepted items only, the
sheet says 类型 (投诉/举报), the 全年 view exports the whole year, and a calendar-day deadline
is not described as counted Monday to Friday."""

import io
from datetime import UTC, date, datetime

from openpyxl import load_workbook

from shifangbang import complaints, stats
from shifangbang.timeutil import today

from . import complaint_data as cd
from . import factories as f


def _seven_items(p):
    """3 complaints and 4 reports; accepted (受理) by hand: c1, r1, r2 — 3 of 7."""
    c1, c2, c3 = (cd.one(cd.submit(p["workshop"], ip=f"10.0.1.{i}")) for i in range(3))
    r1, r2, r3, r4 = (
        cd.one(cd.submit(p["workshop"], kind="report", ip=f"10.0.2.{i}")) for i in range(4)
    )
    officer = p["officer"]
    complaints.transition(officer, c1, "accept")  # 受理
    complaints.transition(officer, c2, "refuse", reason="not_consumption")  # 不予受理
    complaints.transition(officer, r1, "verify")  # 受理（核查中）
    complaints.transition(officer, r2, "verify")
    complaints.transition(officer, r2, "transfer", note="移送卫健部门")  # 受理后移送
    complaints.transition(officer, r3, "transfer", note="不属本局管辖")  # 未受理即移送
    return [c1, c2, c3, r1, r2, r3, r4]


def _rows(sheet) -> dict:
    return {r[0]: r[1] for r in sheet.iter_rows(min_row=5, values_only=True) if r[0]}


def test_accepted_total_counts_only_accepted_items(db):
    p = cd.place()
    _seven_items(p)
    db.session.commit()
    t = today()
    figures = stats.compute(None, *stats.month_bounds(t.year, t.month))
    c = figures["complaints"]
    assert (c["total"], c["accepted"]) == (7, 3)
    assert (c["by_kind"]["complaint"], c["by_kind"]["report"]) == (3, 4)
    book = load_workbook(io.BytesIO(stats.xlsx(figures, "测试辖区")))
    rows = _rows(book["投诉举报"])
    assert rows["收到总数"] == 7 and rows["受理总数"] == 3
    assert rows["类型：投诉"] == 3 and rows["类型：举报"] == 4
    assert not any(str(k).startswith("类别：") for k in rows)


def test_whole_year_view_exports_the_whole_year(app, db):
    p = cd.place()
    items = _seven_items(p)
    t = today()
    # One item received in another month of the same year: in the year's sheet, not the month's.
    other_month = 1 if t.month != 1 else 2
    items[-1].received_at = datetime(t.year, other_month, 15, 2, tzinfo=UTC).replace(tzinfo=None)
    db.session.commit()
    client = app.test_client()
    assert f.login(client, p["admin"]).status_code == 302

    page = client.get(f"/admin/stats/?year={t.year}").get_data(as_text=True)
    assert f"导出{t.year}年全年统计表" in page
    year = client.get(f"/admin/stats/sheet.xlsx?year={t.year}")
    assert year.status_code == 200
    assert "%E5%85%A8%E5%B9%B4" in year.headers["Content-Disposition"]  # 全年
    book = load_workbook(io.BytesIO(year.data))
    assert f"{t.year}年全年" in book["投诉举报"]["A1"].value
    assert _rows(book["投诉举报"])["收到总数"] == 7

    month = client.get(f"/admin/stats/sheet.xlsx?year={t.year}&month={t.month}")
    book = load_workbook(io.BytesIO(month.data))
    assert f"{t.year}年{t.month}月" in book["投诉举报"]["A1"].value
    assert _rows(book["投诉举报"])["收到总数"] == 6


def test_period_names():
    assert stats.period_name(date(2026, 3, 1), date(2026, 4, 1)) == "2026年3月"
    assert stats.period_name(date(2026, 1, 1), date(2027, 1, 1)) == "2026年全年"
    assert stats.period_name(date(2026, 1, 5), date(2026, 2, 10)) == "2026-01-05 至 2026-02-09"


def test_calendar_day_mediation_deadline_is_not_counted_monday_to_friday(app, db):
    p = cd.place()
    c = cd.one(cd.submit(p["workshop"]))
    r = cd.one(cd.submit(p["workshop"], kind="report", ip="10.0.3.1"))
    complaints.transition(p["officer"], c, "accept")
    # A year no holiday calendar covers yet: every deadline in it is provisional.
    for item in (c, r):
        item.received_at = datetime(2099, 3, 2, 2)
        item.due_on = date(2099, 5, 1)
    db.session.commit()
    assert "周一至周五" not in complaints.deadline_note(c)
    assert "日历日" in complaints.deadline_note(c)
    assert "暂按周一至周五计算" in complaints.deadline_note(r)
    client = app.test_client()
    assert f.login(client, p["officer"]).status_code == 302
    detail = client.get(f"/admin/complaints/{c.id}").get_data(as_text=True)
    assert "日历日" in detail and "周一至周五" not in detail
    detail = client.get(f"/admin/complaints/{r.id}").get_data(as_text=True)
    assert "暂按周一至周五计算" in detail
