"""A held-out relevance set: generated 包头 workshops and queries made from them mechanically.

tests/search_relevance.py was written alongside the search tuning, so it is a floor, not a
measure. This set was written before reading the tuning code and shares none of its workshops:
other surnames and trade names (字号), the towns, sumu and street offices of each county and
banner, and names in the forms small workshops register under — 郝记莜面坊, 沙尔沁郝记豆腐坊, 贾记萨拉齐
酿皮坊 (a place in the middle), 老侯家焙子铺, 复盛公月饼坊, 土右德兴隆稍麦馆, 其其格奶食店, 二娃酿皮,
土默特右旗双龙镇乔记胡麻油加工坊.

The corpus is CORE workshops (the answers) followed by look-alikes from the same generator (the
tests load a few hundred, `make bench` 2,000). Every query is made by a rule from one core
workshop, with a random choice the rule does not steer (which letter of the pinyin is dropped,
which character is swapped for a same-sound one, which template a question takes), and kept only
when that workshop is the one clearly best answer among CORE + MAX_EXTRA workshops (the rule's
uniqueness check, per kind, below). Nothing is hand-picked.

Dialect pairs (`SYNONYMS`) are what people in 包头 call these foods; the homophones (`HOMOPHONES`)
were computed once, mechanically: for each character used here, the commonest characters (by the
frequency of the jieba dictionary words they occur in) with the same toneless pinyin and a single
reading in pypinyin, without editing (the script is in `_homophones_script`).
"""

import math
import random
from dataclasses import dataclass, field
from datetime import date

SEED = 20270117
CORE = 300
MAX_EXTRA = 2000
PER_KIND = 11

# county, code, what people call it, centre (lat, lng), towns: (name, unit, pinyin, station town)
COUNTIES = [
    (
        "东河区",
        "150202",
        ["东河"],
        (40.58, 110.04),
        [
            ("沙尔沁", "镇", "sha er qin", "沙尔沁"),
            ("铁西", "街道", "tie xi", "铁西"),
            ("东兴", "街道", "dong xing", "铁西"),
            ("财神庙", "街道", "cai shen miao", "财神庙"),
            ("环城路", "街道", "huan cheng lu", "财神庙"),
        ],
    ),
    (
        "昆都仑区",
        "150203",
        ["昆区", "昆都仑"],
        (40.66, 109.82),
        [
            ("卜尔汉图", "镇", "bu er han tu", "卜尔汉图"),
            ("鞍山道", "街道", "an shan dao", "鞍山道"),
            ("前进道", "街道", "qian jin dao", "鞍山道"),
            ("黄河西路", "街道", "huang he xi lu", "黄河西路"),
            ("团结大街", "街道", "tuan jie da jie", "黄河西路"),
        ],
    ),
    (
        "青山区",
        "150204",
        ["青山"],
        (40.65, 109.90),
        [
            ("青福", "镇", "qing fu", "青福"),
            ("兴胜", "镇", "xing sheng", "青福"),
            ("万青路", "街道", "wan qing lu", "万青路"),
            ("自由路", "街道", "zi you lu", "万青路"),
            ("先锋道", "街道", "xian feng dao", "万青路"),
        ],
    ),
    (
        "石拐区",
        "150205",
        ["石拐"],
        (40.67, 110.27),
        [("大发", "街道", "da fa", "大发"), ("五当召", "镇", "wu dang zhao", "五当召")],
    ),
    (
        "白云鄂博矿区",
        "150206",
        ["白云", "白云矿区", "白云区"],
        (41.77, 109.97),
        [
            ("矿山路", "街道", "kuang shan lu", "矿山路"),
            ("通阳道", "街道", "tong yang dao", "矿山路"),
        ],
    ),
    (
        "九原区",
        "150207",
        ["九原"],
        (40.60, 109.97),
        [
            ("哈业胡同", "镇", "ha ye hu tong", "哈业胡同"),
            ("阿嘎如泰", "苏木", "a ga ru tai", "哈业胡同"),
            ("萨如拉", "街道", "sa ru la", "萨如拉"),
            ("赛汗", "街道", "sai han", "萨如拉"),
        ],
    ),
    (
        "土默特右旗",
        "150221",
        ["土右", "土右旗"],
        (40.57, 110.52),
        [
            ("萨拉齐", "镇", "sa la qi", "萨拉齐"),
            ("双龙", "镇", "shuang long", "双龙"),
            ("沟门", "镇", "gou men", "双龙"),
            ("海子", "乡", "hai zi", "萨拉齐"),
            ("苏波盖", "乡", "su bo gai", "苏波盖"),
            ("明沙淖", "乡", "ming sha nao", "苏波盖"),
        ],
    ),
    (
        "固阳县",
        "150222",
        ["固阳"],
        (41.03, 110.06),
        [
            ("金山", "镇", "jin shan", "金山"),
            ("下湿壕", "镇", "xia shi hao", "下湿壕"),
            ("怀朔", "镇", "huai shuo", "金山"),
            ("兴顺西", "镇", "xing shun xi", "下湿壕"),
        ],
    ),
    (
        "达尔罕茂明安联合旗",
        "150223",
        ["达茂", "达茂旗"],
        (41.70, 110.43),
        [
            ("百灵庙", "镇", "bai ling miao", "百灵庙"),
            ("满都拉", "镇", "man du la", "满都拉"),
            ("希拉穆仁", "镇", "xi la mu ren", "百灵庙"),
            ("明安", "镇", "ming an", "满都拉"),
            ("石宝", "镇", "shi bao", "百灵庙"),
        ],
    ),
    (
        "稀土高新技术产业开发区",
        "150271",
        ["稀土高新区", "高新区"],
        (40.63, 109.86),
        [("万水泉", "镇", "wan shui quan", "万水泉"), ("滨河", "新区", "bin he", "万水泉")],
    ),
]

