"""From what a person typed to Whoosh queries, and from hits back to highlighted text.

Queries are built as objects, never parsed from the text, so AND, *, ", :, ( and friends are
plain characters (dropped like any punctuation), never syntax and never an error.
"""
import json
import math
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from whoosh import query as Q
from whoosh import sorting

from . import analysis

CERT_DIGITS = 6  # a digit run at least this long is read as (part of) a certificate number
SORTS = ("relevance", "tier", "distance")
STATUSES = ("open", "closed", "all")


@dataclass
class SearchParams:
    q: str = ""
    tier: str | None = None
    county: int | None = None
    station: int | None = None
    category: int | None = None
    title: int | None = None
    high_risk: bool = False
    low_risk: bool = False  # exclude high-risk categories (the API's high_risk=false)
    status: str = "open"  # open | closed | all, or one exact status: closed workshops only when asked
    sort: str = "relevance"
    lat: float | None = None
    lng: float | None = None
    page: int = 1
    per_page: int = 20

    @property
    def has_filters(self) -> bool:
        return any((self.tier, self.county, self.station, self.category, self.title, self.high_risk, self.low_risk,
                    self.status != "open"))

    @property
    def has_location(self) -> bool:
        return self.lat is not None and self.lng is not None


@dataclass
class Hit:
    id: int
    score: float = 0.0
    distance_km: float | None = None
    py_map: list = field(default_factory=list)


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    params: SearchParams
    mode: str = "index"  # index | database
    relaxed: bool = False  # found only after allowing pinyin typos or dropping a word
    suggestions: list[int] = field(default_factory=list)  # workshop ids of near misses
    runs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.params.per_page))


def runs(text: str) -> list[tuple[str, str]]:
    """[(kind, text)]: cjk, alpha (lower-cased) or digit; everything else separates runs."""
    return [(m.lastgroup, m.group().lower()) for m in analysis.RUNS.finditer(text or "")][:12]


# --- building --------------------------------------------------------------------------------------


def _phrase(fieldname: str, terms: list[str], boost: float) -> Q.Query:
    if len(terms) == 1:
        return Q.Term(fieldname, terms[0], boost=boost)
    return Q.Phrase(fieldname, terms, slop=1, boost=boost)


def _vocabulary_words(reader, fieldname: str, run: str) -> list[str] | None:
    """Split a Chinese run the way the index split its texts: longest words the field knows.
    (The query side needs no jieba dictionary in memory.) None when a piece is unknown."""
    out, i = [], 0
    while i < len(run):
        for j in range(min(len(run), i + 8), i, -1):
            if (fieldname, run[i:j]) in reader:
                out.append(run[i:j])
                i = j
                break
        else:
            return None
    return out


def _cjk(reader, run: str) -> Q.Query:
    if len(run) == 1:
        return Q.Or([Q.Prefix("name_bi", run, boost=3), Q.Prefix("products_bi", run, boost=1.5),
                     Q.Prefix("region_bi", run, boost=1.5), Q.Prefix("address_bi", run, boost=0.5)])
    pairs = [run[i:i + 2] for i in range(len(run) - 1)]
    subs = [_phrase("name_bi", pairs, 3), _phrase("products_bi", pairs, 1.5), _phrase("region_bi", pairs, 1.5),
            _phrase("address_bi", pairs, 0.5)]
    for fieldname, boost in (("name", 3), ("products", 1)):
        ws = _vocabulary_words(reader, fieldname, run)
        if ws:
            subs.append(_phrase(fieldname, ws, boost))
    return Q.Or(subs)


def _alpha(run: str, fuzzy: int) -> Q.Query:
    subs = [Q.Term("name_bi", run, boost=2), Q.Term("products_bi", run), Q.Term("code", run, boost=10)]
    if len(run) == 1:
        return Q.Or(subs + [Q.Prefix("py_ini_full", run)])
    subs += [Q.Term("py_word", run, boost=3), Q.Term("py_ini", run, boost=2.5), Q.Term("py_other", run, boost=1.5)]
    if len(run) >= 3:  # shorter prefixes expand to too many terms to be worth it
        subs += [Q.Prefix("py_ini_full", run, boost=1.5)]
    for syllables in analysis.segment_pinyin(run, limit=3):
        if len(syllables) > 1:
            subs.append(Q.Phrase("py_syl", syllables, slop=1, boost=2))
    if fuzzy and len(run) >= 4:
        subs += [Q.FuzzyTerm("py_word", run, maxdist=fuzzy, prefixlength=1, boost=2),
                 Q.FuzzyTerm("py_other", run, maxdist=fuzzy, prefixlength=1)]
    return Q.Or(subs)


