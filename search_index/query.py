"""From what a person typed to ranked workshops, and from hits back to highlighted text.

The text is split into runs (Chinese, letters, digits) and each run is looked up as terms, never
parsed as a query language, so AND, *, ", :, ( and friends are plain characters (dropped like any
punctuation), never syntax and never an error. Ranking: how well the query matched (whole name,
name start, name words, initials, products, place, address), then a shorter name, then tier,
then distance when the location is known (see engine.py for why sets, docs/search.md for all).
"""

import itertools
import json
import math
from dataclasses import dataclass, field

from flask import current_app
from markupsafe import Markup, escape

from . import analysis, engine, places, vocab
from . import schema as schema_mod

CERT_DIGITS = 6  # a digit run at least this long is read as (part of) a certificate number
SORTS = ("relevance", "tier", "distance")
NEAR_SORT_MAX = 2000  # with a location, a tie group at most this big is ordered by distance
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
    status: str = (
        "open"  # open | closed | all, or one exact status: closed workshops only when asked
    )
    sort: str = "relevance"
    lat: float | None = None
    lng: float | None = None
    page: int = 1
    per_page: int = 20

    @property
    def has_filters(self) -> bool:
        return any(
            (
                self.tier,
                self.county,
                self.station,
                self.category,
                self.title,
                self.high_risk,
                self.low_risk,
                self.status != "open",
            )
        )

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
    categories: list[int] = field(default_factory=list)  # categories to browse on an empty page
    understood: str = ""  # a spoken question as it was read (附近有卖莜面的吗 → 莜面)
    runs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.params.per_page))


def runs(text: str) -> list[tuple[str, str]]:
    """[(kind, text)]: cjk, alpha (lower-cased) or digit; everything else separates runs."""
    return [(m.lastgroup, m.group().lower()) for m in analysis.RUNS.finditer(text or "")][:12]


# --- matching ----------------------------------------------------------------------------------------
# How strongly one run of the query matched a document, by field. A document's score is the sum
# over the query's runs (its best field for each), plus bonuses for the whole query: a public
# code or certificate number, the whole name (an unrated workshop named exactly what was typed
# comes first), a name that starts with the query. Ties: shorter name, then tier (see _groups).
NAME, INITIALS, PRODUCTS, PLACE, ADDRESS = 80, 70, 60, 40, 20
TYPO = 4  # taken off a level for a near match (a typo, a word left out)
CERT, WHOLE_KEY, WHOLE_NAME, WHOLE_INITIALS, START = 600, 1000, 500, 300, 5
FEW = 3  # fewer workshops than this as typed: names with the middle left out follow
NAME_START_PINYIN = 12  # this many letters or more also match the start of a whole name's pinyin
SEQUENCE_MAX = 32  # letters of typed pinyin split into several words …
WORD_MAX = 12  # … of at most this many letters each (the split costs length × WORD_MAX lookups)
SCATTERED = 2  # taken off NAME when typed pinyin spells the name's words but not side by side
SYLLABLES_MAX = 64  # letters of typed pinyin read syllable by syllable (pairs of neighbours)
READINGS_MAX = 4  # ways of cutting typed pinyin into syllables tried


def _named(level: int) -> bool:
    """A level that means the run matched the workshop's name."""
    return level > PRODUCTS


def plan(text: str, merge: bool = True, cap: int | None = SEQUENCE_MAX) -> list[tuple[str, str]]:
    """The runs a query is matched by: letters typed with spaces between them run together
    (liang pi → liangpi; up to `cap` letters a run, None: all of them), Chinese runs cut after a
    leading or before a trailing place word (昆区凉皮 → 昆区, 凉皮)."""
    out: list[tuple[str, str]] = []
    last_end = None
    for m in analysis.RUNS.finditer(text or ""):
        kind, run = m.lastgroup, m.group().lower()
        gap = text[last_end : m.start()] if last_end is not None else None
        last_end = m.end()
        if merge and kind == "alpha" and out and out[-1][0] == "alpha" and not (gap or "x").strip():
            if cap is None or len(out[-1][1]) + len(run) <= cap:
                out[-1] = ("alpha", out[-1][1] + run)
                continue
        if kind == "cjk":
            out += [("cjk", part) for part in places.split(run)]
        else:
            out.append((kind, run))
    return out[:12]