SURNAMES = [
    ("郝", "hao"),
    ("贾", "jia"),
    ("侯", "hou"),
    ("薛", "xue"),
    ("乔", "qiao"),
    ("武", "wu"),
    ("邬", "wu"),
    ("段", "duan"),
    ("温", "wen"),
    ("白", "bai"),
    ("任", "ren"),
    ("贺", "he"),
    ("冯", "feng"),
    ("苗", "miao"),
    ("云", "yun"),
    ("闫", "yan"),
    ("康", "kang"),
    ("梁", "liang"),
    ("范", "fan"),
    ("秦", "qin"),
    ("崔", "cui"),
    ("牛", "niu"),
    ("霍", "huo"),
    ("尚", "shang"),
    ("姚", "yao"),
    ("邢", "xing"),
    ("岳", "yue"),
    ("雷", "lei"),
    ("田", "tian"),
    ("胡", "hu"),
]
# (text, pinyin): trade names old and new, the city's nickname, its mountains and rivers
ZIHAO = [
    ("复盛公", "fu sheng gong"),
    ("德兴隆", "de xing long"),
    ("义和成", "yi he cheng"),
    ("广义恒", "guang yi heng"),
    ("公和泰", "gong he tai"),
    ("天顺成", "tian shun cheng"),
    ("裕盛魁", "yu sheng kui"),
    ("万和隆", "wan he long"),
    ("庆丰泰", "qing feng tai"),
    ("恒义昌", "heng yi chang"),
    ("双合兴", "shuang he xing"),
    ("三盛永", "san sheng yong"),
    ("聚锦成", "ju jin cheng"),
    ("荣盛元", "rong sheng yuan"),
    ("鹿城", "lu cheng"),
    ("塞北", "sai bei"),
    ("阴山", "yin shan"),
    ("黄河", "huang he"),
    ("河套", "he tao"),
    ("北疆", "bei jiang"),
    ("大青山", "da qing shan"),
    ("春坤山", "chun kun shan"),
    ("梅力更", "mei li geng"),
    ("乌拉山", "wu la shan"),
    ("敖包", "ao bao"),
    ("蒙源", "meng yuan"),
]
NICKNAMES = [
    ("二娃", "er wa"),
    ("三丫", "san ya"),
    ("胖嫂", "pang sao"),
    ("二毛", "er mao"),
    ("小芳", "xiao fang"),
    ("铁蛋", "tie dan"),
    ("憨憨", "han han"),
    ("胖妞", "pang niu"),
]
MONGOL_NAMES = [
    ("其其格", "qi qi ge"),
    ("萨仁", "sa ren"),
    ("乌云", "wu yun"),
    ("巴特尔", "ba te er"),
    ("斯琴", "si qin"),
    ("额尔敦", "e er dun"),
    ("那仁", "na ren"),
    ("图雅", "tu ya"),
    ("苏和", "su he"),
    ("阿拉腾", "a la teng"),
]
MODIFIERS = [
    ("手工", "shou gong"),
    ("传统", "chuan tong"),
    ("农家", "nong jia"),
    ("正宗", "zheng zong"),
    ("纯手工", "chun shou gong"),
]

