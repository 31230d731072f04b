"""Workshop list queries for the API: filters, pages of cards, nearby through the spatial index."""

from sqlalchemy import func, or_, select

from shifangbang import access, cards, current_deployment, public_cache, rankings, spatial
from shifangbang.extensions import db
from shifangbang.models import ProductCategory, Workshop, workshop_category

from . import adapters

# /nearby counts the workshops within the radius up to this many (or one past the page asked
# for, if further): a town centre holds tens of thousands within 3 km, and their exact number
# would cost hundreds of times the page. Beyond it the answer says "at least" (total_is_lower_bound).
NEARBY_TOTAL_LIMIT = 200


def jurisdiction_ids(code: str) -> set[int]:
    """The jurisdiction with this code and everything below it; empty for an unknown code (no match)."""
    j = public_cache.current_place(code)
    return access.subtree_ids(j.id) if j is not None else set()


def filtered(filters: dict):
    """A select of Workshop with the public filters applied (see the OpenAPI document for each)."""
    q = select(Workshop)
    status = filters.get("status") or "open"
    if status != "all":
        q = q.where(Workshop.status == status)
    if filters.get("tier"):
        q = q.where(Workshop.tier_code == filters["tier"])
    for param in ("county", "station", "jurisdiction"):
        if filters.get(param):
            q = q.where(Workshop.station_id.in_(jurisdiction_ids(filters[param])))
    if filters.get("category"):
        value = filters["category"]
        cat_ids = select(ProductCategory.id).where(
            or_(ProductCategory.code == value, ProductCategory.name == value)
        )
        q = q.where(
            Workshop.id.in_(
                select(workshop_category.c.workshop_id).where(
                    workshop_category.c.category_id.in_(cat_ids)
                )
            )
        )
    if filters.get("high_risk") is not None:
        risky = (
            select(workshop_category.c.workshop_id)
            .join(ProductCategory, ProductCategory.id == workshop_category.c.category_id)
            .where(ProductCategory.high_risk.is_(True))
        )
        q = q.where(Workshop.id.in_(risky) if filters["high_risk"] else Workshop.id.not_in(risky))
    if filters.get("q"):
        # Words match as they do on /search (the search index, pinyin and all): one rule everywhere.
        q = q.where(Workshop.id.in_(adapters.matching_ids(filters["q"])))
    return q


def _once_per_version(name: str, stmt, run):
    """run(stmt) once per data version for this exact statement and its parameters."""
    compiled = stmt.compile()
    params = tuple(sorted((k, repr(v)) for k, v in compiled.params.items()))
    return public_cache.cached(name, (str(compiled), params), lambda: run(stmt))


def tier_counts(q) -> dict[str, int]:
    """{tier code: rows of q} (a select of Workshop), counted once per data version."""
    stmt = q.with_only_columns(Workshop.tier_code, func.count()).group_by(Workshop.tier_code)
    return _once_per_version("tier_counts", stmt, lambda s: dict(db.session.execute(s).all()))


def ranked_page(q, page: int, per_page: int) -> tuple[list[cards.Card], int]:
    """One page of `q` (a select of Workshop) as cards, best tier first and most recently rated
    first within a tier (rankings.RANKING_ORDER), with the number of rows.

    The page is found tier by tier from the counts: each tier's part is one range of
    ix_workshop_ranking (of ix_workshop_ranking_any for every status), so no query sorts every
    match to show twenty."""
    counts = tier_counts(q)
    ladder = sorted(current_deployment().tiers, key=lambda t: -t.rank)
    codes = [t.code for t in ladder] + sorted(
        c for c in counts if c not in {t.code for t in ladder}
    )
    skip, ids = (page - 1) * per_page, []
    for code in codes:
        n = counts.get(code, 0)
        if len(ids) >= per_page:
            break
        if skip >= n:
            skip -= n
            continue
        ids += db.session.scalars(
            q.with_only_columns(Workshop.id)
            .where(Workshop.tier_code == code)
            .order_by(*rankings.RANKING_ORDER)
            .offset(skip)
            .limit(per_page - len(ids))
        )
        skip = 0
    return public_cache.load_cards(ids), sum(counts.values())


def nearby(
    lat: float,
    lng: float,
    radius_km: float,
    filters: dict,
    page: int = 1,
    per_page: int = 20,
    count_limit: int | None = None,
) -> tuple[list[tuple[cards.Card, float]], int]:
    """One page of the workshops within radius_km, nearest first (ties by id), and their number
    (counted up to count_limit when given, see spatial.nearest): found through the spatial index,
    only the page's cards loaded."""
    status = filters.get("status") or "open"
    only_status = all(v is None or v == "" for k, v in filters.items() if k != "status")
    found, total = spatial.nearest(
        lat,
        lng,
        radius_km,
        None if only_status else filtered(filters),
        (page - 1) * per_page,
        per_page,
        plain_status=status if only_status else None,
        count_limit=count_limit,
    )
    by_id = {c.id: c for c in public_cache.load_cards([i for i, _ in found])}
    return [(by_id[i], d) for i, d in found if i in by_id], total