def _cjk(v: engine.View, run: str, fuzzy: int) -> list[tuple[int, int, bool]]:
    """The levels of a Chinese run and of its spellings with synonyms: (level, documents, whether
    through a synonym)."""
    return [
        (level, bits, n > 0)
        for n, variant in enumerate(vocab.variants(run))
        for level, bits in _cjk_spelling(v, variant, fuzzy)
    ]


def _cjk_spelling(v: engine.View, run: str, fuzzy: int) -> list[tuple[int, int]]:
    if len(run) == 1:
        # one character: a prefix of the pairs (each run's last character is indexed alone)
        return [
            (NAME, v.prefix("name_bi", run)),
            (PRODUCTS, v.prefix("products_bi", run, longest=2)),
            (ADDRESS, v.prefix("address_bi", run)),
        ]
    pairs = [run[i : i + 2] for i in range(len(run) - 1)]
    place = v.any_of("facet", [f"place:{j}" for j in places.matching(run)])
    address = v.all_of("address_bi", pairs)
    # Products by their three characters (within one item: 风干羊肉、牛肉干 holds the pairs of
    # 羊肉干, not the food); each three implies its two pairs.
    products = v.all_of("products_bi", analysis.triples(run) if len(run) >= 3 else pairs)
    levels = [
        (NAME, v.all_of("name_bi", pairs)),
        (PRODUCTS, products),
        (PLACE, place),
        (ADDRESS, address),
    ]
    if place and address:
        # A station covers several towns: the one named in the address too is nearer the query.
        levels.append((PLACE + 1, place & address))
    if fuzzy and 2 <= len(pairs) <= 9:  # at most 84 combinations of left-out pairs
        # Words typed together that the name has apart (东河豆腐 → 老东河王记豆腐坊), or a name
        # with its middle left out (刘记凉皮 → 刘记萨拉齐凉皮坊): a pair across the seam is missing,
        # one in three may be. Keeping the name's first and last pair ranks higher.
        missing = max(1, len(pairs) // 3)
        partial = v.all_but("name_bi", pairs, missing)
        ends = v.term("name_bi", pairs[0]) & v.term("name_bi", pairs[-1])
        levels += [
            (NAME - TYPO, partial & ends),
            (NAME - 2 * TYPO, partial if len(pairs) >= 3 else 0),
            (PRODUCTS - TYPO, v.all_but("products_bi", pairs, missing) if len(pairs) >= 3 else 0),
        ]
    return levels


def _split(v: engine.View, run: str, field: str, shortest: int) -> list[str] | None:
    """The fewest indexed terms of `field` that spell `run` one after another (wangjidoufu →
    wangji doufu; jqlcc → jq lcc), each at least `shortest` letters (or a syllable of one vowel:
    aerding → a er ding); None when there is none."""
    if len(run) > SEQUENCE_MAX:
        return None
    best: dict[int, list[str]] = {0: []}
    for i in range(len(run)):
        if i not in best:
            continue
        for j in range(i + (1 if run[i] in "aeo" else shortest), min(len(run), i + WORD_MAX) + 1):
            if (j not in best or len(best[j]) > len(best[i]) + 1) and v.has(field, run[i:j]):
                best[j] = best[i] + [run[i:j]]
    pieces = best.get(len(run))
    return pieces if pieces and len(pieces) > 1 else None


def _reach(v: engine.View, run: str, field: str, backward: bool = False) -> dict[int, list[str]]:
    """Positions of `run` reachable from its start (or, backward, from which its end is
    reachable) through indexed terms of `field`, with the fewest terms that do it."""
    n = len(run)
    best: dict[int, list[str]] = {n if backward else 0: []}
    order = range(n, 0, -1) if backward else range(n)
    for i in order:
        if i not in best:
            continue
        spans = (
            ((j, i) for j in range(i - 1, max(-1, i - WORD_MAX - 1), -1))
            if backward
            else ((i, j) for j in range(i + 1, min(n, i + WORD_MAX) + 1))
        )
        for a, b in spans:
            if b - a < 2 and run[a] not in "aeo":
                continue
            end = a if backward else b
            if (end not in best or len(best[end]) > len(best[i]) + 1) and v.has(field, run[a:b]):
                best[end] = ([run[a:b]] + best[i]) if backward else (best[i] + [run[a:b]])
    return best


def _split_typo(v: engine.View, run: str, field: str) -> int:
    """Documents whose words of `field` spell `run` with one typo in one word (wangjidoufo →
    wangji + doufu~): the words before and after the typo exactly, the one between within one
    edit or swap."""
    if len(run) > SEQUENCE_MAX:
        return 0
    ahead, behind = _reach(v, run, field), _reach(v, run, field, backward=True)
    i = max(ahead)
    after = [j for j in behind if j > i]
    if not after:
        return 0
    j = min(after)
    middle = run[i:j]
    if not 3 <= len(middle) <= 10 or (i == 0 and j == len(run)):
        return 0
    docs = v.fuzzy(field, middle, 1) | v.any_of(field, _swaps(middle))
    for piece in ahead[i] + behind[j]:
        if not docs:
            break
        docs &= v.term(field, piece)
    return docs


def _syllables(v: engine.View | None, run: str) -> list[list[str]]:
    """Ways (at most READINGS_MAX) to cut typed pinyin into syllables, most letters a syllable
    first (xian before xi'an); with a view, only those whose neighbours are an indexed pair."""
    if not 4 <= len(run) <= SYLLABLES_MAX:
        return []
    known = analysis.syllables()
    out: list[list[str]] = []
    dead: set[tuple[int, str]] = set()

    def walk(i: int, path: list[str]) -> None:
        last = path[-1] if path else ""
        if len(out) >= READINGS_MAX or (i, last) in dead:
            return
        if i == len(run):
            out.append(path)
            return
        before = len(out)
        for j in range(min(len(run), i + 6), i, -1):
            syllable = run[i:j]
            if syllable in known and (
                v is None or not last or v.has("py_pair", f"{last}'{syllable}")
            ):
                walk(j, path + [syllable])
        if len(out) == before:
            dead.add((i, last))

    walk(0, [])
    return [path for path in out if len(path) > 1]


def _pairs(path: list[str]) -> list[str]:
    return [f"{a}'{b}" for a, b in zip(path, path[1:])]


def _side_by_side(v: engine.View, run: str) -> int:
    """Names whose characters read as `run` one after another (dexinglongyuebing → 东河区铁西街道
    德兴隆月饼店, wherever it starts and however jieba cut the name): every pair of neighbouring
    syllables indexed (py_pair), as character pairs stand for a Chinese phrase."""
    docs = 0
    for path in _syllables(v, run):
        docs |= v.all_of("py_pair", _pairs(path))
    return docs


def _swaps(run: str) -> set[str]:
    """Two neighbouring letters swapped (youmain → youmian), which edit distance counts as two
    edits (engine.terms_within)."""
    return {run[:i] + run[i + 1] + run[i] + run[i + 2 :] for i in range(1, len(run) - 1)} - {run}


def _alpha(v: engine.View, run: str, fuzzy: int, sound: bool = False) -> list[tuple[int, int]]:
    """Typed pinyin or letters. `sound`: Chinese read as pinyin (豆付 → doufu), matched against
    names and products only (a place's pinyin is as it was named when indexed)."""
    word, whole = v.term("py_word", run), v.term("py_name", run)
    name = word | whole | v.term("name_bi", run)
    if len(run) >= NAME_START_PINYIN:  # the start of a long name (fushenggonghuanghexilu)
        name |= v.prefix("py_name", run)
    if not (word or whole):  # a word or a whole name is indexed as one term already
        name |= _side_by_side(v, run)
    initials = v.term("py_ini", run) | v.term("py_nini", run)
    # The name's words in any order (doufuwangji → 王记豆腐坊), after side by side.
    words = _split(v, run, "py_word", 2) if len(run) >= 4 else None
    scattered = v.all_of("py_word", words) if words else 0
    letters = _split(v, run, "py_ini", 1) if 2 <= len(run) <= 8 else None
    if letters:
        initials |= v.all_of("py_ini", letters)
    levels = [
        (NAME, name),
        (NAME - SCATTERED, scattered),
        (INITIALS, initials),
        (PRODUCTS, v.term("py_other", run) | v.term("products_bi", run)),
    ]
    if not sound:
        levels.append((PLACE, v.term("py_place", run)))
    if fuzzy and len(run) >= 4:
        # One typo: an edit (Levenshtein) or a swap, in a word or anywhere in the whole name run
        # together (full pinyin or initials: laodonghelinggaozuofang, ldhlgzff). Finding the near
        # terms costs with length × distance (engine.terms_within): long runs get one edit and
        # only the fields their length fits.
        swapped = _swaps(run)
        dist = fuzzy if len(run) <= 8 else 1
        typo = 0
        fields = ["py_word"] if len(run) <= 12 else []
        fields += ["py_nini"] if 5 <= len(run) <= 12 else []
        fields += ["py_name"] if len(run) >= 6 else []
        for name in fields:
            typo |= v.fuzzy(name, run, dist) | v.any_of(name, swapped)
        if len(run) >= 7:
            typo |= _split_typo(v, run, "py_word")
        run_together = [name for name in fields if name != "py_word"]
        if not typo and run_together:
            # The first letter wrong, left out or swapped (ongxingrenjimahuafang): tried only
            # when a typo elsewhere finds nothing (a typo free in its first letter is looked for
            # under every first letter of the field's terms).
            first = {run[1] + run[0] + run[2:]}
            for name in run_together:
                typo |= v.fuzzy(name, run, 1, prefixlength=0) | v.any_of(name, first)
        levels.append((NAME - TYPO, typo))
        for path in [] if typo else _syllables(None, run)[:2]:
            # No typo explains it: a part of the name left out or typed in another order (wu
            # ji su bo gai → 苏波盖邬记…): one syllable pair in three may be missing, as for
            # Chinese pairs.
            pairs = _pairs(path)
            if 3 <= len(pairs) <= 9:
                partial = v.all_but("py_pair", pairs, max(1, len(pairs) // 3))
                ends = v.term("py_pair", pairs[0]) & v.term("py_pair", pairs[-1])
                levels += [(NAME - TYPO, partial & ends), (NAME - 2 * TYPO, partial)]
        if len(run) <= 12:
            other = v.fuzzy("py_other", run, dist) | v.any_of("py_other", swapped)
            levels.append((PRODUCTS - TYPO, other))
    return levels


def _digit(v: engine.View, run: str) -> list[tuple[int, int]]:
    if len(run) >= CERT_DIGITS:
        return [(CERT, v.term("key", run))]
    return [
        (NAME, v.term("name_bi", run)),
        (PRODUCTS, v.term("products_bi", run)),
        (ADDRESS, v.term("address_bi", run)),
    ]


def _union(by_score: dict[int, int]) -> int:
    out = 0
    for docs in by_score.values():
        out |= docs
    return out


@dataclass
class Matched:
    """{score: documents}, which of them matched every run in the name (ranked by length), and
    which matched a run only through a synonym (ranked after those that match what was typed:
    羊杂碎 before 羊杂)."""

    by_score: dict[int, int] = field(default_factory=dict)
    named: int = 0
    synonym: int = 0

    def __bool__(self) -> bool:
        return bool(self.by_score)


def _bonus(by_score: dict[int, int], exact: int, bonus: int) -> None:
    """Move the documents of `exact` up by `bonus` (each from its best score)."""
    for score in sorted(by_score, reverse=True):
        moved = by_score[score] & exact
        if moved:
            by_score[score] &= ~moved
            by_score[score + bonus] = by_score.get(score + bonus, 0) | moved
            exact &= ~moved


def scores(
    v: engine.View,
    text: str,
    allowed: int,
    fuzzy: int = 0,
    any_run: bool = False,
    rs: list[tuple[str, str]] | None = None,
) -> Matched:
    """Scored documents for `text` (or its runs `rs`) among `allowed`. Every run must match
    (unless any_run); a long digit run (a certificate number) decides alone, the words around it
    (登字第…号) only add."""
    rs = plan(text) if rs is None else rs
    is_cert = [kind == "digit" and len(run) >= CERT_DIGITS for kind, run in rs]
    by_score = {0: allowed}
    named, synonym = allowed, 0
    for (kind, run), cert in zip(rs, is_cert):
        if kind == "cjk":
            levels = _cjk(v, run, fuzzy)
        elif kind in ("alpha", "sound"):
            levels = [(lv, bits, False) for lv, bits in _alpha(v, run, fuzzy, kind == "sound")]
        else:
            levels = [(lv, bits, False) for lv, bits in _digit(v, run)]
        optional = any_run or (any(is_cert) and not cert)
        taken, best_first, in_name = 0, [], 0
        # Each document at its best level, what was typed before a synonym at the same level; a
        # document whose best level came through a synonym is marked (韩记面皮坊 has 凉皮 among
        # its varieties, but its name matches 凉皮 only as 面皮).
        for level, bits, through_synonym in sorted(levels, key=lambda lb: (-lb[0], lb[2])):
            new = bits & ~taken
            if new:
                best_first.append((level, new))
                if _named(level):
                    in_name |= new
                if through_synonym:
                    synonym |= new
                taken |= bits
        if not cert:
            named &= in_name
        grown: dict[int, int] = {}
        for score, docs in by_score.items():
            for level, bits in best_first:
                if docs & bits:
                    grown[score + level] = grown.get(score + level, 0) | (docs & bits)
            if optional and docs & ~taken:
                grown[score] = grown.get(score, 0) | (docs & ~taken)
        by_score = grown
    by_score.pop(0, None)  # matched no run at all
    whole = "".join((text or "").split()).lower()
    if whole:
        exact = v.term("key", whole) & allowed
        _bonus(by_score, exact, WHOLE_KEY)
        if exact & ~_union(by_score):  # a public code typed whole (B0000123) matches no run
            by_score[WHOLE_KEY] = by_score.get(WHOLE_KEY, 0) | (exact & ~_union(by_score))
        _bonus(by_score, v.term("key", f"n:{whole}") & allowed, WHOLE_NAME)
        if all(kind in ("alpha", "sound") for kind, _ in rs):
            spelt = "".join(run for _, run in rs)
            _bonus(by_score, v.term("py_name", spelt) & allowed, WHOLE_NAME)
            _bonus(by_score, v.term("py_nini", spelt) & allowed, WHOLE_INITIALS)
    if rs and rs[0][0] == "cjk" and len(rs[0][1]) >= 2:
        _bonus(by_score, v.term("facet", f"start:{rs[0][1][:2]}") & named, START)
    by_score = {score: docs for score, docs in by_score.items() if docs}
    matched = _union(by_score)
    return Matched(by_score, named & matched, synonym & matched)


def filters(v: engine.View, p: SearchParams) -> int:
    docs = v.live()
    if p.status == "open":
        docs &= v.term("facet", "status:open")
    elif p.status == "closed":
        docs &= ~v.term("facet", "status:open")
    elif p.status != "all":
        docs &= v.term("facet", f"status:{p.status}")
    for prefix, value in (
        ("tier", p.tier),
        ("place", p.county),
        ("place", p.station),
        ("cat", p.category),
        ("title", p.title),
    ):
        if value:
            docs &= v.term("facet", f"{prefix}:{value}")
    if p.high_risk:
        docs &= v.term("facet", "risk:high")
    elif p.low_risk:
        docs &= ~v.term("facet", "risk:high")
    return docs


# --- ranking and pages ------------------------------------------------------------------------------


def haversine_km(lat1, lng1, lat2, lng2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


def _tier_groups(v: engine.View, docs: int) -> list[int]:
    """`docs` split by tier, best tier first; unrated and unknown tiers last."""
    out, rest = [], docs
    for tier in current_app.extensions["deployment"].tiers:
        bits = rest & v.term("facet", f"tier:{tier.code}")
        out.append(bits)
        rest &= ~bits
    return out + [rest]


def _take(groups, start: int, count: int, p: SearchParams | None = None, v=None) -> list:
    """[(docnum, label, distance)] for `count` documents after `start`, walking the (bits, label)
    groups in order. With a location, a group small enough is walked nearest first."""
    out: list = []
    for bits, label in groups:
        if len(out) >= count:
            break
        size = bits.bit_count()
        if start >= size:
            start -= size
            continue
        want = count - len(out)
        if p is not None and p.has_location and size <= NEAR_SORT_MAX:
            ranked = _distances(v, bits, p)[start : start + want]
            out += [(d, label, km) for km, d in ranked]
        else:
            out += [(d, label, None) for d in engine.ids_of(bits, start, want)]
        start = 0
    return out


def _by_distance(v: engine.View, matched: int, p: SearchParams) -> list[tuple[int, float | None]]:
    """Nearest first, workshops without a location last. Distances are computed for the workshops
    in a block of grid cells around the point, grown until the block surely holds the page."""
    start, need = (p.page - 1) * p.per_page, p.page * p.per_page
    located = matched & v.term("facet", "loc")
    cos = max(0.01, math.cos(math.radians(p.lat)))
    candidates = None
    for grid in schema_mod.GEO_GRIDS:
        row, col = math.floor(p.lat * grid), math.floor(p.lng * grid)
        for reach in (1, 2):
            cells = [
                f"g{grid}:{r}:{c}"
                for r in range(row - reach, row + reach + 1)
                for c in range(col - reach, col + reach + 1)
            ]
            bits = located & v.any_of("facet", cells)
            if bits.bit_count() < need:
                continue
            # Everything outside the block is at least this far away.
            inner = (
                min(
                    p.lat - (row - reach) / grid,
                    (row + reach + 1) / grid - p.lat,
                    (p.lng - (col - reach) / grid) * cos,
                    ((col + reach + 1) / grid - p.lng) * cos,
                )
                * 111.19
            )
            ranked = _distances(v, bits, p)
            if ranked[need - 1][0] <= inner:
                candidates = ranked
                break
        if candidates is not None:
            break
    if candidates is None:
        candidates = _distances(v, located, p)
    out = [(doc, d) for d, doc in candidates[start:need]]
    if len(out) < p.per_page:  # then the workshops without a location, in index order
        skip = max(0, start - located.bit_count())
        out += [
            (doc, None) for doc in engine.ids_of(matched & ~located, skip, p.per_page - len(out))
        ]
    return out


def _distances(v: engine.View, docs: int, p: SearchParams) -> list[tuple[float, int]]:
    nums = engine.ids_of(docs)
    lats, lngs = v.column("lat", nums), v.column("lng", nums)
    return sorted(
        (haversine_km(p.lat, p.lng, lat / 1e6, lng / 1e6), doc)
        for doc, lat, lng in zip(nums, lats, lngs)
    )


def _hits(searcher, picked) -> list[Hit]:
    hits = []
    for doc, score, distance in picked:
        stored = searcher.stored_fields(doc)
        hits.append(
            Hit(int(stored["id"]), float(score), distance, json.loads(stored.get("py_map") or "[]"))
        )
    return hits


def _typed_first(docs: int, synonym: int) -> list[int]:
    return [docs & ~synonym, docs & synonym] if docs & synonym else [docs]


def _groups(v: engine.View, m: Matched, sort: str):
    """(documents, score) in ranking order, made lazily (a page rarely needs more than the first
    few): by score; then what was typed before its synonyms (凉皮 finds 孙记凉皮作坊 before
    韩记面皮坊, though that name is shorter); among workshops that matched in the name, shorter
    names first; then tier. sort=tier puts tier before score."""
    ordered = sorted(m.by_score, reverse=True)
    if sort == "tier":
        per_score = [_tier_groups(v, m.by_score[s]) for s in ordered]
        for t in range(len(per_score[0]) if per_score else 0):
            for i, s in enumerate(ordered):
                yield per_score[i][t], s
        return
    for s in ordered:
        for docs in _typed_first(m.by_score[s], m.synonym):
            named = docs & m.named
            for length in range(1, schema_mod.NAME_LENGTHS + 1):
                if not named:
                    break
                bits = named & v.term("facet", f"len:{length}")
                if bits:
                    named &= ~bits
                    for tier in _tier_groups(v, bits):
                        yield tier, s
            for tier in _tier_groups(v, (docs & ~m.named) | named):
                yield tier, s


def _page(searcher, v: engine.View, m: Matched, p: SearchParams, sort: str) -> tuple[list, int]:
    matched = _union(m.by_score)
    total = matched.bit_count()
    if sort == "distance":
        picked = [(doc, 0, d) for doc, d in _by_distance(v, matched, p)]
        return _hits(searcher, picked), total
    picked = _take(_groups(v, m, sort), (p.page - 1) * p.per_page, p.per_page, p, v)
    return _hits(searcher, picked), total


def _merged(found: list[Matched]) -> Matched:
    """Several ways of reading one query, each document at its best score."""
    if len(found) == 1:
        return found[0]
    taken, by_score, named, synonym = 0, {}, 0, 0
    for score, docs in sorted(
        ((s, d) for m in found for s, d in m.by_score.items()), key=lambda sd: -sd[0]
    ):
        docs &= ~taken
        if docs:
            by_score[score] = by_score.get(score, 0) | docs
            taken |= docs
    for m in found:
        named |= m.named
        synonym |= m.synonym
    return Matched(by_score, named & taken, synonym & taken)


def _cut(v: engine.View, text: str, rs: list[tuple[str, str]], allowed: int) -> Matched:
    """Chinese typed in one go for words the workshop has in different fields: the first run
    that can be cut in two so that both halves match (a brand in the name and a food in the
    varieties: 邢记栲栳栳 → 邢记, 栲栳栳; a town in the address and a food: 怀朔莜面饺饺 → 怀朔,
    莜面饺饺), every such cut."""
    for i, (kind, run) in enumerate(rs):
        if kind != "cjk" or len(run) < 4:
            continue
        found = []
        for k in range(2, len(run) - 1):
            m = scores(
                v, text, allowed, rs=rs[:i] + [(kind, run[:k]), (kind, run[k:])] + rs[i + 1 :]
            )
            if m:
                found.append(m)
        if found:
            return _merged(found)
    return Matched()


def _as_typed(text: str, rs: list[tuple[str, str]]):
    """Letters typed apart read as one run (a whole name spelt out: lao feng jia gua mian jia gong
    fang), as runs of at most SEQUENCE_MAX letters (`rs`), then each apart."""
    if sum(kind == "alpha" for kind, _ in rs) > 1:
        yield plan(text, cap=None)
    yield rs
    yield plan(text, merge=False)


def _readings(v: engine.View, text: str, allowed: int, rs: list[tuple[str, str]]):
    """(scored documents, relaxed) for each way of reading `text` (planned as `rs`), strictest
    first: as typed (_as_typed); Chinese runs cut in two (_cut); the Chinese read as pinyin
    (same-sound typos: 豆付 → doufu), whole and cut at place words; one typo or a left-out word;
    any word."""
    tried = []
    for attempt in _as_typed(text, rs):
        if attempt not in tried:
            tried.append(attempt)
            yield scores(v, text, allowed, rs=attempt), False
    yield _cut(v, text, rs, allowed), False
    for attempt in (runs(text), rs):
        sounds = [("sound", analysis.query_pinyin(r)) if k == "cjk" else (k, r) for k, r in attempt]
        if sounds != attempt and sounds not in tried:
            tried.append(sounds)
            yield scores(v, text, allowed, rs=sounds), True
    yield scores(v, text, allowed, fuzzy=1, rs=rs), True
    if len(rs) >= 2:
        yield scores(v, text, allowed, fuzzy=1, any_run=True, rs=rs), True


def _match(v: engine.View, text: str, allowed: int) -> tuple[Matched, bool]:
    """(scored documents, relaxed): the first reading that finds anything (_readings). A name
    typed with its middle left out may also match a few names read through synonyms (闫记烧卖 →
    闫记烧麦店): when one Chinese run finds fewer than FEW workshops as typed, the names that hold
    its first and last pairs and all but a third of the others follow (闫记矿山路烧卖馆)."""
    rs = plan(text)
    for m, relaxed in _readings(v, text, allowed, rs):
        if not m:
            continue
        found = _union(m.by_score)
        if relaxed or found.bit_count() >= FEW or len(rs) != 1 or rs[0][0] != "cjk":
            return m, relaxed
        pairs = [rs[0][1][i : i + 2] for i in range(len(rs[0][1]) - 1)]
        more = 0
        if len(pairs) >= 3:
            ends = v.term("name_bi", pairs[0]) & v.term("name_bi", pairs[-1]) & allowed & ~found
            if ends:
                more = ends & v.all_but("name_bi", pairs, len(pairs) // 3)
        if more:
            below = min(min(m.by_score) - 1, NAME - TYPO)
            m.by_score[below] = m.by_score.get(below, 0) | more
            m.named |= more
        return m, relaxed
    return Matched(), False


def _pinyin_words(text: str) -> list[tuple[str, str]]:
    """Typed pinyin cut into syllables (longest first; a letter that starts none is skipped) and
    taken two neighbours at a time: liangpizuofangxyz → liangpi, pizuo, zuofang. The pinyin
    counterpart of trying a Chinese query character by character."""
    known = analysis.syllables()
    words: list[tuple[str, str]] = []
    for kind, run in plan(text):
        if kind != "alpha":
            continue
        cut, i = [], 0
        while i < len(run):
            j = next((j for j in range(min(len(run), i + 6), i, -1) if run[i:j] in known), i)
            if j > i:
                cut.append(run[i:j])
            i = max(j, i + 1)
        words += [("alpha", a + b) for a, b in zip(cut, cut[1:])]
    return words


def _suggest(searcher, v: engine.View, text: str) -> tuple[list[int], list[int]]:
    """Near misses for an empty page (two typos, any word, then any character or two-syllable
    pinyin word), and the product categories most of them make: (workshop ids, category ids)."""
    live = v.live() & v.term("facet", "status:open")
    near = scores(v, text, live, fuzzy=2, any_run=True)
    if not near:
        parts = [("cjk", ch) for kind, run in plan(text) if kind == "cjk" for ch in run]
        parts += _pinyin_words(text)
        if parts:
            near = scores(v, text, live, any_run=True, rs=parts[:8])
    picked = _take(_groups(v, near, "relevance"), 0, 5)
    ids = [h.id for h in _hits(searcher, picked)]
    docs = _union(near.by_score)
    counts = []
    if docs:
        for term in itertools.islice(v.reader.expand_prefix("facet", "cat:"), 200):
            n = (docs & v.term("facet", term)).bit_count()
            if n:
                counts.append((-n, int(term[4:])))
    return ids, [c for _, c in sorted(counts)[:2]]


def warm(searcher) -> None:
    """The facets every ranking walks (open, name lengths, tiers) and the readings' tables, through
    a query of each kind (Chinese, pinyin, letters typed with a typo)."""
    v = engine.View(searcher.reader())
    for length in range(1, schema_mod.NAME_LENGTHS + 1):
        v.term("facet", f"len:{length}")
    _tier_groups(v, filters(v, SearchParams()))
    for q in ("豆腐坊", "doufu", "doufy"):
        run(searcher, SearchParams(q=q))


def run(searcher, p: SearchParams) -> SearchResult:
    """One page of results. An empty page carries near misses and categories to browse."""
    v = engine.View(searcher.reader())
    allowed = filters(v, p)
    sort = p.sort if p.sort in SORTS else "relevance"
    reading = vocab.read(p.q)
    if reading.near and sort == "relevance" and p.has_location:
        sort = "distance"  # 附近: nearest first
    if sort == "distance" and not p.has_location:
        sort = "relevance"
    rs = runs(reading.text)
    if not rs:
        if (p.q or "").strip():
            return SearchResult([], 0, p, runs=[])
        m = Matched({0: allowed} if allowed else {})
        hits, total = _page(searcher, v, m, p, "tier" if sort == "relevance" else sort)
        return SearchResult(hits, total, p)
    m, relaxed = _match(v, reading.text, allowed)
    hits, total = _page(searcher, v, m, p, sort)
    suggestions, categories = [], []
    if not total:
        suggestions, categories = _suggest(searcher, v, reading.text)
    return SearchResult(
        hits,
        total,
        p,
        relaxed=relaxed,
        suggestions=suggestions,
        categories=categories,
        runs=_marks(reading.text, rs),
        understood=reading.text if reading.question else "",
    )


def _marks(text: str, rs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """What to highlight: the runs, and the synonyms a Chinese run was read as."""
    out = list(rs)
    for kind, run in rs:
        if kind == "cjk":
            out += [("cjk", other) for other in vocab.variants(run)[1:]]
    return out


def matching_ids(searcher, p: SearchParams, limit: int) -> list[int]:
    """Workshop ids of everything `p` matches (at most `limit`, in index order): what /search
    would list, without ranking or reading stored fields, for filtering elsewhere."""
    v = engine.View(searcher.reader())
    allowed = filters(v, p)
    text = vocab.read(p.q).text
    if runs(text):
        matched = _union(_match(v, text, allowed)[0].by_score)
    else:
        matched = allowed if not (p.q or "").strip() else 0
    return v.column("wid", engine.ids_of(matched, 0, limit))


# --- highlighting ----------------------------------------------------------------------------------


def _edit1(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    if len(a) > len(b):
        a, b = b, a
    return any(b[:i] + b[i + 1 :] == a for i in range(len(b)))


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
            rest, j = rest[len(step) :], j + 1
        if not rest and (j - i > 1 or len(run) >= 2):
            out.append(text[i:j])
    if len(run) >= 2:
        initials = "".join(c[0][0] for c in chars)
        at = initials.find(run)
        if at >= 0:
            out.append(text[at : at + len(run)])
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
            found += [run[i : i + 2] for i in range(len(run) - 1) if run[i : i + 2] in text]
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
