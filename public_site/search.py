"""/search (one box, filters, sorting, highlighted results) and the 榜单 pages."""

from flask import Blueprint, current_app, render_template, request, url_for
from sqlalchemy import select

import search_index
from search_index import SearchParams, highlight, needles
from shifangbang import cards, public_cache, public_status, rankings
from shifangbang.extensions import db
from shifangbang.models import Jurisdiction, Title

bp = Blueprint("search", __name__, template_folder="templates")

PER_PAGE = 20
MAX_PAGE = 500


def _int(name: str, lo: int = 1, hi: int = 10**9) -> int | None:
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return None
    return value if lo <= value <= hi else None


def _float(name: str, lo: float, hi: float) -> float | None:
    try:
        value = float(request.args.get(name, ""))
    except ValueError:
        return None
    return value if lo <= value <= hi else None


def _station() -> int | None:
    """The station filter; a merged station's id (an old link) means the one that took it over."""
    station = _int("station")
    place = public_cache.places().get(station) if station else None
    return place.successor.id if place is not None else station


def params_from_request() -> SearchParams:
    deployment = current_app.extensions["deployment"]
    tier = request.args.get("tier") or None
    status = request.args.get("status", "open")
    sort = request.args.get("sort", "relevance")
    return SearchParams(
        q=(request.args.get("q") or "").strip()[:100],
        tier=tier if tier in deployment.tier_codes + [deployment.unrated.code] else None,
        county=_int("county"),
        station=_station(),
        category=_int("category"),
        title=_int("title"),
        high_risk=request.args.get("high_risk") == "1",
        status=status if status in ("open", "closed", "all") else "open",
        sort=sort if sort in ("relevance", "tier", "distance") else "relevance",
        lat=_float("lat", -90, 90),
        lng=_float("lng", -180, 180),
        page=_int("page", 1, MAX_PAGE) or 1,
        per_page=PER_PAGE,
    )


def workshops_by_id(ids) -> dict[int, cards.Card]:
    """The cards behind search hits (a hit whose row was deleted since is simply absent)."""
    return {c.id: c for c in public_cache.load_cards(ids)}


def _titles() -> list[tuple[int, str]]:
    return public_cache.cached(
        "titles",
        (),
        lambda: db.session.execute(select(Title.id, Title.name).order_by(Title.name)).all(),
    )


def _page_url(page: int) -> str:
    args = request.args.to_dict()
    args["page"] = page
    return url_for("search.search", **args)


@bp.get("/search")
def search():
    return public_cache.page("search", _search_page, search=True)


def _search_page() -> str:
    p = params_from_request()
    result = search_index.search(p)
    found = workshops_by_id([h.id for h in result.hits] + result.suggestions)
    items = []
    for hit in result.hits:
        w = found.get(hit.id)
        if w is None:  # deleted since the index saw it
            continue
        varieties = w.varieties or ""
        items.append(
            {
                "w": w,
                "distance": hit.distance_km,
                "name": highlight(w.name, needles(w.name, result.runs, hit.py_map)),
                "address": highlight(w.address, needles(w.address, result.runs)),
                "varieties": highlight(varieties, needles(varieties, result.runs)),
            }
        )
    no_filters = url_for("search.search", q=p.q) if p.has_filters else None
    facts = public_status.card_facts(list(found.values()))
    # A query naming a regional brand (萨拉齐凉皮, or part of it: 凉皮) leads to its brand page.
    brands = [
        b
        for b in current_app.extensions["deployment"].brands
        if len(p.q) >= 2 and (p.q in b.name or b.name in p.q)
    ]
    return render_template(
        "public/search.html",
        p=p,
        result=result,
        items=items,
        suggestions=[found[i] for i in result.suggestions if i in found],
        near_categories=[c for i in result.categories for c in rankings.categories() if c.id == i],
        counties=rankings.counties(),
        stations=rankings.stations(),
        categories=rankings.categories(),
        titles=_titles(),
        page_url=_page_url,
        no_filters=no_filters,
        facts=facts,
        brands=brands,
        query_is_chinese=any(k == "cjk" for k, _ in result.runs),
    )


@bp.get("/rankings")
def rankings_page():
    county_id, category_id = _int("county"), _int("category")
    county = public_cache.places().get(county_id) if county_id else None
    category = public_cache.categories().get(category_id) if category_id else None
    if county is None and category is None:
        return public_cache.page(
            "rankings",
            lambda: render_template(
                "public/rankings.html",
                counties=rankings.counties(),
                categories=rankings.categories(),
                by_county=rankings.counts_by("county"),
                by_category=rankings.counts_by("category"),
            ),
        )

    def render():
        groups = rankings.ranking(county.id if county else None, category.id if category else None)
        facts = public_status.card_facts([w for g in groups for w in g.workshops])
        return render_template(
            "public/ranking.html", county=county, category=category, groups=groups, facts=facts
        )

    return public_cache.page("ranking", render)


@bp.get("/rankings/announcements")
def announcements():
    direction = request.args.get("direction") or None
    county_id = _int("county")
    page = _int("page", 1, MAX_PAGE) or 1
    decisions, total = rankings.announcements(direction, county_id, page)
    pages = max(1, -(-total // 30))
    args = request.args.to_dict()
    return render_template(
        "public/announcements.html",
        decisions=decisions,
        total=total,
        page=page,
        pages=pages,
        direction=direction,
        county_id=county_id,
        counties=rankings.counties(),
        page_url=lambda n: url_for("search.announcements", **dict(args, page=n)),
        # 通报取消称号 (with plaque recovery), on the first page only.
        notices=public_status.revocation_notices(
            select(Jurisdiction.id).where(Jurisdiction.parent_id == county_id)
            if county_id
            else None
        )
        if page == 1
        else [],
    )
