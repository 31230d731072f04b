"""Demo data for the action programme (DESIGN.md §2b), derived from the rows demo.py wrote.

Called once by demo.load() after the bulk load, in its transaction. Everything follows from the
demo's own history, so the rules hold: a case exists for every report the demo opened a case on
(decided when the report was closed, on that day), and for some failed inspections; 色标化
status is what the latest inspection's colour-code items say; revoked titles get their plaques
back except the oldest overdue one; risk-monitoring results are dated before today, and a
problem sets its follow-up due date. Bulk inserts, like demo.py, and one audit entry.
"""

import random
from datetime import date, timedelta

from sqlalchemy import and_, case, func, insert, select

from . import audit, complaints, current_deployment, deadlines
from .extensions import db
from .models import (
    Complaint,
    ComplaintEvent,
    Inspection,
    InspectionItem,
    Jurisdiction,
    ProductCategory,
    Title,
    TitleGrant,
    User,
    Workshop,
    workshop_category,
)
from .programme_models import (
    ColourCodeAdoption,
    Cultivation,
    EnforcementCase,
    GrowthEntry,
    PlaqueRecovery,
    RiskMonitoring,
    StationReport,
)
from .timeutil import local, utcnow

INSPECTION_CASES = 6  # failed inspections that became cases
MONITORED_SHARE = 0.02  # high-risk workshops with risk-monitoring results
MONITORING = (  # (category name, product, hazard, problem value)
    ("肉制品", "酱牛肉", "兽药残留（克伦特罗）", "0.9 μg/kg"),
    ("肉制品", "熏肉", "动物源性成分", "检出猪源性成分"),
    ("豆制品", "豆腐干", "非法添加物（碱性橙Ⅱ）", "检出"),
    ("糕点", "月饼", "致病性微生物（沙门氏菌）", "检出/25g"),
    ("食醋", "老陈醋", "非法添加物（游离矿酸）", "检出"),
)
VIOLATIONS = (
    ("使用超过保质期的食品原料生产食品", "没收违法所得，罚款五千元"),
    ("超范围使用食品添加剂", "没收违法生产的食品，罚款一万元"),
    ("生产场所卫生条件不符合要求，经责令改正拒不改正", "警告，罚款二千元"),
)


def load(seed: int, today: date) -> dict[str, int]:
    rng = random.Random(f"programme-{seed}")
    p = current_deployment().programme
    short = current_deployment().bureau.short_name or "市场监管"
    admin_id = db.session.scalar(select(User.id).where(User.role == "admin").order_by(User.id))
    counts = {
        "colour_code_adoption": _colour_codes(today),
        "plaque_recovery": _plaques(today, p.plaque_recovery_days, admin_id),
        "enforcement_case": _cases(rng, today, p.penalty_publication_days, short, admin_id),
        "risk_monitoring": _monitoring(rng, today, p.follow_up_sampling_days, admin_id),
        "cultivation": _cultivation(rng, today, p),
        "growth_entry": _growth(rng, today, p),
        "station_report": _reports(rng, today, p, admin_id),
    }
    counts["registration_checks"] = _spot_check(seed, today, admin_id)
    audit.record(None, "demo.load_programme", "database", None, after=counts)
    return counts


def _colour_codes(today: date) -> int:
    """From each workshop's latest inspection: all colour items met → done, some → partial."""
    codes = list(current_deployment().programme.colour_code_items)
    latest = (
        select(Inspection.workshop_id, func.max(Inspection.id).label("id"))
        .group_by(Inspection.workshop_id)
        .subquery()
    )
    met = func.sum(case((InspectionItem.outcome == "pass", 1), else_=0))
    rows = db.session.execute(
        select(Inspection.workshop_id, Inspection.id, Inspection.inspected_on, met, func.count())
        .join(latest, latest.c.id == Inspection.id)
        .join(InspectionItem, InspectionItem.inspection_id == Inspection.id)
        .where(InspectionItem.code.in_(codes), InspectionItem.outcome != "na")
        .group_by(Inspection.workshop_id, Inspection.id, Inspection.inspected_on)
    ).all()
    now = utcnow()
    values = []
    for workshop_id, inspection_id, day, n_met, n in rows:
        status = "done" if n_met == n else "partial" if n_met else "not_started"
        values.append(
            dict(
                workshop_id=workshop_id,
                status=status,
                completed_on=day if status == "done" else None,
                checked_on=day,
                inspection_id=inspection_id,
                updated_at=now,
            )
        )
    if values:
        db.session.execute(insert(ColourCodeAdoption.__table__), values)
    return len(values)


