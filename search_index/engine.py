"""Set-at-a-time evaluation over the index: each term's documents as a bitset (a Python int).

Whoosh's own matchers walk postings one document at a time in Python and score each one; at
200,000 workshops a common word (豆腐, 凉糕) matches tens of thousands of documents and a search
takes hundreds of milliseconds. Here a term's documents are read once per segment into an int,
kept in a size-bounded cache, and combined with & and |, counted with bit_count() and ranked
by groups (which field matched, then tier): the per-query work is a few dozen operations on
ints, each a C loop over machine words.

Caching is per segment (keyed by the segment's id), so a sync that adds a small segment or marks
deletions leaves the cached bitsets of the big segment valid.
"""

import itertools
import re
import threading
from collections import OrderedDict
from functools import lru_cache
from itertools import chain
from operator import sub

from whoosh.codec.base import Automata
from whoosh.codec.whoosh3 import W3LeafMatcher

_NONZERO = re.compile(rb"[^\x00]")
_BITS = [tuple(j for j in range(8) if b >> j & 1) for b in range(256)]
PREFIX_LIMIT = 400  # distinct terms a one-character prefix may expand to (per segment)


@lru_cache(maxsize=256)
def _levenshtein_dfa(text: str, maxdist: int, prefixlength: int):
    return Automata.levenshtein_dfa(text, maxdist, prefixlength)


def _size(bits: int) -> int:
    return bits.bit_length() // 8 + 32  # the int's bytes plus its object header


