"""Workshop cards: what a list of workshops shows (home, 榜单, search hits, API summaries), loaded as
plain rows — the card's columns, then its categories — never the whole object graph.

Places (jurisdictions) and categories are small reference tables, read once per data version by
shifangbang.public_cache and shared by every card.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from .extensions import db
from .models import (
    Jurisdiction,
    JurisdictionMerge,
    ProductCategory,
    Workshop,
    workshop_category,
)


@dataclass(slots=True, eq=False)
class Place:
    id: int
    code: str
    name: str
    level: str
    phone: str | None
    address: str | None
    parent_id: int | None
    merged_into_id: int | None = None  # a station merged into another (JurisdictionMerge)
    parent: "Place | None" = None
    merged_into: "Place | None" = None

    @property
    def county(self) -> "Place | None":
        node = self
        while node is not None and node.level != "county":
            node = node.parent
        return node

    @property
    def in_service(self) -> bool:
        return self.merged_into_id is None

    @property
    def successor(self) -> "Place":
        """The station now in charge of what this one was (itself unless merged): an old link or
        filter naming a merged station shows its workshops where they went."""
        node, seen = self, set()
        while node.merged_into is not None and node.id not in seen:
            seen.add(node.id)
            node = node.merged_into
        return node


@dataclass(frozen=True, slots=True)
class Category:
    id: int
    code: str
    name: str
    high_risk: bool


@dataclass(slots=True, eq=False)
class Card:
    id: int
    public_code: str
    name: str
    address: str
    varieties: str
    tier_code: str
    tier_since: date | None
    last_inspected_on: date | None
    status: str
    status_changed_on: date | None
    lat: float | None
    lng: float | None
    regional_brand: str | None
    created_at: datetime | None
    station: Place | None
    categories: tuple[Category, ...]

    @property
    def high_risk(self) -> bool:
        return any(c.high_risk for c in self.categories)


COLUMNS = (
    Workshop.id,
    Workshop.public_code,
    Workshop.name,
    Workshop.address,
    Workshop.varieties,
    Workshop.tier_code,
    Workshop.tier_since,
    Workshop.last_inspected_on,
    Workshop.status,
    Workshop.status_changed_on,
    Workshop.lat,
    Workshop.lng,
    Workshop.regional_brand,
    Workshop.created_at,
    Workshop.station_id,
)


def read_places() -> dict[int, Place]:
    rows = db.session.execute(
        select(
            Jurisdiction.id,
            Jurisdiction.code,
            Jurisdiction.name,
            Jurisdiction.level,
            Jurisdiction.phone,
            Jurisdiction.address,
            Jurisdiction.parent_id,
            JurisdictionMerge.target_id,
        )
        .outerjoin(JurisdictionMerge, JurisdictionMerge.source_id == Jurisdiction.id)
        .order_by(Jurisdiction.code)
    ).all()
    places = {r[0]: Place(*r) for r in rows}
    for p in places.values():
        p.parent = places.get(p.parent_id)
        p.merged_into = places.get(p.merged_into_id)
    return places


def read_categories() -> dict[int, Category]:
    rows = db.session.execute(
        select(
            ProductCategory.id,
            ProductCategory.code,
            ProductCategory.name,
            ProductCategory.high_risk,
        ).order_by(ProductCategory.code)
    ).all()
    return {r[0]: Category(*r) for r in rows}


def load(ids, places: dict[int, Place], categories: dict[int, Category]) -> list[Card]:
    """Cards for these workshop ids, in the order given (an id deleted meanwhile is skipped).
    Two queries whatever the number; callers pass a page of ids, never an unbounded set."""
    ids = list(ids)
    if not ids:
        return []
    rows = db.session.execute(select(*COLUMNS).where(Workshop.id.in_(ids))).all()
    cats: dict[int, list[Category]] = {}
    for wid, cid in db.session.execute(
        select(workshop_category.c.workshop_id, workshop_category.c.category_id).where(
            workshop_category.c.workshop_id.in_(ids)
        )
    ):
        if cid in categories:
            cats.setdefault(wid, []).append(categories[cid])
    found = {}
    for r in rows:
        found[r[0]] = Card(
            *r[:14],
            station=places.get(r[14]),
            categories=tuple(sorted(cats.get(r[0], ()), key=lambda c: c.code)),
        )
    return [found[i] for i in ids if i in found]
