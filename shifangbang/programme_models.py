"""Tables of the plans' action programme (DESIGN.md §2b): cases, plaque recovery, 色标化,
risk monitoring, 示范创建, 整改通知书, growth registers, the reporting calendar.

Kept apart from models.py so that file stays the core model; imported at its end so Alembic
and the app see these tables whenever the core model is loaded.
"""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .models import Complaint, Inspection, Jurisdiction, Title, TitleGrant, User, Workshop
from .timeutil import utcnow


class EnforcementCase(db.Model):
    """立案: opened from a verified report or an inspection; decided (行政处罚决定) or dropped.

    A decision is public from decided_on through publish_until (its last public day); a case
    against an unregistered workshop may end with its closure (取缔, closed_unlicensed_on).
    """

    __tablename__ = "enforcement_case"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(40), unique=True)
    workshop_id: Mapped[int | None] = mapped_column(
        ForeignKey("workshop.id", ondelete="SET NULL"), index=True
    )
    unregistered_name: Mapped[str | None] = mapped_column(String(100))
    unregistered_address: Mapped[str | None] = mapped_column(String(200))
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    source: Mapped[str] = mapped_column(String(12))  # report | inspection
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspection.id"))
    summary: Mapped[str] = mapped_column(Text, default="")  # 案由
    opened_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)  # decide within 90 days of 立案
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    decision_no: Mapped[str | None] = mapped_column(String(60), unique=True)  # 决定书文号
    decided_on: Mapped[date | None] = mapped_column(Date)
    violation: Mapped[str | None] = mapped_column(Text)
    penalty: Mapped[str | None] = mapped_column(Text)
    fine_yuan: Mapped[float | None] = mapped_column(Float)
    publish_until: Mapped[date | None] = mapped_column(Date, index=True)
    dropped_reason: Mapped[str | None] = mapped_column(Text)
    closed_unlicensed_on: Mapped[date | None] = mapped_column(Date)  # 取缔
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    workshop: Mapped[Workshop | None] = relationship()
    station: Mapped[Jurisdiction] = relationship()
    complaint: Mapped[Complaint | None] = relationship()
    inspection: Mapped[Inspection | None] = relationship()
    __table_args__ = (
        CheckConstraint("status in ('open','decided','dropped')", name="case_status"),
        CheckConstraint("source in ('report','inspection')", name="case_source"),
    )


class PlaqueRecovery(db.Model):
    """收回牌匾: the plaque of a revoked title, taken back on a day by an officer."""

    __tablename__ = "plaque_recovery"
    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(
        ForeignKey("title_grant.id", ondelete="CASCADE"), unique=True
    )
    recovered_on: Mapped[date] = mapped_column(Date)
    recovered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    grant: Mapped[TitleGrant] = relationship()
    recovered_by: Mapped[User | None] = relationship()


class ColourCodeAdoption(db.Model):
    """色标化 progress of one workshop: not_started | partial | done (with the day it was done)."""

    __tablename__ = "colour_code_adoption"
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(12), default="not_started", index=True)
    completed_on: Mapped[date | None] = mapped_column(Date)
    checked_on: Mapped[date | None] = mapped_column(Date)
    inspection_id: Mapped[int | None] = mapped_column(
        ForeignKey("inspection.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    workshop: Mapped[Workshop] = relationship()
    __table_args__ = (
        CheckConstraint("status in ('not_started','partial','done')", name="colour_status"),
    )


class RiskMonitoring(db.Model):
    """风险监测: informs regulators, never counts as a failed official sampling (监督抽检).

    A failure sets follow_up_due: a 跟踪抽检 task, done by the workshop's next official sampling.
    """

    __tablename__ = "risk_monitoring"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    sampled_on: Mapped[date] = mapped_column(Date, index=True)
    product: Mapped[str] = mapped_column(String(80))
    hazard: Mapped[str] = mapped_column(String(80))  # 监测项目, e.g. 兽药残留
    lab: Mapped[str] = mapped_column(String(80))
    result: Mapped[str] = mapped_column(String(6))  # pass | fail
    measured_value: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(String(300), default="")
    follow_up_due: Mapped[date | None] = mapped_column(Date, index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    workshop: Mapped[Workshop] = relationship()
    __table_args__ = (CheckConstraint("result in ('pass','fail')", name="monitoring_result"),)


class Cultivation(db.Model):
    """示范创建: a workshop in the cultivation pool for a title, through to the plaque."""

    __tablename__ = "cultivation"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    title_id: Mapped[int] = mapped_column(ForeignKey("title.id"), index=True)
    grade: Mapped[str] = mapped_column(String(20))
    # pool | applied | accepted | rejected | awarded | withdrawn
    status: Mapped[str] = mapped_column(String(10), default="pool", index=True)
    entered_on: Mapped[date] = mapped_column(Date)
    applied_on: Mapped[date | None] = mapped_column(Date)
    checked_on: Mapped[date | None] = mapped_column(Date)  # 验收
    checklist: Mapped[dict] = mapped_column(JSON, default=dict)  # item code → bool
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("title_grant.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    workshop: Mapped[Workshop] = relationship()
    title: Mapped[Title] = relationship()
    __table_args__ = (
        CheckConstraint(
            "status in ('pool','applied','accepted','rejected','awarded','withdrawn')",
            name="cultivation_status",
        ),
    )


class RectificationNotice(db.Model):
    """整改通知书: the numbered paper notice handed over after an inspection."""

    __tablename__ = "rectification_notice"
    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        ForeignKey("inspection.id", ondelete="CASCADE"), unique=True
    )
    year: Mapped[int] = mapped_column()
    seq: Mapped[int] = mapped_column()
    notice_no: Mapped[str] = mapped_column(String(60), unique=True)
    issued_on: Mapped[date] = mapped_column(Date)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    inspection: Mapped[Inspection] = relationship()
    __table_args__ = (UniqueConstraint("year", "seq"),)


class GrowthEntry(db.Model):
    """小升规 培育台账 (register 'upgrade', with stages) or 成长型名录 (register 'growth')."""

    __tablename__ = "growth_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshop.id", ondelete="CASCADE"), index=True
    )
    register: Mapped[str] = mapped_column(String(10))
    stage: Mapped[str] = mapped_column(String(30))  # one of the deployment's upgrade_stages
    entered_on: Mapped[date] = mapped_column(Date)
    stage_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(300), default="")
    closed_on: Mapped[date | None] = mapped_column(Date)

    workshop: Mapped[Workshop] = relationship()
    __table_args__ = (CheckConstraint("register in ('upgrade','growth')", name="growth_register"),)


# Read-only paths from a workshop, so the public read model loads its 色标化 status and public
# penalties in the same query as the workshop itself (public_status.assemble).
Workshop.colour_code = relationship(ColourCodeAdoption, uselist=False, viewonly=True)
Workshop.enforcement_cases = relationship(EnforcementCase, viewonly=True)


class StationReport(db.Model):
    """A station's periodic report to the county (三清单, 月度统计表), submitted on a day."""

    __tablename__ = "station_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # see labels.REPORT_KIND
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    submitted_on: Mapped[date] = mapped_column(Date)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(String(300), default="")

    station: Mapped[Jurisdiction] = relationship()
    __table_args__ = (UniqueConstraint("station_id", "kind", "period"),)
