"""QR posters (公示牌): issuing numbered posters for one workshop or a whole station.

Each poster's issue number rides in its QR URL (/w/<code>?p=<issue_no>); the public page compares
the poster's issue time with the workshop's last public change to flag outdated posters.
"""

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from . import access, audit, codes
from .errors import DomainError
from .extensions import db
from .models import Jurisdiction, Poster, TitleGrant, Workshop
from .tx import transactional

SIZES = ("A4", "A5")
AUDIT_FIELDS = ("workshop_id", "issue_no", "size", "tier_code", "issued_at")


class PosterError(DomainError):
    pass


def issue_no_param(raw: str | None) -> int | None:
    """The poster number in a QR URL's ?p= (the page and the mini-program's scan read it alike)."""
    raw = raw or ""
    return int(raw) if raw.isdigit() and len(raw) <= 6 else None


def parse_link(link: str, base_url: str) -> tuple[str, int | None] | None:
    """(public code, poster number) from a scanned QR link to this site; None if it is not one."""
    parts, base = urlsplit((link or "").strip()), urlsplit(base_url)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != base.netloc.lower():
        return None
    prefix = base.path.rstrip("/") + "/w/"
    if not parts.path.startswith(prefix):
        return None
    code = codes.normalise(parts.path[len(prefix) :].rstrip("/"))
    if not code or len(code) > codes.MAX_LENGTH or "/" in code:
        return None
    return code, issue_no_param((parse_qs(parts.query).get("p") or [""])[0])


def _check_size(size: str) -> None:
    if size not in SIZES:
        raise PosterError("请选择 A4 或 A5 纸张。")


def _issue_one(actor, workshop: Workshop, size: str, next_no: int) -> Poster:
    if workshop.status != "open":
        raise PosterError(f"「{workshop.name}」不在营，不能发放公示牌。")
    poster = Poster(
        workshop_id=workshop.id,
        issue_no=next_no,
        size=size,
        tier_code=workshop.tier_code,
        issued_by_id=getattr(actor, "id", None),
    )
    db.session.add(poster)
    db.session.flush()
    audit.record(
        actor, "poster.issue", "poster", poster.id, after=audit.snapshot(poster, AUDIT_FIELDS)
    )
    return poster


def _next_numbers(workshop_ids: list[int]) -> dict[int, int]:
    # Lock the workshops (PostgreSQL; SQLite serialises writers anyway) so two officers printing
    # at once get consecutive numbers instead of a unique-constraint error.
    db.session.execute(select(Workshop.id).where(Workshop.id.in_(workshop_ids)).with_for_update())
    rows = db.session.execute(
        select(Poster.workshop_id, func.max(Poster.issue_no))
        .where(Poster.workshop_id.in_(workshop_ids))
        .group_by(Poster.workshop_id)
    ).all()
    last = dict(rows)
    return {wid: (last.get(wid) or 0) + 1 for wid in workshop_ids}


@transactional
def issue(actor, workshop: Workshop, size: str = "A4") -> Poster:
    """Issue the workshop's next poster; its number is one more than the last one issued.

    The (workshop, issue_no) unique constraint turns a concurrent double issue into an error
    rather than two posters with one number.
    """
    access.require(actor, "issue_poster", workshop.station_id)
    _check_size(size)
    return _issue_one(actor, workshop, size, _next_numbers([workshop.id])[workshop.id])


@transactional
def issue_for_station(actor, station: Jurisdiction, size: str = "A4") -> list[Poster]:
    """One new poster for every open workshop of the station, in name order (batch printing)."""
    access.require(actor, "issue_poster", station.id)
    _check_size(size)
    shops = list(
        db.session.scalars(
            select(Workshop)
            .where(Workshop.station_id == station.id, Workshop.status == "open")
            .order_by(Workshop.name, Workshop.id)
        )
    )
    if not shops:
        raise PosterError(f"{station.name}没有在营的作坊。")
    numbers = _next_numbers([w.id for w in shops])
    return [_issue_one(actor, w, size, numbers[w.id]) for w in shops]


def for_printing(actor, poster_ids: list[int]) -> list[tuple[Poster, Workshop, list[TitleGrant]]]:
    """Posters with their workshop and held titles, in the given order; checks access to each."""
    posters = list(db.session.scalars(select(Poster).where(Poster.id.in_(poster_ids))))
    by_id = {p.id: p for p in posters}
    shops = {
        w.id: w
        for w in db.session.scalars(
            select(Workshop)
            .where(Workshop.id.in_({p.workshop_id for p in posters}))
            .options(joinedload(Workshop.station), selectinload(Workshop.categories))
        )
    }
    grants: dict[int, list[TitleGrant]] = {}
    for g in db.session.scalars(
        select(TitleGrant)
        .options(joinedload(TitleGrant.title))
        .where(TitleGrant.workshop_id.in_(shops), TitleGrant.status == "held")
        .order_by(TitleGrant.granted_on)
    ):
        grants.setdefault(g.workshop_id, []).append(g)
    out = []
    for pid in poster_ids:
        poster = by_id.get(pid)
        if poster is None:
            continue
        shop = shops[poster.workshop_id]
        access.require(actor, "issue_poster", shop.station_id)
        out.append((poster, shop, grants.get(shop.id, [])))
    return out


def recent(actor, limit: int = 30) -> list[tuple[Poster, Workshop]]:
    scope = access.visible_jurisdiction_ids(actor)
    q = (
        select(Poster, Workshop)
        .join(Workshop, Workshop.id == Poster.workshop_id)
        .order_by(Poster.issued_at.desc(), Poster.id.desc())
        .limit(limit)
    )
    if scope is not None:
        q = q.where(Workshop.station_id.in_(scope))
    return [(p, w) for p, w in db.session.execute(q).all()]
