"""What the public sees about a workshop: the one read model every public channel uses.

Two levels, one set of rules:

`summary(w)` / `summaries(ws)` → `Summary`: the public statement about a workshop — operating
state and since when, the tier and its meaning (never for a workshop that is not operating),
the headline and colour a badge or card shows, the wording for the state, 超期未检 (decided here
only, in the bureau's time zone, from `Workshop.last_inspected_on` and the registration date),
the titles held and those 称号复核中 (a revocation proposal pending longer than
`bureau.title_review_working_days` working days). Used by the workshop page, /api/v1, badge.svg,
the open-data export, search and ranking cards and the home page; `Summary.as_dict()` is the JSON
form (API `public_status`, open data). `summary(w)` without titles costs no query (cards);
`summaries(ws)` adds two queries for any number of workshops.

`assemble(code)` → `PublicStatus`: everything the workshop page shows (its `summary` plus
inspection, samplings, history, rectification, poster check), in a fixed number of queries: no
lazy loading happens after it returns, so a template cannot add queries per row.

`poster_outdated(...)`: a printed poster is outdated when the tier, the titles or the operating
state it showed has changed since it was issued.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import joinedload, selectinload

from . import current_deployment, tiers
from .deadlines import add_working_days
from .deployment import Tier
from .extensions import db
from .labels import CLOSED_STATUSES, COLOUR_STATUS, WORKSHOP_STATUS
from .models import (
    Inspection,
    Jurisdiction,
    Poster,
    RectificationItem,
    RevocationProposal,
    Sampling,
    TierDecision,
    Title,
    TitleGrant,
    Workshop,
)
from .timeutil import local, today

# Revoked titles stay on the page, marked as revoked, for this long.
RECENT_REVOCATION_DAYS = 365
# Health certificates expiring within this many days are flagged.
HEALTH_CERT_WARNING_DAYS = 30
SAMPLINGS_SHOWN = 3


NOT_OPERATING_COLOUR = "#868e96"


def _cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class Summary:
    """The public statement about one workshop; every channel shows these fields, nothing else."""

    code: str
    name: str
    status: str  # open | suspended | cancelled | revoked
    status_label: str  # 在营 / 停业 / 注销 / 吊销
    operating: bool
    status_since: date | None  # when a closed workshop stopped operating
    tier: Tier  # the tier on record (history); a recommendation only while operating
    tier_since: date | None
    rated: bool  # operating and on a tier of the ladder
    headline: str  # the badge/card word: the tier name, 待评定, or 已停业/已注销/已吊销
    colour: str
    meaning: str | None  # the tier's description; None when not operating
    statement: str  # the sentence for the state
    last_inspected_on: date | None
    never_inspected: bool
    overdue: bool  # 超期未检
    overdue_text: str | None
    titles_held: tuple[str, ...] = ()
    titles_under_review: tuple[str, ...] = ()  # 称号复核中
    titles_known: bool = True  # False: summary(w) without titles (cards)

    @property
    def badge_text(self) -> str:
        if not self.operating:
            day = self.status_since
        else:
            day = self.tier_since if self.rated else None
        text = self.headline + (f" {day:%Y-%m-%d}" if day else "")
        return text + (" 超期未检" if self.overdue else "")

    def as_dict(self) -> dict:
        out = {
            "status": self.status,
            "status_label": self.status_label,
            "operating": self.operating,
            "status_since": self.status_since.isoformat() if self.status_since else None,
            "headline": self.headline,
            "colour": self.colour,
            "rated": self.rated,
            "tier_code": self.tier.code,
            "tier_since": self.tier_since.isoformat() if self.tier_since else None,
            "meaning": self.meaning,
            "statement": self.statement,
            "last_inspected_on": self.last_inspected_on.isoformat()
            if self.last_inspected_on
            else None,
            "never_inspected": self.never_inspected,
            "inspection_overdue": self.overdue,
            "overdue_text": self.overdue_text,
        }
        if self.titles_known:
            out["titles_held"] = list(self.titles_held)
            out["titles_under_review"] = list(self.titles_under_review)
        return out


def is_overdue(workshop: Workshop, on: date | None = None) -> bool:
    """超期未检, the one decision: an operating workshop not inspected within
    `bureau.inspection_overdue_days` days of `on` (China-local today), counted from its
    registration when it was never inspected."""
    if workshop.status in CLOSED_STATUSES:
        return False
    on = on or today()
    since = workshop.last_inspected_on or _day(workshop.created_at) or on
    return (on - since).days > current_deployment().bureau.inspection_overdue_days


def summary(
    workshop: Workshop,
    on: date | None = None,
    held: tuple[str, ...] | None = None,
    under_review: tuple[str, ...] = (),
) -> Summary:
    """The public statement for one workshop row. Without `held` it makes no query and leaves
    titles out (search cards); `summaries()` fills them in."""
    deployment = current_deployment()
    on = on or today()
    tier = deployment.tier(workshop.tier_code)
    status = workshop.status
    label = WORKSHOP_STATUS.get(status, status)
    operating = status not in CLOSED_STATUSES
    last = workshop.last_inspected_on
    overdue = is_overdue(workshop, on)
    months = deployment.bureau.inspection_overdue_days // 30
    if not operating:
        since = workshop.status_changed_on
        headline, colour, meaning = f"已{label}", NOT_OPERATING_COLOUR, None
        statement = (
            f"该作坊已{label}" + (f"（{_cn(since)}起）" if since else "") + "，目前不得生产经营"
            "食品，不作为消费参考。以下为历史公示记录。"
        )
    else:
        since = None
        headline, colour, meaning = tier.name, tier.colour, tier.description or None
        if tier.rank > 0:
            statement = tier.description
        elif last is None:
            statement = "待评定：该作坊尚未完成首次分级评定，也尚未接受过监督检查。"
        else:
            statement = "待评定：该作坊尚未完成首次分级评定。"
    if not overdue:
        overdue_text = None
    elif last is None:
        overdue_text = f"超期未检：登记已超过 {months} 个月，尚无监督检查记录。"
    else:
        overdue_text = (
            f"超期未检：距最近一次监督检查（{_cn(last)}）已超过 {months} 个月，榜级请谨慎参考。"
        )
    return Summary(
        code=workshop.public_code,
        name=workshop.name,
        status=status,
        status_label=label,
        operating=operating,
        status_since=since,
        tier=tier,
        tier_since=workshop.tier_since,
        rated=operating and tier.rank > 0,
        headline=headline,
        colour=colour,
        meaning=meaning,
        statement=statement,
        last_inspected_on=last,
        never_inspected=last is None,
        overdue=overdue,
        overdue_text=overdue_text,
        titles_held=held or (),
        titles_under_review=under_review,
        titles_known=held is not None,
    )


def review_overdue(created_at: datetime, on: date | None = None) -> bool:
    """A revocation proposal created at `created_at` has been pending longer than
    `bureau.title_review_working_days` working days on `on` (称号复核中)."""
    days = current_deployment().bureau.title_review_working_days
    return add_working_days(_day(created_at), days) < (on or today())


def titles_of(workshop_ids: list[int], on: date | None = None) -> dict[int, tuple[tuple, tuple]]:
    """workshop id → (names of titles held, names of those 称号复核中), two queries."""
    out: dict[int, tuple[list, list]] = {wid: ([], []) for wid in workshop_ids}
    if not workshop_ids:
        return {}
    grants = db.session.execute(
        select(TitleGrant.id, TitleGrant.workshop_id, Title.name)
        .join(Title, Title.id == TitleGrant.title_id)
        .where(TitleGrant.workshop_id.in_(workshop_ids), TitleGrant.status == "held")
        .order_by(TitleGrant.granted_on, TitleGrant.id)
    ).all()
    pending = (
        {
            gid: created
            for gid, created in db.session.execute(
                select(RevocationProposal.grant_id, func.min(RevocationProposal.created_at))
                .where(
                    RevocationProposal.grant_id.in_([g[0] for g in grants]),
                    RevocationProposal.status == "pending",
                )
                .group_by(RevocationProposal.grant_id)
            ).all()
        }
        if grants
        else {}
    )
    for gid, wid, name in grants:
        out[wid][0].append(name)
        if gid in pending and review_overdue(pending[gid], on):
            out[wid][1].append(name)
    return {wid: (tuple(a), tuple(b)) for wid, (a, b) in out.items()}


def summaries(workshops: list[Workshop], on: date | None = None) -> dict[int, Summary]:
    """`summary()` with titles for many workshops: two queries whatever their number."""
    on = on or today()
    titles = titles_of([w.id for w in workshops], on)
    return {w.id: summary(w, on, *titles.get(w.id, ((), ()))) for w in workshops}


def poster_outdated(
    workshop: Workshop, poster_tier: str | None, issued_at: datetime, grants: list[TitleGrant]
) -> bool:
    """What the poster showed — tier, titles held, operating state — changed after it was issued,
    or any other public change was recorded after it (changes.touch).
    `grants`: the workshop's title grants, held and revoked (posters are printed for operating
    workshops only, with the titles held that day)."""
    if workshop.public_changed_at is not None and issued_at < workshop.public_changed_at:
        return True  # any public change after printing (changes.touch)
    issued = _day(issued_at)
    if workshop.status in CLOSED_STATUSES or poster_tier != workshop.tier_code:
        return True
    return any(
        g.granted_on > issued or (g.revoked_on is not None and g.revoked_on >= issued)
        for g in grants
    )


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
    summary: Summary  # the public statement every channel shares
    tier: Tier
    closed: bool
    pending: TierDecision | None  # 新评级待发布
    last_inspected_on: date | None
    overdue: bool  # 超期未检 (= summary.overdue)
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
    titles_under_review: set[int] = field(default_factory=set)  # grant ids 称号复核中
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
    pending_since = (
        select(func.min(RevocationProposal.created_at))
        .where(RevocationProposal.grant_id == TitleGrant.id, RevocationProposal.status == "pending")
        .correlate(TitleGrant)
        .scalar_subquery()
    )
    rows = (
        db.session.execute(
            select(TitleGrant, pending_since)
            .options(joinedload(TitleGrant.title))
            .where(TitleGrant.workshop_id == workshop.id)
            .order_by(TitleGrant.granted_on.desc(), TitleGrant.id.desc())
        )
        .unique()
        .all()
    )
    all_grants = [g for g, _ in rows]
    grants = [
        g
        for g in all_grants
        if g.status == "held" or (g.revoked_on is not None and g.revoked_on >= revoked_since)
    ]
    under_review = {
        g.id for g, since in rows if g.status == "held" and since and review_overdue(since, now)
    }
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
        row = db.session.execute(
            select(Poster.issued_at, Poster.tier_code).where(
                Poster.workshop_id == workshop.id, Poster.issue_no == poster_issue_no
            )
        ).first()
        poster = PosterCheck(
            issue_no=poster_issue_no,
            found=row is not None,
            issued_at=row[0] if row else None,
            outdated=row is not None and poster_outdated(workshop, row[1], row[0], all_grants),
        )

    limit_days = deployment.bureau.inspection_overdue_days
    held = [g for g in grants if g.status == "held"]
    said = summary(
        workshop,
        now,
        tuple(g.title.name for g in reversed(held)),
        tuple(g.title.name for g in reversed(held) if g.id in under_review),
    )
    last = said.last_inspected_on
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
        summary=said,
        tier=tier,
        closed=not said.operating,
        pending=pending,
        last_inspected_on=last,
        overdue=said.overdue,
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
        titles_under_review=under_review,
    )


@dataclass(frozen=True)
class CardFacts:
    """What a result card (search, 榜单, brand page) shows beside the tier: the same last
    inspection date and 超期未检 decision as the workshop's own page."""

    last_inspected_on: date | None
    overdue: bool


def card_facts(workshops: list[Workshop]) -> dict[int, CardFacts]:
    """Card facts for many workshops: the page's own date and 超期未检 rule, no query."""
    now = today()
    return {w.id: CardFacts(w.last_inspected_on, is_overdue(w, now)) for w in workshops}


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
