"""Search on workshops it was not tuned on: the held-out set's floor (tests/search_heldout.py), and
the general readings its first measure showed missing — words typed together that a workshop has
in different fields, a station's towns, long pinyin, same-sound characters in a long name, the
typed spelling before its synonyms, question words, development zones' short names."""

import pytest

import search_index
from search_index import SearchParams, analysis, engine, vocab

from . import factories as f
from . import search_heldout

# hit@3 floors among 300 look-alikes (measured 1.00 overall and for every kind when set; `make
# bench` prints the figures among 2,000). Per kind, one miss in eleven is allowed.
FLOOR_ALL = 0.98
FLOOR_KIND = 0.9


def ids(q: str, **kw) -> list[int]:
    return [h.id for h in search_index.search(SearchParams(q=q, per_page=10, **kw)).hits]


def names(q: str, n: int = 3, **kw) -> list[str]:
    from shifangbang.extensions import db
    from shifangbang.models import Workshop

    found = ids(q, **kw)[:n]
    by_id = dict(db.session.query(Workshop.id, Workshop.name).filter(Workshop.id.in_(found)))
    return [by_id[i] for i in found]


def test_heldout_set_floor(db, index):
    data = search_heldout.load(db.session, extra=300)
    index.rebuild()
    assert len(data["queries"]) >= 120 and len(search_heldout.KINDS) >= 12
    result = search_heldout.evaluate(ids, data)
    kinds = result["kinds"]
    assert kinds["all"][0] >= FLOOR_ALL, result["misses"]
    low = {k: v for k, v in kinds.items() if v[0] < FLOOR_KIND}
    assert not low, (low, result["misses"])


@pytest.fixture
def shops(db, index):
    """A few workshops in 土默特右旗 (one station for two towns) and a development zone."""
    from shifangbang.models import Jurisdiction

    city = Jurisdiction(code="X150200", name="包头市", level="city")
    banner = Jurisdiction(code="X150221", name="土默特右旗", level="county", parent=city)
    zone = Jurisdiction(code="X150271", name="稀土高新技术产业开发区", level="county", parent=city)
    salaqi = Jurisdiction(
        code="X1502211", name="萨拉齐市场监督管理所", level="station", parent=banner
    )
    wanshui = Jurisdiction(
        code="X1502711", name="万水泉市场监督管理所", level="station", parent=zone
    )
    db.session.add_all([city, banner, zone, salaqi, wanshui])
    db.session.flush()
    made = {}
    for station, name, address, varieties in (
        (salaqi, "邢记莜面加工坊", "土默特右旗萨拉齐镇建设路8号", "莜面、莜面窝窝"),
        (salaqi, "邢记豆腐坊", "土默特右旗萨拉齐镇团结路2号", "豆腐"),
        (salaqi, "郝记海子莜面店", "土默特右旗海子乡新营子村", "莜面、莜面窝窝"),
        (salaqi, "老邢家莜面作坊", "土默特右旗萨拉齐镇人民路5号", "莜面、莜面窝窝"),
        (salaqi, "黄河莜面馆", "土默特右旗海子乡三道营村", "莜面、莜面饺饺"),
        (salaqi, "庆丰泰熟食坊", "土默特右旗萨拉齐镇胜利路3号", "羊杂"),
        (salaqi, "庆丰泰肉食坊", "土默特右旗萨拉齐镇胜利路1号", "羊杂碎"),
        (salaqi, "阴山明沙淖风干牛肉加工坊", "土默特右旗明沙淖乡", "风干牛肉"),
        (salaqi, "复盛公黄河西路油糕坊", "土默特右旗萨拉齐镇", "油糕"),
        (salaqi, "老冯家挂面加工坊", "土默特右旗萨拉齐镇光明路", "挂面、莜面"),
        (salaqi, "老冯家油糕坊", "土默特右旗萨拉齐镇光明路9号", "油糕"),
        (wanshui, "老乔家风干牛肉坊", "稀土高新区万水泉镇", "风干牛肉"),
        (wanshui, "闫记矿山路烧卖馆", "稀土高新区万水泉镇", "烧卖"),
        (wanshui, "鞍山道闫记烧麦店", "稀土高新区滨河新区", "烧麦"),
    ):
        made[name] = f.workshop(station, name=name, address=address, varieties=varieties)
    for n in range(12):  # others of the same kinds, so that a query has to pick
        f.workshop(
            salaqi, name=f"萨拉齐第{n}莜面坊", address="土默特右旗萨拉齐镇", varieties="莜面"
        )
    db.session.commit()
    index.rebuild()
    return made