class BitsetCache:
    """A least-recently-used map of bitsets, bounded by their total size in bytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            bits = self._items.get(key)
            if bits is not None:
                self._items.move_to_end(key)
            return bits

    def put(self, key, bits: int) -> None:
        size = _size(bits)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.bytes -= _size(old)
            self._items[key] = bits
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self.bytes -= _size(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.bytes = 0


cache = BitsetCache(16 * 2**20)


class _Pieces(dict):
    """Gap between neighbouring documents → that stretch of a binary numeral ("0001" for 4)."""

    def __missing__(self, gap: int) -> str:
        piece = "0" * (gap - 1) + "1"
        if gap < 4096:  # the common gaps stay; a rare long one is made again
            self[gap] = piece
        return piece


_PIECES = _Pieces()


def from_ids(ids) -> int:
    """The bitset holding these document numbers (ascending, each once).

    Written as a binary numeral, lowest document first, from the gaps between neighbours, and
    parsed by int() (linear for base 2): map() and join() run in C, where setting bits one by
    one ran a bytecode loop per posting (a common word has tens of thousands)."""
    if not isinstance(ids, list):
        ids = list(ids)
    if not ids:
        return 0
    gaps = map(sub, ids, chain((-1,), ids))
    return int("".join(map(_PIECES.__getitem__, gaps))[::-1], 2)


def ids_of(bits: int, start: int = 0, count: int | None = None) -> list[int]:
    """Set bits in ascending order: the `count` of them after skipping `start`."""
    out = []
    if count is not None and start + count <= 64:  # a few lowest bits: cheaper than a byte scan
        skipped = 0
        while bits and len(out) < count:
            low = bits & -bits
            if skipped >= start:
                out.append(low.bit_length() - 1)
            else:
                skipped += 1
            bits ^= low
        return out
    raw = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    end = None if count is None else start + count
    seen = 0
    for m in _NONZERO.finditer(raw):
        base = m.start() * 8
        for j in _BITS[raw[m.start()]]:
            if seen >= start:
                out.append(base + j)
                if end is not None and seen + 1 >= end:
                    return out
            seen += 1
    return out


def _posting_ids(matcher) -> list[int]:
    """All document numbers of one term in one segment, a block at a time (Whoosh's all_ids()
    steps through them one call each)."""
    if type(matcher) is not W3LeafMatcher:
        return list(matcher.all_ids())
    out = []
    while True:
        if matcher._blocklength:
            if matcher._ids is not None:
                out.extend(matcher._ids)
            else:  # _read_ids() without its per-posting generator: accumulate() runs in C
                if matcher._data is None:
                    matcher._read_data()
                ids = matcher._data[0]
                out.extend(ids if matcher._byteids else itertools.accumulate(ids))
        if matcher._lastblock:
            return out
        matcher._goto(matcher._nextoffset)


class View:
    """One reader's documents as bitsets: global document numbers, as the searcher numbers them."""

    def __init__(self, reader):
        self.reader = reader
        self.leaves = [(r, offset, r.segment().segment_id()) for r, offset in reader.leaf_readers()]

    # --- segments ------------------------------------------------------------------------------

    def _segment_term(self, r, segid: str, field: str, text: str) -> int:
        key = (segid, field, text)
        bits = cache.get(key)
        if bits is None:
            if (field, text) in r:
                matcher = r._terms.matcher(
                    field, r._text_to_bytes(field, text), r.schema[field].format, scorer=None
                )
                bits = from_ids(_posting_ids(matcher))
            else:
                bits = 0
            cache.put(key, bits)
        return bits

    def _segment_live(self, r, segid: str) -> int:
        # A segment's deletions only ever grow, so their count names the state.
        key = (segid, "", r.segment().deleted_count())
        bits = cache.get(key)
        if bits is None:
            deleted = r._perdoc.deleted_docs() if r.has_deletions() else ()
            bits = ((1 << r.doc_count_all()) - 1) & ~from_ids(sorted(set(deleted)))
            cache.put(key, bits)
        return bits

    def _combine(self, per_segment) -> int:
        out = 0
        for r, offset, segid in self.leaves:
            bits = per_segment(r, segid)
            if bits:
                out |= bits << offset
        return out

    # --- terms ---------------------------------------------------------------------------------

    def term(self, field: str, text: str) -> int:
        return self._combine(lambda r, segid: self._segment_term(r, segid, field, text))

    def live(self) -> int:
        """Every document not deleted."""
        return self._combine(self._segment_live)

    def all_of(self, field: str, texts) -> int:
        """Documents holding every one of these terms."""
        out = None
        for text in texts:
            bits = self.term(field, text)
            out = bits if out is None else out & bits
            if not out:
                return 0
        return out or 0

    def all_but(self, field: str, texts: list[str], missing: int) -> int:
        """Documents holding every one of these terms but at most `missing` of them."""
        sets = [self.term(field, text) for text in texts]
        out = 0
        for left_out in itertools.combinations(range(len(sets)), missing):
            docs = -1  # all bits
            for n, bits in enumerate(sets):
                if n not in left_out:
                    docs &= bits
            out |= docs if docs != -1 else 0
        return out

    def any_of(self, field: str, texts) -> int:
        out = 0
        for text in texts:
            out |= self.term(field, text)
        return out

    def has(self, field: str, text: str) -> bool:
        # Remembered like a term: typed pinyin is cut into words by trying its substrings.
        for r, _, segid in self.leaves:
            key = (segid, field, text + "\x00?")
            known = cache.get(key)
            if known is None:
                known = int((field, text) in r)
                cache.put(key, known)
            if known:
                return True
        return False

    def prefix(self, field: str, prefix: str, longest: int | None = None) -> int:
        """Documents with a term starting with `prefix` (at most PREFIX_LIMIT terms per segment;
        `longest`: only terms of at most that many characters)."""

        def per_segment(r, segid):
            key = (segid, field, f"{prefix}\x00*{longest or ''}")
            bits = cache.get(key)
            if bits is None:
                bits, n = 0, 0
                for term in r.expand_prefix(field, prefix):
                    if longest is not None and len(term) > longest:
                        continue
                    if n >= PREFIX_LIMIT:
                        break
                    n += 1
                    bits |= self._segment_term(r, segid, field, term)
                cache.put(key, bits)
            return bits

        return self._combine(per_segment)

    def fuzzy(self, field: str, text: str, maxdist: int, prefixlength: int = 1) -> int:
        """Documents with a term within `maxdist` edits of `text` (first letter kept). Whoosh's
        own terms_within, with its automaton built once per text (not per field and segment)
        and each segment's answer cached like a term."""
        dfa = None

        def per_segment(r, segid):
            nonlocal dfa
            key = (segid, field, f"{text}\x00~{maxdist}~{prefixlength}")
            bits = cache.get(key)
            if bits is None:
                if dfa is None:
                    dfa = _levenshtein_dfa(text, maxdist, prefixlength)
                bits = 0
                for term in Automata.find_matches(dfa, r.cursor(field)):
                    bits |= self._segment_term(r, segid, field, term)
                cache.put(key, bits)
            return bits

        return self._combine(per_segment)

    def column(self, field: str, docnums: list[int]) -> list:
        """Column values for these (ascending) document numbers."""
        out, leaves = [], self.leaves
        readers = {}
        i = 0
        for doc in docnums:
            while i + 1 < len(leaves) and doc >= leaves[i + 1][1]:
                i += 1
            r, offset, _ = leaves[i]
            col = readers.get(i)
            if col is None:
                col = readers[i] = r.column_reader(field)
            out.append(col[doc - offset])
        return out