def _plaques(today: date, days: int, officer_id: int | None) -> int:
    """Every plaque due by now is recovered, except the oldest (left overdue); recent ones pend."""
    revoked = db.session.execute(
        select(TitleGrant.id, TitleGrant.revoked_on)
        .where(TitleGrant.status == "revoked", TitleGrant.revoked_on <= today)
        .order_by(TitleGrant.revoked_on, TitleGrant.id)
    ).all()
    due = [(gid, on) for gid, on in revoked if on + timedelta(days=days) < today]
    values = [
        dict(
            grant_id=gid,
            recovered_on=min(on + timedelta(days=1 + gid % days), today),
            recovered_by_id=officer_id,
            note="已当面收回牌匾并登记",
            recorded_at=utcnow(),
        )
        for gid, on in due[1:]
    ]
    if values:
        db.session.execute(insert(PlaqueRecovery.__table__), values)
    return len(values)


def _event_day(complaint_id: int, status: str) -> date | None:
    at = db.session.scalar(
        select(func.max(ComplaintEvent.at)).where(
            ComplaintEvent.complaint_id == complaint_id, ComplaintEvent.to_status == status
        )
    )
    return local(at).date() if at else None


def _cases(rng, today: date, publish_days: int, short: str, officer_id) -> int:
    reports = db.session.scalars(
        select(Complaint)
        .where(Complaint.kind == "report", Complaint.status.in_(("case_opened", "case_closed")))
        .order_by(Complaint.id)
    ).all()
    inspections = db.session.execute(
        select(Inspection.id, Inspection.workshop_id, Inspection.inspected_on, Workshop.station_id)
        .join(Workshop, Workshop.id == Inspection.workshop_id)
        .where(Inspection.result == "fail", Inspection.inspected_on <= today - timedelta(days=40))
        .order_by(Inspection.inspected_on.desc(), Inspection.id)
        .limit(INSPECTION_CASES)
    ).all()
    per_year: dict[int, int] = {}
    values = []

    def numbered(opened_on: date, decided_on: date | None) -> dict:
        per_year[opened_on.year] = per_year.get(opened_on.year, 0) + 1
        n = per_year[opened_on.year]
        row = dict(
            case_no=f"立〔{opened_on.year}〕{n:04d}号",
            opened_on=opened_on,
            due_on=deadlines.period_end(opened_on, complaints.CASE_DAYS),
            opened_by_id=officer_id,
            status="open",
            created_at=utcnow(),
        )
        if decided_on is not None:
            violation, penalty = rng.choice(VIOLATIONS)
            row.update(
                status="decided",
                decision_no=f"{short}罚〔{opened_on.year}〕{n}号",
                decided_on=decided_on,
                violation=violation,
                penalty=penalty,
                publish_until=decided_on + timedelta(days=publish_days - 1),
            )
        return row

    for r in reports:
        opened_on = _event_day(r.id, "case_opened") or today
        decided_on = _event_day(r.id, "case_closed") if r.status == "case_closed" else None
        row = numbered(opened_on, decided_on)
        row.update(
            source="report",
            complaint_id=r.id,
            workshop_id=r.workshop_id,
            unregistered_name=r.unregistered_name,
            unregistered_address=r.unregistered_address,
            station_id=r.workshop.station_id if r.workshop else r.jurisdiction_id,
            summary="举报经核查属实，涉嫌违法生产",
        )
        if r.workshop_id is None and decided_on is not None:
            row["closed_unlicensed_on"] = decided_on  # the 黑作坊 was closed (取缔)
        values.append(row)
    for k, (iid, wid, day, station_id) in enumerate(inspections):
        opened_on = day + timedelta(days=2)
        decided_on = opened_on + timedelta(days=25) if k < len(inspections) - 1 else None
        row = numbered(opened_on, decided_on)
        row.update(
            source="inspection",
            inspection_id=iid,
            workshop_id=wid,
            station_id=station_id,
            summary="监督检查发现关键项不符合，涉嫌违法生产",
        )
        values.append(row)
    for row in values:
        for key in ("unregistered_name", "unregistered_address", "complaint_id", "inspection_id"):
            row.setdefault(key, None)
        for key in ("decision_no", "decided_on", "violation", "penalty", "publish_until"):
            row.setdefault(key, None)
        row.setdefault("closed_unlicensed_on", None)
        row.setdefault("fine_yuan", None)
        row.setdefault("dropped_reason", None)
    if values:
        db.session.execute(insert(EnforcementCase.__table__), values)
    return len(values)


