"""Demo data: deterministic, complete (every state present), consistent with the domain rules."""

import hashlib
import json
from collections import defaultdict
from datetime import date

import pytest
from sqlalchemy import func, inspect, select, text

from shifangbang import audit, complaints, current_deployment, demo, labels, sampling, users
from shifangbang.inspections import overall_result
from shifangbang.models import (
    Complaint,
    ComplaintEvent,
    Inspection,
    InspectionItem,
    Jurisdiction,
    ProductCategory,
    RectificationItem,
    Sampling,
    TierDecision,
    TitleGrant,
    User,
    WechatBinding,
    WechatUser,
    Workshop,
)

SIZE = 120
DAY = date(2026, 11, 23)


def _digest(rows) -> str:
    return hashlib.sha256(json.dumps(rows, default=str, ensure_ascii=False).encode()).hexdigest()


def test_generation_is_deterministic_from_the_seed(app):
    with app.app_context():
        d = current_deployment()
        first = demo.generate(7, SIZE, DAY, d)
        assert _digest(first) == _digest(demo.generate(7, SIZE, DAY, d))
        assert _digest(first) != _digest(demo.generate(8, SIZE, DAY, d))
        # Names, codes and certificates do not depend on the day the demo is loaded.
        later = demo.generate(7, SIZE, date(2027, 3, 1), d)

    def pick(out):
        return [
            (w["name"], w["public_code"], w["cert_no"])
            for t, rows in out
            if t == "workshop"
            for w in rows
        ]

    assert pick(first) == pick(later)
    assert len(pick(first)) == SIZE


@pytest.fixture
def loaded(db):
    accounts = demo.load(seed=11, size=SIZE, today=DAY)
    return accounts


def _values(db, column):
    return set(db.session.scalars(select(column).distinct()))


def test_every_state_is_present(db, loaded):
    deployment = current_deployment()
    assert db.session.scalar(select(func.count(Workshop.id))) == SIZE
    assert _values(db, Workshop.tier_code) == set(deployment.tier_codes) | {"unrated"}
    assert _values(db, Workshop.status) == set(labels.WORKSHOP_STATUS)
    assert _values(db, Inspection.result) == set(labels.INSPECTION_RESULT)
    assert _values(db, Inspection.kind) == set(labels.INSPECTION_KIND)
    assert _values(db, Sampling.result) == set(labels.SAMPLING_RESULT)
    assert _values(db, Sampling.retest_status) == set(labels.RETEST_STATUS)
    assert {
        r
        for r in db.session.scalars(select(Sampling.retest_status).where(Sampling.result == "fail"))
    } == set(labels.RETEST_STATUS)
    assert _values(db, Complaint.kind) == set(labels.COMPLAINT_KIND)
    assert _values(db, Complaint.status) == set(labels.COMPLAINT_STATUS)
    for kind, statuses in (
        ("complaint", {"new", "accepted", "refused", "mediated", "terminated", "transferred"}),
        ("report", {"new", "verifying", "case_opened", "no_case", "case_closed", "transferred"}),
    ):
        assert (
            set(db.session.scalars(select(Complaint.status).where(Complaint.kind == kind)))
            == statuses
        )
    assert _values(db, TitleGrant.status) == set(labels.GRANT_STATUS)
    assert _values(db, TierDecision.status) == set(labels.TIER_DECISION_STATUS)
    assert {"initial", "upgrade", "downgrade"} <= _values(db, TierDecision.direction)
    # Harder cases a demo must show.
    assert db.session.scalar(
        select(func.count()).where(
            Complaint.workshop_id.is_(None), Complaint.unregistered_name.is_not(None)
        )
    )
    assert db.session.scalar(select(func.count()).where(Complaint.anonymous.is_(True)))
    assert db.session.scalar(
        select(func.count()).where(
            Complaint.status.in_(labels.OPEN_COMPLAINT_STATUSES), Complaint.due_on < DAY
        )
    )
    assert db.session.scalar(
        select(func.count()).where(
            Workshop.status == "open", Workshop.last_inspected_on < date(2025, 11, 23)
        )
    )
    fixed, open_, overdue = (
        db.session.scalar(select(func.count()).where(c))
        for c in (
            RectificationItem.fixed_on.is_not(None),
            RectificationItem.fixed_on.is_(None) & (RectificationItem.due_on >= DAY),
            RectificationItem.fixed_on.is_(None) & (RectificationItem.due_on < DAY),
        )
    )
    assert fixed and open_ and overdue
    assert db.session.scalar(select(func.count()).where(TitleGrant.barred_until.is_not(None)))
    high_risk = set(
        db.session.scalars(select(ProductCategory.name).where(ProductCategory.high_risk))
    )
    assert {
        "肉制品",
        "豆制品",
        "食醋",
        "糕点",
        "淀粉及淀粉制品",
        "食用油、油脂及其制品",
    } == high_risk


