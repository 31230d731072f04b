"""The Whoosh schema and the document built for each workshop (from the database, the only truth).

Every searchable field holds bare terms (Whoosh's Existence format: no positions, frequencies,
lengths or scores): the engine (engine.py) reads each term's documents as a set and ranks by which
field matched and by tier, so nothing per-posting beyond the document number is worth writing.
Character pairs stand in for phrases (all pairs of 老东河 present ≈ the phrase), and place names are
matched to jurisdiction ids at query time (places.py) rather than repeated in every document.
"""

import json
from dataclasses import dataclass, field

from sqlalchemy import select
from whoosh import columns, formats
from whoosh.fields import COLUMN, ID, STORED, FieldType, Schema

from shifangbang.extensions import db
from shifangbang.models import (
    Jurisdiction,
    ProductCategory,
    TitleGrant,
    Workshop,
    workshop_category,
)

from . import analysis

GEO_GRIDS = (100, 10, 1)  # cells per degree: about 1 km, 10 km and 100 km across
# The version of what documents hold: bump it with any change to the fields, the analysis
# (analysis.py: dictionary words, readings, pairs) or the document below. It is stored in each
# index folder (store.py) with the versions of the libraries that make terms; an index made
# otherwise is reported as needing a rebuild (`flask search sync --rebuild-if-needed`).
INDEX_FORMAT = 3
NAME_LENGTHS = 24  # names are grouped by length up to this many characters (shorter ranks first)


