"""The API's documented fields (public_site/api/openapi.py) translated onto the domain functions:
search_index.search for /search, shifangbang.complaints.submit/track for /complaints (and Open311).

Nothing here decides anything: validation, photos, tracking numbers and passwords live in
shifangbang/complaints.py and shifangbang/photos.py; ranking and filtering in search_index.
"""

from sqlalchemy import or_, select

import search_index
from search_index import SearchParams
from shifangbang import cards, complaints, photos, public_cache
from shifangbang.errors import DomainError
from shifangbang.extensions import db
from shifangbang.models import Jurisdiction, ProductCategory

# --- search --------------------------------------------------------------------------------------


def _place(code: str | None) -> tuple[str, int] | None | bool:
    """A jurisdiction code → ("county"|"station", id); None for no filter (empty or the city);
    False for an unknown code (nothing matches)."""
    if not code:
        return None
    j = public_cache.current_place(code)
    if j is None:
        return False
    return None if j.level == "city" else (j.level, j.id)


def _params(filters: dict, page: int, per_page: int) -> SearchParams | None:
    """SearchParams for the API filters; None when a filter names nothing, so nothing can match."""
    p = SearchParams(
        q=filters.get("q") or "",
        tier=filters.get("tier"),
        status=filters.get("status") or "open",
        high_risk=filters.get("high_risk") is True,
        low_risk=filters.get("high_risk") is False,
        page=page,
        per_page=per_page,
    )
    for param in ("county", "station"):
        place = _place(filters.get(param))
        if place is False:
            return None
        if place:
            level, jid = place
            if getattr(p, level) not in (None, jid):  # county=A&station=B: both must hold
                return None
            setattr(p, level, jid)
    if filters.get("category"):
        value = filters["category"]
        p.category = db.session.scalar(
            select(ProductCategory.id).where(
                or_(ProductCategory.code == value, ProductCategory.name == value)
            )
        )
        if p.category is None:
            return None
    return p


def search(filters: dict, page: int, per_page: int) -> tuple[list[cards.Card], int]:
    """`filters` holds q, tier, county, station, category, high_risk, status (codes, as the API
    takes them); returns (page rows in search order, total)."""
    p = _params(filters, page, per_page)
    if p is None:
        return [], 0
    result = search_index.search(p)
    # Only the page's cards; a row deleted since indexing is skipped.
    return public_cache.load_cards([h.id for h in result.hits]), result.total


MATCH_LIMIT = (
    10_000  # more workshops than a county registers; the list endpoints filter within these
)


def matching_ids(q: str) -> list[int]:
    """Every workshop (any status) the words match on /search, for the list endpoints' q filter."""
    return search_index.matching_ids(SearchParams(q=q, status="all"), MATCH_LIMIT)


# --- complaints and reports ------------------------------------------------------------------------

# The domain's form field → the API's name for it (only where they differ).
API_FIELD = {
    "w": "workshop_code",
    "county": "jurisdiction",
    "name": "reporter_name",
    "phone": "reporter_phone",
    "amount": "amount_yuan",
}
TRUE = ("true", "1", "on", "yes")


class SubmissionError(DomainError):
    """Refused submission: `errors` maps the API's field names → Chinese messages."""

    def __init__(self, message: str, errors: dict):
        super().__init__(message)
        self.errors = errors


def _county_id(code: str) -> str:
    """The county (as the domain form takes it: an id) for a jurisdiction code; a station's county."""
    j = db.session.scalar(select(Jurisdiction).where(Jurisdiction.code == code)) if code else None
    if j is not None and j.level == "station":
        j = j.county
    return str(j.id) if j is not None else ""


def domain_form(form: dict) -> dict:
    """The API's (documented) submission fields → complaints.submit's form."""
    get = lambda k: (form.get(k) or "").replace("\x00", "").strip()  # noqa: E731 — PostgreSQL refuses NUL
    kind = get("kind") or "report"
    # A report sent with neither name nor phone is anonymous (the API and Open311 have no form to forget them on).
    anonymous = get("anonymous").lower() in TRUE or (
        kind == "report" and not get("reporter_name") and not get("reporter_phone")
    )
    return {
        "kind": kind,
        "w": get("workshop_code"),
        "county": _county_id(get("jurisdiction")),
        "unregistered_name": get("unregistered_name"),
        "unregistered_address": get("unregistered_address"),
        "category": get("category") or "other",
        "content": get("content"),
        "product": get("product"),
        "purchased_on": get("purchased_on"),
        "amount": get("amount_yuan"),
        "demand": get("demand"),
        "name": get("reporter_name"),
        "phone": get("reporter_phone"),
        "anonymous": "1" if anonymous else "",
        "insider": "1" if get("insider").lower() in TRUE else "",
    }


def _api_errors(errors: dict, form: dict) -> dict:
    out = {API_FIELD.get(k, k): v for k, v in errors.items()}
    if "unregistered_address" in errors and not (form.get("workshop_code") or "").strip():
        out.setdefault("workshop_code", errors["unregistered_address"])  # either one answers it
    return out


def submit(
    form: dict, files: list, client_ip: str | None, channel: str, wechat_user_id: int | None = None
) -> complaints.Receipt:
    """complaints.submit for an API form and uploaded files (werkzeug FileStorage); SubmissionError."""
    uploads = [(f.filename or "", f.read(photos.MAX_BYTES + 1)) for f in files]
    try:
        return complaints.submit(
            domain_form(form),
            uploads,
            client_ip=client_ip,
            channel=channel,
            wechat_user_id=wechat_user_id,
        )
    except complaints.SubmissionInvalid as e:
        raise SubmissionError(
            "提交的内容有误，请检查后重试。", _api_errors(e.errors, form)
        ) from None
    except complaints.SpamSuspected as e:
        raise SubmissionError(str(e), {}) from None


def track(tracking_no: str, password: str) -> complaints.TrackView | None:
    return complaints.track(tracking_no, password)
