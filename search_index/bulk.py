"""Writing a whole index at once (rebuilds), several times faster than Whoosh's own writer.

Whoosh's SegmentWriter hands every posting to an external sort: each one is pickled to a temp
file, read back, merged and written, which dominates a rebuild (most of 400 documents a second).
Every indexed field here is a bare term (schema.Terms, the Existence format: weight 1, no value),
so a segment's postings are just "term → ascending document numbers": BulkWriter groups them in
memory as documents arrive (document numbers only grow) and writes each term's list once.
Everything else (stored fields, columns, the segment and TOC files) is Whoosh's own code.
Incremental updates (sync) keep using Whoosh's ordinary writer.
"""

import multiprocessing
from array import array
from collections import defaultdict

from whoosh import formats
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.writing import SegmentWriter

from . import schema

INLINE_LIMIT = 16
COMPRESSION = 1


class _TermPool:
    """The writer's posting pool: field → term → document numbers, instead of a sort on disk."""

    def __init__(self):
        self.fields: dict[str, dict[str, array]] = defaultdict(dict)

    def add(self, item):  # Whoosh's interface, for anything that still calls it
        fieldname, tbytes, docnum, _weight, _vbytes = item
        self.fields[fieldname].setdefault(tbytes.decode("utf-8"), array("I")).append(docnum)

    def cleanup(self):
        self.fields = defaultdict(dict)


class BulkWriter(SegmentWriter):
    """A SegmentWriter for freshly created indexes whose indexed fields are all bare terms."""

    def __init__(self, ix, **kwargs):
        kwargs.setdefault("compound", False)  # a compound file would copy every byte once more
        # Short posting lists (most terms: codes, certificate digits, rare pairs) inline in the
        # term table instead of a pickled, compressed block each.
        kwargs.setdefault("codec", W3Codec(inlinelimit=INLINE_LIMIT, compression=COMPRESSION))
        super().__init__(ix, **kwargs)
        bare = [
            name
            for name, field in ix.schema.items()
            if field.indexed and not isinstance(field.format, formats.Existence)
        ]
        if bare:
            raise ValueError(f"BulkWriter needs bare-term fields; not: {bare}")
        self.pool = _TermPool()

    def add_document(self, **fields):
        # SegmentWriter.add_document without Whoosh's token objects: fields that can list their
        # terms directly (schema.Terms) do; stored values and columns go the usual way.
        perdoc, pool, docnum = self.perdocwriter, self.pool.fields, self.docnum
        perdoc.start_doc(docnum)
        for name, value in fields.items():
            if value is None:
                continue
            field = self.schema[name]
            if field.indexed:
                texts = (
                    field.texts(value)
                    if hasattr(field, "texts")
                    else [tbytes.decode("utf-8") for tbytes, _, _, _ in field.index(value)]
                )
                terms = pool[name]
                for text in set(texts):
                    docs = terms.get(text)
                    if docs is None:
                        docs = terms[text] = array("I")
                    docs.append(docnum)
            if field.stored:
                perdoc.add_field(name, field, value, 0)
            if field.column_type:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self):
        self.perdocwriter.close()
        writer, schema_ = self.fieldwriter, self.schema
        for fieldname in sorted(self.pool.fields):
            terms = self.pool.fields[fieldname]
            writer.start_field(fieldname, schema_[fieldname])
            add = writer.add
            for tbytes, docs in sorted(
                (text.encode("utf-8"), docs) for text, docs in terms.items()
            ):
                writer.start_term(tbytes)
                for docnum in docs:
                    add(docnum, 1.0, b"", 0)
                writer.finish_term()
            writer.finish_field()
        writer.close()


def _segment_worker(index_dir: str, batches, results) -> None:
    """A child process: make the documents of the sources it is handed, into one segment."""
    try:
        ix = whoosh_index.open_dir(index_dir)
        writer = BulkWriter(ix, _lk=False)
        while (batch := batches.get()) is not None:
            for source in batch:
                writer.add_document(**schema.document(source))
        if writer._added:
            results.put(("segment", writer._finalize_segment()))
        else:
            writer._close_segment()
            results.put(("segment", None))
    except BaseException as e:  # reported to the parent, which gives up the whole build
        results.put(("error", f"{type(e).__name__}: {e}"))


class ParallelBuild:
    """This process reads sources (schema.Source) from the database; `procs` child processes
    turn them into documents (jieba, pypinyin) and write one segment each. With procs=0
    everything happens here. `add(sources)` per batch, then `commit()` (or `cancel()`)."""

    def __init__(self, ix, procs: int):
        self.writer = BulkWriter(ix)  # holds the index lock for the children, writes when procs=0
        self.children, self.queues, self.turn = [], [], 0
        if procs:
            ctx = multiprocessing.get_context("fork")
            self.results = ctx.Queue()
            for _ in range(procs):
                batches = ctx.Queue(maxsize=4)  # bounded: the parent waits rather than piling up
                child = ctx.Process(
                    target=_segment_worker,
                    args=(ix.storage.folder, batches, self.results),
                    daemon=True,
                )
                child.start()
                self.children.append(child)
                self.queues.append(batches)

    def add(self, sources: list) -> None:
        if not self.children:
            for source in sources:
                self.writer.add_document(**schema.document(source))
            return
        self.queues[self.turn].put(sources)
        self.turn = (self.turn + 1) % len(self.queues)

    def commit(self) -> None:
        if not self.children:
            self.writer.commit(merge=False)
            return
        for batches in self.queues:
            batches.put(None)
        segments = []
        for _ in self.children:
            kind, value = self.results.get(timeout=3600)
            if kind == "error":
                raise RuntimeError(f"索引写入子进程出错：{value}")
            if value is not None:
                segments.append(value)
        for child in self.children:
            child.join()
        self.children = []
        writer = self.writer
        writer._close_segment()
        writer._commit_toc(segments)
        writer._finish()

    def cancel(self) -> None:
        for child in self.children:
            child.kill()
            child.join()
        self.children = []
        self.writer.cancel()