def _digit(run: str) -> Q.Query:
    if len(run) >= CERT_DIGITS:
        return Q.Term("cert_digits", run, boost=20)
    return Q.Or([Q.Term("name_bi", run, boost=2), Q.Term("products_bi", run), Q.Term("address_bi", run, boost=0.5)])


def build(reader, text: str, fuzzy: int = 0, any_run: bool = False) -> Q.Query | None:
    """The query for `text`; None when it holds nothing searchable. Every run must match
    (unless any_run); a long digit run (a certificate number) makes the rest optional."""
    rs = runs(text)
    if not rs:
        return None
    parts = []
    for kind, run in rs:
        parts.append(_cjk(reader, run) if kind == "cjk" else _alpha(run, fuzzy) if kind == "alpha" else _digit(run))
    certs = [_digit(run) for kind, run in rs if kind == "digit" and len(run) >= CERT_DIGITS]
    if certs:  # a certificate number: its digits decide, the words around them (登字第…号) do not
        main = Q.Or(certs)
    else:
        main = Q.Or(parts) if (any_run or len(parts) == 1) else Q.And(parts)
    whole = "".join((text or "").split()).lower()
    return Q.Or([main, Q.Term("cert", whole, boost=50), Q.Term("code", whole, boost=50)])


def filters(p: SearchParams) -> Q.Query | None:
    terms = []
    if p.status == "open":
        terms.append(Q.Term("status", "open"))
    elif p.status == "closed":
        terms.append(Q.Not(Q.Term("status", "open")))
    elif p.status != "all":
        terms.append(Q.Term("status", p.status))
    if p.tier:
        terms.append(Q.Term("tier", p.tier))
    if p.county:
        terms.append(Q.Term("county", str(p.county)))
    if p.station:
        terms.append(Q.Term("station", str(p.station)))
    if p.category:
        terms.append(Q.Term("cats", str(p.category)))
    if p.title:
        terms.append(Q.Term("titles", str(p.title)))
    if p.high_risk:
        terms.append(Q.Term("high_risk", True))
    elif p.low_risk:
        terms.append(Q.Not(Q.Term("high_risk", True)))
    if not terms:
        return None
    return Q.And(terms) if len(terms) > 1 else terms[0]


# --- running ---------------------------------------------------------------------------------------