# key: (how names write it [(text, pinyin, weight)], category, varieties, suffixes)
PRODUCTS = {
    "莜面": (
        [("莜面", "you mian", 5)],
        "粮食加工品",
        ["莜面", "莜面窝窝", "莜面鱼鱼", "莜麦面", "莜面饺饺"],
        ["坊", "馆", "加工坊", "作坊", "店"],
    ),
    "烧麦": (
        [("烧麦", "shao mai", 5), ("稍麦", "shao mai", 3), ("烧卖", "shao mai", 1)],
        "速冻食品",
        ["烧麦", "羊肉烧麦", "蒸饺"],
        ["馆", "坊", "店", "加工坊"],
    ),
    "焙子": (
        [("焙子", "bei zi", 1)],
        "糕点",
        ["焙子", "白焙子", "油旋焙子", "糖焙子", "咸焙子"],
        ["铺", "坊", "店", "加工坊"],
    ),
    "凉皮": (
        [("凉皮", "liang pi", 1), ("酿皮", "niang pi", 1)],
        "粮食加工品",
        ["凉皮", "面筋", "擀面皮", "米皮"],
        ["坊", "店", "加工坊", "作坊", "加工点"],
    ),
    "奶食": (
        [("奶食", "nai shi", 3), ("奶食品", "nai shi pin", 1)],
        "乳制品",
        ["奶豆腐", "奶皮子", "奶酪", "酸奶", "黄油", "奶茶"],
        ["店", "坊", "加工坊", "作坊"],
    ),
    "炒米": (
        [("炒米", "chao mi", 1)],
        "粮食加工品",
        ["炒米", "蒙古炒米", "糜米", "黄米"],
        ["坊", "加工坊", "厂", "店"],
    ),
    "胡麻油": (
        [("胡麻油", "hu ma you", 4), ("胡油", "hu you", 1)],
        "食用植物油",
        ["胡麻油", "亚麻籽油", "菜籽油", "葵花籽油"],
        ["坊", "加工坊", "作坊", "加工厂"],
    ),
    "手把肉": (
        [("手把肉", "shou ba rou", 1)],
        "肉制品",
        ["手把肉", "羊肉", "羊排", "羊杂"],
        ["馆", "加工坊", "作坊", "店"],
    ),
    "风干牛肉": (
        [("风干牛肉", "feng gan niu rou", 1)],
        "肉制品",
        ["风干牛肉", "牛肉干", "风干羊肉"],
        ["坊", "加工坊", "作坊", "店"],
    ),
    "豆腐": (
        [("豆腐", "dou fu", 1)],
        "豆制品",
        ["豆腐", "豆腐干", "豆腐皮", "豆腐脑", "老豆腐", "冻豆腐"],
        ["坊", "作坊", "加工坊", "店", "加工点"],
    ),
    "粉条": (
        [("粉条", "fen tiao", 1)],
        "淀粉及淀粉制品",
        ["粉条", "粉皮", "宽粉", "土豆粉条"],
        ["厂", "加工坊", "坊", "加工厂"],
    ),
    "月饼": (
        [("月饼", "yue bing", 1)],
        "糕点",
        ["月饼", "混糖月饼", "提浆月饼", "胡麻油月饼", "五仁月饼"],
        ["坊", "作坊", "加工坊", "店"],
    ),
    "麻花": (
        [("麻花", "ma hua", 1)],
        "糕点",
        ["麻花", "糖麻叶", "馓子", "油香"],
        ["坊", "店", "作坊", "加工点"],
    ),
    "油糕": (
        [("油糕", "you gao", 3), ("炸糕", "zha gao", 1)],
        "糕点",
        ["油糕", "黄米油糕", "素糕", "黄米面"],
        ["坊", "店", "作坊"],
    ),
    "馒头": (
        [("馒头", "man tou", 1)],
        "粮食加工品",
        ["馒头", "花卷", "开花馒头", "糖三角"],
        ["坊", "店", "加工坊", "作坊", "加工点"],
    ),
    "凉粉": (
        [("凉粉", "liang fen", 1)],
        "淀粉及淀粉制品",
        ["凉粉", "粉皮"],
        ["坊", "店", "作坊"],
    ),
    "挂面": (
        [("挂面", "gua mian", 1)],
        "粮食加工品",
        ["挂面", "空心挂面", "莜面挂面"],
        ["厂", "坊", "加工坊"],
    ),
}
SUFFIX_PY = {
    "坊": "fang",
    "作坊": "zuo fang",
    "加工坊": "jia gong fang",
    "馆": "guan",
    "铺": "pu",
    "店": "dian",
    "加工点": "jia gong dian",
    "厂": "chang",
    "加工厂": "jia gong chang",
}
# Foods a few workshops make besides their own line: each appears rarely, so "who makes X" has
# one answer.
SPECIALTIES = [
    "毕希拉格",
    "楚拉",
    "奶嚼口",
    "哈达饼",
    "蒙古果条",
    "黄米凉糕",
    "莜面饸饹",
    "荞面饸饹",
    "荞面碗托",
    "山药鱼",
    "烂腌菜",
    "腌沙葱",
    "沙棘汁",
    "沙棘果酱",
    "驼奶",
    "驼肉干",
    "酸马奶",
    "黄米粘糕",
    "枣糕",
    "发糕",
    "葱花饼",
    "糖饼",
    "黄酒",
    "米酒",
    "豆瓣酱",
    "黄酱",
    "辣椒酱",
    "蘑菇酱",
    "羊肉干",
    "奶茶粉",
    "炸果子",
    "锅盔",
    "烙饼",
    "酸菜",
    "羊油",
    "杏仁露",
    "莜面窝窝",
    "酸粥",
    "酸米",
    "黄米炸糕",
    "羊肉烧卖",
    "荞面",
    "燕麦片",
    "胡萝卜干",
    "干菜",
    "麻酱",
    "香油",
    "熏鸡",
    "熏肉",
    "羊杂碎",
    "血肠",
    "肉肠",
    "奶酪丹",
]
# What people in 包头 call the same food (all forms of a group are the same thing).
SYNONYMS = [
    ["凉皮", "酿皮"],
    ["烧麦", "稍麦", "烧卖", "稍美"],
    ["胡麻油", "胡油"],
    ["豆腐干", "豆干"],
    ["手把肉", "手扒肉"],
    ["馒头", "馍馍"],
    ["莜面", "油面"],
    ["油糕", "炸糕"],
    ["豆腐脑", "豆花"],
    ["豆腐皮", "干豆腐"],
    ["糖麻叶", "麻叶"],
    ["莜面窝窝", "栲栳栳"],
    ["奶皮子", "奶皮"],
    ["风干牛肉", "牛肉干"],
    ["焙子", "烧饼"],
    ["土豆粉条", "山药粉条"],
]
STREETS = [
    "建设路",
    "团结路",
    "新民街",
    "南园街",
    "胜利路",
    "幸福巷",
    "工业路",
    "民主路",
    "光明路",
    "富民街",
    "人民路",
    "新营子村",
    "三道营村",
    "大城西村",
    "毛岱村",
    "公山湾村",
]
TIERS = ["gold", "silver", "silver", "bronze", "bronze", "bronze", "orange", "unrated", "unrated"]
HIGH_RISK = {"糕点", "豆制品", "食用植物油", "肉制品", "淀粉及淀粉制品", "乳制品"}

