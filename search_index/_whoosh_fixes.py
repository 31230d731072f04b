"""Whoosh 2.7 slips we work around, in one place.

- W3PerDocReader._cached_reader does not remember that a field has no lengths column (ID and
  KEYWORD fields), so writing a segment stats the column file once per posting — most of an
  index build's time. Segments never change once written, so remembering "no column" is safe.
- W3PostingsWriter.finish_postings calls terminfo.set_inline(), a method that was renamed to
  set_inlined(), so inlining short posting lists (W3Codec's inlinelimit above 1) crashes. The
  reader side (W3TermInfo.is_inlined) works; bulk.BulkWriter uses it.
"""

import whoosh
from whoosh.codec import whoosh3

# The engine reaches into Whoosh's private names (here, bulk.py, engine.py): exactly this release
# (pyproject pins it; docs/search.md says how to move).
WHOOSH_VERSION = (2, 7, 4)
if whoosh.__version__ != WHOOSH_VERSION:
    raise ImportError(
        f"search_index needs Whoosh {'.'.join(map(str, WHOOSH_VERSION))}, "
        f"found {whoosh.versionstring()} (see docs/search.md)"
    )

_MISSING = object()


def _cached_reader(self, fieldname, column):
    reader = self._readers.get(fieldname, _MISSING)
    if reader is _MISSING:
        reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
        self._readers[fieldname] = reader
    return reader


def apply() -> None:
    whoosh3.W3PerDocReader._cached_reader = _cached_reader
    whoosh3.W3TermInfo.set_inline = whoosh3.W3TermInfo.set_inlined
