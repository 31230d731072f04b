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


def test_cli_verify_detects_altered_registry_change(runner, db):
    """End to end: a real registry edit, then someone rewrites its 'before' value in the database."""
    from shifangbang import registry

    from .registry_helpers import domain_data, world

    w = world(db)
    data = domain_data(w.own.station, name="改过的名字", cert_no=w.own.cert_no)
    registry.update_workshop(w.officer, w.own.id, data, w.own.version)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    seq = db.session.scalar(text("SELECT seq FROM audit_log WHERE action = 'workshop.edit'"))
    db.session.execute(
        text("UPDATE audit_log SET actor_id = NULL, actor_name = 'system' WHERE seq = :s"),
        {"s": seq},
    )
    db.session.expire_all()
    result = runner.invoke(args=["audit", "verify"])
    assert (
        result.exit_code == 1 and f"第 {seq} 条" in result.output and "记录被修改" in result.output
    )


def test_inserted_row_without_chain_is_detected(db):
    _entries(db, 2)
    db.session.execute(
        text(
            "INSERT INTO audit_log (at, actor_name, action, entity) "
            "VALUES (CURRENT_TIMESTAMP, 'mallory', 'workshop.edit', 'workshop')"
        )
    )
    db.session.expire_all()
    _, problems = audit.verify()
    assert any(p.seq is None and "直接插入" in p.message for p in problems)


def test_daily_runs_every_job_and_fails_when_one_does(runner, db, app, tmp_path):
    """`flask daily` (the systemd timer's command): titles, open data, deadlines, audit chain; a
    broken audit chain fails it (exit 1) without stopping the jobs before it."""
    app.config["OPENDATA_DIR"] = str(tmp_path / "opendata")
    _entries(db)
    result = runner.invoke(args=["daily"])
    assert result.exit_code == 0, result.output
    for line in ("评估完成", "开放数据", "件在办事项的办理期限", "哈希链无误", "每日任务全部完成"):
        assert line in result.output, line
    assert any((tmp_path / "opendata").iterdir())  # today's export was written
    db.session.execute(text("UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 1"))
    db.session.expire_all()
    result = runner.invoke(args=["daily"])
    assert result.exit_code == 1 and "评估完成" in result.output
    assert "每日任务有 1 项失败：审计日志" in result.output
