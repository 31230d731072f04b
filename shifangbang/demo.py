"""Realistic, deterministic Chinese demo data for a Baotou-style deployment (`flask demo load`).

Same seed and same reference day → identical rows (names, public codes, certificate numbers,
histories). Dates are laid out backwards from the reference day (default: today in China) so
that "overdue" states stay meaningful whenever the demo is loaded; every random draw is made
in the same order whatever the day, so only the dates move.

Speed: rows are generated as plain dicts and written with Core bulk inserts in chunks, ids
assigned here (the database must be empty). Password hashing is the one slow thing, so it is
done once per distinct password: the three demo sign-ins, and one query password shared by
every demo complaint (DEMO_QUERY_PASSWORD; a real submission gets its own).
"""

import hashlib
import multiprocessing
import random
import traceback
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import click
from sqlalchemy import Boolean, bindparam, func, insert, select, text
from werkzeug.security import generate_password_hash

from . import (
    audit,
    current_deployment,
    deadlines,
    demo_programme,
    draws,
    public_history,
    titles,
)
from .complaints import normalise_password
from .errors import DomainError
from .extensions import db
from .inspections import overall_result
from .labels import (
    COMPLAINT_CATEGORIES,
    INSPECTION_KIND,
    REFUSAL_REASONS,
    REVOCATION_RULES,
    ROLES,
    SEVEN_IN_PLACE,
    TERMINATION_REASONS,
)
from .models import (
    Complaint,
    ComplaintEvent,
    Inspection,
    InspectionItem,
    Jurisdiction,
    JurisdictionMerge,
    Poster,
    ProductCategory,
    RandomDraw,
    RectificationItem,
    RevocationProposal,
    Sampling,
    StaffMember,
    TierDecision,
    Title,
    TitleGrant,
    User,
    WechatBinding,
    WechatUser,
    Workshop,
    inspection_inspector,
    workshop_category,
)
from .timeutil import local_day_start
from .timeutil import today as china_today

# The demo sign-ins (printed by the CLI). They satisfy users.check_password_strength.
DEMO_ACCOUNTS = (
    ("admin", "Baotou-guanli-2026", "admin"),
    ("officer", "Baotou-zhifa-2026", "officer"),
    ("viewer", "Baotou-chakan-2026", "viewer"),
)
# Query password of every demo complaint/report (hashed once, see module docstring).
DEMO_QUERY_PASSWORD = "CX2026"  # /track upper-cases what is typed, so cx2026 works too
OFFICER_STATION = "西脑包市场监督管理所"
VIEWER_COUNTY = "东河区"
CHUNK = 2000  # workshops per bulk insert round


# The columns that record when something happened (not deadlines or validity ends): none may be
# later than the reference day (timestamps: than the end of the day before it).
EVENT_COLUMNS = {
    "workshop": (
        "status_changed_on",
        "tier_since",
        "last_inspected_on",
        "pledge_signed_on",
        "valid_from",
        "public_changed_at",
        "created_at",
        "updated_at",
    ),
    "inspection": ("inspected_on", "rectification_done_on", "created_at"),
    "sampling": (
        "sampled_on",
        "notice_on",
        "retest_requested_on",
        "retest_decided_on",
        "created_at",
    ),
    "rectification_item": ("fixed_on", "created_at"),
    "tier_decision": ("effective_on", "proposed_at", "decided_at", "published_at"),
    "title_grant": ("granted_on", "last_reviewed_on", "revoked_on"),
    "revocation_proposal": ("created_at", "decided_at"),
    "random_draw": ("drawn_at", "published_at"),
    "complaint": ("received_at", "closed_at", "purchased_on"),
    "complaint_event": ("at",),
    "poster": ("issued_at",),
}


# A demo revocation proposal older than this many days has been decided (confirmed).
REVOCATION_DECIDED_DAYS = 45


def _public_reason(category: str, day: date, kind: str, result: str) -> str:
    """The public reason a demo tier decision carries (never only its category)."""
    when = f"{day.year}年{day.month}月{day.day}日"
    res = {"pass": "符合", "basic": "基本符合", "fail": "不符合"}[result]
    kind_label = INSPECTION_KIND.get(kind, "监督检查")
    return {
        "initial": f"首次评定：依据{when}{kind_label}结果（{res}）。",
        "inspection": f"依据{when}{kind_label}结果（{res}）。",
        "rectified": f"{when}复查确认前次检查发现的问题已整改到位（{res}）。",
        "upgrade_request": f"作坊申请升榜，{when}{kind_label}核实结果为{res}。",
        "hygiene": f"{when}{kind_label}发现生产场所卫生状况差（{res}）。",
        "quality": f"{when}{kind_label}发现产品质量下降（{res}）。",
        "premises_change": f"{when}{kind_label}发现擅自变更生产场所（{res}）。",
        "annual_review": f"{when}年度复核检查结果为{res}，维持原榜级。",
    }[category]


class DemoError(DomainError):
    pass


# --- geography: 包头市, its districts and banners, their stations --------------------------------
# A station closed in a reorganisation (机构改革) and merged into another (jurisdictions.merge):
# (county, its name, the station that took over, days ago, the bureau's 文号). Its workshops were
# moved then, so it holds none: it stays only as the history that names it.
FORMER_STATIONS = [
    ("东河区", "转龙藏市场监督管理所", "西脑包市场监督管理所", 240, "包东市监发〔2026〕8号"),
]
# (name, division code, abbreviation for plate numbers, centre lat, lng, jitter°, weight,
#  [(station, [streets/towns for addresses])])
COUNTIES = [
    (
        "东河区",
        "150202",
        "东",
        40.5760,
        110.0440,
        0.020,
        18,
        [
            ("西脑包市场监督管理所", ["西脑包大街", "和平路", "西门大街", "财神庙街"]),
            ("南门外市场监督管理所", ["南门外大街", "巴彦塔拉大街", "东门大街", "胜利路"]),
            ("河东市场监督管理所", ["河东路", "东兴路", "工业路", "铁西路"]),
            ("北梁市场监督管理所", ["环城路", "北梁新区南二区", "北梁新区西一区"]),
        ],
    ),
    (
        "昆都仑区",
        "150203",
        "昆",
        40.6400,
        109.8400,
        0.020,
        16,
        [
            ("少先路市场监督管理所", ["少先路", "钢铁大街", "林荫路"]),
            ("友谊市场监督管理所", ["友谊大街", "阿尔丁大街", "白云路"]),
            ("昆北市场监督管理所", ["团结大街", "昆河路", "呼得木林大街"]),
        ],
    ),
    (
        "青山区",
        "150204",
        "青",
        40.6480,
        109.9000,
        0.018,
        12,
        [
            ("幸福路市场监督管理所", ["幸福路", "文化路", "青年路"]),
            ("富强路市场监督管理所", ["富强路", "民主路", "科学路"]),
            ("自由路市场监督管理所", ["自由路", "青山路", "兴胜镇"]),
        ],
    ),
    (
        "九原区",
        "150207",
        "九",
        40.6060,
        109.9680,
        0.030,
        10,
        [
            ("沙河市场监督管理所", ["沙河街道建设路", "建华南路", "萨如拉街道"]),
            ("麻池市场监督管理所", ["麻池镇", "赛汗街道"]),
            ("哈林格尔市场监督管理所", ["哈林格尔镇", "哈业胡同镇", "阿嘎如泰苏木"]),
        ],
    ),
    (
        "石拐区",
        "150205",
        "石",
        40.6730,
        110.2720,
        0.030,
        3,
        [
            ("石拐市场监督管理所", ["石拐街道", "大发街道"]),
            ("五当召市场监督管理所", ["五当召镇", "吉忽伦图苏木"]),
        ],
    ),
    (
        "白云鄂博矿区",
        "150206",
        "白",
        41.7690,
        109.9730,
        0.015,
        2,
        [
            ("通阳道市场监督管理所", ["通阳道", "白云路"]),
            ("矿山路市场监督管理所", ["矿山路", "迎宾路"]),
        ],
    ),
    (
        "土默特右旗",
        "150221",
        "土右",
        40.5690,
        110.5240,
        0.060,
        17,
        [
            ("萨拉齐市场监督管理所", ["萨拉齐镇新华大街", "萨拉齐镇文化路", "萨拉齐镇北环路"]),
            ("美岱召市场监督管理所", ["美岱召镇", "沟门镇"]),
            ("将军尧市场监督管理所", ["将军尧镇", "双龙镇", "海子乡"]),
        ],
    ),
    (
        "固阳县",
        "150222",
        "固",
        41.0300,
        110.0600,
        0.060,
        12,
        [
            ("金山市场监督管理所", ["金山镇阳光路", "金山镇府前街", "金山镇新建街"]),
            ("西斗铺市场监督管理所", ["西斗铺镇", "下湿壕镇"]),
            ("银号市场监督管理所", ["银号镇", "怀朔镇", "兴顺西镇"]),
        ],
    ),
    (
        "达尔罕茂明安联合旗",
        "150223",
        "达",
        41.6980,
        110.4330,
        0.080,
        10,
        [
            ("百灵庙市场监督管理所", ["百灵庙镇阿尔泰路", "百灵庙镇艾不盖路"]),
            ("乌克忽洞市场监督管理所", ["乌克忽洞镇", "石宝镇"]),
            ("满都拉市场监督管理所", ["满都拉镇", "希拉穆仁镇", "明安镇"]),
        ],
    ),
]

# National food production licence catalogue (the parts small workshops make).
CATEGORIES = [
    ("01", "粮食加工品", False),
    ("02", "食用油、油脂及其制品", True),  # 食用植物油 is high-risk
    ("03", "调味品", False),
    ("0302", "食醋", True),
    ("04", "肉制品", True),
    ("11", "速冻食品", False),
    ("15", "酒类", False),
    ("16", "蔬菜制品", False),
    ("18", "炒货食品及坚果制品", False),
    ("23", "淀粉及淀粉制品", True),
    ("24", "糕点", True),
    ("25", "豆制品", True),
]

