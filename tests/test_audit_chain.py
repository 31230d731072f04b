"""History anchored outside the database (issue 14, item 7): a keyed chain, heads kept in a file,
and a public chain of each workshop's statements that anyone can recompute."""

import hashlib
import hmac
import json

import pytest
from sqlalchemy import select, text

from shifangbang import audit, opendata, public_history, tiers
from shifangbang.extensions import db as _db
from shifangbang.models import AuditLog, PublicRecord

from . import factories as f
from .conftest import make_test_app


def _published_tier(admin, w, to="silver"):
    d = tiers.propose(
        admin,
        w,
        to,
        "inspection",
        "连续两次检查符合要求",
        public_reason="连续两次监督检查结果为符合。",
    )
    tiers.decide(admin, d, True)
    return tiers.publish(admin, d)


def _rechain_plain(session, start_seq: int) -> None:
    """What an insider without the key can do: edit a row, then recompute every later hash the
    way the old (unkeyed) chain did."""
    rows = session.scalars(select(AuditLog).where(AuditLog.seq >= start_seq).order_by(AuditLog.seq))
    prev = session.scalar(select(AuditLog.hash).where(AuditLog.seq == start_seq - 1))
    for row in rows:
        row.prev_hash = prev
        row.hash = audit._digest(row, None)
        prev = row.hash
    session.flush()


def test_rows_are_sealed_with_the_key(db):
    admin = f.user("admin")
    row = audit.record(admin, "test.action", "thing", 1, after={"v": 1})
    assert row.key_id == audit.key_id(b"test-audit-key")
    body_hash_plain = audit._digest(row, None)
    assert row.hash != body_hash_plain  # not a plain SHA-256 anyone could recompute
    assert row.hash == audit._digest(row, b"test-audit-key")


def test_middle_row_rewritten_with_recomputed_plain_hashes_fails(db):
    admin = f.user("admin")
    for i in range(5):
        audit.record(admin, "test.action", "thing", i, after={"v": i})
    db.session.flush()
    middle = db.session.scalar(select(AuditLog.seq).order_by(AuditLog.seq.desc()).limit(1)) - 2
    db.session.execute(
        text("UPDATE audit_log SET actor_name = 'mallory' WHERE seq = :s"), {"s": middle}
    )
    db.session.expire_all()
    _rechain_plain(db.session, middle)
    db.session.expire_all()
    _, problems = audit.verify(heads=[])
    assert any(p.seq == middle and "修改" in p.message for p in problems)


def test_rewritten_with_another_key_fails(db):
    admin = f.user("admin")
    row = audit.record(admin, "test.action", "thing", 1, after={"v": 1})
    db.session.flush()
    row.after = {"v": 2}
    row.hash = hmac.new(b"guessed", b"x", hashlib.sha256).hexdigest()
    db.session.flush()
    _, problems = audit.verify(heads=[])
    assert any(p.seq == row.seq for p in problems)


def test_deleting_the_newest_row_fails_against_the_recorded_head(db):
    admin = f.user("admin")
    for i in range(3):
        audit.record(admin, "test.action", "thing", i)
    db.session.flush()
    head = audit.current_head()
    _, problems = audit.verify(heads=[head])
    assert problems == []
    db.session.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": head["seq"]})
    db.session.expire_all()
    _, problems = audit.verify(heads=[head])
    assert any("截断" in p.message for p in problems)


def test_tier_publication_goes_on_the_public_chain(db):
    w = f.workshop(f.jurisdictions()["xinaobao"])
    admin = f.user("admin")
    decision = _published_tier(admin, w)
    entries = public_history.history(w)
    assert len(entries) == 1
    e = entries[0]
    statement = json.loads(e["statement"])
    assert statement["workshop"] == w.public_code
    assert statement["kind"] == "tier" and statement["to"] == "银榜"
    # The public reason, as the page shows it; the officer's internal note stays off the chain.
    assert statement["reason"] == "连续两次监督检查结果为符合。"
    assert "连续两次检查符合要求" not in e["statement"]
    assert (
        e["hash"] == hashlib.sha256(((e["prev_hash"] or "") + e["statement"]).encode()).hexdigest()
    )
    row = db.session.scalar(select(AuditLog).where(AuditLog.seq == e["audit_seq"]))
    assert row.action == "tier.publish" and row.entity_id == str(decision.id)


def test_rewriting_a_public_statement_fails(db):
    w = f.workshop(f.jurisdictions()["xinaobao"])
    admin = f.user("admin")
    _published_tier(admin, w, "silver")
    _published_tier(admin, w, "gold")
    first = db.session.scalar(
        select(PublicRecord).where(PublicRecord.workshop_id == w.id).order_by(PublicRecord.seq)
    )
    head = public_history.head()
    forged = first.statement.replace("银榜", "金榜")
    db.session.execute(
        text("UPDATE public_record SET statement = :s, hash = :h WHERE id = :i"),
        {"s": forged, "h": public_history.link_hash(first.prev_hash, forged), "i": first.id},
    )
    db.session.expire_all()
    problems = public_history.problems({head["seq"]: head["hash"]})
    assert any("链接不符" in m or "链头不符" in m for _, m in problems)


