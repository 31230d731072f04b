"""/api/v1 endpoints. Each one is described in openapi.py; tests/test_api_openapi.py keeps the two equal."""

from flask import current_app, jsonify, request
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from shifangbang import (
    current_deployment,
    labels,
    public_cache,
    public_history,
    public_status,
)
from shifangbang import rankings as ranking_lists
from shifangbang.extensions import db, limiter
from shifangbang.models import (
    IN_SERVICE,
    Jurisdiction,
    TierDecision,
    Workshop,
)

from ..workshop import _head as page_head
from . import adapters, bp, openapi, queries, serializers, wechat
from .common import (
    ApiError,
    absolute,
    arg_bool,
    arg_choice,
    arg_float,
    arg_str,
    not_found,
    page_args,
    paginated,
)


@bp.after_request
def caching(response):
    """Tracking answers are private and writes are never cached; every other GET gets the site's
    one policy (ETag, no-cache: public_site.caching)."""
    if request.method in ("GET", "HEAD") and request.endpoint == "api.complaint_status":
        response.headers["Cache-Control"] = "private, no-store"
    elif request.method not in ("GET", "HEAD"):
        response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("Vary", "Accept-Encoding")
    return response


def _list_filters() -> dict:
    deployment = current_deployment()
    filters = {
        "q": arg_str("q"),
        "tier": arg_choice("tier", [*deployment.tier_codes, deployment.unrated.code]),
        "county": arg_str("county", 20),
        "station": arg_str("station", 20),
        "category": arg_str("category", 40),
        "high_risk": arg_bool("high_risk"),
        "status": arg_choice("status", [*labels.WORKSHOP_STATUS, "all"]),
    }
    return filters


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document())


@bp.get("/workshops")
def workshop_list():
    filters = _list_filters()
    page, per_page = page_args()
    rows, total = queries.ranked_page(queries.filtered(filters), page, per_page)
    return jsonify(
        paginated([serializers.workshop_summary(w) for w in rows], total, page, per_page)
    )


@bp.get("/workshops/<code>")
def workshop_detail(code: str):
    # The workshop page's head check (one indexed lookup, micro-cached for a second) decides; the
    # body is built again only after the workshop's last public change (or on a new day).
    head = None if "\x00" in code or len(code) > 40 else page_head(code, None)
    if head is None:
        raise not_found("找不到这个作坊。请核对作坊编号。")

    def build() -> bytes:
        w = db.session.scalar(
            select(Workshop)
            .where(Workshop.id == head.workshop_id)
            .options(
                selectinload(Workshop.categories),
                selectinload(Workshop.staff),
                selectinload(Workshop.station),
            )
        )
        return jsonify(serializers.workshop_detail(w)).get_data()

    body = public_cache.keyed(("api.workshop", head.workshop_id, head.public_changed_at), build)
    return current_app.response_class(body, mimetype="application/json")


@bp.get("/workshops/<code>/history")
def workshop_history(code: str):
    """The workshop's public statements with their places in the public chain (docs/audit.md)."""
    w = (
        None
        if "\x00" in code
        else db.session.scalar(select(Workshop).where(Workshop.public_code == code))
    )
    if w is None:
        raise not_found("找不到这个作坊。请核对作坊编号。")
    return jsonify(
        {
            "workshop": w.public_code,
            "entries": public_history.history(w),
            "head": public_history.head(),
        }
    )


@bp.get("/history/head")
def history_head():
    """The public chain's newest position, to archive and compare with the daily open data."""
    return jsonify({"head": public_history.head()})


@bp.get("/search")
def search():
    filters = _list_filters()
    page, per_page = page_args()

    def build() -> bytes:
        rows, total = adapters.search(filters, page, per_page)
        body = paginated(
            [serializers.workshop_summary(w) for w in rows],
            total,
            page,
            per_page,
            query=filters["q"],
        )
        return jsonify(body).get_data()

    body = public_cache.page("api.search", build, search=True)
    return current_app.response_class(body, mimetype="application/json")


@bp.get("/nearby")
def nearby():
    lat = arg_float("lat", None, -90, 90)
    lng = arg_float("lng", None, -180, 180)
    if lat is None or lng is None:
        raise ApiError(
            400,
            "invalid_parameter",
            "请提供位置：lat 和 lng。",
            {k: "必填。" for k, v in (("lat", lat), ("lng", lng)) if v is None},
        )
    radius = arg_float("radius_km", 3.0, 0.01, 50)
    filters = _list_filters()
    page, per_page = page_args()

    def build() -> bytes:
        # Counted up to a limit, never below one past this page: `next` is there while more are.
        count_limit = max(queries.NEARBY_TOTAL_LIMIT, page * per_page + 1)
        found, total = queries.nearby(lat, lng, radius, filters, page, per_page, count_limit)
        body = paginated(
            [serializers.workshop_summary(w, d) for w, d in found],
            total,
            page,
            per_page,
            total_is_lower_bound=total >= count_limit,
            center={"lat": lat, "lng": lng},
            radius_km=radius,
        )
        return jsonify(body).get_data()

    # Kept per exact URL and data version: a place's next page, a pull to refresh, a landmark's
    # coordinates that many phones share.
    body = public_cache.page("api.nearby", build, place=True)
    return current_app.response_class(body, mimetype="application/json")


