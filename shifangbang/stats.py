"""Statistics for a jurisdiction (its subtree) and the monthly statistics sheet (统计表).

Counts only: nothing here reads a complainant's identity.
"""

import io
from collections import Counter
from datetime import date
from functools import partial

from sqlalchemy import and_, func, or_, select

from . import current_deployment, rectification, spreadsheet
from . import sampling as sampling_mod
from .extensions import db
from .labels import (
    COMPLAINT_KIND,
    COMPLAINT_STATUS,
    INSPECTION_KIND,
    INSPECTION_RESULT,
    OPEN_COMPLAINT_STATUSES,
    TIER_DIRECTION,
    WORKSHOP_STATUS,
)
from .models import (
    Complaint,
    ComplaintEvent,
    Inspection,
    ProductCategory,
    RevocationProposal,
    Sampling,
    TierDecision,
    Title,
    TitleGrant,
    Workshop,
    workshop_category,
)
from .timeutil import local, local_day_start, today

ACCEPTED_STATUSES = (
    "accepted",
    "mediated",
    "terminated",
    "verifying",
    "case_opened",
    "no_case",
    "case_closed",
)


def _scoped(q, column, ids):
    return q if ids is None else q.where(column.in_(ids))


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """[first day, first day of next month)."""
    return date(year, month, 1), (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1))


