"""风险监测 (risk monitoring), kept apart from 监督抽检 (official sampling), DESIGN.md §2b.

Results (veterinary residues, animal-origin components …) inform regulators only: they live in
their own table, so the tier and title rules, which read `Sampling`, never count them. A result
that finds a problem sets a follow-up sampling task (跟踪抽检) due `follow_up_sampling_days`
later; the task is done by the workshop's first official sampling on or after the monitoring day.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from . import access, audit, current_deployment, fields
from .errors import DomainError
from .extensions import db
from .models import Sampling, Workshop
from .programme_models import RiskMonitoring
from .timeutil import today
from .tx import transactional

FIELDS = (
    "workshop_id",
    "sampled_on",
    "product",
    "hazard",
    "lab",
    "result",
    "measured_value",
    "note",
    "follow_up_due",
)
# Hazards the plans name for risk monitoring; free text is allowed too.
COMMON_HAZARDS = ("兽药残留", "动物源性成分", "非法添加物", "致病性微生物", "重金属")


class MonitoringError(DomainError):
    pass


@dataclass
class FollowUp:
    result: RiskMonitoring
    done_by: Sampling | None  # the official sampling that followed up

    @property
    def overdue(self) -> bool:
        return self.done_by is None and today() > self.result.follow_up_due


def _text(value, label, max_len, required=True) -> str:
    return fields.text(value, label, max_len, MonitoringError, required)


@transactional
def record(
    actor,
    workshop: Workshop,
    *,
    sampled_on: date,
    product: str,
    hazard: str,
    lab: str,
    result: str,
    measured_value: str = "",
    note: str = "",
) -> RiskMonitoring:
    access.require(actor, "sample", workshop.station_id)
    if sampled_on is None or sampled_on > today():
        raise MonitoringError("监测日期不能为空，也不能晚于今天。")
    if result not in ("pass", "fail"):
        raise MonitoringError("请选择监测结果。")
    m = RiskMonitoring(
        workshop_id=workshop.id,
        sampled_on=sampled_on,
        product=_text(product, "样品名称", 80),
        hazard=_text(hazard, "监测项目", 80),
        lab=_text(lab, "检测机构", 80),
        result=result,
        measured_value=_text(measured_value, "检测值", 40, required=result == "fail") or None,
        note=_text(note, "说明", 300, required=False),
        recorded_by_id=getattr(actor, "id", None),
    )
    if result == "fail":
        days = current_deployment().programme.follow_up_sampling_days
        m.follow_up_due = sampled_on + timedelta(days=days)
    db.session.add(m)
    db.session.flush()
    audit.record(
        actor, "monitoring.record", "risk_monitoring", m.id, after=audit.snapshot(m, FIELDS)
    )
    return m


def _follow_up_samplings(results: list[RiskMonitoring]) -> dict[int, Sampling]:
    """For each failed result, the first official sampling on or after its day."""
    failed = [m for m in results if m.result == "fail"]
    if not failed:
        return {}
    samplings = db.session.scalars(
        select(Sampling)
        .where(
            Sampling.workshop_id.in_({m.workshop_id for m in failed}),
            Sampling.sampled_on >= min(m.sampled_on for m in failed),
        )
        .order_by(Sampling.sampled_on, Sampling.id)
    ).all()
    out = {}
    for m in failed:
        out[m.id] = next(
            (
                s
                for s in samplings
                if s.workshop_id == m.workshop_id and s.sampled_on >= m.sampled_on
            ),
            None,
        )
    return out


def listing(scope_ids: set[int] | None, result: str | None = None) -> list[tuple]:
    """[(RiskMonitoring, FollowUp | None)], newest first."""
    q = (
        select(RiskMonitoring)
        .join(Workshop, Workshop.id == RiskMonitoring.workshop_id)
        .options(joinedload(RiskMonitoring.workshop))
        .order_by(RiskMonitoring.sampled_on.desc(), RiskMonitoring.id.desc())
        .limit(300)
    )
    if scope_ids is not None:
        q = q.where(Workshop.station_id.in_(scope_ids))
    if result in ("pass", "fail"):
        q = q.where(RiskMonitoring.result == result)
    rows = list(db.session.scalars(q))
    done = _follow_up_samplings(rows)
    return [(m, FollowUp(m, done.get(m.id)) if m.result == "fail" else None) for m in rows]


def open_follow_ups(scope_ids: set[int] | None) -> list[FollowUp]:
    """跟踪抽检 tasks not yet done, soonest due first."""
    q = (
        select(RiskMonitoring)
        .join(Workshop, Workshop.id == RiskMonitoring.workshop_id)
        .where(RiskMonitoring.result == "fail")
        .options(joinedload(RiskMonitoring.workshop))
        .order_by(RiskMonitoring.follow_up_due)
    )
    if scope_ids is not None:
        q = q.where(Workshop.station_id.in_(scope_ids))
    rows = list(db.session.scalars(q))
    done = _follow_up_samplings(rows)
    return [FollowUp(m, None) for m in rows if done.get(m.id) is None]


def count(scope_ids: set[int] | None) -> dict[str, int]:
    q = select(RiskMonitoring.result, func.count()).join(
        Workshop, Workshop.id == RiskMonitoring.workshop_id
    )
    if scope_ids is not None:
        q = q.where(Workshop.station_id.in_(scope_ids))
    return dict(db.session.execute(q.group_by(RiskMonitoring.result)).all())
