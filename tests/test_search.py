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
    by_id = {w.id: w.name for w in db.session.scalars(select(Workshop).where(
        Workshop.id.in_([h.id for h in result.hits])))}
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