def haversine_km(lat1, lng1, lat2, lng2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


def _hits_by_distance(searcher, q, flt, p: SearchParams) -> tuple[list[Hit], int]:
    """Nearest first; workshops without a location last. Distances are computed inside a box
    around the point first (widened until it holds the page), not for every match."""
    matched = searcher.search(q, filter=flt, limit=None, scored=False, sortedby=None).docs()
    total = len(matched)
    start = (p.page - 1) * p.per_page
    reader = searcher.reader()
    lat_col, lng_col = reader.column_reader("lat"), reader.column_reader("lng")
    ranked = None
    for half in (0.05, 0.2, 1.0, None):  # degrees; None: everything
        if half is None:
            candidates = matched
        else:
            box = Q.And([Q.NumericRange("lat", round((p.lat - half) * 1e6), round((p.lat + half) * 1e6)),
                         Q.NumericRange("lng", round((p.lng - half) * 1e6), round((p.lng + half) * 1e6))])
            candidates = [d for d in searcher.docs_for_query(box) if d in matched]
            if len(candidates) < start + p.per_page:
                continue
        ranked = []
        for docnum in candidates:
            lat, lng = lat_col[docnum], lng_col[docnum]
            located = (lat or lng) and abs(lat) <= 90_000_000 and abs(lng) <= 180_000_000  # else column default
            d = haversine_km(p.lat, p.lng, lat / 1e6, lng / 1e6) if located else None
            ranked.append((d is None, d or 0.0, docnum))
        ranked.sort()
        if half is None or ranked[start + p.per_page - 1][1] <= half * 111 * math.cos(math.radians(p.lat)):
            break  # every match outside the box is farther than the page's last one
    hits = []
    for missing, d, docnum in ranked[start:start + p.per_page]:
        stored = searcher.stored_fields(docnum)
        hits.append(Hit(int(stored["id"]), 0.0, None if missing else d, json.loads(stored.get("py_map") or "[]")))
    return hits, total


def _page(searcher, q, flt, p: SearchParams, sort: str) -> tuple[list[Hit], int]:
    if sort == "distance":
        return _hits_by_distance(searcher, q, flt, p)
    kwargs = {}
    if sort == "tier":
        kwargs["sortedby"] = [sorting.FieldFacet("tier_rank", reverse=True), sorting.ScoreFacet()]
    page = searcher.search_page(q, p.page, pagelen=p.per_page, filter=flt, terms=False, **kwargs)
    hits = [Hit(int(h["id"]), h.score or 0.0, None, json.loads(h.get("py_map") or "[]"))
            for h in page] if page.pagenum == p.page else []
    return hits, page.total


def run(searcher, p: SearchParams) -> SearchResult:
    """Strict first; then allow one-letter pinyin typos; then any word. Near misses (two typos)
    become suggestions on the empty page."""
    reader = searcher.reader()
    flt = filters(p)
    sort = p.sort if p.sort in SORTS else "relevance"
    if sort == "distance" and not p.has_location:
        sort = "relevance"
    q = build(reader, p.q)
    if q is None:
        if (p.q or "").strip():
            return SearchResult([], 0, p, runs=[])
        hits, total = _page(searcher, Q.Every(), flt, p, "tier" if sort == "relevance" else sort)
        return SearchResult(hits, total, p)
    hits, total = _page(searcher, q, flt, p, sort)
    relaxed = False
    if not total:
        for fuzzy, any_run in ((1, False), (1, True)):
            if any_run and len(runs(p.q)) < 2:
                continue
            hits, total = _page(searcher, build(reader, p.q, fuzzy=fuzzy, any_run=any_run), flt, p, sort)
            if total:
                relaxed = True
                break
    suggestions = []
    if not total:
        near = build(reader, p.q, fuzzy=2, any_run=True)
        suggestions = [int(h["id"]) for h in searcher.search(near, limit=5, terms=False)]
    return SearchResult(hits, total, p, relaxed=relaxed, suggestions=suggestions, runs=runs(p.q))


# --- highlighting ----------------------------------------------------------------------------------


def _edit1(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    if len(a) > len(b):
        a, b = b, a
    return any(b[:i] + b[i + 1:] == a for i in range(len(b)))


def _pinyin_matches(py_map: list, run: str) -> list[str]:
    """The characters of an indexed name that typed pinyin `run` spelled: whole syllables, across
    words too (donghe → 东河, laodongheliang → 老东河凉), initials (ldh → 老东河), or a whole
    word within one typo (liangao → 凉糕)."""
    text = "".join(e[0] for e in py_map)
    chars = [r.split("|") for e in py_map for r in (e[3] if len(e) > 3 else [])]
    if len(chars) != len(text):
        chars = []
    out = []
    for i in range(len(chars)):
        rest, j = run, i
        while rest and j < len(chars):
            step = next((r for r in chars[j] if rest.startswith(r)), None)
            if step is None:
                break
            rest, j = rest[len(step):], j + 1
        if not rest and (j - i > 1 or len(run) >= 2):
            out.append(text[i:j])
    if len(run) >= 2:
        initials = "".join(c[0][0] for c in chars)
        at = initials.find(run)
        if at >= 0:
            out.append(text[at:at + len(run)])
    if not out and len(run) >= 4:
        out += [e[0] for e in py_map if any(_edit1(f, run) for f in e[1])]
    return out


def needles(text: str, rs: list[tuple[str, str]], py_map: list | None = None) -> list[str]:
    """The substrings of `text` a query matched: Chinese runs (or their pairs, for partial
    matches), letters, digits, and words whose pinyin or initials the query spelled."""
    found = []
    low = text.lower()
    for kind, run in rs:
        if run in low:
            found.append(run)
        elif kind == "cjk":
            found += [run[i:i + 2] for i in range(len(run) - 1) if run[i:i + 2] in text]
        if kind == "alpha" and py_map:
            found += _pinyin_matches(py_map, run)
    return [n for n in found if n]


def highlight(text: str | None, marks: list[str]) -> Markup:
    text = text or ""
    if not marks:
        return escape(text)
    low = text.lower()
    on = [False] * len(text)
    for n in marks:
        start = low.find(n)
        while start >= 0:
            for i in range(start, start + len(n)):
                on[i] = True
            start = low.find(n, start + 1)
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and on[j] == on[i]:
            j += 1
        piece = escape(text[i:j])
        out.append(Markup("<mark>") + piece + Markup("</mark>") if on[i] else piece)
        i = j
    return Markup("").join(out)