def test_api_history_and_head(client, db):
    w = f.workshop(f.jurisdictions()["xinaobao"])
    _published_tier(f.user("admin"), w)
    body = client.get(f"/api/v1/workshops/{w.public_code}/history").get_json()
    assert body["workshop"] == w.public_code
    assert [json.loads(e["statement"])["kind"] for e in body["entries"]] == ["tier"]
    assert body["head"]["seq"] >= body["entries"][-1]["seq"]
    head = client.get("/api/v1/history/head").get_json()["head"]
    assert head == body["head"]
    assert client.get("/api/v1/workshops/NOPE/history").status_code == 404


def test_open_data_publishes_the_chain_and_its_head(db, tmp_path):
    w = f.workshop(f.jurisdictions()["xinaobao"])
    _published_tier(f.user("admin"), w)
    info = opendata.export(tmp_path)
    folder = tmp_path / info["directory"]
    lines = [
        json.loads(x) for x in (folder / "public_history.jsonl").read_text("utf-8").splitlines()
    ]
    prev = None
    for e in lines:  # what any member of the public can recompute
        assert e["prev_hash"] == prev
        assert e["hash"] == hashlib.sha256(((prev or "") + e["statement"]).encode()).hexdigest()
        prev = e["hash"]
    head = json.loads((folder / "chain_head.json").read_text("utf-8"))["head"]
    assert head["hash"] == prev == info["chain_head"]["hash"]


@pytest.fixture
def committed_app(tmp_path):
    """An app on its own SQLite file with a real head file: commits really commit."""
    app = make_test_app(
        f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "index", AUDIT_HEAD_FILE=str(tmp_path / "h")
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        yield app
        _db.session.remove()
        _db.engine.dispose()


def test_cli_verify_fails_after_the_newest_row_is_deleted(committed_app, tmp_path):
    admin = f.user("admin")
    for i in range(3):
        audit.record(admin, "test.action", "thing", i)
        _db.session.commit()
    heads = audit.read_heads(tmp_path / "h")
    assert [h["seq"] for h in heads] == [1, 2, 3]
    runner = committed_app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    _db.session.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    _db.session.commit()
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert "截断" in bad.output


def test_cli_verify_fails_when_the_key_is_missing_or_wrong(committed_app):
    audit.record(f.user("admin"), "test.action", "thing", 1)
    _db.session.commit()
    committed_app.config["AUDIT_KEY"] = "another-key"
    bad = committed_app.test_cli_runner().invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert "缺少密钥" in bad.output


@pytest.mark.scaleout
def test_public_verifier_script_passes_then_catches_a_rewrite(tmp_path):
    """docs/verify_history.py, run as a member of the public would, against gunicorn."""
    import sqlite3
    import subprocess
    import sys
    import urllib.request

    from .conftest import ROOT, LiveServer

    (tmp_path / "live").mkdir()
    server = LiveServer(tmp_path / "live", workers=1, demo_size=30)
    try:
        script = [sys.executable, str(ROOT / "docs" / "verify_history.py"), server.url]
        con = sqlite3.connect(tmp_path / "live" / "live.db")
        code, seq = con.execute(
            "SELECT w.public_code, MIN(p.seq) FROM public_record p JOIN workshop w"
            " ON w.id = p.workshop_id GROUP BY w.id ORDER BY MIN(p.seq) LIMIT 1"
        ).fetchone()
        ok = subprocess.run([*script, code], capture_output=True, text=True, timeout=120)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "核验通过" in ok.stdout
        archived = tmp_path / "chain_head.json"
        with urllib.request.urlopen(server.url + "/open-data/chain_head.json") as r:
            archived.write_bytes(r.read())

        # An insider rewrites the first statement and recomputes the whole public chain.
        rows = con.execute("SELECT id, statement FROM public_record ORDER BY seq").fetchall()
        prev = None
        for n, (rid, statement) in enumerate(rows):
            if n == 0:
                statement = statement.replace('"date":"', '"date":"1999-')
            digest = hashlib.sha256(((prev or "") + statement).encode()).hexdigest()
            con.execute(
                "UPDATE public_record SET statement=?, prev_hash=?, hash=? WHERE id=?",
                (statement, prev, digest, rid),
            )
            prev = digest
        con.commit()
        con.close()
        server.flask("opendata", "export")  # today's files now carry the rewritten chain
        bad = subprocess.run(
            [*script, code, str(archived)], capture_output=True, text=True, timeout=120
        )
        assert bad.returncode == 1, bad.stdout
        assert "已不在链上" in bad.stdout
        verify = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "shifangbang", "audit", "verify"],
            env=server.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert verify.returncode == 1  # the head file remembers the old public head
    finally:
        server.stop()
