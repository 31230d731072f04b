"""监督抽检: results, re-tests (复检) and which failures count.

A failure counts (is *confirmed*) only when the re-test upheld it, or when no re-test was
requested and the 7-working-day window after the result notice has closed. A failure whose
re-test is pending, or whose window is still open, does not count yet; an overturned one never
counts. Failures are counted in the calendar year of the sampling date.
"""

from datetime import date

from sqlalchemy import select

from . import access, audit, changes
from .deadlines import add_working_days
from .errors import DomainError
from .extensions import db
from .models import Sampling, Workshop
from .timeutil import today
from .tx import transactional

RETEST_WORKING_DAYS = 7
AUDIT_FIELDS = (
    "workshop_id",
    "sampled_on",
    "product",
    "batch",
    "lab",
    "result",
    "failed_item",
    "measured_value",
    "limit_value",
    "notice_no",
    "notice_on",
    "retest_status",
    "retest_requested_on",
    "retest_decided_on",
)


class SamplingError(DomainError):
    pass


def retest_deadline(s: Sampling) -> date | None:
    """The last day a re-test may be requested: 7 working days after the notice."""
    return add_working_days(s.notice_on, RETEST_WORKING_DAYS) if s.notice_on else None


def is_confirmed_failure(s: Sampling, on: date | None = None) -> bool:
    on = on or today()
    if s.result != "fail":
        return False
    if s.retest_status == "upheld":
        return True
    if s.retest_status == "none":
        deadline = retest_deadline(s)
        return deadline is None or on > deadline
    return False  # requested (pending) or overturned


def confirmed_failures(
    workshop: Workshop, since: date | None = None, until: date | None = None, on: date | None = None
) -> list[Sampling]:
    """Confirmed failed samplings of a workshop with since <= sampled_on <= until, as known on `on`."""
    q = select(Sampling).where(Sampling.workshop_id == workshop.id, Sampling.result == "fail")
    if since:
        q = q.where(Sampling.sampled_on >= since)
    if until:
        q = q.where(Sampling.sampled_on <= until)
    return [
        s
        for s in db.session.scalars(q.order_by(Sampling.sampled_on, Sampling.id))
        if is_confirmed_failure(s, on or until)
    ]


def _clean(value) -> str | None:
    value = (value or "").strip()
    return value or None


@transactional
def record(
    actor,
    workshop: Workshop,
    *,
    sampled_on: date,
    product: str,
    lab: str,
    result: str,
    batch: str = "",
    failed_item: str | None = None,
    measured_value: str | None = None,
    limit_value: str | None = None,
    notice_no: str | None = None,
    notice_on: date | None = None,
) -> Sampling:
    access.require(actor, "sample", workshop.station_id)
    if sampled_on is None or sampled_on > today():
        raise SamplingError("抽样日期不能为空，也不能晚于今天。")
    if not _clean(product) or not _clean(lab):
        raise SamplingError("请填写样品名称和检验机构。")
    if result not in ("pass", "fail"):
        raise SamplingError("请选择检验结论。")
    if result == "fail":
        if not (_clean(failed_item) and _clean(measured_value) and _clean(limit_value)):
            raise SamplingError("不合格结果须填写不合格项目、实测值和标准限值。")
        if not _clean(notice_no) or notice_on is None:
            raise SamplingError(
                "不合格结果须填写检验结果通知书编号和送达日期（复检期限自送达起算）。"
            )
        if notice_on < sampled_on:
            raise SamplingError("通知书送达日期不能早于抽样日期。")
    else:
        failed_item = measured_value = limit_value = None
    s = Sampling(
        workshop_id=workshop.id,
        sampled_on=sampled_on,
        product=product.strip(),
        batch=(batch or "").strip(),
        lab=lab.strip(),
        result=result,
        failed_item=_clean(failed_item),
        measured_value=_clean(measured_value),
        limit_value=_clean(limit_value),
        notice_no=_clean(notice_no),
        notice_on=notice_on,
        recorded_by_id=getattr(actor, "id", None),
    )
    db.session.add(s)
    db.session.flush()
    changes.touch(workshop)
    audit.record(actor, "sampling.record", "sampling", s.id, after=audit.snapshot(s, AUDIT_FIELDS))
    return s


@transactional
def request_retest(actor, s: Sampling, requested_on: date) -> Sampling:
    workshop = db.session.get(Workshop, s.workshop_id)
    access.require(actor, "sample", workshop.station_id)
    if s.result != "fail":
        raise SamplingError("只有不合格结果可以申请复检。")
    if s.retest_status != "none":
        raise SamplingError("该结果已申请过复检。")
    if s.notice_on is None:  # the 7-working-day window runs from the notice: nothing to count from
        raise SamplingError(
            "该抽检结果尚未登记检验结果通知书送达日期，请先补录送达日期，再登记复检申请。"
        )
    if requested_on is None or requested_on < s.notice_on:
        raise SamplingError("复检申请日期不能早于通知书送达日期。")
    deadline = retest_deadline(s)
    if requested_on > deadline:
        raise SamplingError(
            f"复检申请须在通知书送达后 {RETEST_WORKING_DAYS} 个工作日内提出"
            f"（截止 {deadline.year}年{deadline.month}月{deadline.day}日），已逾期。"
        )
    before = audit.snapshot(s, AUDIT_FIELDS)
    s.retest_status, s.retest_requested_on = "requested", requested_on
    changes.touch(workshop)  # the public page shows 复检中
    audit.record(
        actor,
        "sampling.retest_request",
        "sampling",
        s.id,
        before=before,
        after=audit.snapshot(s, AUDIT_FIELDS),
    )
    return s


@transactional
def decide_retest(actor, s: Sampling, upheld: bool, decided_on: date) -> Sampling:
    workshop = db.session.get(Workshop, s.workshop_id)
    access.require(actor, "sample", workshop.station_id)
    if s.retest_status != "requested":
        raise SamplingError("只有复检中的结果可以录入复检结论。")
    if decided_on is None or decided_on < s.retest_requested_on or decided_on > today():
        raise SamplingError("复检结论日期须在申请日期之后、且不晚于今天。")
    before = audit.snapshot(s, AUDIT_FIELDS)
    s.retest_status, s.retest_decided_on = ("upheld" if upheld else "overturned"), decided_on
    changes.touch(workshop)
    audit.record(
        actor,
        "sampling.retest_decide",
        "sampling",
        s.id,
        before=before,
        after=audit.snapshot(s, AUDIT_FIELDS),
    )
    return s
