"""What a consumer sees about one workshop: assembled in a fixed number of queries.

`assemble()` is the single source for the public page (and anything else that shows the public
status, such as the API): no lazy loading happens after it returns, so a template cannot add
queries per title, sampling or history row.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from . import current_deployment, tiers
from .deployment import Tier
from .extensions import db
from .labels import CLOSED_STATUSES, COLOUR_STATUS
from .models import (
    Inspection,
    Jurisdiction,
    Poster,
    RectificationItem,
    Sampling,
    TierDecision,
    TitleGrant,
    Workshop,
)
from .timeutil import local, today

# Revoked titles stay on the page, marked as revoked, for this long.
RECENT_REVOCATION_DAYS = 365
# Health certificates expiring within this many days are flagged.
HEALTH_CERT_WARNING_DAYS = 30
SAMPLINGS_SHOWN = 3


@dataclass(frozen=True)
class Head:
    """The few columns that decide whether a cached page is still current (one query)."""

    workshop_id: int
    public_changed_at: datetime
    poster_issued_at: datetime | None  # None: no ?p=, or no poster with that number


@dataclass
class PosterCheck:
    issue_no: int
    found: bool
    outdated: bool  # the workshop's public status changed after this poster was issued
    issued_at: datetime | None = None


@dataclass
class PublicStatus:
    workshop: Workshop
    tier: Tier
    closed: bool
    pending: TierDecision | None  # 新评级待发布
    last_inspected_on: date | None
    overdue: bool  # 超期未检
    overdue_days: int
    titles_held: list[TitleGrant]
    titles_revoked: list[TitleGrant]
    inspection: Inspection | None
    samplings: list[Sampling]
    history: list[TierDecision]
    rectification: list[RectificationItem]  # open items, only for tiers that carry a list
    staff: list  # StaffMember, soonest expiry first
    poster: PosterCheck | None
    updated: dict[str, date | None] = field(default_factory=dict)  # block → last-updated date
    # The action programme (DESIGN.md §2b): penalty decisions within their publication period,
    # and 色标化 progress (None when the deployment sets no deadline).
    penalties: list = field(default_factory=list)  # EnforcementCase, newest first
    colour_code: "ColourCode | None" = None

    @property
    def unrated(self) -> bool:
        return self.tier.rank == 0


def _day(value: date | datetime | None) -> date | None:
    if isinstance(value, datetime):
        return local(value).date()
    return value


def _latest(*values) -> date | None:
    days = [d for d in (_day(v) for v in values) if d is not None]
    return max(days) if days else None


# Built once: the head query runs on every page view, so it skips statement construction and the
# ORM layer (a plain Core row); it is the whole database cost of a page served from cache.
_HEAD = select(Workshop.id, Workshop.public_changed_at).where(
    Workshop.public_code == bindparam("code")
)
_HEAD_WITH_POSTER = (
    select(Workshop.id, Workshop.public_changed_at, Poster.issued_at)
    .outerjoin(
        Poster, and_(Poster.workshop_id == Workshop.id, Poster.issue_no == bindparam("issue_no"))
    )
    .where(Workshop.public_code == bindparam("code"))
)


def head(code: str, poster_issue_no: int | None = None) -> Head | None:
    conn = db.session.connection()
    if poster_issue_no is None:
        row = conn.execute(_HEAD, {"code": code}).first()
        return None if row is None else Head(row[0], row[1], None)
    row = conn.execute(_HEAD_WITH_POSTER, {"code": code, "issue_no": poster_issue_no}).first()
    return None if row is None else Head(row[0], row[1], row[2])


def _last_inspected(workshop: Workshop, inspection: Inspection | None) -> date | None:
    return _latest(workshop.last_inspected_on, inspection.inspected_on if inspection else None)


def _overdue(workshop: Workshop, last: date | None, limit_days: int, now: date) -> bool:
    if workshop.status in CLOSED_STATUSES:
        return False
    # Never inspected: overdue once the workshop has been registered longer than the limit.
    since = last or _day(workshop.created_at)
    return since is not None and (now - since).days > limit_days


def assemble(code: str, poster_issue_no: int | None = None) -> PublicStatus | None:
    """Everything the public page shows for the workshop with this public code, or None.

    Queries: workshop (+station, county), categories, staff, titles, latest inspection,
    its inspectors, samplings, published history, pending decision, rectification items,
    and the poster when asked — eleven at most, whatever the amount of history.
    """
    from .cases import public_filter

    deployment = current_deployment()
    now = today()
    workshop = (
        db.session.execute(
            select(Workshop)
            .where(Workshop.public_code == code)
            .options(
                joinedload(Workshop.station).joinedload(Jurisdiction.parent),
                selectinload(Workshop.categories),
                selectinload(Workshop.staff),
                # The action programme's public facts ride on the same query (no extra round trip).
                joinedload(Workshop.colour_code),
                joinedload(Workshop.enforcement_cases.and_(public_filter(now))),
            )
        )
        .unique()
        .scalar_one_or_none()
    )
    if workshop is None:
        return None
    tier = deployment.tier(workshop.tier_code)

    revoked_since = now - timedelta(days=RECENT_REVOCATION_DAYS)
    grants = list(
        db.session.scalars(
            select(TitleGrant)
            .options(joinedload(TitleGrant.title))
            .where(TitleGrant.workshop_id == workshop.id)
            .where((TitleGrant.status == "held") | (TitleGrant.revoked_on >= revoked_since))
            .order_by(TitleGrant.granted_on.desc(), TitleGrant.id.desc())
        )
    )
    inspection = db.session.scalar(
        select(Inspection)
        .options(selectinload(Inspection.inspectors))
        .where(Inspection.workshop_id == workshop.id)
        .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())
        .limit(1)
    )
    samplings = list(
        db.session.scalars(
            select(Sampling)
            .where(Sampling.workshop_id == workshop.id)
            .order_by(Sampling.sampled_on.desc(), Sampling.id.desc())
            .limit(SAMPLINGS_SHOWN)
        )
    )
    history = tiers.published_history(workshop)
    pending = tiers.pending_publication(workshop)
    rectification = []
    if tier.needs_rectification:
        rectification = list(
            db.session.scalars(
                select(RectificationItem)
                .where(
                    RectificationItem.workshop_id == workshop.id,
                    RectificationItem.fixed_on.is_(None),
                )
                .order_by(RectificationItem.due_on, RectificationItem.id)
            )
        )
    poster = None
    if poster_issue_no is not None:
        issued_at = db.session.scalar(
            select(Poster.issued_at).where(
                Poster.workshop_id == workshop.id, Poster.issue_no == poster_issue_no
            )
        )
        poster = PosterCheck(
            issue_no=poster_issue_no,
            found=issued_at is not None,
            issued_at=issued_at,
            outdated=issued_at is not None and issued_at < workshop.public_changed_at,
        )

    limit_days = deployment.bureau.inspection_overdue_days
    last = _last_inspected(workshop, inspection)
    held = [g for g in grants if g.status == "held"]
    revoked = [g for g in grants if g.status == "revoked"]
    staff = sorted(
        workshop.staff, key=lambda s: (s.health_cert_expires is None, s.health_cert_expires or now)
    )
    updated = {
        "basic": _day(workshop.updated_at),
        "tier": _latest(
            workshop.tier_since,
            *(d.published_at for d in history[:1]),
            pending.decided_at if pending else None,
        ),
        "titles": _latest(
            *(_latest(g.granted_on, g.last_reviewed_on, g.revoked_on) for g in grants)
        ),
        "inspection": _latest(
            inspection.inspected_on if inspection else None,
            inspection.rectification_done_on if inspection else None,
        ),
        "sampling": _latest(
            *(_latest(s.sampled_on, s.retest_requested_on, s.retest_decided_on) for s in samplings)
        ),
        "history": _latest(*(d.published_at for d in history[:1])),
        "rectification": _latest(*(r.created_at for r in rectification)),
        "board": _day(workshop.updated_at),
    }
    penalties = sorted(workshop.enforcement_cases, key=lambda c: (c.decided_on, c.id), reverse=True)
    colour = _colour_code(workshop.colour_code, deployment.programme.colour_code_deadline, now)
    updated["penalties"] = _latest(*(c.decided_on for c in penalties))
    return PublicStatus(
        penalties=penalties,
        colour_code=colour,
        workshop=workshop,
        tier=tier,
        closed=workshop.status in CLOSED_STATUSES,
        pending=pending,
        last_inspected_on=last,
        overdue=_overdue(workshop, last, limit_days, now),
        overdue_days=limit_days,
        titles_held=held,
        titles_revoked=revoked,
        inspection=inspection,
        samplings=samplings,
        history=history,
        rectification=rectification,
        staff=staff,
        poster=poster,
        updated=updated,
    )


def health_cert_state(expires: date | None, now: date | None = None) -> str:
    """valid | expiring | expired | missing — for the staff health-certificate board."""
    now = now or today()
    if expires is None:
        return "missing"
    if expires < now:
        return "expired"
    if (expires - now).days <= HEALTH_CERT_WARNING_DAYS:
        return "expiring"
    return "valid"


# --- the action programme's public facts (DESIGN.md §2b), in bulk for lists and open data ---------


@dataclass(frozen=True)
class ColourCode:
    """色标化 as the public sees it: status, the day it was done, the deadline and whether missed."""

    status: str  # not_started | partial | done
    label: str
    completed_on: date | None
    deadline: date
    overdue: bool  # the deadline passed and it is not done


def penalties_for(workshop_ids: list[int], on: date | None = None) -> dict[int, list]:
    """Penalty decisions public on `on` (within their publication period), per workshop."""
    from .cases import public_filter
    from .programme_models import EnforcementCase

    if not workshop_ids:
        return {}
    on = on or today()
    out: dict[int, list] = {}
    for c in db.session.scalars(
        select(EnforcementCase)
        .where(public_filter(on), EnforcementCase.workshop_id.in_(workshop_ids))
        .order_by(EnforcementCase.decided_on.desc(), EnforcementCase.id.desc())
    ):
        out.setdefault(c.workshop_id, []).append(c)
    return out


def colour_codes_for(workshop_ids: list[int], on: date | None = None) -> dict[int, ColourCode]:
    """色标化 status per workshop; empty when the deployment sets no deadline. A workshop with no
    record has not started."""
    from .programme_models import ColourCodeAdoption

    deadline = current_deployment().programme.colour_code_deadline
    if deadline is None or not workshop_ids:
        return {}
    on = on or today()
    rows = {
        r.workshop_id: r
        for r in db.session.scalars(
            select(ColourCodeAdoption).where(ColourCodeAdoption.workshop_id.in_(workshop_ids))
        )
    }
    return {wid: _colour_code(rows.get(wid), deadline, on) for wid in workshop_ids}


def _colour_code(row, deadline: date | None, on: date) -> ColourCode | None:
    """The public 色标化 status from a workshop's row (None: not started)."""
    if deadline is None:
        return None
    status = row.status if row is not None else "not_started"
    return ColourCode(
        status=status,
        label=COLOUR_STATUS[status],
        completed_on=row.completed_on if row is not None and status == "done" else None,
        deadline=deadline,
        overdue=status != "done" and on > deadline,
    )


