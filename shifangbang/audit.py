"""The append-only, hash-chained audit log of every regulator change (and every identity view).

Each row's hash is an HMAC, under a key kept outside the database (AUDIT_KEY), of its content and
the previous row's hash, in `seq` order: someone who can write the database but not read the key
cannot recompute a chain after editing it. After every commit the chain's head (seq and hash, and
the public chain's) is appended to a file outside the database (AUDIT_HEAD_FILE), so deleting the
newest rows shows too. `seq` is assigned while this transaction holds the database's write lock
(SQLite) or an advisory lock (PostgreSQL), so concurrent writers never fork the chain.
Threat model and verification steps: docs/audit.md.
"""

import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from flask import current_app, has_app_context, has_request_context, request
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from . import public_history
from .extensions import db
from .models import AuditLog, PublicRecord
from .timeutil import utcnow

_PG_LOCK_KEY = 0x5F_A0_D1_7  # any constant; names the audit chain's advisory lock


def _jsonable(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj, fields) -> dict:
    """The given attributes of a model object, as JSON-safe values for before/after."""
    return {f: _jsonable(getattr(obj, f)) for f in fields}


def key_id(key: bytes) -> str:
    """A short public name for a key, stored on each row it seals (rotation, diagnosis)."""
    return hashlib.sha256(b"shifangbang-audit-key:" + key).hexdigest()[:16]


def _key() -> bytes:
    return current_app.config["AUDIT_KEY"].encode()


def _digest(row: AuditLog, key: bytes | None) -> str:
    body = json.dumps(
        [
            row.seq,
            row.at.isoformat(timespec="microseconds"),
            row.actor_id,
            row.actor_name,
            row.action,
            row.entity,
            row.entity_id,
            row.before,
            row.after,
            row.ip,
            row.prev_hash,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    if key is None:  # rows sealed before keys were introduced
        return hashlib.sha256(body).hexdigest()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def record(actor, action: str, entity: str, entity_id=None, before=None, after=None) -> AuditLog:
    """Append one entry inside the caller's transaction (it commits or rolls back with it).

    actor: a User, or None for the system (CLI, rules engine).
    """
    row = AuditLog(
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None) or "system",
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=_jsonable(before),
        after=_jsonable(after),
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(row)
    db.session.flush()  # takes SQLite's write lock before we read the chain's tail
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    tail = db.session.execute(
        select(AuditLog.seq, AuditLog.hash)
        .where(AuditLog.seq.is_not(None))
        .order_by(AuditLog.seq.desc())
        .limit(1)
    ).first()
    row.seq = (tail.seq + 1) if tail else 1
    row.prev_hash = tail.hash if tail else None
    key = _key()
    row.key_id = key_id(key)
    row.hash = _digest(row, key)
    public_history.record_for(action, entity_id, row.seq)
    db.session.flush()
    db.session.info["audit_head"] = True  # written to the head file once this commits
    return row


# --- the head file: the chain's newest position, kept outside the database ---------------------


def _head_file() -> Path | None:
    path = current_app.config.get("AUDIT_HEAD_FILE") if has_app_context() else None
    return Path(path) if path else None


def current_head(executor=None) -> dict | None:
    """The chains' newest positions as the database holds them now (a Session or Connection)."""
    executor = executor or db.session
    tail = executor.execute(
        select(AuditLog.seq, AuditLog.hash)
        .where(AuditLog.seq.is_not(None))
        .order_by(AuditLog.seq.desc())
        .limit(1)
    ).first()
    if tail is None:
        return None
    pub = executor.execute(
        select(PublicRecord.seq, PublicRecord.hash).order_by(PublicRecord.seq.desc()).limit(1)
    ).first()
    return {
        "seq": tail.seq,
        "hash": tail.hash,
        "public_seq": pub.seq if pub else 0,
        "public_hash": pub.hash if pub else None,
        "at": utcnow().isoformat(timespec="seconds") + "Z",
    }


def write_head(path: Path, head: dict) -> None:
    """Append one line, durably; concurrent workers take turns through flock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, (json.dumps(head, separators=(",", ":")) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read_heads(path: Path) -> list[dict]:
    if not path.exists():
        return []
    heads = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            heads.append(json.loads(line))
    return heads


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    if not session.info.pop("audit_head", False):
        return
    path = _head_file()
    if path is None:
        return
    # A fresh connection sees what just committed; the head names the newest row, whoever wrote it.
    with db.engine.connect() as conn:
        head = current_head(conn)
    if head is not None:
        write_head(path, head)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session):
    session.info.pop("audit_head", None)


@dataclass
class Problem:
    seq: int | None
    id: int
    message: str


def verify(batch: int = 5000, heads: list[dict] | None = None) -> tuple[int, list[Problem]]:
    """Walk the chain; return (rows checked, problems). Any edit, deletion or insertion shows,
    and so does a truncation behind any recorded head (the head file, or `heads` given)."""
    if heads is None:
        path = _head_file()
        heads = read_heads(path) if path else []
    want = {h["seq"]: h["hash"] for h in heads}
    keys = {key_id(_key()): _key()}
    problems: list[Problem] = []
    unsealed = db.session.scalars(select(AuditLog.id).where(AuditLog.seq.is_(None))).all()
    problems += [Problem(None, i, "记录没有链序号（可能被直接插入）") for i in unsealed]
    prev_hash, expected_seq, checked, last_seq = None, 1, 0, 0
    while True:
        rows = db.session.scalars(
            select(AuditLog).where(AuditLog.seq > last_seq).order_by(AuditLog.seq).limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            checked += 1
            if row.seq != expected_seq:
                problems.append(
                    Problem(
                        row.seq,
                        row.id,
                        f"序号 {expected_seq} 至 {row.seq - 1} 的记录缺失（可能被删除）",
                    )
                )
            if row.prev_hash != prev_hash:
                problems.append(Problem(row.seq, row.id, "与上一条记录的链接不符"))
            if row.key_id is not None and row.key_id not in keys:
                problems.append(Problem(row.seq, row.id, f"缺少密钥 {row.key_id}，无法校验"))
            elif row.hash != _digest(row, keys.get(row.key_id)):
                problems.append(Problem(row.seq, row.id, "内容与哈希不符（记录被修改）"))
            if row.seq in want and want.pop(row.seq) != row.hash:
                problems.append(Problem(row.seq, row.id, "与库外记录的链头不符（记录被改写）"))
            prev_hash, expected_seq, last_seq = row.hash, row.seq + 1, row.seq
        for row in rows:
            db.session.expunge(row)  # keep memory flat on long logs
    for seq in sorted(want):
        problems.append(Problem(seq, 0, f"库外链头记有第 {seq} 条，库中没有（日志被截断或删除）"))
    public_heads = {h["public_seq"]: h["public_hash"] for h in heads if h.get("public_seq")}
    problems += [Problem(s, 0, msg) for s, msg in public_history.problems(public_heads)]
    return checked, problems


def count() -> int:
    return db.session.scalar(select(func.count(AuditLog.id)))