# Same toneless pinyin, single reading, commonest first (see the module docstring).
HOMOPHONES: dict[str, str] = {
    "三": "散",
    "下": "辖",
    "业": "夜爷",
    "东": "动",
    "丫": "亚压",
    "丰": "风",
    "义": "一意议易依医",
    "乌": "物武务五",
    "乔": "桥",
    "九": "就究酒久救",
    "乡": "相想向像象项",
    "二": "尔",
    "云": "运",
    "五": "物武务",
    "仁": "人认",
    "仑": "论",
    "作": "做左坐座",
    "侯": "后候",
    "元": "院原远源愿",
    "先": "现县线显鲜险",
    "公": "工功宫供攻",
    "兴": "性形型星",
    "凉": "两量良亮",
    "力": "里理利历李礼",
    "加": "架",
    "北": "备背",
    "卖": "买",
    "原": "院元远源愿",
    "县": "现先线显鲜险",
    "发": "法",
    "右": "又优油友",
    "同": "通统",
    "固": "股故顾姑",
    "图": "突",
    "坊": "放防",
    "城": "成程",
    "壕": "好",
    "复": "府夫富负父福",
    "天": "田",
    "如": "入",
    "子": "自资字",
    "安": "案按暗",
    "宗": "总",
    "宝": "报保",
    "小": "笑消效销",
    "尔": "二",
    "山": "善",
    "工": "公功宫供攻",
    "巴": "八",
    "希": "西息席细习",
    "庆": "情清轻请",
    "店": "点电",
    "当": "党",
    "憨": "汉含",
    "成": "城程",
    "手": "首收守",
    "新": "心",
    "旗": "起气器企七",
    "昌": "常场",
    "木": "目",
    "梁": "两量良亮",
    "梅": "美每",
    "正": "政争整证征",
    "武": "物务五",
    "段": "断端短",
    "永": "用",
    "汉": "含",
    "沟": "构够",
    "河": "何",
    "油": "又右优友",
    "泉": "全权",
    "泰": "态",
    "海": "孩",
    "湿": "时实十使世师",
    "源": "院原元远愿",
    "灵": "领另",
    "点": "电",
    "烧": "少",
    "焙": "北备背",
    "环": "欢换",
    "田": "天",
    "疆": "江讲",
    "皮": "批",
    "矿": "况",
    "神": "深甚审",
    "福": "府复夫富负父",
    "稀": "西息席细习希",
    "稍": "少",
    "穆": "目木",
    "米": "密",
    "粉": "分",
    "糕": "高",
    "纯": "春",
    "结": "界节阶街",
    "统": "同通",
    "罕": "汉含",
    "老": "劳",
    "联": "连脸练",
    "聚": "据举具局剧",
    "胡": "湖护户乎忽互",
    "腐": "府复夫富负父",
    "自": "子资字",
    "花": "话华画",
    "芳": "放防",
    "苏": "速素诉",
    "茂": "毛",
    "范": "反饭",
    "薛": "学",
    "街": "结界节阶",
    "裕": "与鱼语域玉预",
    "西": "息席细习希",
    "记": "级及基计几济",
    "财": "采材菜",
    "贺": "河何",
    "进": "金今近尽紧",
    "通": "同统",
    "道": "到导倒岛",
    "邬": "物武务五",
    "鄂": "额",
    "酿": "娘",
    "金": "进今近尽紧",
    "铺": "普",
    "锋": "风丰",
    "锦": "进金今近尽紧",
    "镇": "真阵",
    "门": "们",
    "闫": "严演验",
    "阳": "样杨养",
    "阴": "因引音银",
    "隆": "龙",
    "雅": "亚压",
    "雷": "类",
    "鞍": "安案按暗",
    "额": "鄂",
    "风": "丰",
    "饼": "并兵病",
    "馆": "关管官观",
    "馒": "满",
    "麦": "买",
    "麻": "马吗",
}


@dataclass
class Workshop:
    n: int
    parts: list[tuple[str, str, str]]  # (text, pinyin, role: place|brand|mod|product|suffix)
    product: str  # PRODUCTS key
    county: str
    town: str
    station: str
    address: str
    varieties: list[str]
    tier: str
    status: str
    lat: float | None
    lng: float | None
    cert_no: str
    time_honoured: bool = False
    name: str = field(init=False)
    syllables: list[str] = field(init=False)

    def __post_init__(self):
        self.name = "".join(p[0] for p in self.parts)
        self.syllables = " ".join(p[1] for p in self.parts).split()

    @property
    def pinyin(self) -> str:
        return "".join(self.syllables)

    @property
    def initials(self) -> str:
        return "".join(s[0] for s in self.syllables)

    @property
    def text(self) -> str:
        return self.name + "、" + "、".join(self.varieties)

    def part(self, role: str) -> tuple[str, str, str] | None:
        return next((p for p in self.parts if p[2] == role), None)


def _town_point(county_idx: int, town_idx: int) -> tuple[float, float]:
    lat, lng = COUNTIES[county_idx][3]
    angle = town_idx * 2.1 + county_idx
    return lat + 0.05 * math.sin(angle), lng + 0.06 * math.cos(angle)


def _weighted(rnd, forms):
    return rnd.choices(forms, weights=[w for *_, w in forms])[0]


