"""Search: relevance over a fixed corpus, filters and sorting, index sync from the change log,
the database fallback, and safety of any input."""

import random
import shutil

import pytest
from sqlalchemy import select

import search_index
from search_index import SearchIndex, SearchParams, query
from shifangbang import changes
from shifangbang.models import ChangeLog, Workshop

from . import factories as f
from . import search_corpus

# (query, expected top result). Whole names, partial names, products, districts, pinyin,
# initials, certificate numbers, mixed Chinese and pinyin, one-letter pinyin typos, heteronyms.
RELEVANCE = [
    ("老东河凉糕作坊", "老东河凉糕作坊"),
    ("萨拉齐凉皮坊", "萨拉齐凉皮坊"),
    ("王记豆腐坊", "王记豆腐坊"),
    ("晋泉老陈醋坊", "晋泉老陈醋坊"),
    ("巴彦塔拉月饼坊", "巴彦塔拉月饼坊"),
    ("老东", "老东河凉糕作坊"),
    ("凉糕", "老东河凉糕作坊"),
    ("莜面", "固阳莜面手工作坊"),
    ("固阳", "固阳莜面手工作坊"),
    ("胡麻", "福源胡麻油坊"),
    ("手把肉", "草原手把肉加工坊"),
    ("蒙香", "蒙香牛肉干作坊"),
    ("红星", "红星粉条厂"),
    ("鑫源", "鑫源挂面坊"),
    ("腐竹", "兴旺腐竹厂"),
    ("老陈醋", "晋泉老陈醋坊"),
    ("熏醋", "晋泉老陈醋坊"),
    ("风干肉", "草原手把肉加工坊"),
    ("桃酥", "金穗糕点坊"),
    ("奶皮子", "东河奶豆腐作坊"),
    ("豆芽", "绿源豆芽坊"),
    ("粉皮", "红星粉条厂"),
    ("烧麦", "刘家烧麦馆"),
    ("昆都仑区 豆腐", "李家老豆腐"),
    ("东河 奶", "东河奶豆腐作坊"),
    ("昆都仑 醋", "晋泉老陈醋坊"),
    ("laodonghe", "老东河凉糕作坊"),
    ("lianggao", "老东河凉糕作坊"),
    ("liangao", "老东河凉糕作坊"),
    ("salaqi", "萨拉齐凉皮坊"),
    ("youmian", "固阳莜面手工作坊"),
    ("guyang", "固阳莜面手工作坊"),
    ("wangji doufu", "王记豆腐坊"),
    ("chongqing", "重庆小面作坊"),
    ("zhongqing", "重庆小面作坊"),
    ("changshou", "长寿麻花店"),
    ("mahua", "长寿麻花店"),
    ("yueyue", "乐乐豆腐脑"),
    ("ldh", "老东河凉糕作坊"),
    ("slq", "萨拉齐凉皮坊"),
    ("jqlcc", "晋泉老陈醋坊"),
    ("hxftc", "红星粉条厂"),
    (search_corpus.LAODONGHE_CERT, "老东河凉糕作坊"),
    ("150202000123", "老东河凉糕作坊"),
    ("老东河liangao", "老东河凉糕作坊"),
    ("萨拉齐 liangpi", "萨拉齐凉皮坊"),
    ("guyang莜面", "固阳莜面手工作坊"),
    ("王记doufu", "王记豆腐坊"),
    ("salaqu", "萨拉齐凉皮坊"),
    ("youmien", "固阳莜面手工作坊"),
    ("hunayou", "福源胡麻油坊"),
    ("niurouggan", "蒙香牛肉干作坊"),
    ("糖麻叶 beiliang", "北梁糖麻叶作坊"),
    ("youmain", "固阳莜面手工作坊"),  # two letters swapped
    ("mahau", "长寿麻花店"),
    ("晋泉陈醋", "晋泉老陈醋坊"),  # words typed together that the name has apart
    ("福源麻油", "福源胡麻油坊"),
]


@pytest.fixture
def corpus(db):
    data = search_corpus.create()
    db.session.commit()
    return data


@pytest.fixture
def index(app, db, tmp_path):
    """A fresh index folder for this test, installed as the app's index (sync on every search)."""
    ix = SearchIndex(tmp_path / "index", sync_interval=0)
    saved = app.extensions["search_index"]
    app.extensions["search_index"] = ix
    yield ix
    app.extensions["search_index"] = saved


def names(db, result) -> list[str]:
    by_id = {
        w.id: w.name
        for w in db.session.scalars(
            select(Workshop).where(Workshop.id.in_([h.id for h in result.hits]))
        )
    }
    return [by_id[h.id] for h in result.hits]


