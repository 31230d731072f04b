"""双随机: random targets and random inspectors, reproducible by anyone from the published seed.

The algorithm is deliberately plain so that it can be re-done with any SHA-256 tool:
1. The pool (workshops matching the filter) is put in canonical order: by public code.
   The inspectors (active officers of the jurisdiction) in canonical order: by account number,
   and numbered 1, 2, 3 … in that order (the public page lists them so).
2. Each workshop gets the key SHA-256("<seed>|<public code>") (hex); the N smallest keys win.
3. For each chosen workshop, each inspector not excluded for it (recorded conflict of interest)
   gets the key SHA-256("<seed>|<public code>|<inspector number>"); the k smallest keys win.
4. Results are listed by the workshop's key. Ties are impossible in practice (SHA-256).
"""

import hashlib
import secrets
from datetime import date

from sqlalchemy import select

from . import access, audit
from .errors import DomainError
from .extensions import db
from .models import (
    ConflictOfInterest,
    Jurisdiction,
    ProductCategory,
    RandomDraw,
    User,
    Workshop,
    workshop_category,
)
from .timeutil import utcnow
from .tx import transactional

MIN_INSPECTORS = 2


class DrawError(DomainError):
    pass


def _key(*parts) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def drawn_order(seed: str, pool_codes) -> list[str]:
    """The pool in the order a draw under `seed` takes it: by each code's key."""
    return sorted(set(pool_codes), key=lambda c: _key(seed, c))


def compute(
    seed: str,
    pool_codes: list[str],
    n: int,
    inspector_count: int,
    per_target: int,
    excluded: set[tuple[str, int]] = frozenset(),
) -> list[dict]:
    """The pure draw: [{code, inspectors: [numbers 1-based]}]. Inputs are canonicalised here, so
    the order in which a caller found the pool does not matter."""
    codes = sorted(set(pool_codes))
    if n < 1:
        raise DrawError("抽取数量至少为 1。")
    if n > len(codes):
        raise DrawError(f"符合条件的作坊只有 {len(codes)} 家，少于抽取数量 {n}。")
    if per_target < MIN_INSPECTORS:
        raise DrawError(f"每个检查对象至少配 {MIN_INSPECTORS} 名检查人员。")
    chosen = drawn_order(seed, codes)[:n]
    out = []
    for code in chosen:
        numbers = [k for k in range(1, inspector_count + 1) if (code, k) not in excluded]
        if len(numbers) < per_target:
            raise DrawError(f"作坊 {code} 可选的检查人员（回避后）不足 {per_target} 名。")
        out.append(
            {
                "code": code,
                "inspectors": sorted(numbers, key=lambda k: _key(seed, code, k))[:per_target],
            }
        )
    return out


def pool_query(
    jurisdiction_id: int,
    category_ids=(),
    tiers=(),
    high_risk_only: bool = False,
    registered_between: tuple[date, date] | None = None,
):
    q = select(Workshop).where(
        Workshop.status == "open", Workshop.station_id.in_(access.subtree_ids(jurisdiction_id))
    )
    if registered_between is not None:  # 新登记: the registration certificate's date
        q = q.where(Workshop.valid_from.between(*registered_between))
    if category_ids:
        q = q.where(
            Workshop.id.in_(
                select(workshop_category.c.workshop_id).where(
                    workshop_category.c.category_id.in_(category_ids)
                )
            )
        )
    if tiers:
        q = q.where(Workshop.tier_code.in_(tiers))
    if high_risk_only:
        q = q.where(
            Workshop.id.in_(
                select(workshop_category.c.workshop_id)
                .join(ProductCategory, ProductCategory.id == workshop_category.c.category_id)
                .where(ProductCategory.high_risk.is_(True))
            )
        )
    return q