@bp.get("/rankings")
def rankings():
    """Rated open workshops, best tier first (most recently rated first within a tier), with tier counts."""
    deployment = current_deployment()
    filters = {
        k: v
        for k, v in _list_filters().items()
        if k in ("county", "station", "category", "high_risk")
    }
    page, per_page = page_args()
    q = queries.filtered(filters).where(Workshop.tier_code.in_(deployment.tier_codes))
    rows, total = queries.ranked_page(q, page, per_page)
    counted = queries.tier_counts(queries.filtered(filters))
    counts = [
        dict(serializers.ladder_dict(t), count=counted.get(t.code, 0))
        for t in (*deployment.tiers, deployment.unrated)
    ]
    return jsonify(
        paginated(
            [serializers.workshop_summary(w) for w in rows], total, page, per_page, counts=counts
        )
    )


@bp.get("/tiers")
def tier_ladder():
    deployment = current_deployment()
    return jsonify(
        {
            "items": [serializers.ladder_dict(t) for t in deployment.tiers],
            "unrated": serializers.ladder_dict(deployment.unrated),
            "inspection_overdue_days": deployment.bureau.inspection_overdue_days,
        }
    )


@bp.get("/categories")
def categories():
    by_category = ranking_lists.counts_by("category")  # once per data version
    counts = {cid: sum(tiers.values()) for cid, tiers in by_category.items()}
    rows = ranking_lists.categories()
    return jsonify(
        {
            "items": [
                {
                    "code": c.code,
                    "name": c.name,
                    "high_risk": c.high_risk,
                    "workshop_count": counts.get(c.id, 0),
                }
                for c in rows
            ]
        }
    )


@bp.get("/jurisdictions")
def jurisdictions():
    rows = db.session.scalars(
        select(Jurisdiction).where(IN_SERVICE).order_by(Jurisdiction.code)
    ).all()
    nodes = {
        j.id: {
            "code": j.code,
            "name": j.name,
            "level": j.level,
            "level_label": labels.JURISDICTION_LEVEL.get(j.level, j.level),
            "phone": j.phone,
            "address": j.address,
            "children": [],
        }
        for j in rows
    }
    roots = []
    for j in rows:
        (nodes[j.parent_id]["children"] if j.parent_id in nodes else roots).append(nodes[j.id])
    return jsonify({"items": roots})


@bp.get("/announcements")
def announcements():
    """Published tier decisions (定榜公告), newest first."""
    page, per_page = page_args()
    q = select(TierDecision).where(TierDecision.status == "published")
    county = arg_str("county", 20)
    if county:
        stations = queries.jurisdiction_ids(county)
        q = q.where(
            TierDecision.workshop_id.in_(
                select(Workshop.id).where(Workshop.station_id.in_(stations))
            )
        )
    total = public_cache.cached(  # every published decision counted: once per data version
        "api.announcements",
        (county,),
        lambda: db.session.scalar(select(func.count()).select_from(q.subquery())),
    )
    rows = db.session.scalars(
        q.order_by(TierDecision.published_at.desc(), TierDecision.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(selectinload(TierDecision.workshop))
    ).all()
    items = [
        dict(
            serializers.decision_dict(d),
            id=d.id,
            workshop={
                "code": d.workshop.public_code,
                "name": d.workshop.name,
                "links": serializers.links(d.workshop),
            },
        )
        for d in rows
    ]
    return jsonify(paginated(items, total, page, per_page))


@bp.get("/revocations")
def revocations():
    """取消称号通报 of the last 12 months, newest first, with plaque recovery."""
    county = arg_str("county", 20)
    stations = queries.jurisdiction_ids(county) if county else None
    notices = public_status.revocation_notices(stations)
    return jsonify({"items": [serializers.revocation_dict(n) for n in notices]})


# --- complaints and reports ------------------------------------------------------------------------


def complaint_public(v) -> dict:
    """What a complainant sees by tracking number (a complaints.TrackView): status and replies,
    never the text or an identity."""
    return {
        "tracking_no": v.tracking_no,
        "kind": v.kind_code,
        "kind_label": v.kind,
        "status": v.status_code,
        "status_label": v.status,
        "open": v.is_open,
        "overdue": v.overdue,
        "received_at": serializers.iso_datetime(v.received_at),
        "due_on": serializers.iso_date(v.due_on),
        "closed_at": serializers.iso_datetime(v.closed_at),
        "replies": [
            {"at": serializers.iso_datetime(e.at), "text": e.reply} for e in v.timeline if e.reply
        ],
    }


@bp.post("/complaints")
@limiter.limit("5 per minute;50 per day")
def complaint_create():
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "请以 multipart/form-data 提交。")
    user = wechat.signed_in_user(required=False)  # with a token: bound to the mini-program user
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    try:
        receipt = adapters.submit(
            request.form.to_dict(),
            files,
            request.remote_addr,
            channel="api",
            wechat_user_id=user.id if user else None,
        )
    except adapters.SubmissionError as e:
        raise ApiError(422, "validation_failed", str(e), e.errors) from None
    views = [adapters.track(no, receipt.password) for _, no, _ in receipt.items]
    body = {
        "password": receipt.password,
        "items": [
            dict(
                complaint_public(v),
                links={"status": absolute("api.complaint_status", tracking_no=v.tracking_no)},
            )
            for v in views
        ],
        "bound": receipt.bound,
        "notice": "请记下查询码和查询密码，凭它们查询办理进度。"
        + ("也可在小程序“我的投诉举报”中查看。" if receipt.bound else ""),
    }
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = body["items"][0]["links"]["status"]
    return response


@bp.get("/complaints/<tracking_no>")
@limiter.limit("20 per minute")
def complaint_status(tracking_no: str):
    password = request.headers.get("X-Tracking-Password") or ""  # never from the URL (access logs)
    usable = len(tracking_no) <= 20 and "\x00" not in tracking_no and len(password) <= 64
    view = adapters.track(tracking_no, password) if usable else None
    if view is None:
        raise not_found("查询码或查询密码不正确。")
    return jsonify(complaint_public(view))