def test_words_typed_together_that_a_workshop_has_apart(shops):
    # a brand in the name, a food in the varieties (through a local word: 栲栳栳 = 莜面窝窝)
    assert names("邢记栲栳栳", 1) == ["邢记莜面加工坊"]
    assert names("老冯家莜面", 1) == ["老冯家挂面加工坊"]
    # a town in the address, a food in the varieties
    assert names("海子莜面饺饺", 1) == ["黄河莜面馆"]


def test_the_town_in_the_address_before_the_station_s_other_towns(shops):
    # 萨拉齐's station also covers 海子: a workshop in 萨拉齐 itself comes first.
    top = names("萨拉齐 莜面窝窝", 2)
    assert top[0] in {"邢记莜面加工坊", "老邢家莜面作坊"}
    assert "郝记海子莜面店" not in top


def test_long_pinyin(shops):
    # a whole name spelt out in syllables, longer than a run of letters is split into words
    assert names("lao feng jia gua mian jia gong fang", 1) == ["老冯家挂面加工坊"]
    # the start of a long name, run together
    assert names("fushenggonghuanghexilu", 1) == ["复盛公黄河西路油糕坊"]


def test_same_sound_character_in_a_long_name(shops):
    assert names("阴山明沙淖风干牛肉加功坊", 1) == ["阴山明沙淖风干牛肉加工坊"]


def test_what_was_typed_before_its_synonyms(shops):
    # 羊杂碎 = 羊杂 (the bureau's synonyms): both found, the one that makes what was typed first,
    # though it was indexed after the other.
    assert names("羊杂碎", 2) == ["庆丰泰肉食坊", "庆丰泰熟食坊"]


def test_a_name_with_what_was_typed_before_a_shorter_name_read_through_a_synonym(db, index):
    # 凉皮 = 面皮 (the bureau's synonyms). The shorter name and the better tier must not put a
    # 面皮 shop above the shops whose names say 凉皮 (seen at 200,000 demo workshops).
    from shifangbang.models import Jurisdiction

    county = Jurisdiction(code="X150299", name="测试区", level="county")
    station = Jurisdiction(code="X1502991", name="测试所", level="station", parent=county)
    db.session.add_all([county, station])
    db.session.flush()
    f.workshop(station, name="韩记面皮坊", varieties="面皮", tier_code="gold")
    f.workshop(station, name="孙记凉皮作坊", varieties="凉皮", tier_code="bronze")
    db.session.commit()
    index.rebuild()
    assert names("凉皮", 2) == ["孙记凉皮作坊", "韩记面皮坊"]


def test_a_name_with_its_middle_left_out_follows_a_synonym_reading(shops):
    # 闫记烧卖 is 闫记烧麦 as typed (through 烧卖 = 烧麦), and 闫记矿山路烧卖馆 without its street.
    assert set(names("闫记烧卖", 2)) == {"鞍山道闫记烧麦店", "闫记矿山路烧卖馆"}


def test_development_zones_and_their_short_names(shops):
    assert vocab.abbreviations("稀土高新技术产业开发区") == ["稀土高新区", "高新区"]
    assert vocab.abbreviations("金山经济技术开发区") == ["金山经开区", "金山开发区", "经开区"]
    assert names("高新区 老乔家风干牛肉", 1) == ["老乔家风干牛肉坊"]


@pytest.mark.parametrize(
    "typed, read",
    [
        ("请问邢记莜面店怎么走", "邢记莜面"),
        ("邢记莜面在哪里", "邢记莜面"),
        ("萨拉齐有莜面窝窝卖吗", "萨拉齐 莜面窝窝"),
        ("有没有海子做莜面饺饺的作坊", "海子 莜面饺饺"),
        ("有福豆腐坊在哪", "有福豆腐坊"),  # 有 in a name stays
    ],
)
def test_question_words(app, typed, read):
    with app.app_context():
        assert vocab.read(typed).text == read


def test_has_remembers_per_segment(db, index):
    j = f.jurisdictions()
    f.workshop(j["kun1"], name="吕记凉皮", varieties="凉皮")
    db.session.commit()
    index.rebuild()
    view = engine.View(index.searcher().reader())
    for _ in range(2):  # the second answer comes from the cache
        assert view.has("py_word", "liangpi") and not view.has("py_word", "liangpj")


# --- what other draws of the held-out generator showed missing (issue 21, round III) -------------