def compute(ids: set[int] | None, start: date, end: date, on: date | None = None) -> dict:
    """Figures for workshops under `ids` (None = everywhere); period figures for [start, end)."""
    on = on or today()
    dep = current_deployment()
    W = Workshop
    # Workshops: snapshot now.
    by_status = dict(
        db.session.execute(
            _scoped(select(W.status, func.count()).group_by(W.status), W.station_id, ids)
        ).all()
    )
    by_tier = dict(
        db.session.execute(
            _scoped(
                select(W.tier_code, func.count()).where(W.status == "open").group_by(W.tier_code),
                W.station_id,
                ids,
            )
        ).all()
    )
    cat_q = (
        select(ProductCategory.name, func.count())
        .select_from(workshop_category)
        .join(ProductCategory, ProductCategory.id == workshop_category.c.category_id)
        .join(W, W.id == workshop_category.c.workshop_id)
        .where(W.status == "open")
        .group_by(ProductCategory.name)
        .order_by(func.count().desc(), ProductCategory.name)
    )
    by_category = db.session.execute(_scoped(cat_q, W.station_id, ids)).all()
    tiers = [(t.code, t.name, t.colour, by_tier.get(t.code, 0)) for t in (*dep.tiers, dep.unrated)]

    # Tier changes per month over the 12 months ending with the period (published decisions).
    first_month = _months_back(end, 12)
    tq = (
        select(TierDecision.published_at, TierDecision.direction)
        .join(W, W.id == TierDecision.workshop_id)
        .where(
            TierDecision.status == "published",
            TierDecision.published_at >= local_day_start(first_month),
            TierDecision.published_at < local_day_start(end),
        )
    )
    per_month: dict[str, Counter] = {}
    m = first_month
    while m < end:
        per_month[f"{m.year}-{m.month:02d}"] = Counter()
        m = month_bounds(m.year, m.month)[1]
    for published_at, direction in db.session.execute(_scoped(tq, W.station_id, ids)):
        d = local(published_at)
        per_month.setdefault(f"{d.year}-{d.month:02d}", Counter())[direction] += 1

    # Titles: snapshot.
    gq = (
        select(Title.name, TitleGrant.status, func.count())
        .join(Title, Title.id == TitleGrant.title_id)
        .join(W, W.id == TitleGrant.workshop_id)
        .group_by(Title.name, TitleGrant.status)
        .order_by(Title.name)
    )
    titles: dict[str, dict] = {}
    for name, status, n in db.session.execute(_scoped(gq, W.station_id, ids)):
        titles.setdefault(name, {"held": 0, "revoked": 0})[status] = n
    pending_revocations = db.session.scalar(
        _scoped(
            select(func.count(RevocationProposal.id))
            .join(TitleGrant, TitleGrant.id == RevocationProposal.grant_id)
            .join(W, W.id == TitleGrant.workshop_id)
            .where(RevocationProposal.status == "pending"),
            W.station_id,
            ids,
        )
    )

    # Inspections in the period.
    iq = (
        select(Inspection.kind, Inspection.result, func.count())
        .join(W, W.id == Inspection.workshop_id)
        .where(Inspection.inspected_on >= start, Inspection.inspected_on < end)
        .group_by(Inspection.kind, Inspection.result)
    )
    insp_rows = db.session.execute(_scoped(iq, W.station_id, ids)).all()
    insp_by_result = Counter()
    insp_by_kind = Counter()
    for kind, result, n in insp_rows:
        insp_by_result[result] += n
        insp_by_kind[kind] += n
    overdue_rect = db.session.scalar(
        _scoped(
            select(func.count(Inspection.id))
            .join(W, W.id == Inspection.workshop_id)
            .where(
                Inspection.rectification_required.is_(True),
                Inspection.rectification_done_on.is_(None),
                Inspection.rectification_due < on,
            ),
            W.station_id,
            ids,
        )
    )

    # Sampling in the period: pass rate over decided results; pending re-tests apart.
    sq = (
        select(Sampling)
        .join(W, W.id == Sampling.workshop_id)
        .where(Sampling.sampled_on >= start, Sampling.sampled_on < end)
    )
    samples = list(db.session.scalars(_scoped(sq, W.station_id, ids)))
    s_pass = sum(1 for s in samples if s.result == "pass" or s.retest_status == "overturned")
    s_confirmed = sum(1 for s in samples if sampling_mod.is_confirmed_failure(s, on))
    s_pending = len(samples) - s_pass - s_confirmed

    # Complaints: by kind and state (received in the period), and overdue now. Counts only.
    cq = (
        select(Complaint.kind, Complaint.status, func.count())
        .where(
            Complaint.received_at >= local_day_start(start),
            Complaint.received_at < local_day_start(end),
        )
        .group_by(Complaint.kind, Complaint.status)
    )
    complaints = Counter()
    complaint_kinds = Counter()
    for kind, status, n in db.session.execute(_scoped(cq, Complaint.jurisdiction_id, ids)):
        complaints[status] += n
        complaint_kinds[kind] += n
    # 受理: a complaint accepted for mediation, a report taken into verification (a report moved
    # on from verification to another authority was accepted too); not new, refused or moved.
    accepted_q = select(func.count(Complaint.id)).where(
        Complaint.received_at >= local_day_start(start),
        Complaint.received_at < local_day_start(end),
        or_(
            Complaint.status.in_(ACCEPTED_STATUSES),
            and_(
                Complaint.status == "transferred",
                select(ComplaintEvent.id)
                .where(
                    ComplaintEvent.complaint_id == Complaint.id,
                    ComplaintEvent.to_status == "verifying",
                )
                .exists(),
            ),
        ),
    )
    complaints_accepted = db.session.scalar(_scoped(accepted_q, Complaint.jurisdiction_id, ids))
    complaints_overdue = db.session.scalar(
        _scoped(
            select(func.count(Complaint.id)).where(
                Complaint.status.in_(OPEN_COMPLAINT_STATUSES), Complaint.due_on < on
            ),
            Complaint.jurisdiction_id,
            ids,
        )
    )

    return {
        "start": start,
        "end": end,
        "on": on,
        "workshops": {
            "total": sum(by_status.values()),
            "by_status": by_status,
            "by_tier": tiers,
            "by_category": by_category,
        },
        "tier_changes": per_month,
        "titles": titles,
        "pending_revocations": pending_revocations,
        "inspections": {
            "total": sum(insp_by_result.values()),
            "by_result": insp_by_result,
            "by_kind": insp_by_kind,
            "overdue_rectifications": overdue_rect,
        },
        "sampling": {
            "total": len(samples),
            "pass": s_pass,
            "fail": s_confirmed,
            "pending": s_pending,
            "pass_rate": (s_pass / (s_pass + s_confirmed)) if (s_pass + s_confirmed) else None,
        },
        "complaints": {
            "total": sum(complaints.values()),
            "accepted": complaints_accepted,
            "by_status": complaints,
            "by_kind": complaint_kinds,
            "overdue": complaints_overdue,
        },
        "rectification": rectification.progress(ids, start.year, on),
    }


def _months_back(end: date, n: int) -> date:
    """The first day of the month n months before `end`'s month."""
    y, m = end.year, end.month - n
    while m < 1:
        m += 12
        y -= 1
    return date(y, m, 1)


def period_name(start: date, end: date) -> str:
    """The period a sheet covers, in words: 2026年3月, 2026年全年, or from … to …."""
    if month_bounds(start.year, start.month)[1] == end:
        return f"{start.year}年{start.month}月"
    if (start.month, start.day) == (1, 1) and end == date(start.year + 1, 1, 1):
        return f"{start.year}年全年"
    return f"{start.isoformat()} 至 {date.fromordinal(end.toordinal() - 1).isoformat()}"


