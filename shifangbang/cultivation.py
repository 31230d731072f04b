"""示范创建: cultivation pool (培育库, graded), application, acceptance (验收), award (授牌).

pool → applied → accepted → awarded, or applied → rejected (back to applied when it tries
again); withdrawn from any state before the award. Acceptance checks every item of the
deployment's acceptance_standard; only a fully met standard is accepted. The award grants the
title through titles.grant (so the 2-year bar and every grant rule apply once, there). Targets:
each title on at least `title_target_share` of the open workshops of a county or station.
"""

import math
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from . import access, audit, current_deployment, fields, titles
from .errors import DomainError
from .extensions import db
from .models import IN_SERVICE, Jurisdiction, Title, TitleGrant, Workshop
from .programme_models import Cultivation
from .timeutil import today
from .tx import transactional

FIELDS = ("workshop_id", "title_id", "grade", "status", "entered_on", "applied_on", "checked_on")
ACTIVE = ("pool", "applied", "accepted", "rejected")


class CultivationError(DomainError):
    pass


def _day(value: date | None, label: str, not_before: date | None = None) -> date:
    if value is None or value > today():
        raise CultivationError(f"{label}不能为空，也不能晚于今天。")
    if not_before and value < not_before:
        raise CultivationError(f"{label}不能早于{not_before.isoformat()}。")
    return value


def _after(c: Cultivation, **extra) -> dict:
    return dict(audit.snapshot(c, FIELDS), **extra)


@transactional
def enter(
    actor, workshop: Workshop, title: Title, grade: str, entered_on: date, note: str = ""
) -> Cultivation:
    """入库: a workshop enters the cultivation pool for a title."""
    access.require(actor, "edit", workshop.station_id)
    if grade not in current_deployment().programme.cultivation_grades:
        raise CultivationError("请选择培育等级。")
    entered_on = _day(entered_on, "入库日期")
    if workshop.status != "open":
        raise CultivationError("只有在营作坊可以纳入培育库。")
    bar = titles.barred_until(workshop, entered_on)
    if bar is not None:
        raise CultivationError(f"该作坊{bar.isoformat()}前不得申请示范称号。")
    if db.session.scalar(
        select(TitleGrant.id).where(
            TitleGrant.workshop_id == workshop.id,
            TitleGrant.title_id == title.id,
            TitleGrant.status == "held",
        )
    ):
        raise CultivationError("该作坊已持有此称号。")
    if db.session.scalar(
        select(Cultivation.id).where(
            Cultivation.workshop_id == workshop.id,
            Cultivation.title_id == title.id,
            Cultivation.status.in_(ACTIVE),
        )
    ):
        raise CultivationError("该作坊已在此称号的培育库中。")
    c = Cultivation(
        workshop_id=workshop.id,
        title_id=title.id,
        grade=grade,
        status="pool",
        entered_on=entered_on,
        note=fields.text(note, "说明", 500, CultivationError, required=False),
        checklist={},
    )
    db.session.add(c)
    db.session.flush()
    audit.record(actor, "cultivation.enter", "cultivation", c.id, after=_after(c))
    return c


@transactional
def apply(actor, c: Cultivation, applied_on: date) -> Cultivation:
    """申报: from the pool, or again after a failed acceptance."""
    access.require(actor, "edit", c.workshop.station_id)
    if c.status not in ("pool", "rejected"):
        raise CultivationError("当前状态不能申报。")
    before = audit.snapshot(c, FIELDS)
    c.applied_on = _day(applied_on, "申报日期", not_before=c.entered_on)
    c.status = "applied"
    audit.record(actor, "cultivation.apply", "cultivation", c.id, before=before, after=_after(c))
    return c


def standard() -> tuple[str, ...]:
    return current_deployment().programme.acceptance_standard


@transactional
def accept(actor, c: Cultivation, checked_on: date, met: set[str], note: str = "") -> Cultivation:
    """验收 against the standard: accepted when every item is met, otherwise rejected."""
    access.require(actor, "grant_title", c.workshop.station_id)
    if c.status != "applied":
        raise CultivationError("只有已申报的作坊可以验收。")
    items = standard()
    unknown = set(met) - set(items)
    if unknown:
        raise CultivationError("验收项目与当前标准不符，请刷新页面后重新填写。")
    before = audit.snapshot(c, FIELDS)
    c.checked_on = _day(checked_on, "验收日期", not_before=c.applied_on)
    c.checklist = {item: item in met for item in items}
    c.status = "accepted" if all(c.checklist.values()) else "rejected"
    note = fields.text(note, "验收意见", 500, CultivationError, required=False)
    if note:
        c.note = note
    audit.record(
        actor,
        "cultivation.accept",
        "cultivation",
        c.id,
        before=before,
        after=_after(c, checklist=c.checklist),
    )
    return c