def officers(jurisdiction_id: int) -> list[User]:
    """The jurisdiction's inspectors: active officers in its subtree, by account number."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.role == "officer",
                User.active.is_(True),
                User.jurisdiction_id.in_(access.subtree_ids(jurisdiction_id)),
            )
            .order_by(User.id)
        )
    )


def _inputs(pool_ids: list[int], inspector_ids: list[int]):
    ws = db.session.scalars(select(Workshop).where(Workshop.id.in_(pool_ids))).all()
    by_code = {w.public_code: w for w in ws}
    numbers = {uid: k for k, uid in enumerate(sorted(inspector_ids), start=1)}
    return by_code, numbers


def _result(seed, by_code, numbers, excluded_pairs, n, per_target):
    id_by_number = {k: uid for uid, k in numbers.items()}
    ws_id = {w.id: code for code, w in by_code.items()}
    excluded = {(ws_id[w], numbers[u]) for w, u in excluded_pairs if w in ws_id and u in numbers}
    picks = compute(seed, list(by_code), n, len(numbers), per_target, excluded)
    return [
        {
            "workshop_id": by_code[p["code"]].id,
            "inspector_ids": [id_by_number[k] for k in p["inspectors"]],
        }
        for p in picks
    ]


@transactional
def draw(
    actor,
    jurisdiction_id: int,
    n: int,
    *,
    category_ids=(),
    tiers=(),
    high_risk_only=False,
    per_target: int = MIN_INSPECTORS,
    seed: str | None = None,
    registered_between: tuple[date, date] | None = None,
    purpose: str = "inspection",
) -> RandomDraw:
    access.require(actor, "draw", jurisdiction_id)
    if db.session.get(Jurisdiction, jurisdiction_id) is None:
        raise DrawError("请选择辖区。")
    seed = (seed or "").strip() or secrets.token_hex(16)
    if len(seed) > 64:
        raise DrawError("随机种子不超过 64 个字符。")
    pool = list(
        db.session.scalars(
            pool_query(jurisdiction_id, category_ids, tiers, high_risk_only, registered_between)
        )
    )
    if not pool:
        raise DrawError("没有符合筛选条件的在营作坊。")
    inspectors = officers(jurisdiction_id)
    pool_ids = [w.id for w in sorted(pool, key=lambda w: w.public_code)]
    inspector_ids = [u.id for u in inspectors]
    excluded = [
        [c.workshop_id, c.user_id]
        for c in db.session.scalars(
            select(ConflictOfInterest)
            .where(
                ConflictOfInterest.workshop_id.in_(pool_ids),
                ConflictOfInterest.user_id.in_(inspector_ids),
            )
            .order_by(ConflictOfInterest.workshop_id, ConflictOfInterest.user_id)
        )
    ]
    by_code, numbers = _inputs(pool_ids, inspector_ids)
    result = _result(seed, by_code, numbers, excluded, n, per_target)
    d = RandomDraw(
        jurisdiction_id=jurisdiction_id,
        seed=seed,
        drawn_by_id=getattr(actor, "id", None),
        params={
            "n": n,
            "per_target": per_target,
            "category_ids": sorted(int(c) for c in category_ids),
            "tiers": sorted(tiers),
            "high_risk_only": bool(high_risk_only),
            "excluded": excluded,
            "purpose": purpose,
            "registered_between": [d.isoformat() for d in registered_between]
            if registered_between
            else None,
        },
        pool=pool_ids,
        inspectors=inspector_ids,
        result=result,
    )
    db.session.add(d)
    db.session.flush()
    audit.record(
        actor,
        "draw.create",
        "random_draw",
        d.id,
        after={"seed": seed, "params": d.params, "pool_size": len(pool_ids), "result": result},
    )
    return d


def replay(d: RandomDraw) -> list[dict]:
    """Recompute the draw from what it recorded (seed, pool, inspectors, exclusions)."""
    by_code, numbers = _inputs(list(d.pool), list(d.inspectors))
    return _result(
        d.seed,
        by_code,
        numbers,
        [tuple(p) for p in d.params.get("excluded", [])],
        d.params["n"],
        d.params["per_target"],
    )


def replay_matches(d: RandomDraw) -> bool:
    try:
        return replay(d) == d.result
    except DrawError:
        return False


@transactional
def publish(actor, d: RandomDraw) -> RandomDraw:
    access.require(actor, "publish_draw", d.jurisdiction_id)
    if d.published:
        raise DrawError("该次抽取已公开。")
    d.published, d.published_at = True, utcnow()
    audit.record(actor, "draw.publish", "random_draw", d.id, after={"published": True})
    return d


def public_view(d: RandomDraw) -> dict:
    """What the public page shows: canonical pool and inspector lists, the result, exclusions."""
    by_code, numbers = _inputs(list(d.pool), list(d.inspectors))
    ws_by_id = {w.id: w for w in by_code.values()}
    users = {
        u.id: u for u in db.session.scalars(select(User).where(User.id.in_(list(d.inspectors))))
    }
    inspectors = [
        (k, users[uid].display_name if uid in users else "（已注销）")
        for uid, k in sorted(numbers.items(), key=lambda x: x[1])
    ]
    cats = db.session.scalars(
        select(ProductCategory.name).where(
            ProductCategory.id.in_(d.params.get("category_ids") or [])
        )
    ).all()
    return {
        "jurisdiction": db.session.get(Jurisdiction, d.jurisdiction_id),
        "pool": [ws_by_id[i] for i in sorted(ws_by_id, key=lambda i: ws_by_id[i].public_code)],
        "inspectors": inspectors,
        "numbers": numbers,
        "categories": list(cats),
        "result": [
            {
                "workshop": ws_by_id.get(r["workshop_id"]),
                "inspectors": [
                    (numbers[u], users[u].display_name if u in users else "")
                    for u in r["inspector_ids"]
                ],
            }
            for r in d.result
        ],
        "excluded": [
            (ws_by_id[w].public_code, numbers[u])
            for w, u in d.params.get("excluded", [])
            if w in ws_by_id and u in numbers
        ],
    }


def recent(
    jurisdiction_ids: set[int] | None, published_only: bool = False, limit: int = 50
) -> list[RandomDraw]:
    q = select(RandomDraw).order_by(RandomDraw.drawn_at.desc(), RandomDraw.id.desc()).limit(limit)
    if jurisdiction_ids is not None:
        q = q.where(RandomDraw.jurisdiction_id.in_(jurisdiction_ids))
    if published_only:
        q = q.where(RandomDraw.published.is_(True))
    return list(db.session.scalars(q))
