"""Search straight from the database, for when the index is missing or broken: slower and
plainer (LIKE on name, address, certificate number and varieties), but never down."""

from sqlalchemy import and_, func, or_, select

from shifangbang import workshops
from shifangbang.extensions import db
from shifangbang.models import Jurisdiction, ProductCategory, TitleGrant, Workshop

from . import vocab
from .query import Hit, SearchParams, SearchResult, haversine_km, runs


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _conditions(p: SearchParams) -> list:
    cond = []
    if p.status == "open":
        cond.append(Workshop.status == "open")
    elif p.status == "closed":
        cond.append(Workshop.status != "open")
    elif p.status != "all":
        cond.append(Workshop.status == p.status)
    if p.tier:
        cond.append(Workshop.tier_code == p.tier)
    if p.station:
        cond.append(Workshop.station_id == p.station)
    if p.county:
        stations = select(Jurisdiction.id).where(Jurisdiction.parent_id == p.county)
        cond.append(or_(Workshop.station_id == p.county, Workshop.station_id.in_(stations)))
    if p.category:
        cond.append(Workshop.categories.any(ProductCategory.id == p.category))
    if p.title:
        cond.append(
            Workshop.id.in_(
                select(TitleGrant.workshop_id).where(
                    TitleGrant.title_id == p.title, TitleGrant.status == "held"
                )
            )
        )
    if p.high_risk:
        cond.append(Workshop.categories.any(ProductCategory.high_risk.is_(True)))
    elif p.low_risk:
        cond.append(~Workshop.categories.any(ProductCategory.high_risk.is_(True)))
    text = vocab.read(p.q).text  # 附近有卖莜面的吗 → 莜面
    text = "".join(ch if ch.isprintable() else " " for ch in text)  # PostgreSQL refuses NUL
    for term in text.split()[:8]:
        like = _like(term.lower())
        cond.append(
            or_(
                *(
                    func.lower(col).like(like, escape="\\")
                    for col in (
                        Workshop.name,
                        Workshop.address,
                        Workshop.cert_no,
                        Workshop.varieties,
                    )
                )
            )
        )
    return cond


def search(p: SearchParams) -> SearchResult:
    cond = and_(*_conditions(p))
    total = db.session.scalar(select(func.count(Workshop.id)).where(cond))
    start = (p.page - 1) * p.per_page
    if p.sort == "distance" and p.has_location:
        rows = db.session.execute(select(Workshop.id, Workshop.lat, Workshop.lng).where(cond)).all()
        ranked = sorted(
            (
                (
                    lat is None or lng is None,
                    haversine_km(p.lat, p.lng, lat, lng)
                    if lat is not None and lng is not None
                    else 0.0,
                    wid,
                )
                for wid, lat, lng in rows
            )
        )
        hits = [
            Hit(wid, 0.0, None if missing else d)
            for missing, d, wid in ranked[start : start + p.per_page]
        ]
    else:
        order = [workshops.tier_rank_expression().desc(), Workshop.id]
        if p.sort != "tier" and (p.q or "").strip():
            first = "".join(ch if ch.isprintable() else " " for ch in p.q).split() or [""]
            first = first[0].lower()
            order.insert(0, func.lower(Workshop.name).like(_like(first), escape="\\").desc())
        ids = db.session.scalars(
            select(Workshop.id).where(cond).order_by(*order).offset(start).limit(p.per_page)
        )
        hits = [Hit(i) for i in ids]
    return SearchResult(hits, total, p, mode="database", runs=runs(p.q))