def test_one_account_per_role_and_passwords_work(db, loaded):
    roles = {
        role
        for role in db.session.scalars(
            select(User.role).where(User.username.in_([u for u, _p, _r in loaded]))
        )
    }
    assert roles == {"admin", "officer", "viewer"}
    for username, password, _label in loaded:
        users.check_password_strength(password)
        user, error = users.authenticate(username, password)
        assert user is not None and error is None
    officer = db.session.scalar(select(User).where(User.username == "officer"))
    assert officer.jurisdiction.level == "station"


def test_a_merged_station_holds_nothing_and_is_offered_nowhere(db, loaded):
    """The demo's former station (机构改革) as jurisdictions.merge leaves one: no workshop,
    account or case file, merged in the past, into a station in service."""
    from shifangbang import jurisdictions, rankings
    from shifangbang.models import JurisdictionMerge

    record = db.session.scalars(select(JurisdictionMerge)).one()
    source = db.session.get(Jurisdiction, record.source_id)
    assert source.level == "station" and record.target.merge is None
    assert record.merged_on < DAY and record.document
    assert set(jurisdictions.merge_preview(source).values()) == {0}
    assert source.id not in {p.id for p in rankings.stations()}


def test_foreign_keys_hold(db, loaded):
    """Every non-null foreign key value points at an existing row (checked for every table)."""
    conn = db.session.connection()
    insp = inspect(conn)
    checked = 0
    for table in insp.get_table_names():
        for fk in insp.get_foreign_keys(table):
            col, ref_col = fk["constrained_columns"][0], fk["referred_columns"][0]
            orphans = conn.execute(
                text(
                    f'SELECT COUNT(*) FROM "{table}" t WHERE t."{col}" IS NOT NULL AND NOT EXISTS '
                    f'(SELECT 1 FROM "{fk["referred_table"]}" r WHERE r."{ref_col}" = t."{col}")'
                )
            ).scalar()
            assert orphans == 0, f"{table}.{col}"
            checked += 1
    assert checked > 20


def test_current_tier_is_the_latest_published_decision(db, loaded):
    latest = {}
    for d in db.session.scalars(
        select(TierDecision)
        .where(TierDecision.status == "published")
        .order_by(TierDecision.published_at)
    ):
        latest[d.workshop_id] = d
    for w in db.session.scalars(select(Workshop)):
        d = latest.get(w.id)
        assert (w.tier_code, w.tier_since) == (
            (d.to_tier, d.effective_on) if d else ("unrated", None)
        ), w.name


def test_inspections_agree_with_rule_and_workshops(db, loaded):
    items = defaultdict(list)
    for item in db.session.scalars(select(InspectionItem).order_by(InspectionItem.id)):
        items[item.inspection_id].append(item)
    codes = [i["code"] for i in current_deployment().checklist_items()]
    last = defaultdict(lambda: None)
    for insp in db.session.scalars(select(Inspection)):
        assert [i.code for i in items[insp.id]] == codes
        assert insp.result == overall_result(items[insp.id])
        assert len(insp.inspectors) >= 2
        last[insp.workshop_id] = max(filter(None, (last[insp.workshop_id], insp.inspected_on)))
    for w in db.session.scalars(select(Workshop)):
        assert w.last_inspected_on == last[w.id]


def test_samplings_and_complaints_are_consistent(db, loaded):
    for s in db.session.scalars(select(Sampling)):
        # As sampling.record and request_retest would take them: the notice dated between
        # sampling and today, a re-test asked within its window from the notice.
        assert s.notice_no and s.sampled_on <= s.notice_on <= DAY
        if s.retest_requested_on is not None:
            assert s.notice_on <= s.retest_requested_on <= sampling.retest_deadline(s)
        if s.result == "fail":
            assert s.failed_item and s.measured_value and s.limit_value
        else:
            assert s.retest_status == "none" and s.failed_item is None
    deployment = current_deployment()
    assert all(
        deployment.valid_certificate_number(c) for c in db.session.scalars(select(Workshop.cert_no))
    )
    for c in db.session.scalars(select(Complaint)):
        events = db.session.scalars(
            select(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == c.id)
            .order_by(ComplaintEvent.id)
        ).all()
        assert events[0].to_status == "new" and events[-1].to_status == c.status
        assert all(e.public_reply for e in events)
        assert all(a.to_status == b.from_status for a, b in zip(events, events[1:]))
        assert (c.refusal_reason in labels.REFUSAL_REASONS) == (c.status == "refused")
        assert (c.termination_reason in labels.TERMINATION_REASONS) == (c.status == "terminated")
        if c.kind == "complaint":
            assert c.reporter_name and c.reporter_phone and not c.anonymous
        assert c.due_on >= c.received_at.date()
    # The README's password works on /track as typed (it upper-cases what is typed).
    c = db.session.scalars(select(Complaint)).first()
    assert complaints.track(c.tracking_no, demo.DEMO_QUERY_PASSWORD) is not None


