"""The Whoosh schema and the document built for each workshop (from the database, the only truth).

Every searchable field holds bare terms (Whoosh's Existence format: no positions, frequencies,
lengths or scores): the engine (engine.py) reads each term's documents as a set and ranks by which
field matched and by tier, so nothing per-posting beyond the document number is worth writing.
Character pairs stand in for phrases (all pairs of 老东河 present ≈ the phrase), and place names are
matched to jurisdiction ids at query time (places.py) rather than repeated in every document.
"""
import json
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from whoosh import columns, formats
from whoosh.fields import COLUMN, ID, STORED, FieldType, Schema

from shifangbang.extensions import db
from shifangbang.models import Jurisdiction, TitleGrant, Workshop

from . import analysis

GEO_GRIDS = (100, 10, 1)  # cells per degree: about 1 km, 10 km and 100 km across


class Terms(FieldType):
    """Indexed terms only, nothing else per posting. (This class path is stored in every index.)"""

    def __init__(self, analyzer):
        super().__init__(formats.Existence(), analyzer)

    def texts(self, value: str) -> list[str]:
        """The terms of a value, without Whoosh's token objects (bulk.BulkWriter)."""
        return self.analyzer.texts(value)


def make_schema() -> Schema:
    words = analysis.SpaceTokenizer()
    pairs = analysis.BigramTokenizer()
    return Schema(
        id=ID(stored=True, unique=True),
        wid=COLUMN(columns.NumericColumn("I")),  # workshop id by document number, read in bulk
        # Exact keys: public code, certificate number, its digits alone, the whole name.
        key=Terms(words),
        # Character pairs (and each run's last character) of the name, products and address.
        name_bi=Terms(pairs),
        products_bi=Terms(pairs),
        address_bi=Terms(pairs),
        # Pinyin (see analysis.name_pinyin): the name's words and their initials, and the words
        # of products and places.
        py_word=Terms(words),
        py_ini=Terms(words),
        py_other=Terms(words),
        # Filters: tier:gold status:open place:<station, county and city ids> cat:<id> title:<id>
        # risk:high loc g100:<cell> g10:<cell> g1:<cell>.
        facet=Terms(words),
        lat=COLUMN(columns.NumericColumn("i", default=0)),  # micro-degrees
        lng=COLUMN(columns.NumericColumn("i", default=0)),
        py_map=STORED(),
        tier=STORED(),
        status=STORED(),
        cert=STORED(),
    )


def geo_cells(lat: float, lng: float) -> list[str]:
    return [f"g{n}:{int(lat * n // 1)}:{int(lng * n // 1)}" for n in GEO_GRIDS]


def held_titles(workshop_ids) -> dict[int, list[int]]:
    out = defaultdict(list)
    rows = db.session.execute(
        select(TitleGrant.workshop_id, TitleGrant.title_id)
        .where(TitleGrant.workshop_id.in_(list(workshop_ids)), TitleGrant.status == "held"))
    for wid, tid in rows:
        out[wid].append(tid)
    return out


def load_workshops(ids) -> list[Workshop]:
    return list(db.session.scalars(
        select(Workshop).where(Workshop.id.in_(list(ids)))
        .options(selectinload(Workshop.categories),
                 joinedload(Workshop.station).joinedload(Jurisdiction.parent).joinedload(Jurisdiction.parent))
    ))


def _places(w: Workshop) -> list[Jurisdiction]:
    """The workshop's station and the jurisdictions above it (county, city)."""
    out, j = [], w.station
    while j is not None and len(out) < 4:
        out.append(j)
        j = j.parent
    return out


def place_word(name: str) -> str:
    return name.removesuffix("市场监管所").removesuffix("市场监督管理所").removesuffix("区").removesuffix("县")


def document(w: Workshop, titles: list[int]) -> dict:
    brand = " ".join(filter(None, (w.trademark, w.geo_indication, w.intangible_heritage, w.regional_brand,
                                   "老字号" if w.time_honoured else None)))
    varieties = [v for v in (w.varieties or "").replace("，", "、").replace(",", "、").split("、") if v.strip()]
    cats = [c.name for c in w.categories]
    places = _places(w)
    place_words = [place_word(p.name) for p in places]
    analysis.add_words(varieties + cats + [w.regional_brand or ""] + place_words)
    products = "、".join(varieties + cats) + (" " + brand if brand else "")
    py = analysis.name_pinyin(w.name)
    digits = "".join(ch for ch in w.cert_no if ch.isdigit())
    name_key = "".join(w.name.split()).lower()
    facets = [f"tier:{w.tier_code}", f"status:{w.status}"] + [f"place:{p.id}" for p in places] + \
        [f"cat:{c.id}" for c in w.categories] + [f"title:{t}" for t in titles]
    if w.high_risk:
        facets.append("risk:high")
    doc = dict(
        id=str(w.id), wid=w.id,
        key=" ".join(filter(None, (w.public_code.lower(), "".join(w.cert_no.split()).lower(), digits,
                                   f"n:{name_key}"))),
        name_bi=w.name, products_bi=products, address_bi=w.address or "",
        py_word=" ".join(py["word"]), py_ini=" ".join(py["ini"]),
        py_other=" ".join(analysis.words_pinyin(products) + analysis.words_pinyin(" ".join(place_words))),
        py_map=json.dumps(py["map"], ensure_ascii=False),
        tier=w.tier_code, status=w.status, cert=w.cert_no.lower(),
    )
    if w.lat is not None and w.lng is not None:
        facets += ["loc"] + geo_cells(w.lat, w.lng)
        doc.update(lat=round(w.lat * 1e6), lng=round(w.lng * 1e6))
    doc["facet"] = " ".join(facets)
    return doc
