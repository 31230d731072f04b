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
from whoosh.writing import SegmentWriter


class _TermPool:
    """The writer's posting pool, grouped by (field, term) instead of sorted on disk."""

    def __init__(self):
        self.terms: dict = defaultdict(lambda: array("I"))

    def add(self, item):
        fieldname, tbytes, docnum, _weight, _vbytes = item
        self.terms[(fieldname, tbytes)].append(docnum)

    def cleanup(self):
        self.terms = defaultdict(lambda: array("I"))


class BulkWriter(SegmentWriter):
    """A SegmentWriter for freshly created indexes whose indexed fields are all bare terms."""

    def add_document(self, **fields):
        # SegmentWriter.add_document without Whoosh's token objects: fields that can list their
        # terms directly (schema.Terms) do; stored values and columns go the usual way.
        perdoc, terms, docnum = self.perdocwriter, self.pool.terms, self.docnum
        perdoc.start_doc(docnum)
        for name, value in fields.items():
            if value is None:
                continue
            field = self.schema[name]
            if field.indexed:
                texts = field.texts(value) if hasattr(field, "texts") else \
                    [tbytes for tbytes, _, _, _ in field.index(value)]
                for text in set(texts):
                    terms[(name, text.encode("utf-8") if isinstance(text, str) else text)].append(docnum)
            if field.stored:
                perdoc.add_field(name, field, value, 0)
            if field.column_type:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def __init__(self, ix, **kwargs):
        kwargs.setdefault("compound", False)  # a compound file would copy every byte once more
        super().__init__(ix, **kwargs)
        bare = [name for name, field in ix.schema.items()
                if field.indexed and not isinstance(field.format, formats.Existence)]
        if bare:
            raise ValueError(f"BulkWriter needs bare-term fields; not: {bare}")
        self.pool = _TermPool()

    def _flush_segment(self):
        self.perdocwriter.close()
        writer, schema = self.fieldwriter, self.schema
        by_field = defaultdict(list)
        for fieldname, tbytes in self.pool.terms:
            by_field[fieldname].append(tbytes)
        for fieldname in sorted(by_field):
            writer.start_field(fieldname, schema[fieldname])
            for tbytes in sorted(by_field[fieldname]):
                writer.start_term(tbytes)
                add = writer.add
                for docnum in self.pool.terms[(fieldname, tbytes)]:
                    add(docnum, 1.0, b"", 0)
                writer.finish_term()
            writer.finish_field()
        writer.close()


def _segment_worker(index_dir: str, batches, results) -> None:
    """A child process: write one segment from the batches of documents it is handed."""
    try:
        ix = whoosh_index.open_dir(index_dir)
        writer = BulkWriter(ix, _lk=False)
        while (batch := batches.get()) is not None:
            for doc in batch:
                writer.add_document(**doc)
        if writer._added:
            results.put(("segment", writer._finalize_segment()))
        else:
            writer._close_segment()
            results.put(("segment", None))
    except BaseException as e:  # reported to the parent, which gives up the whole build
        results.put(("error", f"{type(e).__name__}: {e}"))


class ParallelBuild:
    """Documents are made in this process (database reads, jieba, pypinyin) and written by
    `procs` child processes, each into its own segment, while this one makes the next batch.
    With procs=0 everything happens here. Use as a context manager; `add(batch)` per batch."""

    def __init__(self, ix, procs: int):
        self.ix = ix
        self.writer = BulkWriter(ix)  # holds the index lock for the children, writes when procs=0
        self.children, self.queues, self.turn = [], [], 0
        if procs:
            ctx = multiprocessing.get_context("fork")
            self.results = ctx.Queue()
            for _ in range(procs):
                batches = ctx.Queue(maxsize=4)  # bounded: the parent waits rather than piling up
                child = ctx.Process(target=_segment_worker, args=(ix.storage.folder, batches, self.results),
                                    daemon=True)
                child.start()
                self.children.append(child)
                self.queues.append(batches)

    def add(self, docs: list[dict]) -> None:
        if not self.children:
            for doc in docs:
                self.writer.add_document(**doc)
            return
        self.queues[self.turn].put(docs)
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
