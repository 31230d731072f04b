"""The Whoosh schema and the document built for each workshop (from the database, the only truth)."""
import json
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from whoosh.fields import BOOLEAN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from shifangbang.extensions import db
from shifangbang.models import Jurisdiction, TitleGrant, Workshop

from . import analysis

_cn = analysis.ChineseTokenizer()
_bi = analysis.BigramTokenizer()
_slot = analysis.SlotTokenizer()


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        code=ID(stored=True),  # public_code, printed under the QR code
        # Words (jieba, positions in order) and character pairs for partial names.
        name=TEXT(analyzer=_cn, phrase=True, field_boost=1.0),
        name_bi=TEXT(analyzer=_bi, phrase=True),
        products=TEXT(analyzer=_cn, phrase=True),
        products_bi=TEXT(analyzer=_bi, phrase=True),
        region_bi=TEXT(analyzer=_bi, phrase=True),
        address_bi=TEXT(analyzer=_bi, phrase=True),
        # Pinyin, pre-analysed (see analysis.name_pinyin).
        py_word=KEYWORD(),
        py_syl=TEXT(analyzer=_slot, phrase=True),
        py_ini=KEYWORD(),
        py_ini_full=KEYWORD(),
        py_other=KEYWORD(),
        py_map=STORED(),
        # Certificates are matched exactly: the whole number, or its digits alone.
        cert=ID(stored=True),
        cert_digits=KEYWORD(),
        # Filters and sorting.
        tier=ID(stored=True),
        tier_rank=NUMERIC(stored=True, sortable=True),
        county=ID(),
        station=ID(),
        cats=KEYWORD(),
        high_risk=BOOLEAN(),
        titles=KEYWORD(),
        status=ID(stored=True),
        has_loc=BOOLEAN(),
        # Micro-degrees in columns (read in bulk for distance sorting); 0, 0 means "no location".
        lat=NUMERIC(bits=32, sortable=True),
        lng=NUMERIC(bits=32, sortable=True),
    )


def _county(station: Jurisdiction) -> Jurisdiction | None:
    return station.county if station is not None else None


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


def document(w: Workshop, titles: list[int], rank_of) -> dict:
    brand = " ".join(filter(None, (w.trademark, w.geo_indication, w.intangible_heritage, w.regional_brand,
                                   "老字号" if w.time_honoured else None)))
    varieties = [v for v in (w.varieties or "").replace("，", "、").replace(",", "、").split("、") if v.strip()]
    cats = [c.name for c in w.categories]
    county = _county(w.station)
    places = [j.name for j in (w.station, county, county.parent if county else None) if j is not None]
    analysis.add_words(varieties + cats + [w.regional_brand or ""] +
                       [p.removesuffix("市场监管所").removesuffix("区").removesuffix("县") for p in places])
    products = "、".join(varieties + cats) + (" " + brand if brand else "")
    py = analysis.name_pinyin(w.name)
    digits = "".join(ch for ch in w.cert_no if ch.isdigit())
    has_loc = w.lat is not None and w.lng is not None
    doc = dict(
        id=str(w.id), code=w.public_code.lower(),
        name=w.name, name_bi=w.name, products=products, products_bi=products,
        region_bi=" ".join(places), address_bi=w.address,
        py_word=" ".join(py["word"]), py_syl=py["syl"],
        py_ini=" ".join(py["ini"]), py_ini_full=" ".join(py["ini_full"]),
        py_other=" ".join(analysis.words_pinyin(products + " " + " ".join(places))),
        py_map=json.dumps(py["map"], ensure_ascii=False),
        cert=w.cert_no.lower(), cert_digits=digits or "-",
        tier=w.tier_code, tier_rank=rank_of(w.tier_code),
        county=str(county.id) if county else "", station=str(w.station_id),
        cats=" ".join(str(c.id) for c in w.categories), high_risk=w.high_risk,
        titles=" ".join(str(t) for t in titles), status=w.status, has_loc=has_loc,
    )
    if has_loc:
        doc.update(lat=round(w.lat * 1e6), lng=round(w.lng * 1e6))
    return doc