@pytest.fixture
def drawn(db, index):
    """Workshops like those other seeds of tests/search_heldout.py missed: long official names,
    names jieba cuts across the syllables people type (春坤山风干 → 春 坤 山风 干; 贾记胡油坊 →
    贾 记 胡 油坊), 卜 read bu in a place name, foods spread over two items."""
    j = f.jurisdictions()
    made = {}
    for name, varieties, tier in (
        ("东河区铁西街道德兴隆月饼店", "月饼", "unrated"),
        ("德兴隆糕点坊", "月饼、糕点", "gold"),
        ("兴隆月饼店", "月饼", "gold"),
        ("贾记胡油坊", "胡麻油", "unrated"),
        ("贾记阿嘎如泰胡油作坊", "胡麻油", "gold"),
        ("九原区萨如拉街道春坤山风干牛肉店", "风干牛肉", "unrated"),
        ("春坤山莜面馆", "莜面", "gold"),
        ("白云鄂博矿区矿山路街道三盛永麻花店", "麻花", "unrated"),
        ("三盛永麻花坊", "麻花", "gold"),
        ("卜尔汉图闫记馒头坊", "馒头", "unrated"),
        ("闫记馒头坊", "馒头", "gold"),
        ("东兴任记麻花坊", "麻花", "unrated"),
        ("东兴范记麻花坊", "麻花", "gold"),
        ("老贾家麻花店", "麻花", "unrated"),
        ("老崔家麻花店", "麻花", "gold"),
        ("老姚家麻花店", "麻花", "gold"),
        ("老邢家麻花店", "麻花", "gold"),
        ("九原北疆挂面加工坊", "挂面、羊肉干", "unrated"),
        ("额尔敦风干牛肉坊", "风干牛肉、风干羊肉、牛肉干", "gold"),
        ("铁蛋风干牛肉店", "风干羊肉、牛肉干", "gold"),
    ):
        made[name] = f.workshop(j["kun1"], name=name, varieties=varieties, tier_code=tier)
    db.session.commit()
    index.rebuild()
    return made


def test_pinyin_wherever_the_name_starts_and_however_jieba_cut_it(drawn):
    # the middle of a long official name, jieba's words across what was typed (西街 道德 兴隆)
    assert names("dexinglongyuebing", 1) == ["东河区铁西街道德兴隆月饼店"]
    # 胡 油坊 typed hu you; 春 坤 山风 干 typed chun kun shan
    assert names("jia ji hu you", 1) == ["贾记胡油坊"]
    assert names("sa ru la jie dao chun kun shan", 1) == ["九原区萨如拉街道春坤山风干牛肉店"]
    # spelt out in syllables, longer than a run of letters split into words (34 letters)
    assert names("kuang shan lu jie dao san sheng yong ma hua", 1) == [
        "白云鄂博矿区矿山路街道三盛永麻花店"
    ]


def test_side_by_side_before_the_same_words_apart(drawn):
    # 老贾家 holds lao jia jia side by side; 老崔家 (gold) only lao, jia and ma hua apart.
    assert names("lao jia jia ma hua", 1) == ["老贾家麻花店"]
    assert names("laojiajiamahua", 1) == ["老贾家麻花店"]


def test_place_and_surname_readings_pypinyin_puts_second():
    # 卜 is bo first in pypinyin (萝卜); as a surname and in 卜尔汉图 it is bu.
    assert analysis.name_pinyin("卜尔汉图闫记馒头坊")["whole"][0].startswith("buerhantu")
    # the other reading stays (萝卜 luobo)
    assert "luobosibingdian" in analysis.name_pinyin("萝卜丝饼店")["whole"]
    assert "luo'bo" in analysis.name_pinyin("萝卜丝饼店")["pairs"]


def test_heteronym_and_a_typo_in_a_long_name(drawn):
    # bu (not bo) and a doubled n: one typo, not two
    assert names("buerhantuyannjimantoufang", 1) == ["卜尔汉图闫记馒头坊"]


@pytest.mark.parametrize(
    "typed",
    [
        "ongxingrenjimahuafang",  # first letter left out
        "tongxingrenjimahuafang",  # first letter wrong
        "odngxingrenjimahuafang",  # first two swapped
        "sxrjmhf",  # initials, first letter wrong
    ],
)
def test_a_typo_in_the_first_letter(drawn, typed):
    assert names(typed, 1) == ["东兴任记麻花坊"]


def test_pinyin_words_in_another_order(drawn):
    # the food typed before the place (春 坤 山风 干 牛肉: no word of the name is typed whole)
    assert names("feng gan niu rou chun kun shan", 1) == ["九原区萨如拉街道春坤山风干牛肉店"]
    assert names("yue bing de xing long", 1) == ["东河区铁西街道德兴隆月饼店"]


def test_a_food_within_one_item(drawn):
    # 风干羊肉、牛肉干 holds the pairs 羊肉 and 肉干, not 羊肉干.
    assert names("羊肉干", 5) == ["九原北疆挂面加工坊"]
    assert set(names("风干羊肉", 5)) == {"额尔敦风干牛肉坊", "铁蛋风干牛肉店"}
    assert "九原北疆挂面加工坊" not in names("风干羊肉", 5)