@transactional
def award(actor, c: Cultivation, granted_on: date, certificate_no: str = "") -> TitleGrant:
    """授牌: grants the title (titles.grant checks the bar, the workshop and duplicates)."""
    access.require(actor, "grant_title", c.workshop.station_id)
    if c.status != "accepted":
        raise CultivationError("验收通过后才能授牌。")
    granted_on = _day(granted_on, "授牌日期", not_before=c.checked_on)
    before = audit.snapshot(c, FIELDS)
    grant = titles.grant(actor, c.workshop, c.title, granted_on, certificate_no)
    c.status, c.grant_id = "awarded", grant.id
    audit.record(
        actor,
        "cultivation.award",
        "cultivation",
        c.id,
        before=before,
        after=_after(c, grant_id=grant.id),
    )
    return grant


@transactional
def withdraw(actor, c: Cultivation, note: str) -> Cultivation:
    access.require(actor, "edit", c.workshop.station_id)
    if c.status not in ACTIVE:
        raise CultivationError("当前状态不能退出培育。")
    note = fields.text(note, "退出培育的原因", 500, CultivationError)
    before = audit.snapshot(c, FIELDS)
    c.status, c.note = "withdrawn", note
    audit.record(actor, "cultivation.withdraw", "cultivation", c.id, before=before, after=_after(c))
    return c


def listing(scope_ids: set[int] | None, status: str | None = None) -> list[Cultivation]:
    q = (
        select(Cultivation)
        .join(Workshop, Workshop.id == Cultivation.workshop_id)
        .order_by(Cultivation.grade, Cultivation.entered_on.desc(), Cultivation.id.desc())
        .limit(500)
    )
    if scope_ids is not None:
        q = q.where(Workshop.station_id.in_(scope_ids))
    if status:
        q = q.where(Cultivation.status == status)
    return list(db.session.scalars(q))


# --- targets ---------------------------------------------------------------------------------------


@dataclass
class Progress:
    unit: Jurisdiction
    title: Title
    open_workshops: int
    holders: int

    @property
    def target(self) -> int:
        share = current_deployment().programme.title_target_share
        return math.ceil(self.open_workshops * share)

    @property
    def share(self) -> float:
        return self.holders / self.open_workshops if self.open_workshops else 0.0

    @property
    def met(self) -> bool:
        return self.holders >= self.target


def progress(scope_ids: set[int] | None) -> list[Progress]:
    """Per county and per station in scope, per title: holders among open workshops vs target."""
    units = db.session.scalars(
        select(Jurisdiction)
        .where(Jurisdiction.level.in_(("county", "station")), IN_SERVICE)
        .order_by(Jurisdiction.code)
    ).all()
    if scope_ids is not None:
        units = [u for u in units if u.id in scope_ids]
    station_county = {
        j.id: j.parent_id
        for j in db.session.scalars(select(Jurisdiction).where(Jurisdiction.level == "station"))
    }
    open_by_station = dict(
        db.session.execute(
            select(Workshop.station_id, func.count())
            .where(Workshop.status == "open")
            .group_by(Workshop.station_id)
        ).all()
    )
    held = db.session.execute(
        select(Workshop.station_id, TitleGrant.title_id, func.count(func.distinct(Workshop.id)))
        .join(TitleGrant, TitleGrant.workshop_id == Workshop.id)
        .where(Workshop.status == "open", TitleGrant.status == "held")
        .group_by(Workshop.station_id, TitleGrant.title_id)
    ).all()
    title_rows = db.session.scalars(select(Title).order_by(Title.level.desc(), Title.name)).all()

    def totals(unit: Jurisdiction):
        stations = (
            {unit.id}
            if unit.level == "station"
            else {s for s, county in station_county.items() if county == unit.id}
        )
        n_open = sum(open_by_station.get(s, 0) for s in stations)
        per_title: dict[int, int] = {}
        for station_id, title_id, n in held:
            if station_id in stations:
                per_title[title_id] = per_title.get(title_id, 0) + n
        return n_open, per_title

    out = []
    for unit in units:
        n_open, per_title = totals(unit)
        out += [Progress(unit, t, n_open, per_title.get(t.id, 0)) for t in title_rows]
    return out
