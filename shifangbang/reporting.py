"""The stations' reporting calendar (DESIGN.md §2b): each month every station sends the county
its 三清单 (任务、责任、督查) and its 统计表, due on report_due_day (the 24th). A period's report is
due from that day; submitted on or before it is on time, after it late, missing after it overdue.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from . import access, audit, current_deployment, fields
from .errors import DomainError
from .extensions import db
from .labels import REPORT_KIND
from .models import IN_SERVICE, Jurisdiction
from .programme_models import StationReport
from .timeutil import today
from .tx import transactional


class ReportError(DomainError):
    pass


def due_on(period: str) -> date:
    year, month = (int(x) for x in period.split("-"))
    return date(year, month, current_deployment().programme.report_due_day)


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def current_period(on: date | None = None) -> str:
    return period_of(on or today())


def previous_period(period: str) -> str:
    year, month = (int(x) for x in period.split("-"))
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def _valid_period(period: str) -> str:
    try:
        due_on(period)
    except (ValueError, AttributeError):
        raise ReportError("报送期间格式应为 年-月，例如 2026-11。") from None
    return period


@transactional
def submit(actor, station: Jurisdiction, kind: str, period: str, on: date, note: str = ""):
    access.require(actor, "edit", station.id)
    if station.level != "station":
        raise ReportError("报表由所/中队报送。")
    if kind not in REPORT_KIND:
        raise ReportError("请选择报表种类。")
    period = _valid_period(period)
    if on is None or on > today():
        raise ReportError("报送日期不能为空，也不能晚于今天。")
    if period > current_period():
        raise ReportError("不能报送以后月份的报表。")
    if db.session.scalar(
        select(StationReport.id).where(
            StationReport.station_id == station.id,
            StationReport.kind == kind,
            StationReport.period == period,
        )
    ):
        raise ReportError("该期报表已报送。")
    r = StationReport(
        station_id=station.id,
        kind=kind,
        period=period,
        submitted_on=on,
        submitted_by_id=getattr(actor, "id", None),
        note=fields.text(note, "说明", 300, ReportError, required=False),
    )
    db.session.add(r)
    db.session.flush()
    audit.record(
        actor,
        "report.submit",
        "station_report",
        r.id,
        after={"station_id": station.id, "kind": kind, "period": period, "submitted_on": on},
    )
    return r


@dataclass
class Row:
    station: Jurisdiction
    kind: str
    period: str
    due_on: date
    report: StationReport | None
    on: date  # the day the state is seen from

    @property
    def state(self) -> str:
        """submitted | late (submitted after the due day) | due (not yet due) | overdue."""
        if self.report is not None:
            return "late" if self.report.submitted_on > self.due_on else "submitted"
        return "overdue" if self.on > self.due_on else "due"


STATE_LABELS = {
    "submitted": "已按时报送",
    "late": "逾期后补报",
    "due": "待报送",
    "overdue": "逾期未报",
}


def calendar(scope_ids: set[int] | None, periods: list[str], on: date | None = None) -> list[Row]:
    on = on or today()
    q = (
        select(Jurisdiction)
        .where(Jurisdiction.level == "station", IN_SERVICE)
        .order_by(Jurisdiction.code)
    )
    if scope_ids is not None:
        q = q.where(Jurisdiction.id.in_(scope_ids))
    stations = list(db.session.scalars(q))
    reports = {
        (r.station_id, r.kind, r.period): r
        for r in db.session.scalars(
            select(StationReport).where(
                StationReport.station_id.in_([s.id for s in stations]),
                StationReport.period.in_(periods),
            )
        )
    }
    return [
        Row(s, kind, p, due_on(p), reports.get((s.id, kind, p)), on)
        for p in periods
        for s in stations
        for kind in REPORT_KIND
    ]


def summary(scope_ids: set[int] | None, on: date | None = None) -> dict[str, int]:
    """For the dashboard: this month's and last month's reports by state, as seen on `on`."""
    current = current_period(on)
    rows = calendar(scope_ids, [previous_period(current), current], on)
    out = {k: 0 for k in STATE_LABELS}
    for r in rows:
        out[r.state] += 1
    return out