# What the workshops make: (word in the name, name suffixes, category code, varieties,
# additives, sampled failures (item, measured, limit), weight, counties where it is a speciality)
PRODUCTS = [
    (
        "凉糕",
        ["凉糕作坊", "凉糕坊", "凉糕店"],
        "24",
        ["黄米凉糕", "江米凉糕", "红豆凉糕", "枣泥凉糕"],
        ["山梨酸钾"],
        [("菌落总数", "3.2×10⁵ CFU/g", "≤1×10⁵ CFU/g"), ("霉菌", "280 CFU/g", "≤150 CFU/g")],
        6,
        {"东河区": 6},
    ),
    (
        "莜面",
        ["莜面加工坊", "莜面坊", "莜面作坊"],
        "01",
        ["莜面", "莜麦面", "莜面鱼鱼", "莜面窝窝"],
        [],
        [("铅（以Pb计）", "0.36 mg/kg", "≤0.2 mg/kg"), ("赭曲霉毒素A", "7.1 μg/kg", "≤5.0 μg/kg")],
        6,
        {"固阳县": 7, "达尔罕茂明安联合旗": 4, "土默特右旗": 2},
    ),
    (
        "凉皮",
        ["凉皮作坊", "凉皮加工点", "面皮坊"],
        "01",
        ["凉皮", "面皮", "米皮", "擀面皮"],
        ["复配食品添加剂"],
        [
            ("苯甲酸及其钠盐（以苯甲酸计）", "0.42 g/kg", "不得使用"),
            ("脱氢乙酸及其钠盐", "0.18 g/kg", "不得使用"),
        ],
        6,
        {"土默特右旗": 7},
    ),
    (
        "豆腐",
        ["豆腐坊", "豆制品坊", "豆腐作坊"],
        "25",
        ["豆腐", "豆腐干", "豆腐皮", "豆浆", "冻豆腐"],
        ["氯化镁（卤水）", "硫酸钙（石膏）", "葡萄糖酸-δ-内酯"],
        [
            ("苯甲酸及其钠盐（以苯甲酸计）", "0.12 g/kg", "不得使用"),
            ("大肠菌群", "2.4×10³ CFU/g", "≤10² CFU/g"),
        ],
        12,
        {},
    ),
    (
        "酱肉",
        ["熟肉加工坊", "酱肉坊", "卤肉作坊"],
        "04",
        ["酱牛肉", "酱猪肉", "卤猪蹄", "熏鸡", "手扒羊肉"],
        ["亚硝酸钠", "红曲红"],
        [
            ("亚硝酸盐（以亚硝酸钠计）", "42 mg/kg", "≤30 mg/kg"),
            ("菌落总数", "1.6×10⁵ CFU/g", "≤8×10⁴ CFU/g"),
            ("胭脂红", "检出 18 mg/kg", "不得使用"),
        ],
        9,
        {},
    ),
    (
        "月饼",
        ["月饼坊", "糕点坊", "糕点作坊"],
        "24",
        ["五仁月饼", "蒙式月饼", "提浆月饼", "胡麻油月饼", "红糖月饼", "混糖月饼"],
        ["碳酸氢钠", "脱氢乙酸钠"],
        [
            ("脱氢乙酸及其钠盐", "0.65 g/kg", "≤0.5 g/kg"),
            ("过氧化值（以脂肪计）", "0.35 g/100g", "≤0.25 g/100g"),
        ],
        8,
        {},
    ),
    (
        "胡麻油",
        ["油坊", "胡麻油坊", "榨油坊"],
        "02",
        ["胡麻油", "亚麻籽油", "菜籽油"],
        [],
        [("酸价（KOH）", "4.8 mg/g", "≤3.0 mg/g"), ("苯并[a]芘", "14.2 μg/kg", "≤10 μg/kg")],
        5,
        {"固阳县": 5, "达尔罕茂明安联合旗": 5, "土默特右旗": 3},
    ),
    (
        "粉条",
        ["粉坊", "粉条加工坊", "粉条作坊"],
        "23",
        ["土豆粉条", "宽粉", "粉丝", "粉皮"],
        [],
        [("铝的残留量（干样品，以Al计）", "310 mg/kg", "≤200 mg/kg")],
        5,
        {"固阳县": 6},
    ),
    (
        "陈醋",
        ["醋坊", "酿醋坊"],
        "0302",
        ["陈醋", "米醋", "熏醋", "老陈醋"],
        ["焦糖色"],
        [
            ("总酸（以乙酸计）", "2.8 g/100mL", "≥3.5 g/100mL"),
            ("苯甲酸及其钠盐", "0.31 g/kg", "不得使用"),
        ],
        3,
        {"土默特右旗": 2},
    ),
    (
        "烧麦",
        ["烧麦加工坊", "速冻烧麦坊"],
        "11",
        ["羊肉烧麦", "速冻烧麦", "速冻饺子"],
        [],
        [("过氧化值（以脂肪计）", "0.41 g/100g", "≤0.25 g/100g")],
        4,
        {"昆都仑区": 3, "青山区": 3},
    ),
    (
        "白酒",
        ["酒坊", "烧酒坊"],
        "15",
        ["纯粮白酒", "高粱酒", "散装白酒"],
        [],
        [("甲醇", "0.8 g/L", "≤0.6 g/L"), ("酒精度", "38.2 %vol", "标示值 42%vol±1.0")],
        2,
        {"土默特右旗": 2, "固阳县": 2},
    ),
    (
        "炒货",
        ["炒货坊", "炒货作坊"],
        "18",
        ["炒瓜子", "炒花生", "炒葵花籽", "炒莜麦"],
        [],
        [
            ("过氧化值（以脂肪计）", "1.05 g/100g", "≤0.80 g/100g"),
            ("酸价（以脂肪计）", "4.2 mg/g", "≤3 mg/g"),
        ],
        3,
        {},
    ),
    (
        "烂腌菜",
        ["腌菜坊", "酱菜坊"],
        "16",
        ["烂腌菜", "腌酸菜", "韭菜花酱"],
        ["山梨酸钾"],
        [("亚硝酸盐（以NaNO₂计）", "25 mg/kg", "≤20 mg/kg")],
        2,
        {"土默特右旗": 2, "达尔罕茂明安联合旗": 2},
    ),
    (
        "辣椒酱",
        ["调料坊", "酱料作坊"],
        "03",
        ["辣椒酱", "韭菜花", "蒜蓉辣酱"],
        ["山梨酸钾", "苯甲酸钠"],
        [("苯甲酸及其钠盐（以苯甲酸计）", "1.4 g/kg", "≤1.0 g/kg")],
        2,
        {},
    ),
]

REGIONAL_BRANDS = {
    ("凉糕", "东河区"): "老东河凉糕",
    ("莜面", "固阳县"): "固阳莜面",
    ("凉皮", "土默特右旗"): "萨拉齐凉皮",
}
HERITAGE = {
    "凉糕": "东河区级非物质文化遗产：老东河凉糕制作技艺",
    "莜面": "固阳县级非物质文化遗产：固阳莜面制作技艺",
    "凉皮": "土默特右旗级非物质文化遗产：萨拉齐凉皮制作技艺",
    "烧麦": "包头市级非物质文化遗产：包头烧麦制作技艺",
    "胡麻油": "包头市级非物质文化遗产：胡麻油传统压榨技艺",
}
GEO_INDICATIONS = {("粉条", "固阳县"): "固阳马铃薯", ("莜面", "固阳县"): "固阳燕麦"}

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤乌云巴"
GIVEN = [
    "建国",
    "建军",
    "国强",
    "海军",
    "志强",
    "秀英",
    "桂兰",
    "玉兰",
    "凤英",
    "淑珍",
    "丽华",
    "春梅",
    "永红",
    "利军",
    "晓东",
    "晓燕",
    "红梅",
    "俊峰",
    "文斌",
    "宝山",
    "金花",
    "二虎",
    "三喜",
    "满仓",
    "巴特尔",
    "其其格",
    "乌兰",
    "那仁",
    "斯琴",
    "娜仁花",
    "福贵",
    "有才",
    "宏伟",
    "丽娟",
    "海燕",
    "雪梅",
    "志刚",
    "永平",
    "占军",
    "润生",
    "美荣",
    "翠花",
    "存柱",
    "拴柱",
    "秀梅",
    "瑞霞",
    "慧敏",
    "振华",
]
PHONE_PREFIXES = [
    "139",
    "138",
    "137",
    "150",
    "151",
    "152",
    "155",
    "156",
    "158",
    "159",
    "180",
    "186",
    "189",
    "135",
]
NAME_PATTERNS = [
    "老{s}家{w}",
    "{s}记{w}",
    "{place}{s}记{w}",
    "{place}{w}",
    "{s}{g}{w}",
    "老{place}{w}",
    "{place}老{s}家{w}",
]
TITLES = [
    ("包头市食品小作坊示范点", "包头市市场监督管理局", "city"),
    ("内蒙古自治区名特优示范食品作坊", "内蒙古自治区市场监督管理局", "province"),
    ("土默特右旗特色食品示范作坊", "土默特右旗市场监督管理局", "county"),
]
LABS = [
    "包头市检验检测中心",
    "内蒙古自治区产品质量检验研究院",
    "包头市食品药品检验检测中心",
    "土默特右旗检验检测中心",
]
ITEM_NOTES = {
    "A1": "生产场所已搬迁至新址，未办理变更",
    "A2": "作坊旁有垃圾堆放点",
    "A3": "生产间地面有积水、墙面霉斑",
    "A4": "纱窗破损，未设挡鼠板",
    "A5": "设备清洗记录缺失",
    "B1": "部分原料无进货票据",
    "B2": "发现过期原料在用",
    "B3": "原料与杂物混放",
    "C1": "添加剂使用量超出标准",
    "C2": "添加剂未专柜存放，无使用记录",
    "D1": "生产登记范围外品种",
    "D2": "未提供水质检测报告",
    "D3": "蒸制温度、时间无记录",
    "D4": "生熟工具混用",
    "E1": "1 名从业人员健康证过期",
    "E2": "工作人员未戴工作帽",
    "E3": "未开展食品安全培训",
    "F1": "散装产品标签信息不全",
    "F2": "宣传“纯天然无添加”与实际不符",
    "G1": "成品直接着地存放",
    "G2": "过期产品未及时清理",
    "G3": "无销售记录",
    "H1": "红色、绿色刀具混用",
    "H2": "色标说明未张贴",
}
MEASURES = [
    "立即整改，三日内完成",
    "限期整改并提交整改报告",
    "购置设备并建立台账",
    "组织人员培训并复查",
]


