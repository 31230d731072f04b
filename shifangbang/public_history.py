"""Each workshop's public history as a chain anyone can check (docs/audit.md).

Every public statement (a tier published, a title granted or revoked, the operating state
changed) becomes one PublicRecord in the same transaction as the audit row that made it. Its
`statement` is canonical JSON holding only what the public page shows; its hash is
SHA-256(prev_hash + statement), unkeyed on purpose so that anyone can recompute it. The open data
publishes the whole chain and its head every day; an archived head later proves that no statement
before it was rewritten, removed or slipped in.
"""

import hashlib
import json
from types import SimpleNamespace

from sqlalchemy import insert, select

from .extensions import db
from .models import PublicRecord, TierDecision, Title, TitleGrant, Workshop
from .timeutil import utcnow


def canonical(statement: dict) -> str:
    return json.dumps(statement, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def link_hash(prev_hash: str | None, statement: str) -> str:
    return hashlib.sha256(((prev_hash or "") + statement).encode()).hexdigest()


def _iso(d) -> str | None:
    return d.isoformat() if d is not None else None


def tier_statement(d: TierDecision) -> dict:
    from . import current_deployment

    ladder = current_deployment()
    return {
        "kind": "tier",
        "date": _iso(d.effective_on or d.published_at.date()),
        "from": ladder.tier(d.from_tier).name,
        "to": ladder.tier(d.to_tier).name,
        "direction": d.direction,
        "reason_category": d.reason_category,
        # What the public page says (public_reason), never the officer's internal note (reason).
        "reason": d.public_reason or "",
    }


def grant_statement(g: TitleGrant) -> dict:
    return {
        "kind": "title_grant",
        "title": g.title.name,
        "certificate_no": g.certificate_no or "",
        "date": _iso(g.granted_on),
    }


def revoke_statement(g: TitleGrant) -> dict:
    return {
        "kind": "title_revoke",
        "title": g.title.name,
        "certificate_no": g.certificate_no or "",
        "date": _iso(g.revoked_on),
        "reason": g.revoke_reason or "",
        "barred_until": _iso(g.barred_until),
    }


def status_statement(w: Workshop) -> dict:
    return {"kind": "status", "date": _iso(w.status_changed_on), "status": w.status}


def penalty_statement(c) -> dict:
    """A 行政处罚决定 on the workshop's page (cases.py), with the last day it stays public."""
    return {
        "kind": "penalty",
        "date": _iso(c.decided_on),
        "decision_no": c.decision_no,
        "violation": c.violation,
        "penalty": c.penalty,
        "public_until": _iso(c.publish_until),
    }


def colour_code_statement(a) -> dict:
    """A change of 色标化 status (colourcode.py), dated by the check that found it."""
    return {
        "kind": "colour_code",
        "date": _iso(a.checked_on),
        "status": a.status,
        "completed_on": _iso(a.completed_on),
    }


def _penalty(case_id):
    from .programme_models import EnforcementCase

    c = db.session.get(EnforcementCase, int(case_id))
    if c is None or c.workshop is None or c.status != "decided":
        return None
    return c.workshop, penalty_statement(c)


def _colour_code(workshop_id):
    from .programme_models import ColourCodeAdoption

    a = db.session.get(ColourCodeAdoption, int(workshop_id))
    return None if a is None else (a.workshop, colour_code_statement(a))


def _published_tier(decision_id):
    d = db.session.get(TierDecision, int(decision_id))
    if d is None or d.status != "published":
        return None
    return db.session.get(Workshop, d.workshop_id), tier_statement(d)


def _grant(build):
    def made(grant_id):
        g = db.session.get(TitleGrant, int(grant_id))
        return None if g is None else (g.workshop, build(g))

    return made


def _status(workshop_id):
    w = db.session.get(Workshop, int(workshop_id))
    return None if w is None else (w, status_statement(w))


# audit action → (workshop, public statement) it makes, read from the rows as just written.
STATEMENTS = {
    "tier.publish": _published_tier,
    "title.grant": _grant(grant_statement),
    "title.revoke": _grant(revoke_statement),
    "workshop.status": _status,
    "case.decide": _penalty,
    "colour_code.set": _colour_code,
    "colour_code.inspection": _colour_code,
}


def _tail() -> PublicRecord | None:
    return db.session.scalars(
        select(PublicRecord).order_by(PublicRecord.seq.desc()).limit(1)
    ).first()


def append(workshop: Workshop, statement: dict, audit_seq: int | None, tail=None) -> PublicRecord:
    """Chain one statement. Call with the audit chain's lock held (audit.record does)."""
    tail = tail if tail is not None else _tail()
    body = canonical({"workshop": workshop.public_code, **statement})
    return _chain(tail, workshop.id, statement["kind"], body, audit_seq)


def _chain(tail, workshop_id: int, kind: str, body: str, audit_seq: int | None) -> PublicRecord:
    rec = PublicRecord(
        seq=(tail.seq + 1) if tail else 1,
        workshop_id=workshop_id,
        at=utcnow(),
        kind=kind,
        statement=body,
        audit_seq=audit_seq,
        prev_hash=tail.hash if tail else None,
        hash=link_hash(tail.hash if tail else None, body),
    )
    db.session.add(rec)
    return rec


def record_for(action: str, entity_id, audit_seq: int) -> PublicRecord | None:
    """The public statement an audit action makes, chained; None for private actions."""
    build = STATEMENTS.get(action)
    made = build(entity_id) if build and entity_id is not None else None
    if made is None or made[0] is None:
        return None
    workshop, statement = made
    return append(workshop, statement, audit_seq)


def backfill(audit_seq: int | None, batch: int = 2000) -> int:
    """Chain the statements already in the tables (demo data, a first upgrade) when the chain is
    empty; every record names the audit row that vouches for the load. Returns the count."""
    if _tail() is not None:
        return 0
    from .programme_models import ColourCodeAdoption, EnforcementCase

    def rows_of(model, *extra):
        # Plain rows, not ORM objects: the statement builders only read attributes, and a
        # province's backfill holds hundreds of thousands of statements.
        return select(*model.__table__.c, Workshop.public_code.label("code_"), *extra).join(
            Workshop, Workshop.id == model.workshop_id
        )

    def with_title(build):
        return lambda r: build(SimpleNamespace(**r._mapping, title=SimpleNamespace(name=r.title_)))

    grants = rows_of(TitleGrant, Title.name.label("title_")).join(
        Title, Title.id == TitleGrant.title_id
    )
    sources = [
        (
            rows_of(TierDecision)
            .where(TierDecision.status == "published")
            .order_by(TierDecision.published_at, TierDecision.id),
            tier_statement,
        ),
        (grants.order_by(TitleGrant.granted_on, TitleGrant.id), with_title(grant_statement)),
        (
            grants.where(TitleGrant.status == "revoked").order_by(
                TitleGrant.revoked_on, TitleGrant.id
            ),
            with_title(revoke_statement),
        ),
        (
            select(*Workshop.__table__.c, Workshop.public_code.label("code_"))
            .where(Workshop.status_changed_on.is_not(None))
            .order_by(Workshop.status_changed_on, Workshop.id),
            status_statement,
        ),
        (
            rows_of(EnforcementCase)
            .where(EnforcementCase.status == "decided")
            .order_by(EnforcementCase.decided_on, EnforcementCase.id),
            penalty_statement,
        ),
        (
            rows_of(ColourCodeAdoption)
            .where(ColourCodeAdoption.status != "not_started")
            .order_by(ColourCodeAdoption.checked_on, ColourCodeAdoption.workshop_id),
            colour_code_statement,
        ),
    ]
    seq, prev_hash, rows, count, now = 0, None, [], 0, utcnow()

    def write():
        nonlocal count
        if rows:
            db.session.execute(insert(PublicRecord.__table__), rows)
            count += len(rows)
            rows.clear()

    for query, build in sources:
        result = db.session.execute(query.execution_options(yield_per=batch))
        owner = "workshop_id" if "workshop_id" in result.keys() else "id"
        for row in result:
            statement = build(row)
            body = canonical({"workshop": row.code_, **statement})
            seq, digest = seq + 1, link_hash(prev_hash, body)
            rows.append(
                {
                    "seq": seq,
                    "workshop_id": getattr(row, owner),
                    "at": now,
                    "kind": statement["kind"],
                    "statement": body,
                    "audit_seq": audit_seq,
                    "prev_hash": prev_hash,
                    "hash": digest,
                }
            )
            prev_hash = digest
            if len(rows) >= batch:
                write()
    write()
    return count


def entry(rec: PublicRecord) -> dict:
    return {
        "seq": rec.seq,
        "recorded_at": rec.at.isoformat(timespec="seconds") + "Z",
        "statement": rec.statement,
        "prev_hash": rec.prev_hash,
        "hash": rec.hash,
        "audit_seq": rec.audit_seq,
    }


def history(workshop: Workshop) -> list[dict]:
    rows = db.session.scalars(
        select(PublicRecord)
        .where(PublicRecord.workshop_id == workshop.id)
        .order_by(PublicRecord.seq)
    )
    return [entry(r) for r in rows]


def head() -> dict | None:
    tail = _tail()
    if tail is None:
        return None
    return {"seq": tail.seq, "hash": tail.hash, "recorded_at": entry(tail)["recorded_at"]}


def iter_chain(batch: int = 5000):
    """Every record in seq order, in batches (the open-data file and verify walk it)."""
    last = 0
    while True:
        rows = db.session.scalars(
            select(PublicRecord)
            .where(PublicRecord.seq > last)
            .order_by(PublicRecord.seq)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        for r in rows:
            db.session.expunge(r)


def problems(heads: dict[int, str] | None = None) -> list[tuple[int, str]]:
    """Recompute the chain: (seq, what is wrong) for each break, and for each published or recorded
    head ({seq: hash}) the chain no longer reaches or no longer matches."""
    want = dict(heads or {})
    found, prev_hash, expected = [], None, 1
    for rec in iter_chain():
        if rec.seq in want and want.pop(rec.seq) != rec.hash:
            found.append((rec.seq, "公开记录与链头不符（被改写）"))
        if rec.seq != expected:
            found.append((rec.seq, f"公开记录序号 {expected} 至 {rec.seq - 1} 缺失"))
        if rec.prev_hash != prev_hash:
            found.append((rec.seq, "公开记录与上一条的链接不符"))
        if rec.hash != link_hash(rec.prev_hash, rec.statement):
            found.append((rec.seq, "公开记录内容与哈希不符（被修改）"))
        prev_hash, expected = rec.hash, rec.seq + 1
    found += [(seq, f"链头记有公开记录第 {seq} 条，库中没有（被删除）") for seq in sorted(want)]
    return found