def find(db, q, **kw):
    return names(db, search_index.search(SearchParams(q=q, **kw)))


def test_relevance_set(db, corpus, index):
    index.rebuild()
    cert = corpus["w"]["萨拉齐凉皮坊"].cert_no
    cases = RELEVANCE + [(cert, "萨拉齐凉皮坊")]
    assert len(cases) >= 40
    misses = []
    for q, expected in cases:
        got = find(db, q, per_page=5)
        if not got or got[0] != expected:
            misses.append(f"{q!r}: expected {expected}, got {got}")
    assert not misses, "\n".join(misses)


# --- filters, sorting, pagination --------------------------------------------------------------------


def test_filters(db, corpus, index):
    index.rebuild()
    j, cats = corpus["j"], corpus["cats"]
    assert set(find(db, "", tier="gold", per_page=50)) == {
        "老东河凉糕作坊",
        "王记豆腐坊",
        "晋泉老陈醋坊",
        "东河奶豆腐作坊",
        "刘家烧麦馆",
        "丰收炒米坊",
    }
    assert set(find(db, "豆腐", county=j["kun"].id)) == {"李家老豆腐"}
    assert set(find(db, "", station=j["xinaobao"].id, tier="silver")) == {
        "福源胡麻油坊",
        "巴彦塔拉月饼坊",
    }
    assert set(find(db, "", category=cats["豆制品"].id, per_page=50)) == {
        "王记豆腐坊",
        "李家老豆腐",
        "绿源豆芽坊",
        "乐乐豆腐脑",
        "兴旺腐竹厂",
    }
    assert set(find(db, "", title=corpus["title"].id)) == {"王记豆腐坊", "晋泉老陈醋坊"}
    risky = set(find(db, "", high_risk=True, per_page=50))
    assert (
        "萨拉齐凉皮坊" not in risky and "红星粉条厂" in risky and "老王熏肉坊" not in risky
    )  # closed
    # Closed workshops are hidden unless asked for.
    assert find(db, "熏肉") == []
    assert find(db, "熏肉", status="all") == ["老王熏肉坊"]
    assert set(find(db, "", status="closed")) == {"老王熏肉坊", "张记凉粉店"}


def test_sorting_and_pagination(db, corpus, index, app):
    index.rebuild()
    with app.app_context():
        rank = lambda name: app.extensions["deployment"].tier(corpus["w"][name].tier_code).rank  # noqa: E731
    by_tier = find(db, "坊", sort="tier", per_page=50)
    assert len(by_tier) > 10
    assert [rank(n) for n in by_tier] == sorted((rank(n) for n in by_tier), reverse=True)
    # Distance: nearest first, workshops without a location last.
    near = search_index.search(
        SearchParams(q="", sort="distance", lat=40.5901, lng=110.0301, per_page=50)
    )
    got = names(db, near)
    assert got[:2] == ["王记豆腐坊", "老东河凉糕作坊"]
    located = [h.distance_km for h in near.hits if h.distance_km is not None]
    assert located == sorted(located) and len(located) == 5
    assert near.hits[0].distance_km < 0.1
    # Pages do not overlap and cover everything.
    all_open = find(db, "", per_page=50)
    pages = [find(db, "", per_page=7, page=n) for n in (1, 2, 3, 4)]
    assert sum(pages, []) == all_open and len(all_open) == 24
    assert find(db, "", per_page=7, page=40) == []


# --- input safety ---------------------------------------------------------------------------------------

SYNTAX = list("\"'*?~^:()[]{}<>!+-&|\\/=;,.%_@#$`") + [
    "AND",
    "OR",
    "NOT",
    "TO",
    " ",
    "\u3000",
    "\x00",
    "豆",
    "腐",
    "l",
    "d",
    "h",
    "1",
    "0",
    "；",
    "（",
    "》",
]


def fuzzed(n: int, seed: int = 4):
    rnd = random.Random(seed)
    for _ in range(n):
        yield "".join(rnd.choice(SYNTAX) for _ in range(rnd.randint(1, 14)))


def test_any_input_is_text_never_an_error(db, corpus, index, client):
    index.rebuild()
    specials = [
        '"豆腐',
        "豆腐*",
        "AND OR NOT",
        "name:豆腐",
        "(老东河",
        "[a TO z]",
        "~salaqi",
        "^2",
        "\\",
        "*",
        "豆腐 AND",
        "'; DROP TABLE workshop; --",
        "%",
        "_",
        "<script>alert(1)</script>",
        "x" * 500,
    ]
    for q in specials + list(fuzzed(150)):
        result = search_index.search(SearchParams(q=q))
        assert result.mode == "index"
        response = client.get("/search", query_string={"q": q})
        assert response.status_code == 200, q
        assert b"<script>alert(1)</script>" not in response.data
    # Syntax characters around words are dropped, the words still count.
    assert find(db, '"王记豆腐坊"')[0] == "王记豆腐坊"
    assert find(db, "salaqi*")[0] == "萨拉齐凉皮坊"