def _one(rnd: random.Random, n: int) -> Workshop:
    ci = rnd.randrange(len(COUNTIES))
    county, code, shorts, _, towns = COUNTIES[ci]
    ti = rnd.randrange(len(towns))
    town, unit, town_py, station = towns[ti]
    product = rnd.choice(list(PRODUCTS))
    forms, cat, varieties, suffixes = PRODUCTS[product]
    word, word_py, _ = _weighted(rnd, forms)
    suffix = rnd.choice(suffixes)
    sur, sur_py = rnd.choice(SURNAMES)
    pw = (word, word_py, "product")
    sp = (suffix, SUFFIX_PY[suffix], "suffix")
    place = (town, town_py, "place")
    ji = (sur + "记", sur_py + " ji", "brand")
    zihao = (*rnd.choice(ZIHAO), "brand")
    form = rnd.choices(range(11), weights=[12, 10, 8, 10, 10, 6, 8, 5, 5, 10, 4])[0]
    if form == 7 and product not in {"奶食", "手把肉", "风干牛肉", "炒米"}:
        form = 0
    if form == 0:
        parts = [ji, pw, sp]
    elif form == 1:
        parts = [place, ji, pw, sp]
    elif form == 2:
        parts = [ji, place, pw, sp]
    elif form == 3:
        parts = [(f"老{sur}家", f"lao {sur_py} jia", "brand"), pw, sp]
    elif form == 4:
        parts = [zihao, pw, sp]
    elif form == 5:
        short = shorts[0]
        short_py = {
            "东河": "dong he",
            "昆区": "kun qu",
            "青山": "qing shan",
            "石拐": "shi guai",
            "白云": "bai yun",
            "九原": "jiu yuan",
            "土右": "tu you",
            "固阳": "gu yang",
            "达茂": "da mao",
            "稀土高新区": "xi tu gao xin qu",
        }[short]
        parts = [(short, short_py, "place"), zihao, pw, sp]
    elif form == 6:
        parts = [place, (*rnd.choice(MODIFIERS), "mod"), pw, sp]
    elif form == 7:
        parts = [(*rnd.choice(MONGOL_NAMES), "brand"), pw, sp]
    elif form == 8:
        parts = [(*rnd.choice(NICKNAMES), "brand"), pw]
    elif form == 9:
        county_py = {
            "东河区": "dong he qu",
            "昆都仑区": "kun du lun qu",
            "青山区": "qing shan qu",
            "石拐区": "shi guai qu",
            "白云鄂博矿区": "bai yun e bo kuang qu",
            "九原区": "jiu yuan qu",
            "土默特右旗": "tu mo te you qi",
            "固阳县": "gu yang xian",
            "达尔罕茂明安联合旗": "da er han mao ming an lian he qi",
            "稀土高新技术产业开发区": "xi tu gao xin ji shu chan ye kai fa qu",
        }[county]
        unit_py = {
            "镇": "zhen",
            "乡": "xiang",
            "苏木": "su mu",
            "街道": "jie dao",
            "新区": "xin qu",
        }
        brand = ji if rnd.random() < 0.7 else zihao
        parts = [
            (county, county_py, "place"),
            (town + unit, f"{town_py} {unit_py[unit]}", "place"),
            brand,
            pw,
            sp,
        ]
    else:
        parts = [zihao, place, pw, sp]
    kinds = rnd.sample(varieties[1:], min(len(varieties) - 1, rnd.randint(0, 2)))
    items = [varieties[0], *kinds]
    if rnd.random() < 0.2:
        items.append(rnd.choice(PRODUCTS[rnd.choice(list(PRODUCTS))][2]))
    if rnd.random() < (0.2 if n < CORE else 0.01):
        items.append(rnd.choice(SPECIALTIES))
    items = list(dict.fromkeys(items))
    street = rnd.choice(STREETS)
    address = (
        ("包头市" if rnd.random() < 0.7 else "")
        + county
        + town
        + unit
        + street
        + (f"{rnd.randint(1, 260)}号" if not street.endswith("村") else "")
    )
    if rnd.random() < 0.65:
        lat0, lng0 = _town_point(ci, ti)
        lat, lng = lat0 + rnd.uniform(-0.02, 0.02), lng0 + rnd.uniform(-0.025, 0.025)
    else:
        lat = lng = None
    return Workshop(
        n=n,
        parts=parts,
        product=product,
        county=county,
        town=town,
        station=station,
        address=address,
        varieties=items,
        tier=rnd.choice(TIERS),
        status="open",
        lat=lat,
        lng=lng,
        cert_no=f"蒙食小作坊登字第{code}{rnd.randint(1, 999999):06d}号",
        time_honoured=form in (4, 5, 10) and rnd.random() < 0.2,
    )


def corpus(seed: int = SEED) -> list[Workshop]:
    """CORE + MAX_EXTRA workshops, names and certificate numbers unique; the same every time.
    (Another `seed` draws a fresh set from the same generator.)"""
    rnd = random.Random(seed)
    out, names, certs = [], set(), set()
    while len(out) < CORE + MAX_EXTRA:
        w = _one(rnd, len(out))
        if w.name in names or w.cert_no in certs:
            continue
        if len(out) >= CORE and rnd.random() < 0.06:
            w.status = rnd.choice(["suspended", "cancelled"])
        names.add(w.name)
        certs.add(w.cert_no)
        out.append(w)
    return out


# ---- queries ---------------------------------------------------------------------------------