def _deadline(start: date, working_days: int) -> date:
    """Working-day deadline; past the years chinese-calendar knows, count weekdays only."""
    try:
        return deadlines.add_working_days(start, working_days)
    except NotImplementedError:
        day, n = start, working_days
        while n > 0:
            day += timedelta(days=1)
            if day.weekday() < 5:
                n -= 1
        return day


def _short_place(place: str) -> str:
    """西脑包大街 → 西脑包, 萨拉齐镇新华大街 → 萨拉齐, 沙河街道建设路 → 沙河: how shops name themselves."""
    for sep in ("镇", "街道", "新区", "苏木", "乡"):
        if sep in place:
            return place.split(sep)[0]
    for suffix in ("大街", "南路", "路", "街", "道"):
        if place.endswith(suffix) and len(place) > len(suffix) + 1:
            return place[: -len(suffix)]
    return place


def _at(day: date, rng: random.Random) -> datetime:
    """A time during office hours in China (08:30–17:30), stored as naive UTC."""
    return datetime(day.year, day.month, day.day) + timedelta(minutes=rng.randint(30, 570))


def _id_check_digit(body: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


class _Ids:
    def __init__(self, start: dict[str, int]):
        self.next = dict(start)

    def __call__(self, table: str) -> int:
        self.next[table] += 1
        return self.next[table]


class Generator:
    """Produces rows per table. `fixed()` first (geography, catalogue, users, titles), then
    `workshops(n)` in chunks, each a dict table name → list of row dicts."""

    def __init__(
        self, seed: int, size: int, today: date, deployment, id_start: dict[str, int] | None = None
    ):
        self.seed = seed
        self.rng = random.Random(seed)
        self.size = size
        self.today = today
        self.deployment = deployment
        self.ids = _Ids(
            {
                t: 0
                for t in (
                    "jurisdiction",
                    "product_category",
                    "user",
                    "title",
                    "workshop",
                    "inspection",
                    "sampling",
                    "complaint",
                    "title_grant",
                    "random_draw",
                )
            }
            | (id_start or {})
        )
        self.codes: set[str] = set()
        self.cert_seq: dict[str, int] = {}
        self.plate_seq: dict[str, int] = {}
        self.n = 0  # workshops generated so far
        # Timestamps stop at the end of the day before the reference day (a demo loaded in the
        # morning shows nothing later in the day); dates stop at the reference day.
        self.last_day = today - timedelta(days=1)
        self.cap = local_day_start(today) - timedelta(minutes=1)
        self.tracking_day: dict[tuple[str, date], int] = {}
        self.station_recent: dict[int, list[tuple[int, str]]] = {}  # 双随机 pools
        self.window = deployment.bureau.title_year_window
        self._build_patterns()

    def _at(self, day: date, rng: random.Random | None = None) -> datetime:
        """_at() for an event: never later than the day before the reference day."""
        return _at(min(day, self.last_day), rng or self.rng)

    # --- fixed rows ------------------------------------------------------------------------------

    def fixed(self, password_hash_for) -> dict[str, list[dict]]:
        rng, rows = self.rng, {"jurisdiction": [], "product_category": [], "user": [], "title": []}
        city_id = self.ids("jurisdiction")
        rows["jurisdiction"].append(
            dict(
                id=city_id,
                code="150200",
                name="包头市",
                level="city",
                parent_id=None,
                phone="0472-5155315",
                address="包头市九原区建设路 20 号",
            )
        )

        def station(code, name, county_id, phone, address) -> int:
            sid = self.ids("jurisdiction")
            rows["jurisdiction"].append(
                dict(
                    id=sid,
                    code=code,
                    name=name,
                    level="station",
                    parent_id=county_id,
                    phone=phone,
                    address=address,
                )
            )
            return sid

        self.stations = []  # (station id, county tuple, streets, inspector ids)
        self.county_ids: dict[str, int] = {}
        for county in COUNTIES:
            name, code, _abbr, *_rest, stations = county
            cid = self.ids("jurisdiction")
            self.county_ids[name] = cid
            rows["jurisdiction"].append(
                dict(
                    id=cid,
                    code=code,
                    name=name,
                    level="county",
                    parent_id=city_id,
                    phone=f"0472-{rng.randint(2100000, 8999999)}",
                    address=f"包头市{name}{stations[0][1][0]}{rng.randint(1, 120)}号",
                )
            )
            for k, (sname, streets) in enumerate(stations, 1):
                sid = station(
                    f"{code}{k:02d}",
                    sname,
                    cid,
                    f"0472-{rng.randint(2100000, 8999999)}",
                    f"包头市{name}{streets[0]}{rng.randint(1, 200)}号",
                )
                self.stations.append([sid, county, streets, []])
        self.station_weights = [c[6] / len(c[7]) for (_sid, c, _st, _i) in self.stations]
        rows["jurisdiction_merge"] = []
        for county_name, sname, into, days_ago, document in FORMER_STATIONS:
            county = next(c for c in COUNTIES if c[0] == county_name)
            code = f"{county[1]}{len(county[7]) + 1:02d}"
            sid = station(code, sname, self.county_ids[county_name], None, None)
            merged_on = self.today - timedelta(days=days_ago)
            rows["jurisdiction_merge"].append(
                dict(
                    source_id=sid,
                    target_id=self._station_id(rows, into),
                    merged_on=merged_on,
                    document=document,
                    created_at=datetime(merged_on.year, merged_on.month, merged_on.day, 2),
                )
            )

        self.category_ids = {}
        for code, name, high_risk in CATEGORIES:
            cat_id = self.ids("product_category")
            self.category_ids[code] = cat_id
            rows["product_category"].append(
                dict(id=cat_id, code=code, name=name, high_risk=high_risk)
            )

        created = datetime(self.today.year, self.today.month, self.today.day) - timedelta(days=1200)

        def user(username, display, role, jurisdiction_id, pw_hash):
            uid = self.ids("user")
            rows["user"].append(
                dict(
                    id=uid,
                    username=username,
                    display_name=display,
                    password_hash=pw_hash,
                    role=role,
                    jurisdiction_id=jurisdiction_id,
                    phone=f"{rng.choice(PHONE_PREFIXES)}{rng.randint(0, 99999999):08d}",
                    active=True,
                    failed_logins=0,
                    locked_until=None,
                    totp_secret=None,
                    created_at=created,
                    last_login_at=None,
                )
            )
            return uid

        officer_station = next(
            s for s in self.stations if s[0] == self._station_id(rows, OFFICER_STATION)
        )
        self.accounts = []
        for username, password, role in DEMO_ACCOUNTS:
            jid = {
                "admin": None,
                "officer": officer_station[0],
                "viewer": self.county_ids[VIEWER_COUNTY],
            }[role]
            display = {
                "admin": "县局管理员（演示）",
                "officer": "西脑包所执法员（演示）",
                "viewer": "东河区只读（演示）",
            }[role]
            uid = user(username, display, role, jid, password_hash_for(password))
            if role == "officer":
                officer_station[3].append(uid)
            self.accounts.append((username, password, ROLES[role]))
        self.admin_id = rows["user"][0]["id"]
        # Each station's inspectors (执法人员): at least two, so every inspection has two. They
        # cannot sign in ("!" is no valid hash) until an administrator resets their password.
        for st in self.stations:
            _sid, county, _streets, inspectors = st
            for _ in range(3 - len(inspectors) + rng.randint(0, 1)):
                k = self.ids.next["user"] + 1
                name = rng.choice(SURNAMES) + rng.choice(GIVEN)
                inspectors.append(user(f"{county[1]}-{k:04d}", name, "officer", st[0], "!no-login"))

        self.title_ids = []
        for name, authority, level in TITLES:
            tid = self.ids("title")
            self.title_ids.append(tid)
            rows["title"].append(dict(id=tid, name=name, authority=authority, level=level))
        return rows

    @staticmethod
    def _station_id(rows, name) -> int:
        return next(j["id"] for j in rows["jurisdiction"] if j["name"] == name)

    # --- checklist outcome patterns ------------------------------------------------------------

    def _build_patterns(self):
        """A few hundred checklist outcomes, each with its result computed by overall_result()."""
        rng = self.rng
        self.checklist = self.deployment.checklist_items()
        keys = [i for i, it in enumerate(self.checklist) if it["key"]]
        ordinary = [i for i, it in enumerate(self.checklist) if not it["key"]]
        na_able = [i for i, it in enumerate(self.checklist) if it["code"].startswith(("C", "F"))]
        self.patterns = {"pass": [], "basic": [], "fail": []}
        self.item_patterns: list[tuple] = []  # pattern number → its item rows (see CHECKLISTS)
        attempts = 0
        while min(len(p) for p in self.patterns.values()) < 60:
            attempts += 1
            outcomes = ["pass"] * len(self.checklist)
            if rng.random() < 0.3:
                for i in rng.sample(na_able, rng.randint(1, 2)):
                    outcomes[i] = "na"
            kind = attempts % 3
            if kind == 1:
                for i in rng.sample(ordinary, rng.choice([1, 1, 2, 2, 3, 4, 5, 6, 8])):
                    outcomes[i] = "fail"
            elif kind == 2:
                if rng.random() < 0.85:
                    outcomes[rng.choice(keys)] = "fail"
                    for i in rng.sample(ordinary, rng.randint(0, 4)):
                        outcomes[i] = "fail"
                else:  # many ordinary failures and no key one
                    for i in rng.sample(ordinary, rng.randint(9, 12)):
                        outcomes[i] = "fail"
            items = [
                SimpleNamespace(is_key=it["key"], outcome=o)
                for it, o in zip(self.checklist, outcomes)
            ]
            # Ready-made item rows (less inspection_id, see ITEM_COLUMNS) and the failed items.
            rows = tuple(
                (
                    it["area"],
                    it["code"],
                    it["text"],
                    it["key"],
                    o,
                    ITEM_NOTES.get(it["code"], "") if o == "fail" else "",
                )
                for it, o in zip(self.checklist, outcomes)
            )
            failed = [it for it, o in zip(self.checklist, outcomes) if o == "fail"]
            self.patterns[overall_result(items)].append(
                SimpleNamespace(no=len(self.item_patterns), failed=failed)
            )
            self.item_patterns.append(rows)

    # --- workshops --------------------------------------------------------------------------------

    def _code(self) -> str:
        alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
        while True:
            code = "".join(self.rng.choices(alphabet, k=8))
            if code not in self.codes:
                self.codes.add(code)
                return code

    def _person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def _phone(self) -> str:
        return f"{self.rng.choice(PHONE_PREFIXES)}{self.rng.randint(0, 99999999):08d}"

    def workshops(self, count: int) -> dict[str, list[dict]]:
        out = {
            t: []
            for t in (
                "workshop",
                "workshop_category",
                "staff_member",
                "complaint",
                "complaint_event",
                "inspection",
                "inspection_inspector",
                CHECKLISTS,
                "sampling",
                "rectification_item",
                "tier_decision",
                "title_grant",
                "revocation_proposal",
                "poster",
                "random_draw",
            )
        }
        for _ in range(count):
            self._workshop(out)
            self.n += 1
        return out

    def _workshop(self, out):
        # Each workshop draws from its own generator, so a date-dependent branch in one
        # workshop's history never shifts the names and codes of the next ones.
        i = self.n
        rng = self.rng = random.Random(f"{self.seed}:{i}")
        today = self.today
        marks = {t: len(rows) for t, rows in out.items()}
        station = rng.choices(self.stations, weights=self.station_weights)[0]
        station_id, county, streets, inspectors = station
        cname, ccode, abbr, lat, lng, jitter = county[:6]
        weights = [p[6] + p[7].get(cname, 0) for p in PRODUCTS]
        product = rng.choices(PRODUCTS, weights=weights)[0]
        word, suffixes, cat_code, varieties, additives, failures = product[:6]
        second = rng.choices(PRODUCTS, weights=weights)[0] if rng.random() < 0.15 else None
        if second is not None and second[2] == cat_code:
            second = None

        operator = self._person()
        surname = operator[0]
        place = rng.choice(streets)
        place_short = "东河" if cname == "东河区" and rng.random() < 0.3 else _short_place(place)
        pattern = rng.choice(NAME_PATTERNS)
        name = pattern.format(s=surname, g=operator[1:], w=rng.choice(suffixes), place=place_short)
        if cname in ("固阳县", "土默特右旗") and rng.random() < 0.25:
            prefix = "固阳县" if cname == "固阳县" else "萨拉齐"
            name = (
                name
                if name.startswith(prefix)
                else prefix + name.removeprefix("老").removeprefix(place_short)
            )
        regional = REGIONAL_BRANDS.get((word, cname)) if rng.random() < 0.6 else None

        # Status (the first few workshops cover every status).
        forced_status = {1: "suspended", 2: "cancelled", 3: "revoked"}.get(i)
        r = rng.random()
        status = forced_status or (
            "open"
            if r < 0.88 or i < 24
            else "suspended"
            if r < 0.93
            else "cancelled"
            if r < 0.97
            else "revoked"
        )
        overdue = status == "open" and (i == 5 or rng.random() < 0.08)
        never_inspected = i in (4, 6) or (i >= 24 and not overdue and rng.random() < 0.07)
        age = (
            rng.randint(500, 1600)
            if overdue
            else rng.randint(20, 90)
            if never_inspected
            else rng.randint(120, 1600)
        )
        registered = today - timedelta(days=age)
        changed_on = None
        if status != "open":
            changed_on = today - timedelta(days=rng.randint(10, min(400, age - 10)))
        end = changed_on or today
        valid_from = registered
        while valid_from + timedelta(days=3 * 365) < today and status == "open":
            valid_from += timedelta(days=3 * 365)  # renewed every three years
        wid = self.ids("workshop")
        self.cert_seq[ccode] = self.cert_seq.get(ccode, 0) + 1
        self.plate_seq[ccode] = self.plate_seq.get(ccode, 0) + 1
        birth = date(1955, 1, 1) + timedelta(days=rng.randint(0, 365 * 45))
        id_body = f"{ccode}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
        all_varieties = rng.sample(varieties, rng.randint(1, min(3, len(varieties))))
        all_additives = rng.sample(additives, rng.randint(0, len(additives))) if additives else []
        if second is not None:
            all_varieties += rng.sample(second[3], 1)
        quality = rng.random()  # latent: how well the workshop is run
        seven = {k: (rng.random() < 0.6 + 0.4 * quality) for k in SEVEN_IN_PLACE}
        w = dict(
            id=wid,
            public_code=self._code(),
            cert_type="登记证",
            cert_no=f"蒙食小作坊登字第{ccode}{self.cert_seq[ccode]:06d}号",
            name=name,
            operator_name=operator,
            operator_phone=self._phone(),
            operator_id_no=id_body + _id_check_digit(id_body),
            address=f"包头市{cname}{place}{rng.randint(1, 300)}号"
            + (f"{rng.randint(1, 20)}号底商" if rng.random() < 0.3 else ""),
            station_id=station_id,
            lat=round(lat + rng.uniform(-jitter, jitter), 6),
            lng=round(lng + rng.uniform(-jitter, jitter), 6),
            varieties="、".join(all_varieties),
            valid_from=valid_from,
            valid_to=valid_from + timedelta(days=3 * 365),
            status=status,
            status_changed_on=changed_on,
            safety_manager=operator if rng.random() < 0.6 else self._person(),
            plate_no=f"包{abbr}坊牌〔{registered.year}〕{self.plate_seq[ccode]:05d}号",
            trademark=f"{surname}记" if rng.random() < 0.12 else None,
            time_honoured=rng.random() < 0.02 or i == 7,
            geo_indication=GEO_INDICATIONS.get((word, cname)) if rng.random() < 0.3 else None,
            intangible_heritage=HERITAGE.get(word) if (rng.random() < 0.04 or i == 7) else None,
            regional_brand=regional,
            pledge_signed_on=registered + timedelta(days=rng.randint(0, 10))
            if rng.random() < 0.92
            else None,
            seven_in_place=seven,
            additives="、".join(all_additives),
            tier_code="unrated",
            tier_since=None,
            last_inspected_on=None,
            public_changed_at=None,
            created_at=self._at(registered, rng),
            updated_at=None,
            version=1,
        )
        if i == 7:  # one showcase workshop carries every brand fact
            w["regional_brand"] = w["regional_brand"] or "老东河凉糕"
            w["trademark"] = w["trademark"] or f"{surname}记"
        out["workshop"].append(w)
        out["workshop_category"].append(
            dict(workshop_id=wid, category_id=self.category_ids[cat_code])
        )
        if second is not None:
            out["workshop_category"].append(
                dict(workshop_id=wid, category_id=self.category_ids[second[2]])
            )

        staff = [(operator, "负责人")] + [
            (self._person(), "生产人员") for _ in range(rng.randint(0, 3))
        ]
        if w["safety_manager"] != operator:
            staff.append((w["safety_manager"], "食品安全管理员"))
        for person, role in staff:
            expires = (
                today + timedelta(days=rng.randint(-120, 360)) if rng.random() < 0.95 else None
            )
            out["staff_member"].append(
                dict(workshop_id=wid, name=person, role=role, health_cert_expires=expires)
            )

        # Inspections, and the tier history they drive.
        dates = []
        if not never_inspected:
            first = registered + timedelta(days=rng.randint(10, 60))
            cutoff = today - timedelta(days=rng.randint(366, 480)) if overdue else end
            d = first
            while d <= cutoff and len(dates) < 5:
                dates.append(d)
                d += timedelta(days=rng.randint(150, 420))
            if not dates:
                dates.append(min(first, cutoff))
        tiers = self.deployment.tier_codes  # best first
        tier, tier_since, history = "unrated", None, []
        last_insp = None
        forced_tier = {
            8: "gold",
            9: "silver",
            10: "bronze",
            11: "orange",
            15: "gold",
            16: "silver",
            17: "silver",
        }.get(i)
        for k, d in enumerate(dates):
            kind = (
                ("routine", "random", "special", "flying", "complaint")[i % 5]
                if k == 0 and i < 10
                else rng.choices(
                    ("routine", "random", "special", "flying", "complaint"), (45, 25, 15, 5, 10)
                )[0]
            )
            if i < 3 and k == 0:
                result = ("pass", "basic", "fail")[i]
            else:
                p_pass, p_basic = 0.2 + 0.5 * quality, 0.86 + 0.12 * quality
                r = rng.random()
                result = "pass" if r < p_pass else "basic" if r < p_basic else "fail"
            last = k == len(dates) - 1
            if forced_tier and last:
                result = {"gold": "pass", "silver": "pass", "bronze": "basic", "orange": "fail"}[
                    forced_tier
                ]
            outcomes = rng.choice(self.patterns[result])
            insp_id = self.ids("inspection")
            pair = rng.sample(inspectors, 2)
            draw_id = None
            if kind == "random":  # 双随机: the recorded draw that chose this workshop and pair
                draw_id, pair = self._draw(out, wid, w["public_code"], station_id, inspectors, d)
            rect_due = d + timedelta(days=rng.choice((15, 30))) if result != "pass" else None
            done = None
            if rect_due is not None and (
                rect_due < today - timedelta(days=20) and rng.random() < 0.93
            ):
                done = rect_due - timedelta(days=rng.randint(0, 10))
            out["inspection"].append(
                dict(
                    id=insp_id,
                    workshop_id=wid,
                    inspected_on=d,
                    kind=kind,
                    result=result,
                    summary={
                        "pass": "现场检查未发现问题。",
                        "basic": "发现个别一般项问题，责令限期整改。",
                        "fail": "发现关键项或较多问题，责令停产整改。",
                    }[result],
                    rectification_required=result != "pass",
                    rectification_due=rect_due,
                    rectification_done_on=done,
                    draw_id=draw_id,
                    complaint_id=None,
                    recorded_by_id=pair[0],
                    created_at=self._at(d, rng),
                )
            )
            for uid in pair:
                out["inspection_inspector"].append(dict(inspection_id=insp_id, user_id=uid))
            out[CHECKLISTS].append((insp_id, outcomes.no))
            for item in outcomes.failed:
                out["rectification_item"].append(
                    dict(
                        workshop_id=wid,
                        inspection_id=insp_id,
                        problem=ITEM_NOTES.get(item["code"], item["text"]),
                        measure=rng.choice(MEASURES),
                        due_on=rect_due,
                        fixed_on=done,
                        verified_by_id=pair[0] if done else None,
                        created_at=self._at(d, rng),
                    )
                )
            last_insp = (insp_id, d, result)

            # The tier this inspection supports.
            rank_now = tiers.index(tier) if tier in tiers else None
            if rank_now is None:  # first rating: gold is earned later, rarely at once
                target = {
                    "pass": tiers[0] if quality > 0.85 else tiers[1],
                    "basic": tiers[1] if rng.random() < 0.3 else tiers[2],
                    "fail": tiers[3],
                }[result]
            else:
                r = rng.random()
                step = {
                    "pass": -1 if r < 0.35 + 0.3 * quality else 0,
                    "basic": 1
                    if rank_now < 2 and r < 0.5
                    else -1
                    if rank_now == 3 and r < 0.5
                    else 0,
                    "fail": 1,
                }[result]
                target = tiers[max(0, min(len(tiers) - 1, rank_now + step))]
            if forced_tier and last:
                target = forced_tier
            if target == tier and rng.random() < 0.85 and not (last and i in (12, 13, 14)):
                continue
            # Recent inspections may still be waiting for their decision or its publication.
            age_days = (today - d).days
            if last and (i in (12, 13, 14) or age_days < 40):
                state = (
                    ("proposed", "decided", "rejected")[i - 12]
                    if i in (12, 13, 14)
                    else rng.choices(("proposed", "decided", "published"), (3, 3, 4))[0]
                )
            else:
                state = "published"
            if forced_tier and last:
                state = "published"
            eff = min(d + timedelta(days=rng.randint(5, 15)), today)
            direction = (
                "initial"
                if tier == "unrated"
                else "upgrade"
                if tiers.index(target) < tiers.index(tier)
                else "downgrade"
                if tiers.index(target) > tiers.index(tier)
                else "reconfirm"
            )
            reason_cat = {
                "initial": "initial",
                "upgrade": rng.choice(("inspection", "rectified", "upgrade_request")),
                "downgrade": rng.choice(("inspection", "hygiene", "quality", "premises_change")),
                "reconfirm": "annual_review",
            }[direction]
            proposed_at = self._at(d + timedelta(days=1), rng)
            decision = dict(
                workshop_id=wid,
                from_tier=tier,
                to_tier=target,
                direction=direction,
                reason_category=reason_cat,
                reason=f"依据 {d:%Y年%m月%d日} 监督检查结果（{ {'pass': '符合', 'basic': '基本符合', 'fail': '不符合'}[result] }）"
                + (
                    "\n驳回：检查记录不足以支持调整，待下次检查后再议。"
                    if state == "rejected"
                    else ""
                ),
                public_reason=_public_reason(reason_cat, d, kind, result),
                status=state,
                effective_on=None if state == "proposed" else eff,
                proposed_by_id=pair[0],
                proposed_at=proposed_at,
                decided_by_id=None if state == "proposed" else self.admin_id,
                decided_at=None
                if state == "proposed"
                else proposed_at + timedelta(days=2, hours=1),
                published_at=self._at(eff, rng) if state == "published" else None,
                inspection_id=insp_id,
                sampling_id=None,
                complaint_id=None,
                is_upgrade_request=reason_cat == "upgrade_request",
            )
            if (
                decision["published_at"] is not None
                and decision["published_at"] < decision["decided_at"]
            ):
                decision["published_at"] = decision["decided_at"] + timedelta(hours=2)
            history.append(decision)
            if state == "published":
                tier, tier_since = target, eff
        w["tier_code"], w["tier_since"] = tier, tier_since
        w["last_inspected_on"] = dates[-1] if dates else None

        # Sampling: about half the workshops, failures more likely where quality is poor.
        samplings = []
        if dates and (rng.random() < 0.5 or i < 20):
            for _ in range(rng.randint(1, 3)):
                sd = dates[0] + timedelta(days=rng.randint(0, max(0, (end - dates[0]).days)))
                samplings.append(sd)
        if i == 18 and samplings:  # the showcase 复检中: a recent failure whose re-test is pending
            samplings = [max(dates[0], today - timedelta(days=12))]
        grant_plan = None
        if (
            tier in tiers[:2]
            and status == "open"
            and (rng.random() < 0.25 or i in (8, 9, 15, 16, 17))
        ):
            grant_plan = {15: "due", 16: "revoked", 17: "revoked"}.get(i) or rng.choices(
                ("held", "due", "revoked"), (90, 5, 5)
            )[0]
        gdate, fail_dates = None, []
        if grant_plan:
            gdate = max(registered, today - timedelta(days=rng.randint(400, 1400))) + timedelta(
                days=30
            )
            gdate = min(gdate, today - timedelta(days=1))
            if grant_plan == "due":  # two failures within 12 months, the second recent
                last_fail = today - timedelta(days=rng.randint(3, 30))
                if i == 15:  # pending past the review period: the public sees 称号复核中
                    last_fail = today - timedelta(days=25)
                fail_dates = [last_fail - timedelta(days=rng.randint(20, 200)), last_fail]
            elif grant_plan == "revoked":
                # A 专项抽检 long enough ago to be decided: three batches failed the same day.
                last_fail = today - timedelta(days=rng.randint(90, 300))
                fail_dates = [last_fail] * 3
            if fail_dates and min(fail_dates) <= gdate:  # granted before the failures began
                gdate = min(fail_dates) - timedelta(days=rng.randint(20, 60))
                if gdate < registered + timedelta(days=30):
                    grant_plan, fail_dates, gdate = (
                        "held",
                        [],
                        max(gdate, registered) + timedelta(days=30),
                    )
        sampling_ids = []
        for sd in sorted(samplings) + sorted(fail_dates):
            forced_fail = sd in fail_dates
            if sd > today:
                sd = today
            sid = self.ids("sampling")
            fail = (
                forced_fail
                or rng.random() < 0.12 * (1.5 - quality)
                or (i in (0, 18, 19, 20) and not sampling_ids)
            )
            item = rng.choice(failures) if fail else None
            retest, requested, decided = "none", None, None
            if fail and not forced_fail:
                r = rng.random()
                retest = (
                    "requested"
                    if i == 18 or (r < 0.12 and (today - sd).days < 40)
                    else "upheld"
                    if i == 19 or r < 0.3
                    else "overturned"
                    if i == 0 or r < 0.42
                    else "none"
                )
            if retest != "none":
                requested = _deadline(sd, rng.randint(2, 6))
                if retest != "requested":
                    decided = requested + timedelta(days=rng.randint(10, 30))
                    if decided > today:
                        decided = today
                    requested = min(requested, decided)
                elif requested > today:
                    requested = today
            if forced_fail:
                retest = (
                    "upheld"
                    if rng.random() < 0.3
                    and sd + timedelta(days=20) < today
                    and grant_plan != "revoked"
                    else "none"
                )
                if retest == "upheld":
                    requested = sd + timedelta(days=3)
                    decided = sd + timedelta(days=20)
            # The result notice reaches the workshop a few days after sampling (not a draw of
            # its own: the rest of the demo stays as it was), and before any re-test request,
            # whose 7-working-day window it opens.
            notice_on = min(today, sd + timedelta(days=1 + sid % 3), requested or today)
            prod = rng.choice(all_varieties)
            out["sampling"].append(
                dict(
                    id=sid,
                    workshop_id=wid,
                    sampled_on=sd,
                    product=prod,
                    batch=f"{sd - timedelta(days=rng.randint(0, 5)):%Y%m%d}",
                    lab=rng.choice(LABS),
                    result="fail" if fail else "pass",
                    failed_item=item[0] if fail else None,
                    measured_value=item[1] if fail else None,
                    limit_value=item[2] if fail else None,
                    notice_no=f"包市监抽〔{sd.year}〕{rng.randint(1, 9999):04d}号",
                    notice_on=notice_on,
                    retest_status=retest,
                    retest_requested_on=requested,
                    retest_decided_on=decided,
                    recorded_by_id=rng.choice(inspectors),
                    created_at=self._at(sd, rng),
                )
            )
            sampling_ids.append((sid, sd, fail))
        fails = [s for s in sampling_ids if s[2]]
        has_open = any(h["status"] in ("proposed", "decided") for h in history)
        if (
            fails
            and tier in tiers[:-1]
            and last_insp
            and rng.random() < 0.3
            and history
            and not has_open  # one open proposal per workshop
        ):
            # A failed sampling proposes a downgrade awaiting the bureau.
            sid, sd, _ = fails[-1]
            lower = tiers[tiers.index(tier) + 1]
            history.append(
                dict(
                    workshop_id=wid,
                    from_tier=tier,
                    to_tier=lower,
                    direction="downgrade",
                    reason_category="sampling",
                    reason="抽检不合格",
                    public_reason=f"{sd.year}年{sd.month}月{sd.day}日监督抽检不合格。",
                    status="proposed",
                    effective_on=None,
                    proposed_by_id=inspectors[0],
                    proposed_at=self._at(max(sd, last_insp[1]) + timedelta(days=1), rng),
                    decided_by_id=None,
                    decided_at=None,
                    published_at=None,
                    inspection_id=None,
                    sampling_id=sid,
                    complaint_id=None,
                    is_upgrade_request=False,
                )
            )
        out["tier_decision"].extend(history)

        if grant_plan:
            self._grant(out, wid, gdate, cname, marks)

        # Complaints and reports.
        if rng.random() < 0.05 or i < 24:
            self._complaint(out, wid, w, station, word, all_varieties, registered, i)
        if i % 400 == 30 or i == 22:
            self._complaint(
                out, None, w, station, word, all_varieties, registered, i, unregistered=True
            )

        # Posters: printed at each published tier.
        issue = 0
        for dec in history:
            if dec["status"] == "published" and rng.random() < 0.7:
                issue += 1
                out["poster"].append(
                    dict(
                        workshop_id=wid,
                        issue_no=issue,
                        size=rng.choice(("A4", "A4", "A5")),
                        tier_code=dec["to_tier"],
                        issued_at=dec["published_at"] + timedelta(days=1),
                        issued_by_id=inspectors[0],
                    )
                )
        self._finish(out, marks, w)
        recent = self.station_recent.setdefault(station_id, [])
        recent.append((wid, w["public_code"]))
        del recent[:-4]

    def _tracking_no(self, kind: str, day: date) -> str:
        """The format /track accepts (TS/JB and 10 digits): received day and a daily number."""
        prefix = "TS" if kind == "complaint" else "JB"
        n = self.tracking_day[(prefix, day)] = self.tracking_day.get((prefix, day), 0) + 1
        return f"{prefix}{day:%y%m%d}{n:04d}"

    def _draw(self, out, wid: int, code: str, station_id: int, inspectors: list, day: date):
        """The 双随机 draw behind a random inspection: a pool of this workshop and the station's
        last few, a seed under which this workshop is drawn, and the two inspectors it drew
        (replayable with `flask draws replay`)."""
        rng = self.rng
        pool = sorted(self.station_recent.get(station_id, []) + [(wid, code)], key=lambda x: x[1])
        codes, staff = [c for _i, c in pool], sorted(inspectors)
        k = 0
        while (
            draws.drawn_order(seed := f"demo-{self.seed}-{wid}-{day:%Y%m%d}-{k}", codes)[0] != code
        ):
            k += 1
        pick = draws.compute(seed, codes, 1, len(staff), 2)[0]
        pair = [staff[n - 1] for n in pick["inspectors"]]
        did = self.ids("random_draw")
        drawn = day - timedelta(days=rng.randint(3, 12))
        out["random_draw"].append(
            dict(
                id=did,
                drawn_at=self._at(drawn),
                jurisdiction_id=station_id,
                seed=seed,
                params={
                    "n": 1,
                    "per_target": 2,
                    "category_ids": [],
                    "tiers": [],
                    "high_risk_only": False,
                    "excluded": [],
                },
                pool=[i for i, _c in pool],
                inspectors=staff,
                result=[{"workshop_id": wid, "inspector_ids": pair}],
                published=True,
                published_at=self._at(day + timedelta(days=rng.randint(1, 5))),
                drawn_by_id=self.admin_id,
            )
        )
        return did, pair

    def _grant(self, out, wid: int, gdate: date, cname: str, marks: dict) -> None:
        """A title grant, then the revocation rules run day by day over the workshop's history
        (titles.findings_from, as `flask titles evaluate` does): the first day they find something
        files a proposal with its evidence; one older than REVOCATION_DECIDED_DAYS has been
        confirmed (title revoked, plaque recovered), a newer one is still pending."""
        rng, today = self.rng, self.today
        gid = self.ids("title_grant")
        title_id = (
            rng.choice(self.title_ids[:2]) if cname != "土默特右旗" else rng.choice(self.title_ids)
        )
        reviewed = gdate + timedelta(days=365)
        grant = dict(
            id=gid,
            workshop_id=wid,
            title_id=title_id,
            granted_on=gdate,
            certificate_no=f"示范〔{gdate.year}〕{rng.randint(1, 999):03d}号",
            status="held",
            last_reviewed_on=reviewed if reviewed < today else None,
            revoked_on=None,
            revoke_rule=None,
            revoke_reason=None,
            barred_until=None,
            granted_by_id=self.admin_id,
        )
        out["title_grant"].append(grant)
        failures = [
            SimpleNamespace(
                id=r["id"],
                sampled_on=r["sampled_on"],
                product=r["product"],
                failed_item=r["failed_item"],
                notice_no=r["notice_no"],
                known=r["retest_decided_on"] if r["retest_status"] == "upheld" else r["sampled_on"],
            )
            for r in out["sampling"][marks["sampling"] :]
            if r["result"] == "fail"
            and r["retest_status"] in ("upheld", "none")
            and gdate <= r["sampled_on"] <= today
        ]
        failures.sort(key=lambda f: (f.sampled_on, f.id))
        orders = [
            SimpleNamespace(
                id=r["id"],
                inspected_on=r["inspected_on"],
                rectification_due=r["rectification_due"],
                rectification_done_on=r["rectification_done_on"],
            )
            for r in out["inspection"][marks["inspection"] :]
            if r["rectification_required"]
            and gdate <= r["rectification_due"] < today
            and (
                r["rectification_done_on"] is None
                or r["rectification_done_on"] > r["rectification_due"]
            )
        ]
        orders.sort(key=lambda o: (o.rectification_due, o.id))
        found, day = [], None
        for day in sorted(
            {f.known for f in failures} | {o.rectification_due + timedelta(days=1) for o in orders}
        ):
            if day > today:
                break
            found = titles.findings_from(
                [f for f in failures if f.known <= day],
                [o for o in orders if o.rectification_due < day],
                window=self.window,
            )
            if found:
                break
        if not found:
            return
        top = found[0]
        evidence = dict(
            top.evidence,
            also=[{"rule": f.rule, **f.evidence} for f in found[1:]],
            evaluated_on=day.isoformat(),
        )
        proposal = dict(
            grant_id=gid,
            rule=top.rule,
            bar_years=top.bar_years,
            evidence=evidence,
            status="pending",
            created_at=self._at(day),
            decided_by_id=None,
            decided_at=None,
            note="",
        )
        if (today - day).days > REVOCATION_DECIDED_DAYS:
            revoked_on = min(day + timedelta(days=rng.randint(5, 20)), self.last_day)
            note = "经复核，确认撤销称号并收回牌匾"
            grant.update(
                status="revoked",
                revoked_on=revoked_on,
                revoke_rule=top.rule,
                revoke_reason=f"{REVOCATION_RULES[top.rule]}；{note}",
                barred_until=titles.add_years(revoked_on, top.bar_years) if top.bar_years else None,
                last_reviewed_on=grant["last_reviewed_on"]
                if grant["last_reviewed_on"] and grant["last_reviewed_on"] < revoked_on
                else None,
            )
            proposal.update(
                status="confirmed",
                decided_by_id=self.admin_id,
                decided_at=self._at(revoked_on),
                note=note,
            )
        out["revocation_proposal"].append(proposal)

    def _finish(self, out, marks: dict, w: dict) -> None:
        """Nothing dated after the reference day (timestamps: after the day before it); the
        workshop's last public change is its latest public event, so posters printed before it
        show as outdated."""
        for table, columns in EVENT_COLUMNS.items():
            for row in out[table][marks[table] :]:
                for c in columns:
                    v = row.get(c)
                    if isinstance(v, datetime):
                        if v > self.cap:
                            row[c] = self.cap
                    elif isinstance(v, date) and v > self.today:
                        row[c] = self.today

        def stamp(day):
            return min(datetime(day.year, day.month, day.day, 2), self.cap)

        events = [w["created_at"]]
        events += [
            h["published_at"] or h["decided_at"] or h["proposed_at"]
            for h in out["tier_decision"][marks["tier_decision"] :]
        ]
        for g in out["title_grant"][marks["title_grant"] :]:
            events += [stamp(d) for d in (g["granted_on"], g["revoked_on"]) if d]
        events += [r["created_at"] for r in out["inspection"][marks["inspection"] :]]
        events += [r["created_at"] for r in out["sampling"][marks["sampling"] :]]
        if w["status_changed_on"]:
            events.append(stamp(w["status_changed_on"]))
        w["public_changed_at"] = w["updated_at"] = min(max(events), self.cap)

    def _complaint(self, out, wid, w, station, word, varieties, registered, i, unregistered=False):
        rng, today = self.rng, self.today
        station_id, county, streets, inspectors = station
        kind = (
            "report"
            if unregistered
            else ("complaint", "report")[i % 2]
            if i < 24
            else rng.choice(("complaint", "report"))
        )
        # The first 24 workshops walk through every status of both kinds.
        complaint_statuses = ["new", "accepted", "refused", "mediated", "terminated", "transferred"]
        report_statuses = [
            "new",
            "verifying",
            "case_opened",
            "no_case",
            "case_closed",
            "transferred",
        ]
        statuses = complaint_statuses if kind == "complaint" else report_statuses
        status = statuses[(i // 2) % 6] if i < 24 and not unregistered else rng.choice(statuses)
        overdue = status in ("new", "accepted", "verifying", "case_opened") and (
            i in (0, 3) or rng.random() < 0.2
        )
        open_ = status in ("new", "accepted", "verifying", "case_opened")
        received_day = today - timedelta(
            days=rng.randint(120, 200)
            if overdue
            else rng.randint(0, 4)
            if status == "new"
            else rng.randint(8, 30)
            if open_
            else rng.randint(20, 300)
        )
        received_day = min(max(received_day, registered), self.last_day)
        received = self._at(received_day, rng)
        product = rng.choice(varieties)
        category = (
            "unlicensed"
            if unregistered
            else rng.choice([c for c in COMPLAINT_CATEGORIES if c != "unlicensed"])
        )
        name = w["name"]
        texts = {
            "quality": f"在{name}买的{product}有酸味，口感不对，怀疑变质。",
            "hygiene": f"{name}生产间地面脏乱、苍蝇多，工人不戴帽子。",
            "spoiled": f"看到{name}用发霉的原料做{product}。",
            "additive": f"{name}的{product}颜色特别鲜艳，怀疑超量使用色素。",
            "label": f"{name}卖的{product}没有标签，看不到生产日期和保质期。",
            "fake": f"{name}的{product}冒充{w['regional_brand'] or '老字号'}，包装仿冒。",
            "illness": f"吃了{name}的{product}后全家腹泻，去医院看过。",
            "fake_poster": f"{name}门口的公示牌榜级和网上查到的不一致。",
            "other": f"{name}{product}缺斤短两。",
            "unlicensed": f"{w['address'].split('号')[0]}号附近居民楼里有人无证加工{word}，没有任何证照，卫生条件很差。",
        }
        anonymous = kind == "report" and (unregistered or rng.random() < 0.5)
        cid = self.ids("complaint")
        pw_hash = self.query_password_hash
        officer = inspectors[0]
        accept_due = _deadline(received_day, 7)
        verify_due = _deadline(received_day, 15)
        row = dict(
            id=cid,
            tracking_no=self._tracking_no(kind, received_day),
            password_hash=pw_hash,
            submission_id=hashlib.md5(f"{cid}-{rng.random()}".encode()).hexdigest(),
            kind=kind,
            channel=rng.choice(("web", "web", "web", "phone", "api")),
            workshop_id=wid,
            unregistered_name=f"{rng.choice(streets)}无名{word}作坊" if unregistered else None,
            unregistered_address=f"包头市{county[0]}{rng.choice(streets)}附近"
            if unregistered
            else None,
            jurisdiction_id=self.county_ids[county[0]] if unregistered else station_id,
            category=category,
            content=texts[category],
            product=None if unregistered else product,
            purchased_on=received_day - timedelta(days=rng.randint(0, 5))
            if kind == "complaint"
            else None,
            amount_yuan=round(rng.uniform(8, 120), 1) if kind == "complaint" else None,
            demand="退货退款并赔偿" if kind == "complaint" else None,
            reporter_name=None if anonymous else self._person(),
            reporter_phone=None if anonymous else self._phone(),
            anonymous=anonymous,
            insider=kind == "report" and not unregistered and rng.random() < 0.15,
            status=status,
            received_at=received,
            due_on=accept_due if kind == "complaint" else verify_due,
            extended=False,
            extension_reason=None,
            assigned_to_id=officer if status != "new" or rng.random() < 0.5 else None,
            refusal_reason=None,
            termination_reason=None,
            verified=None,
            closed_at=None,
            client_fingerprint=None,
        )
        events = [
            dict(
                complaint_id=cid,
                at=received,
                actor_id=None,
                from_status=None,
                to_status="new",
                note="",
                public_reply="已收到您的"
                + (
                    "投诉，将在 7 个工作日内决定是否受理。"
                    if kind == "complaint"
                    else "举报，将在 15 个工作日内完成核查。"
                ),
            )
        ]
        when = received_day

        def step(to, reply, note="", days=(1, 5)):
            nonlocal when
            when = min(when + timedelta(days=rng.randint(*days)), today)
            events.append(
                dict(
                    complaint_id=cid,
                    at=self._at(when, rng),
                    actor_id=officer,
                    from_status=events[-1]["to_status"],
                    to_status=to,
                    note=note,
                    public_reply=reply,
                )
            )

        if status == "transferred":
            step("transferred", "经审查，该事项不属于市场监管部门职责，已移送相关部门处理。")
        elif kind == "complaint" and status != "new":
            if status == "refused":
                reason = rng.choice(list(REFUSAL_REASONS))
                row["refusal_reason"] = reason
                step("refused", f"经审查，您的投诉不予受理。理由：{REFUSAL_REASONS[reason]}。")
            else:
                step("accepted", "您的投诉已受理，我们将组织双方调解。")
                row["due_on"] = deadlines.add_days(when, 60)
                if status == "mediated":
                    row["verified"] = True
                    step("mediated", "经调解，双方达成协议：经营者退还货款并赔偿。", days=(3, 20))
                elif status == "terminated":
                    reason = rng.choice(list(TERMINATION_REASONS))
                    row["termination_reason"] = reason
                    step(
                        "terminated",
                        f"调解终止。理由：{TERMINATION_REASONS[reason]}。您可依法通过其他途径解决。",
                        days=(5, 60),
                    )
        elif kind == "report" and status != "new":
            step("verifying", "您的举报已转辖区市场监督管理所核查。")
            if rng.random() < 0.2 and not overdue:
                row["extended"] = True
                row["extension_reason"] = "案情复杂，经负责人批准延长核查期限"
                row["due_on"] = _deadline(received_day, 30)
            if status in ("case_opened", "case_closed"):
                row["verified"] = True
                step(
                    "case_opened",
                    "经核查，已依法立案调查。",
                    note="现场检查发现问题，立案",
                    days=(3, 12),
                )
                row["due_on"] = deadlines.add_days(when, 90)
                if status == "case_closed":
                    step("case_closed", "案件已办结，已依法作出行政处罚。", days=(20, 80))
            elif status == "no_case":
                row["verified"] = False
                step("no_case", "经核查，未发现违法事实，不予立案。", days=(3, 12))
        if status not in ("new", "accepted", "verifying", "case_opened"):
            row["closed_at"] = events[-1]["at"]
        out["complaint"].append(row)
        out["complaint_event"].extend(events)

    # --- everything ------------------------------------------------------------------------------

    def chunks(self, chunk: int = CHUNK):
        done = 0
        while done < self.size:
            n = min(chunk, self.size - done)
            yield n, self.workshops(n)
            done += n


# Insert order: parents before children (foreign keys are checked on insert).
TABLES = [
    ("jurisdiction", Jurisdiction),
    ("jurisdiction_merge", JurisdictionMerge),
    ("product_category", ProductCategory),
    ("user", User),
    ("title", Title),
    ("workshop", Workshop),
    ("workshop_category", workshop_category),
    ("staff_member", StaffMember),
    ("complaint", Complaint),
    ("complaint_event", ComplaintEvent),
    ("inspection", Inspection),
    ("inspection_inspector", inspection_inspector),
    ("inspection_item", InspectionItem),
    ("sampling", Sampling),
    ("rectification_item", RectificationItem),
    ("tier_decision", TierDecision),
    ("title_grant", TitleGrant),
    ("revocation_proposal", RevocationProposal),
    ("poster", Poster),
]
# 双随机 draws go in before the inspections that name them.
TABLES.insert(TABLES.index(("inspection", Inspection)), ("random_draw", RandomDraw))
# Checklist items are many (one per checklist line per inspection, about 70 rows per workshop)
# but follow a few hundred outcome patterns (Generator._build_patterns): the generator emits one
# (inspection id, pattern number) pair per inspection under CHECKLISTS, and the database expands
# the pairs into items itself (INSERT … SELECT against a temporary table of the patterns).
CHECKLISTS = "inspection_item:pattern"
ITEM_COLUMNS = ("inspection_id", "area", "code", "text", "is_key", "outcome", "note")
WITH_IDS = (
    "jurisdiction",
    "product_category",
    "user",
    "title",
    "workshop",
    "inspection",
    "sampling",
    "complaint",
    "title_grant",
    "random_draw",
)


# Below this many workshops the rows are generated in this process: starting a producer costs
# more than it saves.
PIPELINE_MIN = 10_000


def _insert_sql(conn, table_name: str, cols) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    quote = conn.dialect.identifier_preparer.quote
    return (
        f"INSERT INTO {quote(table_name)} ({', '.join(quote(c) for c in cols)}) "
        f"VALUES ({', '.join([mark] * len(cols))})"
    )


def _prepare(rows_by_table: dict[str, list], dialect) -> list[tuple[str, tuple, list[tuple]]]:
    """[(table, columns, value tuples)] in insert order, each value converted by its column
    type's own bind processor (dates and JSON on SQLite), ready for the driver."""
    prepared = []
    for name, model in TABLES:
        rows = rows_by_table.get(name)
        if not rows:
            continue
        table = getattr(model, "__table__", model)
        # Columns the generator does not name get their declared scalar default, so a column
        # added to a model later (with a default) never breaks the bulk path.
        defaults = {
            c.name: c.default.arg
            for c in table.c
            if c.name not in rows[0] and c.default is not None and c.default.is_scalar
        }
        if defaults:
            rows = [{**row, **defaults} for row in rows]
        cols = tuple(rows[0])
        # sqlite3 takes Python booleans as they are; dates and JSON need their processors.
        procs = [
            (i, p)
            for i, c in enumerate(cols)
            if not isinstance(table.c[c].type, Boolean)
            and (p := table.c[c].type._cached_bind_processor(dialect))
        ]
        if procs:
            tuples = []
            for row in rows:
                values = [row[c] for c in cols]
                for i, p in procs:
                    values[i] = p(values[i])
                tuples.append(tuple(values))
        else:
            tuples = [tuple(row[c] for c in cols) for row in rows]
        prepared.append((table.name, cols, tuples))
    if rows_by_table.get(CHECKLISTS):
        prepared.append((CHECKLISTS, ("inspection_id", "pattern"), rows_by_table[CHECKLISTS]))
    return prepared


def _execute(prepared) -> int:
    """Insert prepared rows on the session's connection: COPY on PostgreSQL (several times
    executemany's speed), executemany on SQLite. Returns the number of rows."""
    conn = db.session.connection()
    quote = conn.dialect.identifier_preparer.quote
    written = 0
    for name, cols, tuples in prepared:
        target = "demo_inspection_pattern" if name == CHECKLISTS else name
        if conn.dialect.name == "postgresql":
            copy_sql = f"COPY {quote(target)} ({', '.join(quote(c) for c in cols)}) FROM STDIN"
            with conn.connection.driver_connection.cursor() as cur, cur.copy(copy_sql) as copy:
                for values in tuples:
                    copy.write_row(values)
        else:
            conn.exec_driver_sql(_insert_sql(conn, target, cols), tuples)
        if name == CHECKLISTS:
            written += _expand_checklists()
        else:
            written += len(tuples)
    return written


def _create_pattern_tables(gen: "Generator") -> None:
    """Temporary tables (this connection, this transaction) holding the checklist patterns."""
    conn = db.session.connection()
    on_commit = " ON COMMIT DROP" if conn.dialect.name == "postgresql" else ""
    for table, cols in (
        (
            "demo_item_pattern",
            "pattern INTEGER, seq INTEGER, area TEXT, code TEXT, text TEXT, "
            "is_key BOOLEAN, outcome TEXT, note TEXT, PRIMARY KEY (pattern, seq)",
        ),
        # Keyed by inspection, so the expansion walks both keys in order and never sorts.
        ("demo_inspection_pattern", "inspection_id INTEGER PRIMARY KEY, pattern INTEGER"),
    ):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {table} ({cols}){on_commit}")
    rows = [
        (no, seq, *item)
        for no, items in enumerate(gen.item_patterns)
        for seq, item in enumerate(items)
    ]
    conn.exec_driver_sql(
        _insert_sql(conn, "demo_item_pattern", ("pattern", "seq") + ITEM_COLUMNS[1:]), rows
    )


def _expand_checklists() -> int:
    """The pending (inspection, pattern) pairs become checklist items, in inspection then
    checklist order (ids as if inserted one by one)."""
    conn = db.session.connection()
    cols = ", ".join(ITEM_COLUMNS)
    written = conn.exec_driver_sql(
        f"INSERT INTO inspection_item ({cols}) "
        "SELECT ip.inspection_id, p.area, p.code, p.text, p.is_key, p.outcome, p.note "
        "FROM demo_inspection_pattern ip JOIN demo_item_pattern p ON p.pattern = ip.pattern "
        "ORDER BY ip.inspection_id, p.seq"
    ).rowcount
    conn.exec_driver_sql("DELETE FROM demo_inspection_pattern")
    return written


def _write(rows_by_table: dict[str, list]) -> int:
    """Bulk insert of one batch of generated rows (fixed rows, or one chunk of workshops)."""
    return _execute(_prepare(rows_by_table, db.session.connection().dialect))


def _produced(gen: "Generator", pipeline: bool):
    """gen.chunks(): in a forked producer process when `pipeline`, so that generating the next
    chunk overlaps writing this one. The writer prepares the rows: generating costs more than
    writing, so the work is balanced that way. A bounded queue keeps at most a few chunks in
    memory; the producer's error is raised here."""
    if not pipeline:
        yield from gen.chunks()
        return
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue(maxsize=3)

    def produce():
        try:
            for n, rows in gen.chunks():
                queue.put((n, rows))
            queue.put(None)
        except BaseException:
            queue.put(("error", traceback.format_exc()))

    producer = ctx.Process(target=produce, name="demo-producer", daemon=True)
    producer.start()
    try:
        while (item := queue.get()) is not None:
            if item[0] == "error":
                raise DemoError("演示数据生成失败：\n" + item[1])
            yield item
    finally:
        if producer.is_alive():
            producer.terminate()
        producer.join()
        queue.close()


def load(
    seed: int, size: int, progress: bool = False, today: date | None = None
) -> list[tuple[str, str, str]]:
    """Fill an empty database; return the demo sign-ins as (username, password, role label)."""
    if db.session.scalar(select(func.count(Workshop.id))) or db.session.scalar(
        select(func.count(Jurisdiction.id))
    ):
        raise DemoError("数据库中已有作坊或辖区数据，演示数据只能载入空库。")
    taken = db.session.scalars(
        select(User.username).where(User.username.in_([a[0] for a in DEMO_ACCOUNTS]))
    ).all()
    if taken:
        raise DemoError(f"账号 {', '.join(taken)} 已存在，演示数据只能载入空库。")
    id_start = {
        name: db.session.scalar(select(func.coalesce(func.max(getattr(m, "__table__", m).c.id), 0)))
        for name, m in TABLES
        if name in WITH_IDS
    }
    gen = Generator(seed, size, today or china_today(), current_deployment(), id_start)
    hashes: dict[str, str] = {}

    def password_hash_for(password: str) -> str:
        if password not in hashes:
            hashes[password] = generate_password_hash(password)
        return hashes[password]

    # Hashed as /track compares it (upper case), so the README's cx2026 works as typed.
    gen.query_password_hash = password_hash_for(normalise_password(DEMO_QUERY_PASSWORD))
    sqlite = db.engine.dialect.name == "sqlite"
    # A province-sized demo is one transaction of gigabytes. On SQLite: a rollback journal
    # instead of the WAL while it runs (the WAL would take every new page and then copy it
    # into the database at the checkpoint: all written twice), and a large page cache.
    journal = _sqlite_journal("truncate") if sqlite else None
    if sqlite:
        db.session.execute(text("PRAGMA cache_size=-262144"))
        db.session.execute(text("PRAGMA threads=2"))  # CREATE INDEX sorts on both cores
    try:
        _write(gen.fixed(password_hash_for))
        _create_pattern_tables(gen)
        bar = (
            click.progressbar(length=size, label="生成演示数据", show_pos=True)
            if progress
            else None
        )
        try:
            with _indexes_built_after(sqlite):
                for n, rows in _produced(gen, pipeline=size >= PIPELINE_MIN):
                    _write(rows)
                    if bar is not None:
                        bar.update(n)
        finally:
            if bar is not None:
                bar.render_finish()
        _load_rest(seed, size, gen, sqlite)
    finally:
        if journal is not None:
            db.session.rollback()  # nothing, after the commit; the failed load otherwise
            _sqlite_journal(journal)
    return gen.accounts


def _load_rest(seed: int, size: int, gen: "Generator", sqlite: bool) -> None:
    _fix_sequences()
    demo_programme.load(seed, gen.today)  # the action programme, derived from the rows above
    _bind_wechat()
    if sqlite:
        db.session.execute(text("PRAGMA cache_size=-2000"))  # SQLite's default again
        # Statistics for the planner (a sampled ANALYZE, a second or two), so that it knows a
        # status matches most workshops and picks the narrow indexes of the public paths.
        db.session.execute(text("PRAGMA analysis_limit=1000"))
    db.session.execute(text("ANALYZE"))
    load_row = audit.record(None, "demo.load", "database", None, after={"seed": seed, "size": size})
    # The demo's history goes on the public chain, vouched for by the demo.load audit row.
    public_history.backfill(load_row.seq)
    db.session.commit()


# One named complaint or report in this many was filed from the mini-program, signed in.
WECHAT_BOUND_EVERY = 10


def _bind_wechat() -> None:
    """Mini-program users for some named cases, as a signed-in filing makes them: the user signed in
    just before, the case bound to them, every other one's phone verified through WeChat as it
    was filed. Anonymous reports are never bound (shifangbang/wechat.py). The openids say
    they are demo ones; no token exists, so nobody can sign in as these users."""
    cases = db.session.execute(
        select(Complaint.id, Complaint.received_at, Complaint.reporter_phone)
        .where(Complaint.anonymous.is_(False))
        .order_by(Complaint.id)
    ).all()[::WECHAT_BOUND_EVERY]
    if not cases:
        return
    signed_in = [received - timedelta(minutes=2) for _id, received, _phone in cases]
    ids = db.session.scalars(
        insert(WechatUser).returning(WechatUser.id, sort_by_parameter_order=True),
        [
            {"openid": f"demo-openid-{cid:08d}", "created_at": at, "last_login_at": at}
            for (cid, _received, _phone), at in zip(cases, signed_in)
        ],
    ).all()
    db.session.execute(
        insert(WechatBinding),
        [{"complaint_id": cid, "user_id": uid} for (cid, _r, _p), uid in zip(cases, ids)],
    )
    table = Complaint.__table__
    db.session.execute(
        table.update()
        .where(table.c.id == bindparam("cid"))
        .values(reporter_phone_verified_at=bindparam("at")),
        [
            {"cid": cid, "at": received}
            for n, (cid, received, phone) in enumerate(cases)
            if phone and n % 2 == 0
        ],
    )


def _sqlite_journal(mode: str) -> str | None:
    """Switch this SQLite database's journal mode; the mode it had, or None when it could not
    switch (a transaction in progress, as in the tests, or another connection holding the WAL)."""
    dbapi = db.session.connection().connection.driver_connection
    if dbapi.in_transaction:
        return None
    before = dbapi.execute("PRAGMA journal_mode").fetchone()[0]
    after = dbapi.execute(f"PRAGMA journal_mode={mode}").fetchone()[0]
    return before if after == mode and before != mode else None


@contextmanager
def _indexes_built_after(sqlite: bool):
    """SQLite: the bulk tables' own indexes dropped while their rows go in and created again
    afterwards, in the same transaction, which sorts once instead of updating each B-tree per
    row. Unique ones included: creating them checks their rule over all rows at once."""
    if not sqlite:
        yield
        return
    names = [getattr(m, "__table__", m).name for _n, m in TABLES]
    indexes = db.session.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN :names"
        ).bindparams(bindparam("names", expanding=True)),
        {"names": names},
    ).all()
    for name, _sql in indexes:
        db.session.execute(text(f'DROP INDEX "{name}"'))
    yield
    for _name, sql in indexes:
        db.session.execute(text(sql))


def active_demo_accounts() -> list[tuple[str, str, str]]:
    """The demo sign-ins that still exist with their demo password (for `flask setup` to print)."""
    from werkzeug.security import check_password_hash

    found = {
        u.username: u
        for u in db.session.scalars(
            select(User).where(
                User.username.in_([a[0] for a in DEMO_ACCOUNTS]), User.active.is_(True)
            )
        )
    }
    return [
        (name, password, ROLES[role])
        for name, password, role in DEMO_ACCOUNTS
        if name in found
        and found[name].role == role
        and check_password_hash(found[name].password_hash, password)
    ]


def _fix_sequences() -> None:
    """Ids were assigned here; PostgreSQL's sequences must continue after them."""
    if db.engine.dialect.name != "postgresql":
        return
    for name in WITH_IDS:
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                f'(SELECT COALESCE(MAX(id), 1) FROM "{name}"))'
            )
        )


def generate(seed: int, size: int, today: date, deployment) -> list[tuple[str, list[dict]]]:
    """Every row the demo would write, without a database (tests compare two runs)."""
    gen = Generator(seed, size, today, deployment)
    gen.query_password_hash = "demo"
    out = [("fixed", r) for r in gen.fixed(lambda p: "hash:" + p).items()]
    for _n, chunk in gen.chunks():
        for name, rows in chunk.items():
            if name == CHECKLISTS:  # expanded as the database expands them
                name = "inspection_item"
                rows = [(i, *item) for i, no in rows for item in gen.item_patterns[no]]
            out.append((name, rows))
    return out


__all__ = ["load", "generate", "DEMO_ACCOUNTS", "DEMO_QUERY_PASSWORD", "DemoError"]