def test_any_input_safe_in_database_fallback(db, corpus, index, client):
    for q in ["%", "_", "\\", "100%", "a_b", "豆腐%"] + list(fuzzed(60, seed=9)):
        result = search_index.search(SearchParams(q=q))
        assert result.mode == "database"
        assert client.get("/search", query_string={"q": q}).status_code == 200
    assert find(db, "%") == [] and find(db, "_") == []


# --- sync from the change log ----------------------------------------------------------------------------


def rename(db, w, name):
    w.name = name
    changes.touch(w)
    db.session.commit()


def test_sync_follows_change_log(db, corpus, index):
    index.rebuild()
    w = corpus["w"]["鑫源挂面坊"]
    rename(db, w, "鑫源手擀面坊")
    assert find(db, "手擀面") == ["鑫源手擀面坊"]  # sync_interval=0: applied before answering
    assert find(db, "挂面坊") == []
    # Tier, status and deletion reach the index too.
    w.tier_code = "gold"
    changes.touch(w)
    db.session.commit()
    assert "鑫源手擀面坊" in find(db, "", tier="gold", per_page=50)
    gone = corpus["w"]["丰收炒米坊"]
    gone_id = gone.id
    db.session.delete(gone)
    db.session.add(ChangeLog(workshop_id=gone_id))
    db.session.commit()
    assert find(db, "炒米") == []
    assert index.health()["ok"] and index.health()["pending"] == 0


def test_two_index_folders_converge(db, corpus, tmp_path):
    a = SearchIndex(tmp_path / "a", sync_interval=3600)
    b = SearchIndex(tmp_path / "b", sync_interval=3600)
    a.rebuild()
    rename(db, corpus["w"]["红星粉条厂"], "红星粉丝厂")
    b.rebuild()  # b starts after the first change, a before it
    rename(db, corpus["w"]["山城酱油坊"], "山城酿造酱油坊")
    w = corpus["w"]["马记馒头坊"]
    w.status = "revoked"
    changes.touch(w)
    db.session.commit()
    assert a.sync() == 3 and b.sync() == 2
    assert a.sync() == 0 and b.sync() == 0

    def snapshot(ix):
        s = ix.searcher(sync=False)
        docs = sorted(
            (d["id"], d["tier"], d["status"], d["cert"]) for _, d in s.reader().iter_docs()
        )
        found = {}
        for q, _ in RELEVANCE:
            got = names(db, query.run(s, SearchParams(q=q, status="all", per_page=50)))
            found[q] = (got[:1], sorted(got))
        return docs, found

    assert snapshot(a) == snapshot(b)
    for ix in (a, b):
        result = query.run(ix.searcher(), SearchParams(q="酿造"))
        assert names(db, result) == ["山城酿造酱油坊"]
        assert names(db, query.run(ix.searcher(), SearchParams(q="馒头"))) == []


def test_out_of_order_change_log_ids(db, corpus, tmp_path):
    """PostgreSQL may commit id 12 before id 11: the later-committed lower id is still applied."""
    ix = SearchIndex(tmp_path / "ix", sync_interval=3600)
    ix.rebuild()
    top = db.session.scalar(select(ChangeLog.id).order_by(ChangeLog.id.desc()).limit(1)) or 0
    first, late = corpus["w"]["刘家烧麦馆"], corpus["w"]["乐乐豆腐脑"]
    first.name = "刘家蒸饺烧麦馆"
    late.name = "乐乐老豆腐脑"
    db.session.add(ChangeLog(id=top + 20, workshop_id=first.id))  # committed first, higher id
    db.session.commit()
    assert ix.sync() == 1
    db.session.add(ChangeLog(id=top + 10, workshop_id=late.id))  # committed later, lower id
    db.session.commit()
    assert ix.sync() == 1
    assert ix.sync() == 0  # seen ids are not applied again
    s = ix.searcher(sync=False)
    assert names(db, query.run(s, SearchParams(q="蒸饺"))) == ["刘家蒸饺烧麦馆"]
    assert names(db, query.run(s, SearchParams(q="乐乐老豆腐脑")))[0] == "乐乐老豆腐脑"


