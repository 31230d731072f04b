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
import struct
import threading
from bisect import bisect_left
from collections import OrderedDict
from itertools import chain
from operator import sub

from whoosh.codec.whoosh3 import W3LeafMatcher

_NONZERO = re.compile(rb"[^\x00]")
_BITS = [tuple(j for j in range(8) if b >> j & 1) for b in range(256)]
PREFIX_LIMIT = 400  # distinct terms a one-character prefix may expand to (per segment)


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
        # An index with no document yet (a new deployment before its first workshop) has one
        # empty leaf without a segment: no leaves, so every bitset is empty.
        self.leaves = [
            (r, offset, r.segment().segment_id())
            for r, offset in reader.leaf_readers()
            if r.segment() is not None
        ]

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
        """Documents with a term within `maxdist` edits of `text` (its first `prefixlength`
        characters kept: terms_within), each segment's answer cached like a term."""

        def per_segment(r, segid):
            key = (segid, field, f"{text}\x00~{maxdist}~{prefixlength}")
            bits = cache.get(key)
            if bits is None:
                bits = 0
                for term in terms_within(r, field, text, maxdist, prefixlength):
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


# --- terms within a few edits ------------------------------------------------------------------
# Whoosh finds a typo's terms by walking a Levenshtein automaton over the term table: every step
# a seek, that is a binary search over all of the segment's terms (some 60 unbuffered reads of
# the .trm file), and a word with nothing near it takes hundreds of steps (10-90 ms a field at
# 200,000 workshops, paid by every query that finds nothing). Here the rows of the edit-distance
# table walk the table's sorted keys themselves, one prefix at a time: searches are bounded to
# the prefix's range; where no edit is left, only the word's unedited tails remain, each a hash
# lookup; a range of at most LOAD keys is read in two pieces and walked in memory; and under a
# wider one with one edit left, a-z are spelt out by lookups instead of sought (any other
# character still is: the answer is exact whatever the alphabet). The same terms as Whoosh's
# automaton (tests/test_search_engine.py).

_RECORD = struct.Struct("!ii")  # a term table record starts with its key's and value's lengths
_AFTER = b"\xff"  # never in UTF-8: a prefix + _AFTER sorts after every key with that prefix
_LETTERS = [(c, c.encode()) for c in "abcdefghijklmnopqrstuvwxyz"]
LOAD = 16384  # keys of a prefix's range read in one piece (some 1.5 MB at most)


class _Table:
    """One segment's term keys in order: Whoosh's OrderedHashReader, read by index through its
    array of key positions."""

    loaded = False

    def __init__(self, r):
        t = self._t = r._terms._tindex
        self.count = t.indexlen
        self._get_pos, self._base, self._width = t._get_pos, t.indexbase, t.indexsize

    def _pos(self, i: int) -> int:
        return self._get_pos(self._base + i * self._width)

    def key(self, i: int) -> bytes:
        head = self._t.dbfile.get(self._pos(i), 72)  # lengths and a short key in one read
        n = _RECORD.unpack_from(head)[0]
        return head[8 : 8 + n] if n <= 64 else self._t.key_at(self._pos(i))

    def seek(self, target: bytes, lo: int, hi: int, gallop: bool = True) -> int:
        """The first index in [lo, hi) whose key is not below `target` (hi if none): galloping
        from lo, where the next neighbour usually is, or halving."""
        if gallop:
            step = 1
            while lo + step < hi and self.key(lo + step - 1) < target:
                lo += step
                step *= 2
            hi = min(hi, lo + step)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.key(mid) < target:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def has(self, key: bytes, lo: int, hi: int) -> bool:
        return key in self._t  # the table's hash: a few reads

    def load(self, lo: int, hi: int) -> "_Loaded":
        """Keys [lo, hi) in two reads: their positions, and their records, which follow each
        other in key order."""
        t = self._t
        raw = t.dbfile.get(self._base + lo * self._width, (hi - lo) * self._width)
        positions = struct.unpack(f"!{hi - lo}{t.extras['indextype']}", raw)
        end = self._pos(hi) if hi < self.count else t.endofdata
        return _Loaded(t.dbfile.get(positions[0], end - positions[0]), positions)