def bar_rows(pairs, colours=None) -> list[dict]:
    """[(label, value)] → rows with a width in % of the largest value, for CSS bars."""
    pairs = list(pairs)
    top = max((v for _, v in pairs), default=0) or 1
    return [
        {
            "label": label,
            "value": v,
            "pct": round(100 * v / top, 1),
            "colour": (colours or {}).get(label),
        }
        for label, v in pairs
    ]


def xlsx(figures: dict, scope_name: str) -> bytes:
    """The monthly statistics sheet (统计表) as an Excel workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    bold = Font(bold=True)
    start, end = figures["start"], figures["end"]
    period = period_name(start, end)

    def sheet(ws, title, header, rows):
        ws.title = title
        append = partial(spreadsheet.xlsx_append, ws)
        append([f"{scope_name} 食品小作坊监管统计表（{period}）"])
        ws["A1"].font = Font(bold=True, size=13)
        append([f"统计日期：{figures['on'].isoformat()}"])
        append([])
        append(header)
        for cell in ws[ws.max_row]:
            cell.font = bold
        for row in rows:
            append(row)
        for col in ws.columns:
            ws.column_dimensions[col[0].column_letter].width = 22
        ws["A1"].alignment = Alignment(wrap_text=False)

    w = figures["workshops"]
    rows = [("作坊总数", w["total"])] + [
        (f"状态：{WORKSHOP_STATUS.get(k, k)}", v) for k, v in w["by_status"].items()
    ]
    rows += [(f"榜级：{name}", n) for _, name, _, n in w["by_tier"]]
    rows += [(f"品类：{name}", n) for name, n in w["by_category"]]
    sheet(wb.active, "作坊概况", ["项目", "数量"], rows)

    i = figures["inspections"]
    rows = [("检查总数", i["total"])] + [
        (f"结果：{INSPECTION_RESULT[k]}", i["by_result"].get(k, 0)) for k in INSPECTION_RESULT
    ]
    rows += [(f"类型：{INSPECTION_KIND[k]}", i["by_kind"].get(k, 0)) for k in INSPECTION_KIND]
    rows += [("整改逾期未完成（截至统计日）", i["overdue_rectifications"])]
    sheet(wb.create_sheet(), "监督检查", ["项目", "数量"], rows)

    s = figures["sampling"]
    rate = "" if s["pass_rate"] is None else f"{s['pass_rate'] * 100:.1f}%"
    sheet(
        wb.create_sheet(),
        "监督抽检",
        ["项目", "数量"],
        [
            ("抽检批次", s["total"]),
            ("合格", s["pass"]),
            ("不合格（已确认）", s["fail"]),
            ("待定（复检中或复检期内）", s["pending"]),
            ("合格率", rate),
        ],
    )

    c = figures["complaints"]
    rows = [("收到总数", c["total"]), ("受理总数", c["accepted"])] + [
        (f"类型：{COMPLAINT_KIND[k]}", c["by_kind"].get(k, 0)) for k in COMPLAINT_KIND
    ]
    rows += [(f"状态：{COMPLAINT_STATUS[k]}", c["by_status"].get(k, 0)) for k in COMPLAINT_STATUS]
    rows += [("办理超期（截至统计日）", c["overdue"])]
    sheet(wb.create_sheet(), "投诉举报", ["项目", "数量"], rows)

    sheet(
        wb.create_sheet(),
        "榜级变动",
        ["月份"] + [TIER_DIRECTION[k] for k in TIER_DIRECTION],
        [
            (month, *[cnt.get(k, 0) for k in TIER_DIRECTION])
            for month, cnt in figures["tier_changes"].items()
        ],
    )

    titles_rows = [(name, v["held"], v["revoked"]) for name, v in figures["titles"].items()]
    titles_rows.append(("待处理撤销建议", figures["pending_revocations"], ""))
    sheet(wb.create_sheet(), "示范称号", ["称号", "有效", "已撤销"], titles_rows)

    r = figures["rectification"]
    rows = [
        ("本年挂账问题", r["total"], "", ""),
        ("已销号", r["fixed"], "", ""),
        ("逾期未销号", r["overdue"], "", ""),
    ]
    rows += [
        (t.label, t.by.isoformat(), f"{t.fixed_by_then}/{t.required}", TARGET_STATE[t.state])
        for t in r["targets"]
    ]
    sheet(wb.create_sheet(), "整改进度", ["项目", "数量或期限", "完成/要求", "状态"], rows)

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


TARGET_STATE = {"met": "已达标", "missed": "未达标", "pending": "未到期", "early": "已提前达标"}
