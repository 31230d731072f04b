"""Cases and administrative penalties (立案, 行政处罚决定, 取缔), DESIGN.md §2b.

A case is opened from a report verified true (查实; the report moves to 已立案 in the same
transaction) or from an inspection. It ends in a penalty decision (决定书文号, date, violation,
penalty) or is dropped with a reason; either closes the report. A decision on a registered
workshop is public for `penalty_publication_days` (deployment) counting its date, through
publish_until (its last public day), then withdrawn from every public channel (public_filter here,
read through public_status.penalties_for, decides what is public). A case
against an unregistered workshop (黑作坊) may end in its closure (取缔), kept in a register.
"""

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from . import access, audit, changes, complaints, current_deployment, deadlines, fields
from .errors import DomainError
from .extensions import db
from .models import Complaint, Inspection, Workshop
from .programme_models import EnforcementCase
from .timeutil import today
from .tx import transactional

FIELDS = (
    "case_no",
    "workshop_id",
    "unregistered_name",
    "station_id",
    "source",
    "complaint_id",
    "inspection_id",
    "summary",
    "opened_on",
    "due_on",
    "status",
    "decision_no",
    "decided_on",
    "violation",
    "penalty",
    "fine_yuan",
    "publish_until",
    "dropped_reason",
    "closed_unlicensed_on",
)
MAX_FINE_YUAN = 100_000_000


class CaseError(DomainError):
    pass


def _text(value, label: str, max_len: int, required: bool = True) -> str:
    return fields.text(value, label, max_len, CaseError, required)


def _day(value: date | None, label: str, not_before: date | None = None) -> date:
    if value is None:
        raise CaseError(f"请填写{label}。")
    if value > today():
        raise CaseError(f"{label}不能晚于今天。")
    if not_before and value < not_before:
        raise CaseError(f"{label}不能早于{not_before.isoformat()}。")
    return value


def _next_case_no(year: int) -> str:
    n = db.session.scalar(
        select(func.count(EnforcementCase.id)).where(EnforcementCase.case_no.like(f"立〔{year}〕%"))
    )
    return f"立〔{year}〕{n + 1:04d}号"


def _open(actor, station_id: int, opened_on: date, summary: str, **fields) -> EnforcementCase:
    access.require(actor, "handle_case", station_id)
    opened_on = _day(opened_on, "立案日期")
    case = EnforcementCase(
        case_no=_next_case_no(opened_on.year),
        station_id=station_id,
        summary=_text(summary, "案由", 500),
        opened_on=opened_on,
        due_on=deadlines.period_end(opened_on, complaints.CASE_DAYS),
        opened_by_id=getattr(actor, "id", None),
        status="open",
        **fields,
    )
    db.session.add(case)
    try:
        db.session.flush()
    except IntegrityError:  # another officer took the same number at the same moment
        raise CaseError("案件编号被同时占用，请再提交一次。") from None
    audit.record(
        actor, "case.open", "enforcement_case", case.id, after=audit.snapshot(case, FIELDS)
    )
    return case


@transactional
def open_from_report(actor, report: Complaint, opened_on: date, summary: str) -> EnforcementCase:
    """立案 on a report verified true; the report itself moves to 已立案."""
    if report.kind != "report" or report.verified is not True:
        raise CaseError("只有经核查属实的举报才能立案。")
    if db.session.scalar(
        select(EnforcementCase.id).where(EnforcementCase.complaint_id == report.id)
    ):
        raise CaseError("该举报已立案。")
    if report.status == "verifying":
        complaints.transition(actor, report, "open_case", note=f"立案：{summary}")
    elif report.status != "case_opened":
        raise CaseError("该举报当前状态不能立案。")
    station_id = report.workshop.station_id if report.workshop else report.jurisdiction_id
    return _open(
        actor,
        station_id,
        opened_on,
        summary,
        source="report",
        complaint_id=report.id,
        workshop_id=report.workshop_id,
        unregistered_name=report.unregistered_name,
        unregistered_address=report.unregistered_address,
    )


@transactional
def open_from_inspection(
    actor, inspection: Inspection, opened_on: date, summary: str
) -> EnforcementCase:
    if opened_on is not None and opened_on < inspection.inspected_on:
        raise CaseError("立案日期不能早于检查日期。")
    return _open(
        actor,
        inspection.workshop.station_id,
        opened_on,
        summary,
        source="inspection",
        inspection_id=inspection.id,
        workshop_id=inspection.workshop_id,
    )


def _close_report(actor, case: EnforcementCase, note: str) -> None:
    if case.complaint is not None and case.complaint.status == "case_opened":
        complaints.transition(actor, case.complaint, "close_case", note=note)