def _monitoring(rng, today: date, follow_days: int, officer_id) -> int:
    by_category = {}
    for cat_name, *rest in MONITORING:
        by_category.setdefault(cat_name, []).append(rest)
    rows = db.session.execute(
        select(Workshop.id, ProductCategory.name)
        .join(workshop_category, workshop_category.c.workshop_id == Workshop.id)
        .join(ProductCategory, ProductCategory.id == workshop_category.c.category_id)
        .where(and_(Workshop.status == "open", ProductCategory.name.in_(list(by_category))))
        .order_by(Workshop.id)
    ).all()
    values = []
    for wid, cat_name in rows:
        if rng.random() >= MONITORED_SHARE and len(values) >= 5:
            continue
        product, hazard, bad_value = rng.choice(by_category[cat_name])
        day = today - timedelta(days=rng.randint(5, 200))
        failed = rng.random() < 0.3 or not values  # the first one finds a problem
        values.append(
            dict(
                workshop_id=wid,
                sampled_on=day,
                product=product,
                hazard=hazard,
                lab="包头市食品药品检验检测中心",
                result="fail" if failed else "pass",
                measured_value=bad_value if failed else None,
                note="风险监测，不作为监督抽检结论",
                follow_up_due=day + timedelta(days=follow_days) if failed else None,
                recorded_by_id=officer_id,
                created_at=utcnow(),
            )
        )
    if values:
        db.session.execute(insert(RiskMonitoring.__table__), values)
    return len(values)


def _cultivation(rng, today: date, p) -> int:
    """High-risk, well-rated open workshops without a title: most in the pool, some applied
    (under acceptance), one failed its acceptance and waits to apply again."""
    title_ids = db.session.scalars(select(Title.id).order_by(Title.id)).all()
    if not title_ids:
        return 0
    holders = select(TitleGrant.workshop_id).where(TitleGrant.status.in_(("held", "revoked")))
    candidates = db.session.scalars(
        select(Workshop.id)
        .join(workshop_category, workshop_category.c.workshop_id == Workshop.id)
        .join(ProductCategory, ProductCategory.id == workshop_category.c.category_id)
        .where(
            Workshop.status == "open",
            Workshop.tier_code.in_(current_deployment().tier_codes[:2]),
            ProductCategory.high_risk.is_(True),
            Workshop.id.not_in(holders),
        )
        .distinct()
        .order_by(Workshop.id)
        .limit(12)
    ).all()
    values = []
    for k, wid in enumerate(candidates):
        entered = today - timedelta(days=rng.randint(60, 300))
        row = dict(
            workshop_id=wid,
            title_id=title_ids[k % len(title_ids)],
            grade=p.cultivation_grades[k % len(p.cultivation_grades)],
            status="pool",
            entered_on=entered,
            applied_on=None,
            checked_on=None,
            checklist={},
            grant_id=None,
            note="基础条件好、口碑好，纳入培育",
            updated_at=utcnow(),
        )
        if k % 3 == 1:
            row.update(status="applied", applied_on=entered + timedelta(days=40))
        if k == 2 and p.acceptance_standard:
            row.update(
                status="rejected",
                applied_on=entered + timedelta(days=30),
                checked_on=entered + timedelta(days=50),
                checklist={item: i != 0 for i, item in enumerate(p.acceptance_standard)},
                note="验收未通过：" + p.acceptance_standard[0],
            )
        values.append(row)
    if values:
        db.session.execute(insert(Cultivation.__table__), values)
    return len(values)