def test_writer_lock_has_a_timeout(db, corpus, tmp_path):
    ix = SearchIndex(tmp_path / "ix", sync_interval=0, lock_timeout=0.2)
    ix.rebuild()
    rename(db, corpus["w"]["绿源豆芽坊"], "绿源黄豆芽坊")
    other = ix._open().writer()  # another process is writing
    try:
        assert ix.sync() is None  # gave up after the timeout, nothing half-done
        assert (
            names(db, query.run(ix.searcher(), SearchParams(q="黄豆芽"))) == []
        )  # searching still works
    finally:
        other.cancel()
    assert ix.sync() == 1
    assert names(db, query.run(ix.searcher(), SearchParams(q="黄豆芽"))) == ["绿源黄豆芽坊"]


# --- the index is derived data ----------------------------------------------------------------------------


def test_deleted_index_falls_back_to_database_and_reindex_restores(
    db, corpus, index, client, runner, caplog
):
    index.rebuild()
    assert search_index.search(SearchParams(q="凉糕")).mode == "index"
    shutil.rmtree(index.root)
    with caplog.at_level("WARNING", logger="search_index"):
        result = search_index.search(SearchParams(q="凉糕"))
    assert result.mode == "database" and names(db, result) == ["老东河凉糕作坊"]
    assert "数据库" in caplog.text
    # Same filters in the fallback.
    assert set(find(db, "豆腐", county=corpus["j"]["kun"].id)) == {"李家老豆腐"}
    assert find(db, "熏肉") == [] and find(db, "熏肉", status="all") == ["老王熏肉坊"]
    assert find(db, search_corpus.LAODONGHE_CERT) == ["老东河凉糕作坊"]
    page = client.get("/search?q=凉糕")
    assert (
        page.status_code == 200
        and "老东河<mark>凉糕</mark>作坊" in page.text
        and "简易查询" in page.text
    )
    health = client.get("/healthz").get_json()
    assert health["checks"]["search_index"]["ok"] is False and health["status"] == "degraded"

    out = runner.invoke(args=["search", "reindex"])
    assert out.exit_code == 0, out.output
    assert "26" in out.output
    assert search_index.search(SearchParams(q="liangao")).mode == "index"
    assert client.get("/healthz").get_json()["checks"]["search_index"]["ok"] is True


def test_broken_index_falls_back(db, corpus, index):
    index.rebuild()
    gen = index.current_generation()
    for p in gen.glob("*.toc"):
        p.write_bytes(b"garbage")
    fresh = SearchIndex(index.root, sync_interval=0)  # a new worker opening the damaged folder
    index._close()
    with pytest.raises(search_index.IndexUnavailable):
        fresh.searcher()
    assert fresh.health()["ok"] is False
    assert search_index.search(SearchParams(q="凉糕")).mode == "database"


def test_rebuild_swaps_atomically_while_searching(db, corpus, index):
    index.rebuild()
    searcher = index.searcher()
    first = index.current_generation()
    index.rebuild()
    assert index.current_generation() != first
    assert names(db, query.run(searcher, SearchParams(q="凉糕"))) == [
        "老东河凉糕作坊"
    ]  # old searcher still reads
    assert names(db, search_index.search(SearchParams(q="凉糕"))) == ["老东河凉糕作坊"]
    index.rebuild()
    assert (
        len(list(index.root.glob("gen-*"))) == 2
    )  # the newest previous generation is kept for a while


def test_sync_command_and_ensure_current(db, corpus, index, runner, app):
    out = runner.invoke(args=["search", "sync"])
    assert out.exit_code != 0 and "重建" in out.output
    out = runner.invoke(
        args=["search", "sync", "--rebuild-if-needed"]
    )  # what the service runs on start
    assert out.exit_code == 0 and "26" in out.output
    shutil.rmtree(index.root)
    with app.app_context():
        search_index.ensure_current()  # builds when missing
    assert index.current_generation() is not None
    rename(db, corpus["w"]["晋泉老陈醋坊"], "晋泉老陈醋熏醋坊")
    out = runner.invoke(args=["search", "sync"])
    assert out.exit_code == 0 and "1" in out.output


# --- pages --------------------------------------------------------------------------------------------------


def test_search_page_highlights_and_links(db, corpus, index, client):
    index.rebuild()
    html = client.get("/search?q=老东").text
    assert "<mark>老东</mark>河凉糕作坊" in html
    assert f'href="/w/{corpus["w"]["老东河凉糕作坊"].public_code}"' in html
    assert "<mark>凉糕</mark>" in client.get("/search?q=lianggao").text
    assert "<mark>萨拉齐</mark>" in client.get("/search?q=slq").text


