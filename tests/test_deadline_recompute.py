"""A new holiday calendar: `flask deadlines recompute` recounts open items' due dates, audited."""

from datetime import date, datetime, timedelta

from sqlalchemy import select

from shifangbang import complaints, deadlines
from shifangbang.models import AuditLog

from .complaint_data import place, submit


def _received(c, day: date) -> None:
    c.received_at = datetime(day.year, day.month, day.day, 2)  # 10:00 in China


def test_recompute_fixes_provisional_and_leaves_official_unless_all(db, runner):
    p = place()
    a = next(iter(_items(submit(p["workshop"], kind="report"))))
    b = next(iter(_items(submit(p["workshop"], kind="report", ip="10.0.0.2"))))
    _received(a, date(2026, 12, 28))  # due in 2027: counted without an official calendar
    _received(b, date(2026, 6, 1))  # due in 2026: official
    right_a, right_b = complaints.next_deadline(a), complaints.next_deadline(b)
    assert deadlines.provisional(date(2026, 12, 28), right_a)
    a.due_on, b.due_on = right_a - timedelta(days=3), right_b - timedelta(days=3)
    db.session.flush()

    dry = runner.invoke(args=["deadlines", "recompute", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert a.tracking_no in dry.output and b.tracking_no not in dry.output
    db.session.refresh(a)
    assert a.due_on == right_a - timedelta(days=3)  # a dry run changes nothing

    result = runner.invoke(args=["deadlines", "recompute"])
    assert result.exit_code == 0, result.output
    db.session.refresh(a)
    db.session.refresh(b)
    assert a.due_on == right_a and b.due_on == right_b - timedelta(days=3)
    row = db.session.scalar(
        select(AuditLog).where(
            AuditLog.action == "complaint.deadline_recompute", AuditLog.entity_id == str(a.id)
        )
    )
    assert row.before["due_on"] == (right_a - timedelta(days=3)).isoformat()
    assert row.after["due_on"] == right_a.isoformat()

    result = runner.invoke(args=["deadlines", "recompute", "--all"])
    db.session.refresh(b)
    assert b.due_on == right_b and "已调整 1 件" in result.output


def _items(receipt):
    from shifangbang.extensions import db
    from shifangbang.models import Complaint

    return [
        db.session.scalar(select(Complaint).where(Complaint.tracking_no == no))
        for _, no, _ in receipt.items
    ]