def test_some_named_cases_are_bound_to_mini_program_users_as_a_filing_binds_them(db, loaded):
    bound = db.session.execute(
        select(Complaint, WechatBinding, WechatUser)
        .join(WechatBinding, WechatBinding.complaint_id == Complaint.id)
        .join(WechatUser, WechatUser.id == WechatBinding.user_id)
    ).all()
    assert len(bound) >= 2
    for c, _b, u in bound:
        assert not c.anonymous  # an anonymous report is never bound
        assert u.created_at <= u.last_login_at <= c.received_at and u.openid.startswith("demo-")
        if c.reporter_phone_verified_at is not None:
            assert c.reporter_phone and c.reporter_phone_verified_at >= c.received_at
    assert any(c.reporter_phone_verified_at for c, _b, _u in bound)
    assert any(c.reporter_phone_verified_at is None for c, _b, _u in bound)
    # Only a case filed from the mini-program has its phone confirmed through WeChat.
    unbound = select(func.count(Complaint.id)).where(
        Complaint.reporter_phone_verified_at.is_not(None),
        Complaint.id.not_in(select(WechatBinding.complaint_id)),
    )
    assert db.session.scalar(unbound) == 0


def test_audit_chain_verifies(db, loaded):
    checked, problems = audit.verify()
    assert checked >= 1 and problems == []


def test_refused_on_non_empty_database(db, loaded):
    with pytest.raises(demo.DemoError):
        demo.load(seed=1, size=5, today=DAY)


def test_cli_demo_load_refuses_non_empty_database(runner, db):
    from tests import factories as f

    f.workshop(f.jurisdictions()["xinaobao"])
    db.session.commit()
    result = runner.invoke(args=["demo", "load", "--size", "5"])
    assert result.exit_code != 0
    assert "空库" in result.output
    assert db.session.scalar(select(func.count(Jurisdiction.id))) == 6  # nothing was added


def test_cli_demo_load_prints_sign_ins(runner, db):
    result = runner.invoke(args=["demo", "load", "--size", "30", "--seed", "3"])
    assert result.exit_code == 0, result.output
    for username, password, _role in demo.DEMO_ACCOUNTS:
        assert f"{username} / {password}" in result.output
    assert db.session.scalar(select(func.count(Workshop.id))) == 30


def test_load_writes_what_the_generator_says_through_the_producer(db, monkeypatch):
    """The forked producer (large demos) and the checklist expansion in SQL write exactly the
    rows the generator makes: same workshops, same checklist items in the same id order."""
    monkeypatch.setattr(demo, "PIPELINE_MIN", 1)
    demo.load(seed=5, size=SIZE, today=DAY)
    made = dict.fromkeys(("workshop", "inspection_item"), [])
    for table, rows in demo.generate(5, SIZE, DAY, current_deployment()):
        if table in made:
            made[table] = made[table] + rows
    assert [(w["id"], w["name"], w["public_code"]) for w in made["workshop"]] == [
        tuple(r)
        for r in db.session.execute(
            select(Workshop.id, Workshop.name, Workshop.public_code).order_by(Workshop.id)
        )
    ]
    items = db.session.execute(
        select(*(getattr(InspectionItem, c) for c in demo.ITEM_COLUMNS)).order_by(InspectionItem.id)
    ).all()
    assert len(items) > 20 * SIZE
    assert [tuple(r) for r in items] == [tuple(r) for r in made["inspection_item"]]


def test_a_failing_producer_is_reported(db, monkeypatch):
    monkeypatch.setattr(demo, "PIPELINE_MIN", 1)

    def broken(self, count):
        raise RuntimeError("boom")

    monkeypatch.setattr(demo.Generator, "workshops", broken)
    with pytest.raises(demo.DemoError, match="boom"):
        demo.load(seed=5, size=SIZE, today=DAY)
