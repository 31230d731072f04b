"""The demo exercises every part of the action programme, consistently with its rules."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from shifangbang import colourcode, current_deployment, demo, draws, plaques, public_status
from shifangbang.models import Complaint, Inspection, RandomDraw, TitleGrant
from shifangbang.programme_models import (
    ColourCodeAdoption,
    Cultivation,
    EnforcementCase,
    GrowthEntry,
    PlaqueRecovery,
    RiskMonitoring,
    StationReport,
)

DAY = date(2026, 11, 23)


@pytest.fixture
def loaded(db):
    demo.load(seed=7, size=150, today=DAY)
    return db


def test_programme_demo_rows_follow_the_rules(loaded):
    db = loaded
    p = current_deployment().programme
    # 色标化: mixed, and each status is what the latest inspection's colour items say.
    adoption = db.session.scalars(select(ColourCodeAdoption)).all()
    assert {a.status for a in adoption} >= {"done", "partial"}
    for a in adoption[:40]:
        latest = db.session.scalar(
            select(Inspection)
            .where(Inspection.workshop_id == a.workshop_id)
            .order_by(Inspection.id.desc())
            .limit(1)
        )
        assert a.inspection_id == latest.id and colourcode.status_from_items(latest) == a.status
        assert (a.completed_on is not None) == (a.status == "done")
    # Cases: one per report the demo opened a case on; decisions dated, published for the period.
    opened = db.session.scalars(
        select(Complaint.id).where(
            Complaint.kind == "report", Complaint.status.in_(("case_opened", "case_closed"))
        )
    ).all()
    cases = db.session.scalars(select(EnforcementCase)).all()
    assert sorted(c.complaint_id for c in cases if c.complaint_id) == sorted(opened)
    decided = [c for c in cases if c.status == "decided"]
    assert decided and any(c.status == "open" for c in cases)
    for c in decided:
        assert c.opened_on <= c.decided_on <= DAY
        assert c.publish_until == c.decided_on + timedelta(days=p.penalty_publication_days - 1)
    assert any(c.source == "inspection" for c in cases)
    assert public_status.penalties_for([c.workshop_id for c in decided if c.workshop_id], DAY)
    # Plaques: recovered after revocation and by today; at least one overdue.
    for r in db.session.scalars(select(PlaqueRecovery)):
        assert r.grant.revoked_on <= r.recovered_on <= DAY
    revoked = db.session.scalar(
        select(func.count(TitleGrant.id)).where(TitleGrant.status == "revoked")
    )
    assert revoked >= 2 and db.session.scalar(select(func.count(PlaqueRecovery.id))) >= 1
    assert any(
        s.grant.revoked_on + timedelta(days=p.plaque_recovery_days) < DAY and s.recovery is None
        for s in plaques.states(None)
    )
    # Risk monitoring: before the day; every problem has its follow-up due date.
    results = db.session.scalars(select(RiskMonitoring)).all()
    assert {m.result for m in results} == {"pass", "fail"}
    for m in results:
        assert m.sampled_on <= DAY
        assert (m.follow_up_due is not None) == (m.result == "fail")
    # 示范创建: workshops in the pool and under acceptance, none holding or barred from the title.
    pool = db.session.scalars(select(Cultivation)).all()
    assert {c.status for c in pool} >= {"pool", "applied"}
    for c in pool:
        assert c.entered_on <= (c.applied_on or c.entered_on) <= DAY
        assert not db.session.scalar(
            select(func.count(TitleGrant.id)).where(TitleGrant.workshop_id == c.workshop_id)
        )
    # Growth registers: both, the ledger at several stages; stage dates in order and past.
    entries = db.session.scalars(select(GrowthEntry)).all()
    assert {e.register for e in entries} == {"upgrade", "growth"}
    assert len({e.stage for e in entries if e.register == "upgrade"}) >= 3
    assert all(e.entered_on <= e.stage_on <= DAY for e in entries)
    # Reports: submitted ones never after the day; one overdue.
    reports = db.session.scalars(select(StationReport)).all()
    assert reports and all(r.submitted_on <= DAY for r in reports)
    # A registration spot check, replayable.
    checks = [d for d in db.session.scalars(select(RandomDraw)) if d.params.get("purpose")]
    assert checks and all(draws.replay_matches(d) for d in checks)