def _growth(rng, today: date, p) -> int:
    """Unrated or low-tier open workshops: a few through the 小升规 stages, a few 成长型."""
    low = [t.code for t in current_deployment().tiers[-2:]] + ["unrated"]
    ids = db.session.scalars(
        select(Workshop.id)
        .where(Workshop.status == "open", Workshop.tier_code.in_(low))
        .order_by(Workshop.id.desc())
        .limit(16)
    ).all()
    values = []
    for k, wid in enumerate(ids):
        entered = today - timedelta(days=rng.randint(120, 400))
        if k % 2:  # 成长型名录
            values.append(
                dict(
                    workshop_id=wid,
                    register="growth",
                    stage="成长型",
                    entered_on=entered,
                    stage_on=entered,
                    note="规模和条件尚不具备申请许可",
                    closed_on=None,
                )
            )
            continue
        stage_k = (k // 2) % len(p.upgrade_stages)
        stage_on = min(entered + timedelta(days=30 * stage_k), today)
        values.append(
            dict(
                workshop_id=wid,
                register="upgrade",
                stage=p.upgrade_stages[stage_k],
                entered_on=entered,
                stage_on=stage_on,
                note="有意向申请食品生产许可",
                closed_on=stage_on if stage_k == len(p.upgrade_stages) - 1 else None,
            )
        )
    if values:
        db.session.execute(insert(GrowthEntry.__table__), values)
    return len(values)


def _reports(rng, today: date, p, officer_id) -> int:
    """The last months' reports once due: most on time, some late, the first station's
    three_lists of last month still missing (overdue)."""
    from .labels import REPORT_KIND

    stations = db.session.scalars(
        select(Jurisdiction.id).where(Jurisdiction.level == "station").order_by(Jurisdiction.code)
    ).all()
    values = []
    for back in (3, 2, 1, 0):
        y, m = today.year, today.month - back
        while m < 1:
            y, m = y - 1, m + 12
        due = date(y, m, p.report_due_day)
        if due > today:  # this month's are not due yet: none sent early in the demo
            continue
        for n, sid in enumerate(stations):
            for kind in REPORT_KIND:
                if back == 1 and n == 0 and kind == "three_lists":
                    continue
                late = rng.random() < 0.1
                values.append(
                    dict(
                        station_id=sid,
                        kind=kind,
                        period=f"{y:04d}-{m:02d}",
                        submitted_on=min(due + timedelta(days=rng.randint(1, 6)), today)
                        if late
                        else due - timedelta(days=rng.randint(0, 5)),
                        submitted_by_id=officer_id,
                        note="",
                    )
                )
    if values:
        db.session.execute(insert(StationReport.__table__), values)
    return len(values)


def _spot_check(seed: int, today: date, admin_id) -> int:
    """One registration spot check over the last year in the county with most new workshops."""
    from . import draws, spotcheck

    admin = db.session.get(User, admin_id) if admin_id else None
    counties = db.session.scalars(
        select(Jurisdiction.id).where(Jurisdiction.level == "county").order_by(Jurisdiction.code)
    ).all()
    start = today - timedelta(days=365)
    sizes = {c: spotcheck.pool_size(c, start, today) for c in counties}
    best = max(sizes, key=lambda c: sizes[c], default=None)
    if admin is None or best is None or not sizes[best]:
        return 0
    try:
        spotcheck.draw(admin, best, start, today, seed=f"demo-{seed}-registration")
    except draws.DrawError:  # too few inspectors in a small demo
        return 0
    return 1