class _Loaded:
    """Keys read into memory (each made when first asked for), asked the same questions."""

    loaded = True

    def __init__(self, data: bytes, positions: tuple[int, ...]):
        self._data, self._positions, self._start = data, positions, positions[0]
        self._all = range(len(positions))
        self._keys: list = [None] * len(positions)

    def key(self, i: int) -> bytes:
        key = self._keys[i]
        if key is None:
            at = self._positions[i] - self._start
            n = _RECORD.unpack_from(self._data, at)[0]
            key = self._keys[i] = self._data[at + 8 : at + 8 + n]
        return key

    def seek(self, target: bytes, lo: int, hi: int, gallop: bool = True) -> int:
        return bisect_left(self._all, target, lo, hi, key=self.key)

    def has(self, key: bytes, lo: int, hi: int) -> bool:
        i = self.seek(key, lo, hi)
        return i < hi and self.key(i) == key


class _Within:
    """Keys within `maxdist` edits of `rest` after a fixed start: a depth-first walk over key
    prefixes, each with its row of the edit-distance table (row[j]: edits between the prefix,
    past the fixed start, and rest[:j])."""

    def __init__(self, rest: str, maxdist: int):
        self.rest, self.maxdist, self.found = rest, maxdist, []
        self.tails = [rest[j:].encode() for j in range(len(rest) + 1)]

    def step(self, row: list[int], ch: str) -> list[int]:
        """The row of the prefix one character longer."""
        rest, new = self.rest, [row[0] + 1]
        for j in range(1, len(row)):
            new.append(min(new[j - 1] + 1, row[j] + 1, row[j - 1] + (ch != rest[j - 1])))
        return new

    def walk(self, keys, node: bytes, row: list[int], lo: int, hi: int) -> None:
        """Every key in [lo, hi) starts with `node`, and nothing else there does."""
        left = self.maxdist - min(row)
        if left == 0:
            self.tails_of(keys, node, row, lo, hi)
            return
        if not keys.loaded and hi - lo <= LOAD:
            keys, lo, hi = keys.load(lo, hi), 0, hi - lo
        if len(keys.key(lo)) == len(node):  # the prefix is a term itself
            if row[-1] <= self.maxdist:
                self.found.append(node)
            lo += 1
        if left > 1 or keys.loaded or lo == hi:
            self.children(keys, node, row, lo, hi)
            return
        a = keys.seek(node + b"a", lo, hi)
        z = hi if keys.key(hi - 1) < node + b"{" else keys.seek(node + b"{", a, hi, gallop=False)
        self.children(keys, node, row, lo, a)  # digits, capitals, an apostrophe …
        for ch, b in _LETTERS:
            child = self.step(row, ch)
            if min(child) == self.maxdist:  # its last edit spent on this letter
                self.tails_of(keys, node + b, child, a, z)
            else:  # one of the word's own letters: the walk goes on under it
                start = keys.seek(node + b, a, z, gallop=False)
                end = keys.seek(node + b + _AFTER, start, z, gallop=False)
                if start < end:
                    self.walk(keys, node + b, child, start, end)
        self.children(keys, node, row, z, hi)  # Chinese characters, full-width signs …

    def children(self, keys, node: bytes, row: list[int], lo: int, hi: int) -> None:
        n = len(node)
        while lo < hi:
            key = keys.key(lo)
            lead = key[n]
            ch = key[n : n + (1 if lead < 0x80 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4)]
            end = keys.seek(node + ch + _AFTER, lo + 1, hi)
            self.walk(keys, node + ch, self.step(row, ch.decode()), lo, end)
            lo = end

    def tails_of(self, keys, node: bytes, row: list[int], lo: int, hi: int) -> None:
        """No edit left: only `node` followed by what remains of the word, as typed."""
        for j, edits in enumerate(row):
            if edits <= self.maxdist and keys.has(node + self.tails[j], lo, hi):
                self.found.append(node + self.tails[j])


def terms_within(r, field: str, text: str, maxdist: int, prefixlength: int = 1) -> list[str]:
    """One segment's terms of `field` within `maxdist` edits of `text` (Levenshtein: a swap is
    two) that start with its first `prefixlength` characters: what Whoosh's
    reader.terms_within(field, text, maxdist, prefix=prefixlength) finds."""
    keys = _Table(r)
    start = r._terms._keycoder(field, b"")
    node = start + text[:prefixlength].encode()
    lo = keys.seek(node, 0, keys.count, gallop=False)
    hi = keys.seek(node + _AFTER, lo, keys.count, gallop=False)
    within = _Within(text[prefixlength:], maxdist)
    if lo < hi:
        within.walk(keys, node, list(range(len(within.rest) + 1)), lo, hi)
    return [key[len(start) :].decode() for key in within.found]
