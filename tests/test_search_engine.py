"""The set-at-a-time engine under search: bitsets, segments and deletions, terms within a few
edits, the parallel rebuild, distance paging, place names resolved at query time, and indexes from
older versions."""

import math
import random

import pytest
from whoosh import index as whoosh_index
from whoosh.codec.base import Automata

import search_index
from search_index import SearchIndex, SearchParams, engine, query
from search_index.query import haversine_km
from shifangbang import changes
from shifangbang.models import Workshop

from . import factories as f
from . import search_corpus
from .test_search import RELEVANCE, find, names


@pytest.fixture
def corpus(db):
    data = search_corpus.create()
    db.session.commit()
    return data


def test_bitsets_round_trip():
    rnd = random.Random(7)
    assert engine.from_ids([0]) == 1 and engine.from_ids([3, 9000]) == (1 << 3) | (1 << 9000)
    assert engine.from_ids(iter([2, 5])) == 0b100100
    for size in (0, 1, 5, 63, 64, 65, 500, 5000, 19999):
        ids = sorted(rnd.sample(range(20000), size))
        bits = engine.from_ids(ids)
        assert bits.bit_count() == size
        assert engine.ids_of(bits) == ids
        for start, count in ((0, 20), (3, 7), (size // 2, 50), (size, 5), (0, 64), (10, 100)):
            assert engine.ids_of(bits, start, count) == ids[start : start + count], (
                size,
                start,
                count,
            )


def test_cache_stays_within_its_budget():
    cache = engine.BitsetCache(max_bytes=10_000)
    for n in range(50):
        cache.put(("seg", "f", str(n)), 1 << 8000)  # about 1 KB each
    assert cache.bytes <= 10_000
    assert cache.get(("seg", "f", "49")) is not None and cache.get(("seg", "f", "0")) is None
    cache.put(("seg", "f", "huge"), 1 << 200_000)  # larger than the whole budget: not kept
    assert cache.get(("seg", "f", "huge")) is None


def test_terms_across_segments_and_deletions(db, corpus, index):
    index.rebuild()
    w = corpus["w"]["红星粉条厂"]
    w.name = "红星粉丝厂"
    changes.touch(w)
    db.session.commit()
    searcher = index.searcher()  # syncs: a second segment, and the old document marked deleted
    reader = searcher.reader()
    assert len(reader.leaf_readers()) == 2 and reader.has_deletions()
    view = engine.View(reader)
    live = view.live()
    assert live.bit_count() == reader.doc_count() == len(search_corpus.WORKSHOPS)
    # Every bitset agrees with Whoosh's own (document-at-a-time) postings.
    for field, text in (
        ("name_bi", "红星"),
        ("name_bi", "粉丝"),
        ("name_bi", "粉条"),
        ("facet", "status:open"),
        ("py_word", "hongxing"),
        ("py_pair", "hong'xing"),
        ("py_pair", "fen'si"),
        ("products_bi", "淀粉制"),  # three characters of one item (淀粉及淀粉制品)
        ("facet", "tier:gold"),
    ):
        expected = (
            {d for d in reader.postings(field, text).all_ids()}
            if (field, text) in reader
            else set()
        )
        assert set(engine.ids_of(view.term(field, text) & live)) == expected, (field, text)
    assert find(db, "粉丝厂") == ["红星粉丝厂"] and find(db, "粉条厂") == []


def test_terms_within_are_what_whooshs_automaton_finds(db, corpus, index, monkeypatch):
    """engine.terms_within walks the term table itself; every answer is checked against Whoosh's
    Levenshtein automaton, with the keys read from disk, in memory, and a mix of both."""
    j = corpus["j"]
    # Pinyin with more than a-z in it: digits and letters in names, full-width signs in products.
    for name, varieties in (
        ("8号凉皮店", "凉皮"),
        ("ABC麻花坊", "麻花、Café蛋糕"),
        ("老1号莜面馆", "非遗：莜面窝窝"),
    ):
        f.workshop(j["kun1"], name=name, varieties=varieties)
    db.session.commit()
    index.rebuild()
    w = corpus["w"]["红星粉条厂"]
    w.name = "红星粉丝厂"
    changes.touch(w)
    db.session.commit()
    reader = index.searcher().reader()
    leaves = [r for r, _ in reader.leaf_readers()]
    assert len(leaves) == 2
    fields = ("py_word", "py_name", "py_nini", "py_other", "py_pair")
    texts = (
        "liangao",
        "laodonghe",
        "mahau",
        "youmain",
        "ldhlgzf",
        "hongxingfensichang",
        "haoliangpidian",  # 8haoliangpidian with its first character left out
        "9hlpd",
        "abxmahua",
        "cafedangao",
        "feiyi:youmianwowo",
        "liang'gao",
        "xy",
        "a",
        "laodongheliangaozuofangjiushizhegele",  # longer than any term
    )
    expected = {}
    for text in texts:
        for maxdist in (0, 1, 2):
            for prefixlength in range(min(2, len(text)) + 1):  # Whoosh's at most len(text)
                dfa = Automata.levenshtein_dfa(text, maxdist, prefixlength)
                for field in fields:
                    expected[text, maxdist, prefixlength, field] = [
                        sorted(Automata.find_matches(dfa, r.cursor(field))) for r in leaves
                    ]
    for load in (0, 12, engine.LOAD):  # all on disk; the small ranges in memory; all in memory
        monkeypatch.setattr(engine, "LOAD", load)
        for (text, maxdist, prefixlength, field), terms in expected.items():
            for r, want in zip(leaves, terms):
                got = engine.terms_within(r, field, text, maxdist, prefixlength)
                assert sorted(got) == want, (load, field, text, maxdist, prefixlength)
    engine.cache.clear()
    view = engine.View(reader)  # and View.fuzzy has the documents of those terms
    for (text, maxdist, prefixlength, field), terms in expected.items():
        docs = view.any_of(field, {t for want in terms for t in want})
        assert view.fuzzy(field, text, maxdist, prefixlength) == docs
    found = sum(len(want) for terms in expected.values() for want in terms)
    assert found > 100  # the texts are near many terms, and not only a-z ones:
    within = engine.terms_within
    assert within(leaves[0], "py_name", "haoliangpidian", 1, 0) == ["8haoliangpidian"]
    assert within(leaves[0], "py_other", "cafedangao", 1) == ["caf\xe9dangao"]
    assert within(leaves[0], "py_other", "feiyi:youmianwowo", 1) == ["feiyi\uff1ayoumianwowo"]


def test_parallel_rebuild_matches_serial(db, corpus, tmp_path, monkeypatch):
    from search_index import store

    monkeypatch.setattr(store, "BATCH", 10)  # three batches, so both children get some
    serial = SearchIndex(tmp_path / "serial", sync_interval=3600)
    parallel = SearchIndex(tmp_path / "parallel", sync_interval=3600)
    assert serial.rebuild(procs=0) == parallel.rebuild(procs=2) == len(search_corpus.WORKSHOPS)
    segments = whoosh_index.open_dir(str(parallel.current_generation())).reader().leaf_readers()
    assert len(segments) == 2  # one per child process

    def results(ix):
        s = ix.searcher(sync=False)
        return {
            q: names(db, query.run(s, SearchParams(q=q, status="all", per_page=50)))
            for q, _ in RELEVANCE
        }

    assert results(serial) == results(parallel)


def test_a_failing_child_cancels_the_build(db, corpus, tmp_path, monkeypatch):
    from search_index import schema

    ix = SearchIndex(tmp_path / "ix", sync_interval=3600)
    ix.rebuild()
    before = ix.current_generation()
    real = schema.document
    monkeypatch.setattr(schema, "document", lambda w: {**real(w), "wid": "not a number"})
    with pytest.raises(RuntimeError, match="子进程"):
        ix.rebuild(procs=1)
    assert ix.current_generation() == before  # the old index stays in place
    assert len(list(ix.root.glob("gen-*"))) == 1


def test_distance_pages_match_brute_force(db, index):
    j = f.jurisdictions()
    rnd = random.Random(3)
    located = {}
    for n in range(90):
        lat, lng = 40.5 + rnd.random() * 0.4, 109.7 + rnd.random() * 0.5
        w = f.workshop(j["kun1"], name=f"测距作坊{n}号", lat=lat, lng=lng)
        located[w.id] = (lat, lng)
    for n in range(4):
        f.workshop(j["kun1"], name=f"无坐标作坊{n}号")
    db.session.commit()
    index.rebuild()
    for lat, lng in (
        (40.61, 109.93),
        (40.0, 110.0),
        (41.5, 108.0),
    ):  # inside, at the edge, far away
        expected = sorted(located, key=lambda i: haversine_km(lat, lng, *located[i]))
        got = []
        for page in range(1, 6):
            result = search_index.search(
                SearchParams(q="", sort="distance", lat=lat, lng=lng, per_page=20, page=page)
            )
            assert result.total == 94
            got += result.hits
        assert [h.id for h in got[:90]] == expected
        assert all(h.distance_km is None for h in got[90:]) and len(got) == 94
        for hit in got[:90]:  # the index keeps micro-degrees: within a metre
            assert abs(hit.distance_km - haversine_km(lat, lng, *located[hit.id])) < 0.001


def test_place_names_match_without_reindexing(db, corpus, index):
    index.rebuild()
    station = corpus["j"]["kun1"]  # 昆北市场监管所: in no workshop's name or address
    in_station = {
        w.name for w in corpus["w"].values() if w.station_id == station.id and w.status == "open"
    }
    assert set(find(db, "昆北", per_page=50)) == in_station
    assert set(find(db, "昆都仑区", per_page=50)) >= in_station  # the county above it
    station.name = "稀土市场监管所"  # renamed: no workshop changes, no re-index
    db.session.commit()
    assert set(find(db, "稀土", per_page=50)) == in_station
    assert find(db, "昆北") == []


def test_one_character_prefix_is_bounded(db, index, monkeypatch):
    j = f.jurisdictions()
    for n in range(12):
        f.workshop(j["kun1"], name=f"糍{chr(0x4E00 + n)}作坊", varieties="凉糕")
    db.session.commit()
    index.rebuild()
    assert len(find(db, "糍", per_page=50)) == 12
    engine.cache.clear()
    monkeypatch.setattr(engine, "PREFIX_LIMIT", 5)
    assert len(find(db, "糍", per_page=50)) == 5  # pairs 糍x beyond the limit are not expanded


def test_index_from_an_older_version_is_rebuilt(db, corpus, index):
    from whoosh.fields import ID, TEXT, Schema

    gen = index.root / "gen-1"
    gen.mkdir(parents=True)
    old = whoosh_index.create_in(str(gen), Schema(id=ID(stored=True, unique=True), name=TEXT()))
    writer = old.writer()
    writer.add_document(id="1", name="老东河")
    writer.commit()
    (index.root / "current").symlink_to("gen-1")
    with pytest.raises(search_index.IndexUnavailable, match="重建"):
        index.searcher()
    assert search_index.search(SearchParams(q="凉糕")).mode == "database"
    search_index.ensure_current()
    assert find(db, "凉糕") == ["老东河凉糕作坊"]


def test_every_workshop_is_counted_once(db, corpus, index):
    """Totals are set sizes: a workshop matching several fields and runs is one result."""
    index.rebuild()
    for q in ("豆腐", "东河", "老东河 凉糕", "doufu", "坊"):
        result = search_index.search(SearchParams(q=q, per_page=50, status="all"))
        ids = [h.id for h in result.hits]
        assert len(ids) == len(set(ids)) == result.total, q
    everything = search_index.search(SearchParams(q="", status="all", per_page=50))
    assert everything.total == db.session.query(Workshop).count() == len(search_corpus.WORKSHOPS)
    assert math.isclose(everything.pages, 1)


def test_matching_ids_are_what_search_lists(db, corpus, index):
    index.rebuild()
    for q in ("豆腐", "lianggao", "东河 奶", "熏肉", "liangao", "", "%%"):
        params = SearchParams(q=q, status="all")
        listed = search_index.search(SearchParams(q=q, status="all", per_page=100))
        assert sorted(search_index.matching_ids(params, 1000)) == sorted(
            h.id for h in listed.hits
        ), q
    assert len(search_index.matching_ids(SearchParams(q="", status="all"), 3)) == 3
    import shutil

    shutil.rmtree(index.root)  # the database answers instead
    assert search_index.matching_ids(SearchParams(q="凉糕"), 10) == [
        corpus["w"]["老东河凉糕作坊"].id
    ]


def test_warm_up_reads_what_every_search_reads(db, corpus, index, app):
    """A worker's start (shifangbang/wsgi.py) reads the facets every ranking walks, so its
    first visitor's search reads none of them from disk."""
    index.rebuild()
    engine.cache.clear()
    with app.app_context():
        search_index.warm_up()
        warmed = {key[1:] for key in engine.cache._items}
        assert ("facet", "status:open") in warmed
        assert {("facet", f"len:{n}") for n in range(1, 7)} <= warmed
        deployment = app.extensions["deployment"]
        assert {("facet", f"tier:{t.code}") for t in deployment.tiers} <= warmed


def test_an_index_without_documents_answers_nothing(db, index, app, client):
    """A new deployment before its first workshop: searches find nothing and a worker starts."""
    index.rebuild()
    with app.app_context():
        search_index.warm_up()
        for q in ("豆腐", "", "doufu", "lpiangpa"):
            assert search_index.search(SearchParams(q=q)).total == 0
    assert client.get("/search?q=豆腐").status_code == 200


def test_a_failing_warm_up_is_logged_and_the_worker_goes_on(db, index, app, monkeypatch, caplog):
    index.rebuild()

    def broken(searcher):
        raise OSError("disk")

    monkeypatch.setattr(query, "warm", broken)
    with app.app_context():
        search_index.warm_up()  # no exception: gunicorn would not start the worker
    assert "搜索预热失败" in caplog.text
