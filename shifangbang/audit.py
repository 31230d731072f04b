"""The append-only, hash-chained audit log of every regulator change (and every identity view).

Each row's hash covers its content and the previous row's hash, in `seq` order. `seq` is
assigned while this transaction holds the database's write lock (SQLite) or an advisory lock
(PostgreSQL), so concurrent writers never fork the chain.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import has_request_context, request
from sqlalchemy import func, select, text

from .extensions import db
from .models import AuditLog
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


def _digest(row: AuditLog) -> str:
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
    )
    return hashlib.sha256(body.encode()).hexdigest()


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
    row.hash = _digest(row)
    db.session.flush()
    return row


@dataclass
class Problem:
    seq: int | None
    id: int
    message: str


def verify(batch: int = 5000) -> tuple[int, list[Problem]]:
    """Walk the chain; return (rows checked, problems). Any edit, deletion or insertion shows."""
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
            if row.hash != _digest(row):
                problems.append(Problem(row.seq, row.id, "内容与哈希不符（记录被修改）"))
            prev_hash, expected_seq, last_seq = row.hash, row.seq + 1, row.seq
        for row in rows:
            db.session.expunge(row)  # keep memory flat on long logs
    return checked, problems


def count() -> int:
    return db.session.scalar(select(func.count(AuditLog.id)))