def index_format() -> str:
    from importlib.metadata import version

    libs = " ".join(f"{lib}-{version(lib)}" for lib in ("whoosh", "jieba", "pypinyin"))
    return f"{INDEX_FORMAT} {libs} readings-{analysis.READINGS_VERSION}"


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
    items = analysis.ItemTokenizer()
    return Schema(
        id=ID(stored=True, unique=True),
        wid=COLUMN(columns.NumericColumn("I")),  # workshop id by document number, read in bulk
        # Exact keys: public code, certificate number, its digits alone, the whole name.
        key=Terms(words),
        # Character pairs (and each run's last character) of the name, products and address;
        # products' items also by three characters (a query of three or more within one item).
        name_bi=Terms(pairs),
        products_bi=Terms(items),
        address_bi=Terms(pairs),
        # Pinyin (see analysis.name_pinyin): the name's words and their initials, and the words
        # of products and places.
        py_word=Terms(words),
        py_ini=Terms(words),
        # The whole name run together: full pinyin, initials (typos anywhere in them).
        py_name=Terms(words),
        py_nini=Terms(words),
        # The readings of each two neighbouring characters of the name (lao'dong, dong'he).
        py_pair=Terms(words),
        py_other=Terms(words),  # products
        py_place=Terms(words),  # places (as named when the workshop was indexed)
        # Filters: tier:gold status:open place:<station, county and city ids> cat:<id> title:<id>
        # risk:high loc g100:<cell> g10:<cell> g1:<cell>; len:<name length>; start:<name's first
        # two characters> (a name that starts with the query ranks first).
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


@dataclass
class Source:
    """What a workshop's document is made of, read with plain queries: cheap to load, and
    picklable, so writer processes can do the analysis (bulk.ParallelBuild)."""

    id: int
    public_code: str
    cert_no: str
    name: str
    address: str
    varieties: str
    brands: list[str]  # trademark, geographical indication, heritage, regional brand, 老字号
    tier_code: str
    status: str
    lat: float | None
    lng: float | None
    categories: list[tuple[int, str, bool]] = field(default_factory=list)  # (id, name, high risk)
    places: list[tuple[int, str]] = field(default_factory=list)  # station, county, city: (id, name)
    titles: list[int] = field(default_factory=list)


def jurisdiction_tree() -> dict[int, tuple[str, int | None]]:
    """id → (name, parent id), for every jurisdiction (a few hundred rows)."""
    return {
        j: (name, parent)
        for j, name, parent in db.session.execute(
            select(Jurisdiction.id, Jurisdiction.name, Jurisdiction.parent_id)
        )
    }


def load_sources(ids, tree: dict | None = None) -> list[Source]:
    """The sources of these workshops (missing ids are left out), in id order."""
    ids = list(ids)
    tree = jurisdiction_tree() if tree is None else tree
    rows = db.session.execute(
        select(
            Workshop.id,
            Workshop.public_code,
            Workshop.cert_no,
            Workshop.name,
            Workshop.address,
            Workshop.varieties,
            Workshop.trademark,
            Workshop.geo_indication,
            Workshop.intangible_heritage,
            Workshop.regional_brand,
            Workshop.time_honoured,
            Workshop.tier_code,
            Workshop.status,
            Workshop.lat,
            Workshop.lng,
            Workshop.station_id,
        )
        .where(Workshop.id.in_(ids))
        .order_by(Workshop.id)
    )
    out = {}
    for r in rows:
        places, j = [], r.station_id
        while j in tree and len(places) < 4:
            places.append((j, tree[j][0]))
            j = tree[j][1]
        brands = [
            b for b in (r.trademark, r.geo_indication, r.intangible_heritage, r.regional_brand) if b
        ]
        out[r.id] = Source(
            r.id,
            r.public_code,
            r.cert_no,
            r.name,
            r.address or "",
            r.varieties or "",
            brands + (["老字号"] if r.time_honoured else []),
            r.tier_code,
            r.status,
            r.lat,
            r.lng,
            places=places,
        )
    for wid, cid, name, risky in db.session.execute(
        select(
            workshop_category.c.workshop_id,
            ProductCategory.id,
            ProductCategory.name,
            ProductCategory.high_risk,
        )
        .join(ProductCategory, ProductCategory.id == workshop_category.c.category_id)
        .where(workshop_category.c.workshop_id.in_(ids))
        .order_by(ProductCategory.id)
    ):
        out[wid].categories.append((cid, name, bool(risky)))
    for wid, tid in db.session.execute(
        select(TitleGrant.workshop_id, TitleGrant.title_id)
        .where(TitleGrant.workshop_id.in_(ids), TitleGrant.status == "held")
        .order_by(TitleGrant.title_id)
    ):
        out[wid].titles.append(tid)
    return list(out.values())


def place_word(name: str) -> str:
    return (
        name.removesuffix("市场监管所")
        .removesuffix("市场监督管理所")
        .removesuffix("区")
        .removesuffix("县")
    )


def document(w: Source) -> dict:
    varieties = [
        v for v in w.varieties.replace("，", "、").replace(",", "、").split("、") if v.strip()
    ]
    cats = [name for _, name, _ in w.categories]
    place_words = [place_word(name) for _, name in w.places]
    products = "、".join(varieties + cats) + (" " + " ".join(w.brands) if w.brands else "")
    py = analysis.name_pinyin(w.name)
    digits = "".join(ch for ch in w.cert_no if ch.isdigit())
    name_key = "".join(w.name.split()).lower()
    facets = (
        [f"tier:{w.tier_code}", f"status:{w.status}"]
        + [f"place:{j}" for j, _ in w.places]
        + [f"cat:{c}" for c, _, _ in w.categories]
        + [f"title:{t}" for t in w.titles]
        + [f"len:{min(len(name_key), NAME_LENGTHS)}"]
    )
    if len(name_key) >= 2:
        facets.append(f"start:{name_key[:2]}")
    if any(risky for _, _, risky in w.categories):
        facets.append("risk:high")
    doc = dict(
        id=str(w.id),
        wid=w.id,
        key=" ".join(
            filter(
                None,
                (
                    w.public_code.lower(),
                    "".join(w.cert_no.split()).lower(),
                    digits,
                    f"n:{name_key}",
                ),
            )
        ),
        name_bi=w.name,
        products_bi=products,
        address_bi=w.address,
        py_word=" ".join(py["word"]),
        py_ini=" ".join(py["ini"]),
        py_name=" ".join(py["whole"]),
        py_nini=" ".join(py["whole_ini"]),
        py_pair=" ".join(py["pairs"]),
        py_other=" ".join(analysis.words_pinyin("、".join(varieties + cats + w.brands))),
        py_place=" ".join(analysis.words_pinyin(" ".join(place_words))),
        py_map=json.dumps(py["map"], ensure_ascii=False),
        tier=w.tier_code,
        status=w.status,
        cert=w.cert_no.lower(),
    )
    if w.lat is not None and w.lng is not None:
        facets += ["loc"] + geo_cells(w.lat, w.lng)
        doc.update(lat=round(w.lat * 1e6), lng=round(w.lng * 1e6))
    doc["facet"] = " ".join(facets)
    return doc
