"""Demo data a journalist could not fault: loaded for today, then checked against the rules."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from shifangbang import complaints, demo, draws, labels, titles
from shifangbang.demo import EVENT_COLUMNS
from shifangbang.extensions import db as _db
from shifangbang.models import (
    Complaint,
    Inspection,
    RandomDraw,
    RevocationProposal,
    Sampling,
    TierDecision,
    TitleGrant,
)
from shifangbang.timeutil import local_day_start, today, utcnow

SIZE = 150


@pytest.fixture
def loaded(db):
    demo.load(seed=5, size=SIZE)
    return today()


def test_nothing_is_dated_after_today(db, loaded):
    day = loaded
    cap = utcnow()  # timestamps: not after now (stored naive UTC)
    for table, columns in EVENT_COLUMNS.items():
        t = _db.metadata.tables[table]
        for c in columns:
            latest = db.session.scalar(select(func.max(t.c[c])))
            if latest is None:
                continue
            limit = cap if isinstance(latest, datetime) else day
            assert latest <= limit, f"{table}.{c} = {latest}"
    # The announcements page shows no publication after today began (China): the demo's
    # decisions were all published on earlier days.
    assert db.session.scalar(select(func.max(TierDecision.published_at))) <= local_day_start(day)


def test_titles_are_granted_before_revoked_and_the_rules_agree_with_the_history(db, loaded):
    for g in db.session.scalars(select(TitleGrant)):
        if g.status == "revoked":
            assert g.granted_on <= g.revoked_on <= loaded
            assert g.revoke_rule in labels.REVOCATION_RULES
    # The engine run today over the demo history files nothing new: every finding is already a
    # decided or a pending proposal.
    assert titles.evaluate_all(on=loaded) == []
    pending = list(
        db.session.scalars(select(RevocationProposal).where(RevocationProposal.status == "pending"))
    )
    assert pending, "some proposals are visibly pending"
    for p in pending:
        assert titles.has_evidence(p)
        for x in p.evidence.get("samplings", []):
            s = db.session.get(Sampling, x["id"])
            assert s.workshop_id == p.grant.workshop_id and s.result == "fail"
            assert date.fromisoformat(x["sampled_on"]) == s.sampled_on
    confirmed = db.session.scalars(
        select(RevocationProposal).where(RevocationProposal.status == "confirmed")
    ).all()
    assert confirmed and all(p.grant.status == "revoked" for p in confirmed)
    assert all(titles.has_evidence(p) for p in confirmed)
    # At least one pending long enough to show 称号复核中 publicly.
    assert titles.overdue_proposals(None, loaded)
    # Bars exist and nothing was granted during one.
    assert db.session.scalar(select(func.count()).where(TitleGrant.barred_until.is_not(None)))


def test_retests_are_resolved_within_weeks(db, loaded):
    for s in db.session.scalars(select(Sampling).where(Sampling.retest_status != "none")):
        assert s.retest_requested_on is not None
        if s.retest_status == "requested":
            assert (loaded - s.sampled_on).days <= 45, s.sampled_on
        else:
            assert (s.retest_decided_on - s.retest_requested_on).days <= 45


def test_every_random_inspection_has_a_replayable_published_draw(client, db, loaded):
    randoms = db.session.scalars(select(Inspection).where(Inspection.kind == "random")).all()
    assert randoms
    for i in randoms:
        assert i.draw_id is not None
        d = db.session.get(RandomDraw, i.draw_id)
        assert draws.replay_matches(d) and d.published
        picked = {r["workshop_id"]: r["inspector_ids"] for r in d.result}
        assert sorted(picked[i.workshop_id]) == sorted(u.id for u in i.inspectors)
        assert d.drawn_at.date() <= i.inspected_on <= d.published_at.date() + timedelta(days=1)
    page = client.get("/draws").get_data(as_text=True)
    assert "暂无" not in page and db.session.get(RandomDraw, randoms[0].draw_id).seed in (
        client.get(f"/draws/{randoms[0].draw_id}").get_data(as_text=True)
    )


def test_decisions_have_public_reasons_and_one_open_proposal_per_workshop(db, loaded):
    for d in db.session.scalars(select(TierDecision)):
        assert d.public_reason.strip()
        if d.direction != "initial":
            assert d.reason_category != "initial"
    open_per_workshop = db.session.execute(
        select(TierDecision.workshop_id, func.count())
        .where(TierDecision.status.in_(("proposed", "decided")))
        .group_by(TierDecision.workshop_id)
    ).all()
    assert open_per_workshop and all(n == 1 for _w, n in open_per_workshop)


def test_complaints_in_every_state_including_overdue_and_all_trackable(client, db, loaded):
    rows = db.session.scalars(select(Complaint)).all()
    assert {c.status for c in rows} == set(labels.COMPLAINT_STATUS)
    overdue = [c for c in rows if complaints.is_overdue(c, loaded)]
    assert {c.kind for c in overdue} == {"complaint", "report"}
    for c in rows:
        assert complaints.TRACKING_NO.fullmatch(c.tracking_no), c.tracking_no
        view = complaints.track(c.tracking_no, demo.DEMO_QUERY_PASSWORD)  # README: cx2026
        assert view is not None and view.overdue == complaints.is_overdue(c)
    # And through the page, as a member of the public types it.
    late = overdue[0]
    r = client.post("/track", data={"number": late.tracking_no, "password": "cx2026"})
    assert "已超期" in r.get_data(as_text=True)


def test_the_demo_history_is_on_a_public_chain_that_verifies(db, loaded):
    """The backfill writes the demo's published history straight to the driver: every record
    reads back through the ORM (its timestamp too), links to the one before and names the
    demo.load audit row that vouches for it."""
    from shifangbang import public_history
    from shifangbang.models import AuditLog, PublicRecord, Workshop

    records = db.session.scalars(select(PublicRecord).order_by(PublicRecord.seq)).all()
    assert len(records) > SIZE  # tier decisions, grants, status changes … of 150 workshops
    assert public_history.problems() == []
    vouching = db.session.scalar(select(AuditLog.seq).where(AuditLog.action == "demo.load"))
    assert {r.audit_seq for r in records} == {vouching}
    assert all(isinstance(r.at, datetime) and r.at <= utcnow() for r in records)
    assert {r.kind for r in records} >= {"tier", "title_grant", "status"}
    w = db.session.get(Workshop, records[0].workshop_id)
    assert public_history.history(w)[0]["recorded_at"].endswith("Z")
