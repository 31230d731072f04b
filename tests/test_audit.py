"""The audit log is hash-chained: edits, deletions and insertions are detected."""
from sqlalchemy import text

from shifangbang import audit

from . import factories as f


def _entries(db, n=4):
    u = f.user("admin")
    for i in range(n):
        audit.record(u, "test.action", "thing", i, before={"v": i}, after={"v": i + 1})
    db.session.flush()
    return u


def test_intact_chain_verifies(db):
    _entries(db)
    checked, problems = audit.verify()
    assert checked >= 4 and problems == []


def test_edited_row_is_detected(db):
    _entries(db)
    db.session.execute(text("UPDATE audit_log SET after = :v WHERE seq = 2"), {"v": '{"v": 999}'})
    db.session.expire_all()
    _, problems = audit.verify()
    assert any(p.seq == 2 and "修改" in p.message for p in problems)


def test_deleted_row_is_detected(db):
    _entries(db)
    db.session.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    db.session.expire_all()
    _, problems = audit.verify()
    assert any("删除" in p.message for p in problems)


def test_cli_verify_exit_code(runner, db):
    _entries(db)
    db.session.flush()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "哈希链无误" in result.output
    db.session.execute(text("UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 1"))
    db.session.expire_all()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