@dataclass(frozen=True)
class RevocationNotice:
    grant: TitleGrant  # with .title and .workshop (station, county) loaded
    plaque_recovered_on: date | None


def revocation_notices(
    station_ids=None, on: date | None = None, limit: int = 100
) -> list[RevocationNotice]:
    """通报取消称号: titles revoked within the last RECENT_REVOCATION_DAYS, newest first, with the
    day the plaque was recovered (收回牌匾). station_ids: ids or a select of them (None = all)."""
    from .programme_models import PlaqueRecovery

    on = on or today()
    q = (
        select(TitleGrant)
        .join(Workshop, Workshop.id == TitleGrant.workshop_id)
        .where(
            TitleGrant.status == "revoked",
            TitleGrant.revoked_on >= on - timedelta(days=RECENT_REVOCATION_DAYS),
            TitleGrant.revoked_on <= on,
        )
        .options(
            joinedload(TitleGrant.title),
            joinedload(TitleGrant.workshop)
            .joinedload(Workshop.station)
            .joinedload(Jurisdiction.parent),
        )
        .order_by(TitleGrant.revoked_on.desc(), TitleGrant.id.desc())
        .limit(limit)
    )
    if station_ids is not None:
        q = q.where(Workshop.station_id.in_(station_ids))
    grants = list(db.session.scalars(q))
    recovered = {
        r.grant_id: r.recovered_on
        for r in db.session.scalars(
            select(PlaqueRecovery).where(PlaqueRecovery.grant_id.in_([g.id for g in grants]))
        )
    }
    return [RevocationNotice(g, recovered.get(g.id)) for g in grants]