def test_no_results_page_helps(db, corpus, index, client):
    index.rebuild()
    html = client.get("/search?q=xyzzyqq").text
    assert "没有找到" in html and "拼音" in html and "按区县浏览" in html
    assert "东河区" in html  # browse by district
    html = client.get("/search", query_string={"q": "熏肉"}).text
    assert "包括已停业" in html
    html = client.get(
        "/search", query_string={"q": "豆腐", "tier": "orange", "county": corpus["j"]["donghe"].id}
    ).text
    assert "去掉筛选条件" in html
    # Two typos: nothing matches, but the near miss is suggested.
    html = client.get("/search?q=sanaqiu").text
    assert "您是不是要找" in html and "萨拉齐凉皮坊" in html
    # Run-together pinyin too garbled as a whole: its two-syllable words are tried, as a
    # Chinese query's characters are.
    html = client.get("/search?q=liangpizuofangxyz").text
    assert "没有找到" in html and "您是不是要找" in html and "萨拉齐凉皮坊" in html
    # Two shops may share a name: a suggestion says where it is, as a result does.
    assert corpus["w"]["萨拉齐凉皮坊"].address in html


def test_bad_parameters_are_ignored(db, corpus, index, client):
    index.rebuild()
    for qs in (
        "tier=nope&county=x&page=-3&sort=zzz&lat=999&lng=abc&status=weird",
        "page=999999999",
        "station=%00",
    ):
        assert client.get("/search?q=豆腐&" + qs).status_code == 200


def test_rankings_by_district_and_category(db, corpus, client):
    overview = client.get("/rankings").text
    assert "东河区" in overview and "昆都仑区" in overview and "豆制品" in overview
    kun = corpus["j"]["kun"]
    html = client.get(f"/rankings?county={kun.id}").text
    # Best tier first; closed workshops and other districts left out.
    assert (
        html.index("金榜")
        < html.index("晋泉老陈醋坊")
        < html.index("银榜")
        < html.index("萨拉齐凉皮坊")
        < html.index("铜榜")
        < html.index("鑫源挂面坊")
        < html.index("橙榜")
        < html.index("李家老豆腐")
    )
    assert "张记凉粉店" not in html and "王记豆腐坊" not in html
    assert f'href="/w/{corpus["w"]["晋泉老陈醋坊"].public_code}"' in html
    html = client.get(f"/rankings?category={corpus['cats']['豆制品'].id}").text
    assert (
        html.index("王记豆腐坊")
        < html.index("乐乐豆腐脑")
        < html.index("兴旺腐竹厂")
        < html.index("李家老豆腐")
    )
    assert "萨拉齐凉皮坊" not in html
    assert client.get("/rankings?county=999999").status_code == 200


def test_announcements_list_published_changes(db, corpus, client):
    from datetime import date

    from shifangbang import tiers

    admin = f.user("admin")
    db.session.commit()
    up, down = corpus["w"]["丰收炒米坊"], corpus["w"]["马记馒头坊"]
    d1 = tiers.propose(
        admin,
        down,
        "bronze",
        "hygiene",
        "卫生状况差",
        public_reason="经现场检查核实，依据检查结果调整。",
    )
    tiers.decide(admin, d1, True, effective_on=date(2026, 3, 2))
    tiers.publish(admin, d1)
    up.tier_code = "silver"
    db.session.commit()
    d2 = tiers.propose(
        admin,
        up,
        "gold",
        "inspection",
        "内部说明不公开",
        public_reason="经现场检查核实，依据检查结果调整。",
    )
    tiers.decide(admin, d2, True, effective_on=date(2026, 4, 1))
    tiers.publish(admin, d2)
    pending = tiers.propose(
        admin,
        corpus["w"]["金穗糕点坊"],
        "silver",
        "inspection",
        public_reason="经现场检查核实，依据检查结果调整。",
    )  # not published
    html = client.get("/rankings/announcements").text
    assert html.index("丰收炒米坊") < html.index("马记馒头坊")  # newest first
    assert "升榜" in html and "降榜" in html and "卫生状况差" in html and "监督检查结果" in html
    assert "2026年4月1日" in html and "内部说明不公开" not in html
    assert "金穗糕点坊" not in html and pending.status == "proposed"
    only_down = client.get("/rankings/announcements?direction=downgrade").text
    assert "马记馒头坊" in only_down and "丰收炒米坊" not in only_down
    other_county = client.get(f"/rankings/announcements?county={corpus['j']['kun'].id}").text
    assert "丰收炒米坊" in other_county and "马记馒头坊" not in other_county