@transactional
def decide(
    actor,
    case: EnforcementCase,
    *,
    decision_no: str,
    decided_on: date,
    violation: str,
    penalty: str,
    fine_yuan: float | None = None,
) -> EnforcementCase:
    """行政处罚决定: from its date public for the deployment's publication period."""
    access.require(actor, "decide_case", case.station_id)
    if case.status != "open":
        raise CaseError("该案件已办结。")
    decision_no = _text(decision_no, "决定书文号", 60)
    if db.session.scalar(
        select(EnforcementCase.id).where(EnforcementCase.decision_no == decision_no)
    ):
        raise CaseError("该决定书文号已被使用。")
    if fine_yuan is not None and not 0 <= fine_yuan <= MAX_FINE_YUAN:
        raise CaseError("罚款金额须在 0 到 1 亿元之间。")
    before = audit.snapshot(case, FIELDS)
    case.decision_no = decision_no
    case.decided_on = _day(decided_on, "决定日期", not_before=case.opened_on)
    case.violation = _text(violation, "违法行为", 1000)
    case.penalty = _text(penalty, "处罚内容", 500)
    case.fine_yuan = fine_yuan
    days = current_deployment().programme.penalty_publication_days
    case.publish_until = case.decided_on + timedelta(days=days - 1)  # the last public day
    case.status = "decided"
    _close_report(actor, case, f"作出行政处罚决定 {decision_no}")
    if case.workshop is not None:
        changes.touch(case.workshop)  # the workshop's page and the API show the decision now
    audit.record(
        actor,
        "case.decide",
        "enforcement_case",
        case.id,
        before=before,
        after=audit.snapshot(case, FIELDS),
    )
    return case


@transactional
def drop(actor, case: EnforcementCase, reason: str) -> EnforcementCase:
    """撤案 / 不予行政处罚, with the reason."""
    access.require(actor, "decide_case", case.station_id)
    if case.status != "open":
        raise CaseError("该案件已办结。")
    before = audit.snapshot(case, FIELDS)
    case.dropped_reason = _text(reason, "撤案理由", 500)
    case.status = "dropped"
    _close_report(actor, case, f"撤案：{case.dropped_reason}")
    audit.record(
        actor,
        "case.drop",
        "enforcement_case",
        case.id,
        before=before,
        after=audit.snapshot(case, FIELDS),
    )
    return case


@transactional
def close_unlicensed(actor, case: EnforcementCase, closed_on: date) -> EnforcementCase:
    """取缔: the unregistered workshop of this case was closed on `closed_on`."""
    access.require(actor, "handle_case", case.station_id)
    if case.workshop_id is not None:
        raise CaseError("已登记的作坊不适用取缔登记，请变更其经营状态。")
    if case.closed_unlicensed_on is not None:
        raise CaseError("已登记取缔。")
    before = audit.snapshot(case, FIELDS)
    case.closed_unlicensed_on = _day(closed_on, "取缔日期", not_before=case.opened_on)
    audit.record(
        actor,
        "case.close_unlicensed",
        "enforcement_case",
        case.id,
        before=before,
        after=audit.snapshot(case, FIELDS),
    )
    return case


# --- reading ------------------------------------------------------------------------------------


def is_overdue(case: EnforcementCase, on: date | None = None) -> bool:
    return case.status == "open" and case.due_on < (on or today())


def public_filter(on: date):
    """The SQL condition for a decision being public on `on`: decided, dated, not yet withdrawn."""
    return (
        (EnforcementCase.status == "decided")
        & (EnforcementCase.workshop_id.is_not(None))
        & (EnforcementCase.decided_on <= on)
        & (EnforcementCase.publish_until >= on)
    )


def for_workshop(workshop: Workshop) -> list[EnforcementCase]:
    return list(
        db.session.scalars(
            select(EnforcementCase)
            .where(EnforcementCase.workshop_id == workshop.id)
            .order_by(EnforcementCase.opened_on.desc(), EnforcementCase.id.desc())
        )
    )


def listing(scope_ids: set[int] | None, status: str | None = None, unlicensed: bool = False):
    q = select(EnforcementCase).order_by(
        EnforcementCase.opened_on.desc(), EnforcementCase.id.desc()
    )
    if scope_ids is not None:
        q = q.where(EnforcementCase.station_id.in_(scope_ids))
    if status:
        q = q.where(EnforcementCase.status == status)
    if unlicensed:
        q = q.where(EnforcementCase.closed_unlicensed_on.is_not(None))
    return list(db.session.scalars(q.limit(500)))


def open_reports(scope_ids: set[int] | None) -> list[Complaint]:
    """Reports verified true that have no case yet: the officers' to-do for 立案."""
    q = (
        select(Complaint)
        .where(
            Complaint.kind == "report",
            Complaint.verified.is_(True),
            Complaint.status.in_(("verifying", "case_opened")),
            Complaint.id.not_in(
                select(EnforcementCase.complaint_id).where(
                    EnforcementCase.complaint_id.is_not(None)
                )
            ),
        )
        .order_by(Complaint.received_at)
    )
    if scope_ids is not None:
        q = q.where(Complaint.jurisdiction_id.in_(scope_ids))
    return list(db.session.scalars(q.limit(200)))
