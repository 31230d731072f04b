"""示范称号: grant, yearly review, revoke, and the revocation rules engine (docs/architecture.md).

Rules, evaluated for a held grant on a day `on`, over what happened while the title was held
(granted_on ≤ date ≤ on); sampling failures count only when confirmed (see sampling.py). "一年内"
is a rolling 12 months by default — any 12 months in a row, e.g. 2025-12-20 and 2026-01-12 are
two failures in one year — or a calendar year when the deployment file says
`title_year_window = "calendar"`; "3 consecutive years" are calendar years either way:
  revoke                       – 2+ confirmed failures in one year (two_failures);
                                 a rectification not completed by its deadline (late_rectification);
                                 a serious problem flagged by a regulator (serious_problem).
  revoke and bar for 2 years   – 3+ confirmed failures in one year (three_failures);
                                 confirmed failures in 3 consecutive calendar years (three_years);
                                 a food-safety incident flagged by a regulator (incident).
The engine proposes (RevocationProposal, the most severe finding, with all evidence); an
administrator confirms (only with evidence on file) or dismisses (only with a reason). A bar stops
any new demonstration title for the workshop until the day barred_until (that day itself is
allowed again), and so does a pending revocation proposal until it is decided.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from . import access, audit, changes, current_deployment, rectification, sampling
from .errors import DomainError
from .extensions import db
from .labels import REVOCATION_RULES
from .models import Inspection, RevocationProposal, Title, TitleGrant, Workshop
from .timeutil import today, utcnow
from .tx import transactional

BAR_YEARS = 2
# Most severe first: the order in which a finding becomes the proposal's rule.
RULE_ORDER = (
    "incident",
    "three_failures",
    "three_years",
    "two_failures",
    "late_rectification",
    "serious_problem",
)
BARRING_RULES = {"incident", "three_failures", "three_years"}
GRANT_FIELDS = (
    "workshop_id",
    "title_id",
    "granted_on",
    "certificate_no",
    "status",
    "last_reviewed_on",
    "revoked_on",
    "revoke_rule",
    "revoke_reason",
    "barred_until",
    "serious_problem",
    "incident",
)


class TitleError(DomainError):
    pass


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February
        return day.replace(year=day.year + years, day=28)


# --- the rules engine ------------------------------------------------------------------------------


@dataclass
class Finding:
    rule: str
    evidence: dict = field(default_factory=dict)

    @property
    def bar_years(self) -> int:
        return BAR_YEARS if self.rule in BARRING_RULES else 0

    @property
    def label(self) -> str:
        return REVOCATION_RULES[self.rule]


def year_window() -> str:
    """ "rolling" (default) or "calendar": how the rules count "一年内" (deployment file)."""
    return current_deployment().bureau.title_year_window


def failures_in_one_year(
    failures: list, n: int, window: str | None = None
) -> tuple[list, dict] | None:
    """n or more failures "一年内": (those failures, {"years": [...], "window": [first, last]}).

    Rolling: the 12 months in a row holding the most failures (the latest such stretch on a tie),
    i.e. after the day a year before the last of them. Calendar: every calendar year with n+.
    `window`: "rolling" or "calendar" (default: the deployment's title_year_window)."""
    if (window or year_window()) == "calendar":
        years = sorted(y for y, k in Counter(f.sampled_on.year for f in failures).items() if k >= n)
        if not years:
            return None
        chosen = [f for f in failures if f.sampled_on.year in years]
    else:
        best: list = []
        for end in failures:  # sorted by date: each failure closes one 12-month stretch
            start = add_years(end.sampled_on, -1)
            stretch = [f for f in failures if start < f.sampled_on <= end.sampled_on]
            if len(stretch) >= len(best):
                best = stretch
        if len(best) < n:
            return None
        chosen = best
    return chosen, {
        "years": sorted({f.sampled_on.year for f in chosen}),
        "window": [chosen[0].sampled_on.isoformat(), chosen[-1].sampled_on.isoformat()],
    }


def evaluate(grant: TitleGrant, on: date | None = None) -> list[Finding]:
    """Every rule the grant's holder breaks as of `on`, most severe first. Pure: writes nothing."""
    on = on or today()
    if grant.status != "held":
        return []
    workshop = grant.workshop
    failures = sampling.confirmed_failures(workshop, since=grant.granted_on, until=on, on=on)
    late_orders = [
        i
        for i in db.session.scalars(
            select(Inspection)
            .where(
                Inspection.workshop_id == workshop.id,
                Inspection.rectification_required.is_(True),
                Inspection.rectification_due < on,
                Inspection.rectification_due >= grant.granted_on,
            )
            .order_by(Inspection.rectification_due, Inspection.id)
        )
        if i.rectification_done_on is None or i.rectification_done_on > i.rectification_due
    ]
    late_items = [
        r
        for r in rectification.overdue_items(workshop.id, on)
        if r.due_on >= grant.granted_on and r.inspection_id is None
    ]  # inspection items are covered by their order
    return findings_from(
        failures, late_orders, late_items, grant.incident, grant.serious_problem, year_window()
    )


def findings_from(
    failures: list,
    late_orders: list = (),
    late_items: list = (),
    incident: str | None = None,
    serious_problem: str | None = None,
    window: str = "rolling",
) -> list[Finding]:
    """The rules over facts already chosen (the engine above; the demo data runs them too):
    confirmed failures while held (id, sampled_on, product, failed_item, notice_no), late
    rectification orders (id, inspected_on, rectification_due, rectification_done_on) and
    ledger items (id, problem, due_on, fixed_on). Most severe first."""
    findings: list[Finding] = []
    per_year = Counter(s.sampled_on.year for s in failures)

    def sample_evidence(chosen):
        return {
            "samplings": [
                {
                    "id": s.id,
                    "sampled_on": s.sampled_on.isoformat(),
                    "product": s.product,
                    "failed_item": s.failed_item,
                    "notice_no": s.notice_no,
                }
                for s in chosen
            ]
        }

    def in_years(years):
        return [s for s in failures if s.sampled_on.year in years]

    if incident:
        findings.append(Finding("incident", {"note": incident}))
    heavy = failures_in_one_year(failures, 3, window)
    if heavy:
        findings.append(Finding("three_failures", dict(sample_evidence(heavy[0]), **heavy[1])))
    years = sorted(per_year)
    runs = [years[i : i + 3] for i in range(len(years) - 2) if years[i + 2] - years[i] == 2]
    if runs:
        run = runs[-1]
        findings.append(Finding("three_years", dict(sample_evidence(in_years(run)), years=run)))
    double = failures_in_one_year(failures, 2, window)
    if double and not heavy:
        findings.append(Finding("two_failures", dict(sample_evidence(double[0]), **double[1])))
    if late_orders or late_items:
        findings.append(
            Finding(
                "late_rectification",
                {
                    "inspections": [
                        {
                            "id": i.id,
                            "inspected_on": i.inspected_on.isoformat(),
                            "due": i.rectification_due.isoformat(),
                            "done_on": i.rectification_done_on.isoformat()
                            if i.rectification_done_on
                            else None,
                        }
                        for i in late_orders
                    ],
                    "ledger": [
                        {
                            "id": r.id,
                            "problem": r.problem,
                            "due": r.due_on.isoformat(),
                            "fixed_on": r.fixed_on.isoformat() if r.fixed_on else None,
                        }
                        for r in late_items
                    ],
                },
            )
        )
    if serious_problem:
        findings.append(Finding("serious_problem", {"note": serious_problem}))
    findings.sort(key=lambda f: RULE_ORDER.index(f.rule))
    return findings


def _evidence_key(rule: str, evidence: dict) -> tuple:
    ids = tuple(
        sorted(
            (k, x["id"])
            for k in ("samplings", "inspections", "ledger")
            for x in evidence.get(k, ())
        )
    )
    return rule, ids, evidence.get("note")


@transactional
def propose_revocations(
    grant: TitleGrant, on: date | None = None, actor=None
) -> RevocationProposal | None:
    """Run the engine for one grant; file a proposal for the most severe finding unless one is
    already pending, or the same finding with the same evidence was dismissed before."""
    findings = evaluate(grant, on)
    if not findings:
        return None
    existing = list(
        db.session.scalars(
            select(RevocationProposal).where(RevocationProposal.grant_id == grant.id)
        )
    )
    if any(p.status == "pending" for p in existing):
        return None
    top = findings[0]
    evidence = dict(
        top.evidence,
        also=[{"rule": f.rule, **f.evidence} for f in findings[1:]],
        evaluated_on=(on or today()).isoformat(),
    )
    if any(
        p.status == "dismissed"
        and _evidence_key(p.rule, p.evidence) == _evidence_key(top.rule, evidence)
        for p in existing
    ):
        return None
    proposal = RevocationProposal(
        grant_id=grant.id, rule=top.rule, bar_years=top.bar_years, evidence=evidence
    )
    db.session.add(proposal)
    db.session.flush()
    audit.record(
        actor,
        "title.propose_revocation",
        "revocation_proposal",
        proposal.id,
        after={"grant_id": grant.id, "rule": top.rule, "bar_years": top.bar_years},
    )
    return proposal


@transactional
def evaluate_all(on: date | None = None) -> list[RevocationProposal]:
    """`flask titles evaluate`: the engine over every held grant."""
    grants = db.session.scalars(
        select(TitleGrant)
        .where(TitleGrant.status == "held")
        .options(selectinload(TitleGrant.workshop))
        .order_by(TitleGrant.id)
    )
    return [p for g in grants if (p := propose_revocations(g, on)) is not None]


# --- regulator actions -------------------------------------------------------------------------------


def barred_until(workshop: Workshop, on: date) -> date | None:
    """The day the workshop may again hold a demonstration title, if it is barred on `on`."""
    bars = db.session.scalars(
        select(TitleGrant.barred_until).where(
            TitleGrant.workshop_id == workshop.id, TitleGrant.barred_until > on
        )
    ).all()
    return max(bars) if bars else None


def pending_revocation(workshop: Workshop) -> RevocationProposal | None:
    """The workshop's oldest pending revocation proposal (any of its titles), if any."""
    return db.session.scalar(
        select(RevocationProposal)
        .join(TitleGrant, TitleGrant.id == RevocationProposal.grant_id)
        .where(TitleGrant.workshop_id == workshop.id, RevocationProposal.status == "pending")
        .order_by(RevocationProposal.created_at)
        .limit(1)
    )


def has_evidence(proposal: RevocationProposal) -> bool:
    """Dated samplings, inspections or ledger items, or a regulator's note of the incident."""
    ev = proposal.evidence or {}
    dated = any(ev.get(k) for k in ("samplings", "inspections", "ledger"))
    return dated or bool((ev.get("note") or "").strip())


def overdue_proposals(jurisdiction_ids=None, on: date | None = None) -> list[RevocationProposal]:
    """Pending proposals older than `bureau.title_review_working_days` working days (称号复核中),
    oldest first, for the admin dashboard; `jurisdiction_ids` None = all."""
    from .public_status import review_overdue

    q = (
        select(RevocationProposal)
        .join(TitleGrant, TitleGrant.id == RevocationProposal.grant_id)
        .join(Workshop, Workshop.id == TitleGrant.workshop_id)
        .where(RevocationProposal.status == "pending")
        .options(selectinload(RevocationProposal.grant).selectinload(TitleGrant.workshop))
        .order_by(RevocationProposal.created_at)
    )
    if jurisdiction_ids is not None:
        q = q.where(Workshop.station_id.in_(jurisdiction_ids))
    return [p for p in db.session.scalars(q) if review_overdue(p.created_at, on)]


def _checked(name: str, authority: str, level: str, title_id: int | None = None):
    """(name, authority) stripped, or the TitleError a create or an edit would refuse with."""
    name, authority = (name or "").strip(), (authority or "").strip()
    if not name or not authority or level not in ("county", "city", "province"):
        raise TitleError("请填写称号名称、授予机关和级别。")
    if len(name) > 80 or len(authority) > 80:
        raise TitleError("称号名称和授予机关各不能超过 80 字。")
    if db.session.scalar(select(Title.id).where(Title.name == name, Title.id != (title_id or 0))):
        raise TitleError("已有同名称号。")
    return name, authority


@transactional
def create_title(actor, name: str, authority: str, level: str) -> Title:
    access.require(actor, "grant_title")
    name, authority = _checked(name, authority, level)
    title = Title(name=name, authority=authority, level=level)
    db.session.add(title)
    db.session.flush()
    audit.record(
        actor,
        "title.create",
        "title",
        title.id,
        after={"name": name, "authority": authority, "level": level},
    )
    return title


@transactional
def update_title(actor, title: Title, name: str, authority: str, level: str) -> Title:
    """Rename a title (or correct its authority or level); every page showing it follows."""
    access.require(actor, "grant_title")
    name, authority = _checked(name, authority, level, title.id)
    before = {"name": title.name, "authority": title.authority, "level": title.level}
    title.name, title.authority, title.level = name, authority, level
    changes.touch_where(
        Workshop.id.in_(select(TitleGrant.workshop_id).where(TitleGrant.title_id == title.id))
    )
    audit.record(
        actor,
        "title.update",
        "title",
        title.id,
        before=before,
        after={"name": name, "authority": authority, "level": level},
    )
    return title


@transactional
def grant(
    actor, workshop: Workshop, title: Title, granted_on: date, certificate_no: str = ""
) -> TitleGrant:
    access.require(actor, "grant_title", workshop.station_id)
    if granted_on is None or granted_on > today():
        raise TitleError("授予日期不能为空，也不能晚于今天。")
    bar = barred_until(workshop, granted_on)
    if bar is not None:
        raise TitleError(
            f"该作坊因被撤销称号，{bar.year}年{bar.month}月{bar.day}日前不得再申请示范称号。"
        )
    if pending_revocation(workshop) is not None:
        raise TitleError("该作坊有待处理的称号撤销建议，处理完毕前不得授予新的示范称号。")
    if db.session.scalar(
        select(TitleGrant.id).where(
            TitleGrant.workshop_id == workshop.id,
            TitleGrant.title_id == title.id,
            TitleGrant.status == "held",
        )
    ):
        raise TitleError("该作坊已持有此称号。")
    if workshop.status != "open":
        raise TitleError("只能向在营作坊授予称号。")
    g = TitleGrant(
        workshop_id=workshop.id,
        title_id=title.id,
        granted_on=granted_on,
        certificate_no=(certificate_no or "").strip() or None,
        status="held",
        granted_by_id=getattr(actor, "id", None),
    )
    db.session.add(g)
    db.session.flush()
    changes.touch(workshop)
    audit.record(actor, "title.grant", "title_grant", g.id, after=audit.snapshot(g, GRANT_FIELDS))
    return g


@transactional
def review(actor, g: TitleGrant, on: date | None = None) -> RevocationProposal | None:
    """年度复核: record the review and run the rules; returns a new proposal if the rules imply one."""
    access.require(actor, "grant_title", g.workshop.station_id)
    if g.status != "held":
        raise TitleError("称号已撤销，无需复核。")
    on = on or today()
    before = audit.snapshot(g, GRANT_FIELDS)
    g.last_reviewed_on = on
    audit.record(
        actor,
        "title.review",
        "title_grant",
        g.id,
        before=before,
        after=audit.snapshot(g, GRANT_FIELDS),
    )
    return propose_revocations(g, on, actor=actor)


@transactional
def flag(actor, g: TitleGrant, kind: str, note: str) -> TitleGrant:
    """Record a serious problem or a food-safety incident for the rules to act on."""
    access.require(actor, "revoke_title", g.workshop.station_id)
    if kind not in ("serious_problem", "incident"):
        raise TitleError("未知的问题类型。")
    note = (note or "").strip()
    if not note:
        raise TitleError("请说明问题情况。")
    before = audit.snapshot(g, GRANT_FIELDS)
    setattr(g, kind, note)
    audit.record(
        actor,
        f"title.flag_{kind}",
        "title_grant",
        g.id,
        before=before,
        after=audit.snapshot(g, GRANT_FIELDS),
    )
    return g


@transactional
def revoke(
    actor, g: TitleGrant, rule: str, reason: str = "", bar_years: int = 0, on: date | None = None
) -> TitleGrant:
    access.require(actor, "revoke_title", g.workshop.station_id)
    if g.status != "held":
        raise TitleError("该称号已撤销。")
    if rule not in REVOCATION_RULES:
        raise TitleError("请选择撤销依据。")
    on = on or today()
    before = audit.snapshot(g, GRANT_FIELDS)
    g.status, g.revoked_on, g.revoke_rule = "revoked", on, rule
    g.revoke_reason = (reason or REVOCATION_RULES[rule]).strip()
    g.barred_until = add_years(on, bar_years) if bar_years else None
    for p in db.session.scalars(
        select(RevocationProposal).where(
            RevocationProposal.grant_id == g.id, RevocationProposal.status == "pending"
        )
    ):
        p.status, p.decided_by_id, p.decided_at, p.note = (
            "dismissed",
            getattr(actor, "id", None),
            utcnow(),
            "称号已撤销",
        )
    changes.touch(g.workshop)
    audit.record(
        actor,
        "title.revoke",
        "title_grant",
        g.id,
        before=before,
        after=audit.snapshot(g, GRANT_FIELDS),
    )
    return g


@transactional
def confirm(
    actor, proposal: RevocationProposal, note: str = "", on: date | None = None
) -> TitleGrant:
    access.require(actor, "revoke_title", proposal.grant.workshop.station_id)
    if proposal.status != "pending":
        raise TitleError("该撤销建议已处理。")
    if not has_evidence(proposal):
        raise TitleError(
            "该撤销建议没有附证据（抽检、检查或事故记录及日期），不能确认；请驳回并说明理由。"
        )
    proposal.status, proposal.decided_by_id, proposal.decided_at = (
        "confirmed",
        getattr(actor, "id", None),
        utcnow(),
    )
    proposal.note = (note or "").strip()
    audit.record(
        actor,
        "title.confirm_revocation",
        "revocation_proposal",
        proposal.id,
        after={"rule": proposal.rule, "bar_years": proposal.bar_years, "note": proposal.note},
    )
    reason = REVOCATION_RULES[proposal.rule] + (f"；{proposal.note}" if proposal.note else "")
    return revoke(actor, proposal.grant, proposal.rule, reason, proposal.bar_years, on)


@transactional
def dismiss(actor, proposal: RevocationProposal, note: str) -> RevocationProposal:
    access.require(actor, "revoke_title", proposal.grant.workshop.station_id)
    if proposal.status != "pending":
        raise TitleError("该撤销建议已处理。")
    if not (note or "").strip():
        raise TitleError("驳回撤销建议须说明理由。")
    proposal.status, proposal.decided_by_id, proposal.decided_at = (
        "dismissed",
        getattr(actor, "id", None),
        utcnow(),
    )
    proposal.note = note.strip()
    audit.record(
        actor,
        "title.dismiss_revocation",
        "revocation_proposal",
        proposal.id,
        after={"rule": proposal.rule, "note": proposal.note},
    )
    return proposal