def _group(word: str) -> list[str]:
    return next((g for g in SYNONYMS if word in g), [word])


def _makes(w: Workshop, word: str) -> bool:
    return any(form in w.text for form in _group(word))


def _in_town(w: Workshop, town: str) -> bool:
    return w.town == town or town in w.name or town in w.address


def _words(w: Workshop) -> list[str]:
    """The foods a shopper would name for `w`: its name's product word and its varieties."""
    return list(dict.fromkeys([w.part("product")[0], *w.varieties]))


def _dl(a: str, b: str, cap: int = 3) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count one), capped."""
    if abs(len(a) - len(b)) >= cap:
        return cap
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return min(prev[-1], cap)


def _official(w: Workshop) -> bool:
    """A registered name that starts with the county's full name (土默特右旗双龙镇…): nobody types
    it whole, in pinyin or initials."""
    return w.parts[0][0] == w.county


def _spans(w: Workshop, most: int = 2) -> list[tuple[int, int]]:
    """Spans [i, j) of at most `most` parts holding the brand (what a shopper remembers of a
    name: 郝记莜面, 德兴隆, 双龙乔记), shorter than the whole name."""
    roles = [p[2] for p in w.parts]
    if "brand" not in roles:
        return []
    b = roles.index("brand")
    n = len(w.parts)
    return [
        (i, j)
        for i in range(1 if _official(w) else 0, b + 1)
        for j in range(b + 1, n + 1)
        if (i, j) != (0, n) and j - i <= most and roles[j - 1] != "suffix"
    ]


def _unique_name_part(ws, w, text) -> bool:
    return sum(text in o.name or text in o.address for o in ws) == 1 and text in w.name


def _unique_pinyin(ws, w, py) -> bool:
    return sum(py in o.pinyin for o in ws) == 1 and py in w.pinyin


def q_name(ws, core, rnd):
    # Prefer names that other workshops' names contain (郝记莜面坊 in 沙尔沁郝记莜面坊).
    contained = [w for w in core if sum(w.name in o.name for o in ws) > 1]
    rest = [w for w in core if w not in contained]
    rnd.shuffle(contained)
    rnd.shuffle(rest)
    for w in contained[:6] + rest:
        yield w, w.name, {}


def q_partial(ws, core, rnd):
    for w in core:
        spans = _spans(w)
        if not spans:
            continue
        i, j = rnd.choice(spans)
        text = "".join(p[0] for p in w.parts[i:j])
        if len(text) >= 2 and _unique_name_part(ws, w, text):
            yield w, text, {}


def _in_order(name: str, head: str, tail: str) -> bool:
    k = name.find(head)
    return k >= 0 and name.find(tail, k + len(head)) >= 0


def q_middle(ws, core, rnd):
    for w in core:
        n = len(w.parts)
        end = n - 1 if w.parts[-1][2] == "suffix" and rnd.random() < 0.5 else n
        if end < 3:
            continue
        i = rnd.randrange(1, end - 1)
        j = rnd.randrange(i + 1, end)
        # What is left out is a place or a word like 手工, never the brand or the food.
        if any(p[2] not in ("place", "mod") for p in w.parts[i:j]):
            continue
        head = "".join(p[0] for p in w.parts[:i])
        tail = "".join(p[0] for p in w.parts[j:end])
        if len(head) < 2 or len(tail) < 2:
            continue
        if sum(_in_order(o.name, head, tail) for o in ws) == 1:
            yield w, head + tail, {}


def q_product(ws, core, rnd):
    for w in core:
        for item in w.varieties:
            if item in SPECIALTIES and sum(item in o.text for o in ws) == 1:
                yield w, item, {}


def q_place(ws, core, rnd):
    for w in core:
        word = rnd.choice(_words(w))
        town = w.town
        if sum(_in_town(o, town) and _makes(o, word) for o in ws) == 1:
            yield w, f"{town}{rnd.choice(['', ' '])}{word}", {}


def _county_of(county: str) -> tuple:
    return next(c for c in COUNTIES if c[0] == county)


def q_abbrev(ws, core, rnd):
    for w in core:
        brand = w.part("brand")
        if brand is None:
            continue
        short = rnd.choice(_county_of(w.county)[2])
        if short in w.name:
            continue
        word = w.part("product")[0]
        hits = [o for o in ws if brand[0] in o.name and _makes(o, word)]
        if len(hits) < 2 or sum(o.county == w.county for o in hits) != 1:
            continue  # the county has to be what tells them apart
        yield w, f"{short}{rnd.choice(['', ' '])}{brand[0]}{word}", {}


def q_dialect(ws, core, rnd):
    for w in core:
        options = []
        for word in _words(w):
            for form in _group(word):
                if form not in w.text and not any(form in x for x in _group(word) if x != form):
                    options.append((word, form))
        brand = w.part("brand")
        if not options or brand is None:
            continue
        word, form = rnd.choice(options)
        if sum(brand[0] in o.name and _makes(o, word) for o in ws) == 1:
            yield w, f"{brand[0]}{form}", {}


def q_typo(ws, core, rnd):
    for w in core:
        spans = _spans(w)
        if not spans:
            continue
        i, j = rnd.choice(spans + [(0, len(w.parts))])
        text = "".join(p[0] for p in w.parts[i:j])
        if len(text) < 3 or not (text == w.name or _unique_name_part(ws, w, text)):
            continue
        at = [k for k, ch in enumerate(text) if HOMOPHONES.get(ch)]
        if not at:
            continue
        k = rnd.choice(at)
        typo = text[:k] + rnd.choice(HOMOPHONES[text[k]][:3]) + text[k + 1 :]
        if not any(typo in o.text for o in ws):
            yield w, typo, {}


def _pinyin_span(ws, w, rnd):
    spans = _spans(w, 3) + ([] if _official(w) else [(0, len(w.parts))])
    i, j = rnd.choice(spans)
    syl = " ".join(p[1] for p in w.parts[i:j]).split()
    if len(syl) >= 3 and _unique_pinyin(ws, w, "".join(syl)):
        return syl
    return None


def q_pinyin(ws, core, rnd):
    for w in core:
        syl = _pinyin_span(ws, w, rnd)
        if syl:
            yield w, "".join(syl), {}


def q_spaced(ws, core, rnd):
    for w in core:
        syl = _pinyin_span(ws, w, rnd)
        if syl:
            yield w, " ".join(syl), {}


def q_pinyin_typo(ws, core, rnd):
    for w in core:
        py = w.pinyin
        if len(w.syllables) < 5 or _official(w):
            continue
        op = rnd.choice(["drop", "double", "swap"])
        k = rnd.randrange(len(py) - 1)
        if op == "drop":
            typo = py[:k] + py[k + 1 :]
        elif op == "double":
            typo = py[: k + 1] + py[k:]
        else:
            if py[k] == py[k + 1]:
                continue
            typo = py[:k] + py[k + 1] + py[k] + py[k + 2 :]
        if sum(_dl(typo, o.pinyin) <= 2 for o in ws) == 1 and _dl(typo, py) == 1:
            yield w, typo, {}


def q_initials(ws, core, rnd):
    for w in core:
        if _official(w) or len(w.initials) < 4:
            continue
        if sum(o.initials == w.initials for o in ws) == 1:
            yield w, w.initials, {}


QUESTIONS_TOWN = [
    "{town}附近有卖{food}的作坊吗",
    "{town}哪里有卖{food}的",
    "{town}哪家{food}好吃",
    "我想买{town}的{food}",
    "有没有{town}做{food}的作坊",
    "{town}有{food}卖吗",
]
QUESTIONS_BRAND = [
    "哪里能买到{brand}的{food}",
    "{brand}{food}在哪里",
    "请问{brand}{food}店怎么走",
    "{brand}的{food}好吃吗",
]


def q_question(ws, core, rnd):
    for w in core:
        word = rnd.choice(_words(w))
        brand = w.part("brand")
        if rnd.random() < 0.5 and brand is not None:
            if sum(brand[0] in o.name and _makes(o, word) for o in ws) == 1:
                yield w, rnd.choice(QUESTIONS_BRAND).format(brand=brand[0], food=word), {}
        elif sum(_in_town(o, w.town) and _makes(o, word) for o in ws) == 1:
            yield w, rnd.choice(QUESTIONS_TOWN).format(town=w.town, food=word), {}


def _km(a_lat, a_lng, b_lat, b_lng) -> float:
    dy = (a_lat - b_lat) * 111.2
    dx = (a_lng - b_lng) * 111.2 * math.cos(math.radians(a_lat))
    return math.hypot(dx, dy)


QUESTIONS_NEAR = [
    "附近有卖{food}的作坊吗",
    "附近哪里有{food}",
    "离我最近的{food}",
    "附近的{food}店",
]


def q_nearby(ws, core, rnd):
    for w in core:
        if w.lat is None:
            continue
        word = w.part("product")[0]
        lat = w.lat + rnd.uniform(-0.0015, 0.0015)
        lng = w.lng + rnd.uniform(-0.0015, 0.0015)
        near = sorted(
            _km(lat, lng, o.lat, o.lng)
            for o in ws
            if o.lat is not None and o.status == "open" and _makes(o, word)
        )
        if len(near) > 1 and near[1] >= max(1.0, 4 * near[0]):
            yield w, rnd.choice(QUESTIONS_NEAR).format(food=word), {"lat": lat, "lng": lng}


def q_cert(ws, core, rnd):
    for w in core:
        digits = "".join(ch for ch in w.cert_no if ch.isdigit())
        yield w, rnd.choice([w.cert_no, digits]), {}


KIND_RULES = {
    "name": q_name,
    "partial": q_partial,
    "middle": q_middle,
    "product": q_product,
    "place": q_place,
    "abbrev": q_abbrev,
    "dialect": q_dialect,
    "typo": q_typo,
    "pinyin": q_pinyin,
    "spaced": q_spaced,
    "pinyin-typo": q_pinyin_typo,
    "initials": q_initials,
    "question": q_question,
    "nearby": q_nearby,
    "cert": q_cert,
}
KINDS = list(KIND_RULES)


def queries(ws: list[Workshop] | None = None, seed: int = SEED) -> list[tuple[str, str, int, dict]]:
    """(kind, query, index of the answer in the corpus, extra search parameters): PER_KIND per
    kind, each kind's answers different workshops, in the core's random order."""
    ws = ws or corpus(seed)
    out = []
    for k, (kind, rule) in enumerate(KIND_RULES.items()):
        rnd = random.Random(seed * 31 + k)
        core = [w for w in ws[:CORE] if w.status == "open"]
        rnd.shuffle(core)
        seen, picked = set(), []
        for w, q, extra in rule(ws, core, rnd):
            if w.n in seen:
                continue
            seen.add(w.n)
            picked.append((kind, q, w.n, extra))
            if len(picked) == PER_KIND:
                break
        out.extend(picked)
    return out


# ---- loading and scoring ---------------------------------------------------------------------


def load(session, extra: int = 0, seed: int = SEED) -> dict:
    """Create the jurisdictions, categories and CORE + `extra` workshops in an empty database;
    returns {"queries": [(kind, q, workshop id, params)], "by_id": {id: Workshop}}."""
    from sqlalchemy import insert

    from shifangbang.models import Jurisdiction, ProductCategory, workshop_category
    from shifangbang.models import Workshop as Row

    ws = corpus(seed)
    qs = queries(ws, seed)
    ws = ws[: CORE + min(extra, MAX_EXTRA)]
    city = Jurisdiction(code="H150200", name="包头市", level="city")
    session.add(city)
    stations = {}
    for county, code, _, _, towns in COUNTIES:
        c = Jurisdiction(code=f"H{code}", name=county, level="county", parent=city)
        session.add(c)
        for si, station in enumerate(dict.fromkeys(t[3] for t in towns)):
            stations[station] = Jurisdiction(
                code=f"H{code}{si}", name=f"{station}市场监督管理所", level="station", parent=c
            )
            session.add(stations[station])
    cats = {}
    for i, cat in enumerate(sorted({p[1] for p in PRODUCTS.values()})):
        cats[cat] = ProductCategory(code=f"H{i}", name=cat, high_risk=cat in HIGH_RISK)
        session.add(cats[cat])
    session.flush()
    rows = [
        dict(
            public_code=f"H{w.n + 1:07d}",
            cert_type="登记证",
            cert_no=w.cert_no,
            name=w.name,
            operator_name=w.parts[0][0][:1] + "建华",
            address=w.address,
            station_id=stations[w.station].id,
            varieties="、".join(w.varieties),
            status=w.status,
            tier_code=w.tier,
            lat=w.lat,
            lng=w.lng,
            seven_in_place={},
            additives="",
            valid_from=date(2025, 3, 1),
            version=1,
            time_honoured=w.time_honoured,
        )
        for w in ws
    ]
    for start in range(0, len(rows), 2000):
        session.execute(insert(Row), rows[start : start + 2000])
    ids = dict(session.query(Row.cert_no, Row.id))
    links = [
        {"workshop_id": ids[w.cert_no], "category_id": cats[PRODUCTS[w.product][1]].id} for w in ws
    ]
    for start in range(0, len(links), 2000):
        session.execute(insert(workshop_category), links[start : start + 2000])
    session.commit()
    by_n = {w.n: ids[w.cert_no] for w in ws}
    return {
        "queries": [(kind, q, by_n[n], extra) for kind, q, n, extra in qs],
        "by_id": {ids[w.cert_no]: w for w in ws},
    }


def evaluate(search, data: dict) -> dict:
    """Run every query through `search(q, **params) -> [workshop ids]`; returns {"kinds": {kind:
    (hit@3, MRR, n)}, "misses": [(kind, q, [top three names])]} (MRR over the first ten)."""
    per_kind: dict[str, list[float]] = {}
    misses = []
    for kind, q, answer, extra in data["queries"]:
        got = search(q, **extra)[:10]
        rank = next((n for n, i in enumerate(got, 1) if i == answer), None)
        per_kind.setdefault(kind, []).append(1.0 / rank if rank else 0.0)
        if not rank or rank > 3:
            names = [data["by_id"][i].name if i in data["by_id"] else i for i in got[:3]]
            misses.append((kind, q, data["by_id"][answer].name, rank, names))
    kinds = {}
    all_rr = []
    for kind, rr in per_kind.items():
        kinds[kind] = (sum(r >= 1 / 3 for r in rr) / len(rr), sum(rr) / len(rr), len(rr))
        all_rr += rr
    kinds["all"] = (
        sum(r >= 1 / 3 for r in all_rr) / len(all_rr),
        sum(all_rr) / len(all_rr),
        len(all_rr),
    )
    return {"kinds": kinds, "misses": misses}


def _homophones_script() -> dict[str, str]:  # pragma: no cover - run once by hand
    """How HOMOPHONES was made: characters of this file's names and foods → the commonest other
    characters with the same toneless pinyin and one reading (jieba word frequencies)."""
    import collections
    import os

    import jieba
    from pypinyin import Style, pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    freq = collections.Counter()
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as fh:
        for line in fh:
            word, count = line.split()[:2]
            for ch in word:
                freq[ch] += int(count)

    def readings(ch):
        return {
            pinyin(ch, style=Style.NORMAL, heteronym=True)[0][k]
            for k in range(len(pinyin(ch, style=Style.NORMAL, heteronym=True)[0]))
        }

    by_sound = collections.defaultdict(list)
    for code in pinyin_dict:
        ch = chr(code)
        if freq[ch] >= 20000 and len(readings(ch)) == 1:
            by_sound[next(iter(readings(ch)))].append(ch)
    chars = set()
    for w in corpus():
        chars.update(w.name)
    for forms, *_ in PRODUCTS.values():
        chars.update(ch for text, *_ in forms for ch in text)
    out = {}
    for ch in sorted(chars):
        rs = readings(ch)
        if len(rs) != 1:
            continue
        same = [c for c in by_sound[next(iter(rs))] if c != ch]
        same.sort(key=lambda c: -freq[c])
        if same:
            out[ch] = "".join(same[:6])
    return out
