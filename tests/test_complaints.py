"""Complaints domain: submission rules, routing, deadlines, every workflow step (allowed and
forbidden), events and audit, 查实 → tier review, tracking, confidentiality, the inbox."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from shifangbang import access, complaints, deadlines
from shifangbang.models import AuditLog, Complaint, TierDecision
from shifangbang.timeutil import local, today, utcnow
from tests import complaint_data as cd


@pytest.fixture
def p(db):
    places = cd.place()
    db.session.commit()
    return places


# --- submission ----------------------------------------------------------------------------------


def test_complaint_needs_real_name_and_valid_mobile(p, db):
    with pytest.raises(complaints.SubmissionInvalid) as e:
        cd.submit(p["workshop"], name="", phone="12345")
    assert "真实姓名" in e.value.errors["name"]
    assert "手机号码" in e.value.errors["phone"]
    for bad in ("1381234567", "23812345678", "138123456789", "abc"):
        with pytest.raises(complaints.SubmissionInvalid) as e:
            cd.submit(p["workshop"], phone=bad)
        assert "phone" in e.value.errors
    # Spaces, dashes and +86 are accepted and stored normalised.
    c = cd.one(cd.submit(p["workshop"], phone="+86 138-1234-5678"))
    assert c.reporter_phone == "13812345678"


def test_complaint_cannot_be_anonymous_and_needs_a_demand(p, db):
    with pytest.raises(complaints.SubmissionInvalid) as e:
        cd.submit(p["workshop"], anonymous="1", demand="")
    assert "匿名" in e.value.errors["anonymous"] and "诉求" in e.value.errors["demand"]


def test_anonymous_report_stores_no_identity(p, db):
    c = cd.one(
        cd.submit(p["workshop"], kind="report", anonymous="1", name="张三", phone="13900000000")
    )
    assert c.anonymous and c.reporter_name is None and c.reporter_phone is None
    assert c.kind == "report" and c.status == "new"


def test_insider_needs_real_name(p, db):
    with pytest.raises(complaints.SubmissionInvalid) as e:
        cd.submit(p["workshop"], kind="report", insider="1", anonymous="1", name="", phone="")
    assert "内部知情人" in e.value.errors["name"]
    c = cd.one(cd.submit(p["workshop"], kind="report", insider="1"))
    assert c.insider and not c.anonymous and c.reporter_name == cd.NAME


def test_both_makes_two_items_sharing_submission_and_password(p, db):
    r = cd.submit(p["workshop"], kind="both")
    assert [k for k, _, _ in r.items] == ["complaint", "report"]
    a, b = cd.one(r, "complaint"), cd.one(r, "report")
    assert a.submission_id == b.submission_id and a.id != b.id
    assert a.tracking_no.startswith("TS") and b.tracking_no.startswith("JB")
    assert a.demand and b.demand is None
    for number in (a.tracking_no, b.tracking_no):
        assert complaints.track(number, r.password) is not None


def test_routing_to_station_or_chosen_county(p, db):
    assert cd.one(cd.submit(p["workshop"])).jurisdiction_id == p["xinaobao"].id
    r = cd.submit(
        None,
        kind="report",
        anonymous="1",
        unregistered_name="无名豆腐坊",
        unregistered_address="东河区某村东头蓝色铁门",
        county=str(p["donghe"].id),
    )
    c = cd.one(r)
    assert c.workshop_id is None and c.jurisdiction_id == p["donghe"].id
    assert c.unregistered_address == "东河区某村东头蓝色铁门"
    with pytest.raises(complaints.SubmissionInvalid) as e:  # a station is not a county choice
        cd.submit(
            None,
            kind="report",
            anonymous="1",
            unregistered_address="某处",
            county=str(p["xinaobao"].id),
        )
    assert "county" in e.value.errors
    with pytest.raises(complaints.SubmissionInvalid) as e:
        cd.submit(None, kind="report", anonymous="1", county=str(p["donghe"].id))
    assert "地址" in e.value.errors["unregistered_address"]


def test_tracking_numbers_are_random_and_password_is_hashed(p, db):
    receipts = [cd.submit(p["workshop"]) for _ in range(5)]
    numbers = [r.items[0][1] for r in receipts]
    assert len(set(numbers)) == 5
    assert all(complaints.TRACKING_NO.fullmatch(n) for n in numbers)
    digits = sorted(int(n[2:]) for n in numbers)
    assert any(b - a > 1000 for a, b in zip(digits, digits[1:]))  # not a sequence
    c = cd.one(receipts[0])
    assert receipts[0].password not in c.password_hash and c.password_hash.startswith("pbkdf2:")
    assert len(receipts[0].password) == complaints.PASSWORD_LENGTH


def test_honeypot_refuses_without_storing(p, db):
    before = db.session.scalar(select(Complaint.id).order_by(Complaint.id.desc()).limit(1))
    with pytest.raises(complaints.SpamSuspected):
        cd.submit(p["workshop"], website="http://spam.example")
    assert db.session.scalar(select(Complaint.id).order_by(Complaint.id.desc()).limit(1)) == before


def test_similar_submission_is_suggested_never_blocked(p, db):
    first = cd.submit(p["workshop"], ip="10.1.1.1")
    assert not first.similar_recent
    second = cd.submit(p["workshop"], ip="10.1.1.1")
    assert second.similar_recent and cd.one(second).id  # stored all the same
    assert not cd.submit(p["workshop"], ip="10.9.9.9").similar_recent
    # Older than 7 days: no suggestion.
    db.session.execute(
        Complaint.__table__.update().values(received_at=utcnow() - timedelta(days=8))
    )
    assert not cd.submit(p["workshop"], ip="10.1.1.1").similar_recent
    # The fingerprint is keyed: it does not contain the address.
    assert "10.1.1.1" not in (cd.one(second).client_fingerprint or "")


def test_submission_event_and_first_deadline(p, db):
    c = cd.one(cd.submit(p["workshop"]))
    assert [(e.from_status, e.to_status) for e in c.events] == [(None, "new")]
    assert c.due_on == deadlines.add_working_days(local(c.received_at).date(), 7)
    r = cd.one(cd.submit(p["workshop"], kind="report", anonymous="1"))
    assert r.due_on == deadlines.add_working_days(local(r.received_at).date(), 15)


# --- deadlines per stage -------------------------------------------------------------------------


def _at(day: date, hour_local=10) -> datetime:
    return datetime(day.year, day.month, day.day, hour_local) - timedelta(hours=8)  # naive UTC


def test_next_deadline_by_stage_across_national_day():
    c = Complaint(
        kind="complaint", status="new", received_at=_at(date(2026, 9, 30)), extended=False
    )
    assert complaints.next_deadline(c) == date(2026, 10, 15)
    # Received 9/29 at 23:30 UTC is already 9/30 in China.
    c.received_at = datetime(2026, 9, 29, 23, 30)
    assert complaints.next_deadline(c) == date(2026, 10, 15)
    c.status = "accepted"
    assert complaints.next_deadline(c, stage_start=date(2026, 8, 2)) == date(
        2026, 10, 8
    )  # 10/1 → 10/8
    r = Complaint(
        kind="report", status="verifying", received_at=_at(date(2026, 2, 12)), extended=False
    )
    assert complaints.next_deadline(r) == date(2026, 3, 11)
    r.extended = True
    assert complaints.next_deadline(r) == date(2026, 4, 1)
    r.status, r.extended = "case_opened", False
    assert complaints.next_deadline(r, stage_start=date(2026, 7, 3)) == date(2026, 10, 8)
    r.extended = True
    assert complaints.next_deadline(r, stage_start=date(2026, 7, 3)) == date(
        2026, 11, 2
    )  # 10/31 Sat


# --- the workflow --------------------------------------------------------------------------------

PATHS = {  # action → (kind, the actions that lead to its source status)
    "accept": ("complaint", []),
    "refuse": ("complaint", []),
    "mediate": ("complaint", ["accept"]),
    "terminate": ("complaint", ["accept"]),
    "verify": ("report", []),
    "open_case": ("report", ["verify"]),
    "no_case": ("report", ["verify"]),
    "close_case": ("report", ["verify", "open_case"]),
    "transfer": ("report", ["verify"]),
}
ARGS = {
    "refuse": {"reason": "not_consumption"},
    "terminate": {"reason": "no_agreement"},
    "no_case": {"note": "情节轻微，已当场责令改正"},
    "transfer": {"note": "移送卫健部门"},
}


def _item(p, kind):
    extra = {"anonymous": "1"} if kind == "report" else {}
    return cd.one(cd.submit(p["workshop"], kind=kind, **extra))


def test_transition_table_covers_every_status():
    targets = {t.target for t in complaints.TRANSITIONS.values()}
    assert targets | {"new"} == set(complaints.COMPLAINT_STATUS)
    assert set(PATHS) == set(complaints.TRANSITIONS)


@pytest.mark.parametrize("action", sorted(PATHS))
def test_each_transition_records_event_audit_and_deadline(p, db, action):
    kind, path = PATHS[action]
    c = _item(p, kind)
    db.session.commit()
    for step in path:
        complaints.transition(p["officer"], c, step, **ARGS.get(step, {}))
    audits_before = db.session.query(AuditLog).count()
    t = complaints.TRANSITIONS[action]
    source = c.status
    ev = complaints.transition(
        p["officer"], c, action, public_reply="已收到，正在办理。", **ARGS.get(action, {})
    )
    assert c.status == t.target
    assert (ev.from_status, ev.to_status, ev.actor_id) == (source, t.target, p["officer"].id)
    assert ev.public_reply == "已收到，正在办理。"
    assert db.session.query(AuditLog).count() == audits_before + 1
    entry = db.session.scalars(select(AuditLog).order_by(AuditLog.seq.desc()).limit(1)).one()
    assert entry.action == f"complaint.{action}" and entry.entity_id == str(c.id)
    assert entry.before["status"] == source and entry.after["status"] == t.target
    if t.target in complaints.CLOSED_STATUSES:
        assert c.closed_at is not None
    if t.target == "accepted":
        assert c.due_on == deadlines.period_end(today(), 60)
    if t.target == "case_opened":
        assert c.due_on == deadlines.period_end(today(), 90)
    # The same step again is refused: the status moved on.
    with pytest.raises(complaints.ComplaintError, match="当前状态"):
        complaints.transition(p["officer"], c, action, **ARGS.get(action, {}))


@pytest.mark.parametrize(
    "action", sorted(a for a, t in complaints.TRANSITIONS.items() if len(t.kinds) == 1)
)
def test_each_transition_refused_for_the_wrong_kind(p, db, action):
    kind, _ = PATHS[action]
    other = _item(p, "report" if kind == "complaint" else "complaint")
    db.session.commit()
    with pytest.raises(complaints.ComplaintError, match="不能进行"):
        complaints.transition(p["officer"], other, action, **ARGS.get(action, {}))
    assert other.status == "new"


@pytest.mark.parametrize("action", sorted(PATHS))
@pytest.mark.parametrize("who", ["other_officer", "viewer"])
def test_each_transition_forbidden_outside_the_handling_station(p, db, action, who):
    kind, path = PATHS[action]
    c = _item(p, kind)
    db.session.commit()
    for step in path:
        complaints.transition(p["officer"], c, step, **ARGS.get(step, {}))
    source = c.status
    with pytest.raises(access.Forbidden):
        complaints.transition(p[who], c, action, **ARGS.get(action, {}))
    db.session.refresh(c)
    assert c.status == source


def test_county_officer_and_admin_may_handle_station_items(p, db):
    c = _item(p, "complaint")
    complaints.transition(p["county_officer"], c, "accept")
    complaints.transition(p["admin"], c, "mediate")
    assert c.status == "mediated"


def test_reasons_come_from_closed_lists(p, db):
    c = _item(p, "complaint")
    db.session.commit()
    for bad in (None, "", "不想处理"):
        with pytest.raises(complaints.ComplaintError, match="理由"):
            complaints.transition(p["officer"], c, "refuse", reason=bad)
    complaints.transition(p["officer"], c, "refuse", reason="over_three_years")
    assert c.refusal_reason == "over_three_years"
    d = _item(p, "complaint")
    complaints.transition(p["officer"], d, "accept")
    db.session.commit()
    with pytest.raises(complaints.ComplaintError):
        complaints.transition(
            p["officer"], d, "terminate", reason="over_three_years"
        )  # a refusal reason
    complaints.transition(p["officer"], d, "terminate", reason="timeout")
    assert d.termination_reason == "timeout"


def test_no_case_and_transfer_need_a_written_reason(p, db):
    c = _item(p, "report")
    complaints.transition(p["officer"], c, "verify")
    db.session.commit()
    for action in ("no_case", "transfer"):
        with pytest.raises(complaints.ComplaintError, match="请填写"):
            complaints.transition(p["officer"], c, action, note="  ")
    assert c.status == "verifying"


def test_unknown_action_refused(p, db):
    c = _item(p, "complaint")
    with pytest.raises(complaints.ComplaintError):
        complaints.transition(p["officer"], c, "delete")


def test_concurrent_step_is_refused(p, db):
    c = _item(p, "complaint")
    db.session.commit()
    # Another officer accepted it meanwhile (the row changed under this session's object).
    db.session.execute(
        Complaint.__table__.update().where(Complaint.id == c.id).values(status="accepted")
    )
    with pytest.raises(complaints.ComplaintError, match="刚被其他人处理"):
        complaints.transition(p["officer"], c, "refuse", reason="not_consumption")


def test_extension_once_with_reason_for_reports_only(p, db):
    r = _item(p, "report")
    db.session.commit()
    received = local(r.received_at).date()
    with pytest.raises(complaints.ComplaintError, match="理由"):
        complaints.extend(p["officer"], r, "")
    with pytest.raises(access.Forbidden):
        complaints.extend(p["other_officer"], r, "案情复杂")
    complaints.extend(p["officer"], r, "需要检验，经局长批准")
    assert r.extended and r.due_on == deadlines.add_working_days(received, 30)
    with pytest.raises(complaints.ComplaintError, match="一次"):
        complaints.extend(p["officer"], r, "再延一次")
    complaints.transition(p["officer"], r, "verify")
    assert r.due_on == deadlines.add_working_days(received, 30)  # extension carries into verifying
    complaints.transition(p["officer"], r, "open_case")
    assert not r.extended and r.due_on == deadlines.period_end(today(), 90)
    complaints.extend(p["officer"], r, "案情复杂，经批准延长")
    assert r.due_on == deadlines.period_end(today(), 120)
    entry = db.session.scalars(select(AuditLog).order_by(AuditLog.seq.desc()).limit(1)).one()
    assert entry.action == "complaint.extend"
    c = _item(p, "complaint")
    db.session.commit()
    with pytest.raises(complaints.ComplaintError, match="举报"):
        complaints.extend(p["officer"], c, "理由")


def test_assignment_notes_and_replies(p, db):
    c = _item(p, "complaint")
    db.session.commit()
    complaints.assign(p["officer"], c, p["officer"])
    assert c.assigned_to_id == p["officer"].id
    with pytest.raises(complaints.ComplaintError, match="指派"):
        complaints.assign(p["officer"], c, p["other_officer"])
    with pytest.raises(complaints.ComplaintError):
        complaints.assign(p["officer"], c, p["viewer"])
    with pytest.raises(access.Forbidden):
        complaints.assign(p["other_officer"], c, p["other_officer"])
    complaints.add_note(p["officer"], c, "已电话联系作坊负责人")
    complaints.reply(p["officer"], c, "您的投诉已转办理人员。")
    with pytest.raises(complaints.ComplaintError):
        complaints.reply(p["officer"], c, "   ")
    actions = db.session.scalars(
        select(AuditLog.action).where(
            AuditLog.entity == "complaint", AuditLog.entity_id == str(c.id)
        )
    ).all()
    assert {"complaint.assign", "complaint.note", "complaint.reply"} <= set(actions)
    assert [e.note for e in c.events if e.note][-1] == "已电话联系作坊负责人"


def test_verified_report_opens_a_tier_review(p, db):
    w = p["workshop"]
    w.tier_code = "silver"
    r = _item(p, "report")
    db.session.commit()
    with pytest.raises(complaints.ComplaintError, match="先受理"):
        complaints.record_finding(p["officer"], r, True)
    complaints.transition(p["officer"], r, "verify")
    with pytest.raises(access.Forbidden):
        complaints.record_finding(p["other_officer"], r, True)
    review = complaints.record_finding(p["officer"], r, True, "现场发现过期原料")
    assert r.verified is True
    assert isinstance(review, TierDecision)
    assert (review.complaint_id, review.to_tier, review.status) == (r.id, "bronze", "proposed")
    with pytest.raises(complaints.ComplaintError, match="已记录"):
        complaints.record_finding(p["officer"], r, False)
    # 查无实据 opens nothing.
    r2 = _item(p, "report")
    complaints.transition(p["officer"], r2, "verify")
    assert complaints.record_finding(p["officer"], r2, False) is None
    assert db.session.scalar(select(TierDecision).where(TierDecision.complaint_id == r2.id)) is None


def test_reroute_black_workshop_from_county_to_station(p, db):
    r = cd.one(
        cd.submit(
            None,
            kind="report",
            anonymous="1",
            unregistered_address="某村",
            county=str(p["donghe"].id),
        )
    )
    db.session.commit()
    with pytest.raises(access.Forbidden):  # a station officer cannot act on a county item
        complaints.transition(p["officer"], r, "verify")
    with pytest.raises(access.Forbidden):
        complaints.reroute(p["other_officer"], r, p["xinaobao"])
    complaints.reroute(p["county_officer"], r, p["nanmen"])
    assert r.jurisdiction_id == p["nanmen"].id
    complaints.transition(p["other_officer"], r, "verify")


# --- tracking ------------------------------------------------------------------------------------


def test_track_same_answer_for_wrong_number_and_wrong_password(p, db):
    r = cd.submit(p["workshop"])
    number = r.items[0][1]
    assert complaints.track(number, r.password) is not None
    assert complaints.track(number.lower().replace("TS", "ts "), r.password.lower()) is not None
    assert complaints.track(number, "WRONGPASS2") is None
    assert complaints.track("TS0000000000", r.password) is None
    assert complaints.track("", "") is None


def test_track_view_has_status_replies_not_text_notes_or_identity(p, db):
    r = cd.submit(p["workshop"])
    c = cd.one(r)
    complaints.add_note(p["officer"], c, "内部：举报人是邻居")
    complaints.transition(
        p["officer"], c, "accept", note="内部备注不公开", public_reply="已受理，将组织调解。"
    )
    complaints.reply(p["officer"], c, "作坊同意退款。")
    v = complaints.track(r.items[0][1], r.password)
    assert v.status == "已受理（调解中）"
    assert [e.status for e in v.timeline] == ["待处理", "已受理（调解中）", None]
    assert [e.reply for e in v.timeline][1:] == ["已受理，将组织调解。", "作坊同意退款。"]
    dump = repr(v)
    for secret in (cd.CONTENT, cd.NAME, cd.PHONE, "内部", "退款并道歉"):
        assert secret not in dump


def test_refusal_reason_label_shown_on_track(p, db):
    r = cd.submit(p["workshop"])
    complaints.transition(p["officer"], cd.one(r), "refuse", reason="not_consumption")
    v = complaints.track(r.items[0][1], r.password)
    assert v.timeline[-1].reason == complaints.REFUSAL_REASONS["not_consumption"]


# --- confidentiality -----------------------------------------------------------------------------


def test_identity_only_for_handling_officers_and_admins_and_audited(p, db):
    c = cd.one(cd.submit(p["workshop"]))
    db.session.commit()
    for who in ("other_officer", "viewer"):
        with pytest.raises(access.Forbidden):
            complaints.reporter_identity(p[who], c)
    assert db.session.query(AuditLog).filter_by(action="complaint.view_reporter").count() == 0
    for who in ("officer", "county_officer", "admin"):
        ident = complaints.reporter_identity(p[who], c)
        assert (ident.name, ident.phone) == (cd.NAME, cd.PHONE)
    views = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.action == "complaint.view_reporter")
        .order_by(AuditLog.id)  # PostgreSQL returns rows in no set order without one
    ).all()
    assert [v.actor_id for v in views] == [p["officer"].id, p["county_officer"].id, p["admin"].id]
    assert all(v.entity_id == str(c.id) for v in views)


def test_audit_entries_never_hold_identity(p, db):
    c = cd.one(cd.submit(p["workshop"]))
    complaints.transition(p["officer"], c, "accept")
    complaints.reporter_identity(p["officer"], c)
    for row in db.session.scalars(select(AuditLog).where(AuditLog.entity == "complaint")):
        text = repr((row.before, row.after))
        assert cd.NAME not in text and cd.PHONE not in text


# --- inbox ---------------------------------------------------------------------------------------


def test_inbox_scope_filters_order_and_pagination(p, db):
    mine = [_item(p, "complaint") for _ in range(3)]
    other_w = cd.factories.workshop(p["nanmen"])
    theirs = cd.one(cd.submit(other_w))
    complaints.transition(p["officer"], mine[0], "accept")
    mine[1].due_on = today() - timedelta(days=1)
    complaints.assign(p["officer"], mine[2], p["officer"])
    db.session.commit()
    items, total = complaints.inbox(p["officer"], complaints.InboxFilter())
    ids = [c.id for c in items]
    assert theirs.id not in ids and {c.id for c in mine} <= set(ids)
    assert [c.status for c in items].index("accepted") > max(
        i for i, c in enumerate(items) if c.status == "new"
    )
    assert [
        c.id for c in complaints.inbox(p["officer"], complaints.InboxFilter(overdue=True))[0]
    ] == [mine[1].id]
    assert [
        c.id
        for c in complaints.inbox(
            p["officer"], complaints.InboxFilter(assignee_id=p["officer"].id)
        )[0]
    ] == [mine[2].id]
    assert [
        c.status
        for c in complaints.inbox(p["officer"], complaints.InboxFilter(status="accepted"))[0]
    ] == ["accepted"]
    assert complaints.inbox(p["officer"], complaints.InboxFilter(kind="report"))[1] == 0
    admin_ids = [
        c.id for c in complaints.inbox(p["admin"], complaints.InboxFilter(per_page=100))[0]
    ]
    assert theirs.id in admin_ids
    page1, total = complaints.inbox(p["admin"], complaints.InboxFilter(per_page=2))
    page2, _ = complaints.inbox(p["admin"], complaints.InboxFilter(per_page=2, page=2))
    assert len(page1) == 2 and total >= 4 and not {c.id for c in page1} & {c.id for c in page2}
    with pytest.raises(access.Forbidden):
        complaints.get_for(p["other_officer"], mine[0].id)


def test_inbox_query_count_does_not_grow_with_rows(p, db):
    def count_queries(n_items):
        for _ in range(n_items):
            c = _item(p, "complaint")
            complaints.assign(p["officer"], c, p["officer"])
        db.session.commit()
        db.session.expire_all()
        statements = []
        listener = lambda *a, **k: statements.append(1)  # noqa: E731
        engine = db.session.get_bind()
        event.listen(engine, "before_cursor_execute", listener)
        try:
            items, _ = complaints.inbox(p["admin"], complaints.InboxFilter(per_page=100))
            _ = [
                (
                    c.workshop.name if c.workshop else None,
                    c.jurisdiction.name,
                    c.assigned_to.display_name if c.assigned_to else None,
                )
                for c in items
            ]
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    assert count_queries(2) == count_queries(8)
