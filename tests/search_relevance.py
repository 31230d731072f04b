"""A relevance set for search: 包头 workshops as they name themselves, and what shoppers type.

Used by tests/test_search_relevance.py (a floor per kind) and bench/bench_search.py (hit@3 and
MRR per kind, among generated look-alikes). Each query has one right answer: a workshop by name,
or (where any of several is right: "酿皮") any open workshop making one of the listed foods,
optionally in one county.
"""

import random
from dataclasses import dataclass
from datetime import date

from shifangbang.models import Jurisdiction, ProductCategory, Workshop

STATIONS = {
    "东河区": ["西脑包", "南门外", "河东", "北梁"],
    "昆都仑区": ["少先路", "友谊", "昆北"],
    "青山区": ["幸福路", "富强路"],
    "九原区": ["沙河", "麻池", "哈林格尔"],
    "石拐区": ["石拐", "五当召"],
    "白云鄂博矿区": ["通阳道"],
    "土默特右旗": ["萨拉齐", "美岱召", "将军尧"],
    "固阳县": ["金山", "西斗铺", "银号"],
    "达尔罕茂明安联合旗": ["百灵庙", "乌克忽洞"],
}
HIGH_RISK = {"糕点", "豆制品", "食用植物油", "食醋", "肉制品", "淀粉及淀粉制品"}

# name, varieties, category, station, tier
WORKSHOPS = [
    ("老东河凉糕坊", "凉糕、黄米凉糕", "糕点", "西脑包", "gold"),
    ("东河区王记凉糕作坊", "凉糕、油糕", "糕点", "南门外", "silver"),
    ("北梁糖麻叶作坊", "糖麻叶、麻花", "糕点", "北梁", "bronze"),
    ("南门外刘记豆腐坊", "豆腐、豆腐干、豆腐皮", "豆制品", "南门外", "silver"),
    ("河东老杨家油糕店", "油糕、黄米面", "糕点", "河东", "unrated"),
    ("西脑包马记焙子铺", "焙子、烧饼", "糕点", "西脑包", "bronze"),
    ("吕记酿皮作坊", "酿皮、面筋", "粮食加工品", "西脑包", "silver"),
    ("东河奶豆腐作坊", "奶豆腐、奶皮子", "乳制品", "河东", "gold"),
    ("德顺源稍麦馆", "稍麦", "速冻食品", "北梁", "gold"),
    ("东河张家胡油坊", "胡麻油", "食用植物油", "河东", "orange"),
    ("北梁老韩家羊杂作坊", "羊杂", "肉制品", "北梁", "bronze"),
    ("福盛祥月饼坊", "月饼、提浆月饼", "糕点", "南门外", "silver"),
    ("东河区永丰酱油坊", "酱油、醋", "调味品", "南门外", "bronze"),
    ("瑞丰源豆芽坊", "豆芽", "豆制品", "西脑包", "unrated"),
    ("昆区赵记凉皮店", "凉皮、擀面皮", "粮食加工品", "少先路", "silver"),
    ("少先路老李凉皮作坊", "凉皮", "粮食加工品", "少先路", "bronze"),
    ("友谊大街和顺豆腐坊", "豆腐、豆干", "豆制品", "友谊", "gold"),
    ("昆北鑫源挂面厂", "挂面、手工挂面", "粮食加工品", "昆北", "silver"),
    ("钢城手工馒头坊", "馒头、花卷", "粮食加工品", "昆北", "bronze"),
    ("昆区晋泉老陈醋坊", "老陈醋、熏醋", "食醋", "友谊", "gold"),
    ("阿尔丁牛肉干作坊", "牛肉干、风干肉", "肉制品", "少先路", "silver"),
    ("昆都仑区金穗糕点坊", "蛋糕、桃酥、月饼", "糕点", "友谊", "bronze"),
    ("包钢老张麻花店", "麻花", "糕点", "昆北", "orange"),
    ("重庆小面作坊", "小面、挂面", "粮食加工品", "少先路", "silver"),
    ("长寿麻花店", "麻花", "糕点", "友谊", "unrated"),
    ("青山区富强路凉皮坊", "凉皮", "粮食加工品", "富强路", "gold"),
    ("幸福路李家老豆腐", "豆腐、豆腐脑", "豆制品", "幸福路", "silver"),
    ("青山乐乐豆腐脑", "豆腐脑、豆花", "豆制品", "幸福路", "bronze"),
    ("一机厂馒头作坊", "馒头、馍馍", "粮食加工品", "富强路", "silver"),
    ("青山区蒙香奶茶坊", "奶茶、奶豆腐", "乳制品", "幸福路", "gold"),
    ("北重手工莜面馆", "莜面窝窝、莜面鱼鱼", "粮食加工品", "富强路", "bronze"),
    ("青山红星粉条厂", "粉条、粉皮", "淀粉及淀粉制品", "富强路", "orange"),
    ("华联曾记烧麦馆", "烧麦", "速冻食品", "幸福路", "silver"),
    ("沙河镇杨记油香坊", "油香、馓子", "糕点", "沙河", "silver"),
    ("麻池古城豆腐坊", "豆腐、干豆腐", "豆制品", "麻池", "bronze"),
    ("哈林格尔炒米厂", "炒米、黄米", "粮食加工品", "哈林格尔", "gold"),
    ("九原区草原手把肉加工坊", "手把肉、风干肉", "肉制品", "沙河", "silver"),
    ("沙河福源胡麻油坊", "胡麻油、菜籽油", "食用植物油", "沙河", "gold"),
    ("九原丰收粉坊", "粉条、凉粉", "淀粉及淀粉制品", "麻池", "unrated"),
    ("哈林格尔孟家酸粥坊", "酸粥、酸米", "粮食加工品", "哈林格尔", "bronze"),
    ("五当召素糕坊", "素糕、油糕", "糕点", "五当召", "silver"),
    ("石拐老矿工馒头店", "馒头", "粮食加工品", "石拐", "bronze"),
    ("石拐区大德恒醋坊", "陈醋", "食醋", "石拐", "silver"),
    ("吉忽伦图羊杂作坊", "羊杂碎", "肉制品", "五当召", "unrated"),
    ("白云鄂博蒙古包奶食坊", "奶豆腐、奶皮子、奶酪", "乳制品", "通阳道", "gold"),
    ("通阳道手工挂面坊", "挂面", "粮食加工品", "通阳道", "bronze"),
    ("白云矿区阿拉坦牛肉干坊", "牛肉干", "肉制品", "通阳道", "silver"),
    ("萨拉齐凉皮坊", "凉皮", "粮食加工品", "萨拉齐", "gold"),
    ("刘记萨拉齐凉皮坊", "凉皮、面筋", "粮食加工品", "萨拉齐", "silver"),
    ("萨拉齐老王家酿皮", "酿皮", "粮食加工品", "萨拉齐", "bronze"),
    ("美岱召黄米炸糕坊", "炸糕、黄米面", "糕点", "美岱召", "silver"),
    ("将军尧胡油坊", "胡油", "食用植物油", "将军尧", "bronze"),
    ("土右旗敕勒川豆腐坊", "豆腐、豆腐干", "豆制品", "萨拉齐", "gold"),
    ("萨拉齐郭家熏鸡店", "熏鸡、熏肉", "肉制品", "萨拉齐", "silver"),
    ("沟门香油坊", "香油、麻酱", "食用植物油", "美岱召", "unrated"),
    ("海子乡莜面加工坊", "莜面、莜麦面", "粮食加工品", "将军尧", "silver"),
    ("固阳莜面手工作坊", "莜面、莜面鱼鱼", "粮食加工品", "金山", "gold"),
    ("金山镇高家油面坊", "油面、莜面窝窝", "粮食加工品", "金山", "bronze"),
    ("西斗铺马铃薯粉条厂", "粉条、粉面", "淀粉及淀粉制品", "西斗铺", "silver"),
    ("固阳县兴顺西月饼坊", "月饼", "糕点", "金山", "silver"),
    ("银号乡胡麻油坊", "胡麻油", "食用植物油", "银号", "bronze"),
    ("固阳老单家豆腐", "豆腐", "豆制品", "金山", "unrated"),
    ("固阳燕麦炒米坊", "炒米、燕麦片", "粮食加工品", "西斗铺", "gold"),
    ("百灵庙奶食品作坊", "奶豆腐、奶皮子、黄油", "乳制品", "百灵庙", "gold"),
    ("达茂草原风干肉坊", "风干肉、牛肉干", "肉制品", "百灵庙", "silver"),
    ("乌克忽洞手工挂面坊", "挂面", "粮食加工品", "乌克忽洞", "bronze"),
    ("希拉穆仁手把肉作坊", "手扒肉", "肉制品", "百灵庙", "silver"),
    ("百灵庙蒙餐焙子店", "焙子", "糕点", "百灵庙", "bronze"),
    ("银行路豆腐坊", "豆腐", "豆制品", "少先路", "silver"),
    ("朝阳凉粉店", "凉粉", "淀粉及淀粉制品", "幸福路", "bronze"),
    ("老汗家豆腐坊", "豆腐", "豆制品", "南门外", "bronze"),
    ("重阳糕点坊", "重阳糕、蛋糕", "糕点", "西脑包", "silver"),
    ("长青挂面坊", "挂面", "粮食加工品", "昆北", "bronze"),
    ("乐园麻花坊", "麻花", "糕点", "友谊", "silver"),
    ("和平路郭家烧卖", "烧卖", "速冻食品", "少先路", "gold"),
    ("家家乐豆腐坊", "豆腐", "豆制品", "北梁", "bronze"),
    ("曾家熏肉坊", "熏肉", "肉制品", "河东", "silver"),
]


@dataclass(frozen=True)
class Any:
    """Any open workshop making one of `foods` (in its name or varieties), in `county` if set."""

    foods: tuple[str, ...]
    county: str | None = None


def _any(foods: str, county: str | None = None) -> Any:
    return Any(tuple(foods.split("/")), county)


# (kind, query, answer): answer is a workshop name or Any(...). Certificate numbers are filled
# in by load() (cert:<name> → that workshop's number, digits:<name> → its digits).
QUERIES = [
    # whole names (an unrated workshop named exactly comes first)
    ("name", "老东河凉糕坊", "老东河凉糕坊"),
    ("name", "河东老杨家油糕店", "河东老杨家油糕店"),
    ("name", "瑞丰源豆芽坊", "瑞丰源豆芽坊"),
    ("name", "长寿麻花店", "长寿麻花店"),
    ("name", "吉忽伦图羊杂作坊", "吉忽伦图羊杂作坊"),
    ("name", "沟门香油坊", "沟门香油坊"),
    ("name", "九原丰收粉坊", "九原丰收粉坊"),
    ("name", "固阳老单家豆腐", "固阳老单家豆腐"),
    ("name", "萨拉齐凉皮坊", "萨拉齐凉皮坊"),
    ("name", "刘记萨拉齐凉皮坊", "刘记萨拉齐凉皮坊"),
    ("name", "东河奶豆腐作坊", "东河奶豆腐作坊"),
    ("name", "重庆小面作坊", "重庆小面作坊"),
    ("name", "家家乐豆腐坊", "家家乐豆腐坊"),
    ("name", "银行路豆腐坊", "银行路豆腐坊"),
    ("name", "固阳莜面手工作坊", "固阳莜面手工作坊"),
    ("name", "百灵庙奶食品作坊", "百灵庙奶食品作坊"),
    ("name", "老汗家豆腐坊", "老汗家豆腐坊"),
    ("name", "和平路郭家烧卖", "和平路郭家烧卖"),
    # part of a name
    ("partial", "老东河", "老东河凉糕坊"),
    ("partial", "德顺源", "德顺源稍麦馆"),
    ("partial", "晋泉", "昆区晋泉老陈醋坊"),
    ("partial", "敕勒川", "土右旗敕勒川豆腐坊"),
    ("partial", "阿尔丁", "阿尔丁牛肉干作坊"),
    ("partial", "福盛祥", "福盛祥月饼坊"),
    ("partial", "蒙古包", "白云鄂博蒙古包奶食坊"),
    ("partial", "希拉穆仁", "希拉穆仁手把肉作坊"),
    ("partial", "大德恒", "石拐区大德恒醋坊"),
    ("partial", "兴顺西", "固阳县兴顺西月饼坊"),
    ("partial", "一机厂", "一机厂馒头作坊"),
    ("partial", "北重", "北重手工莜面馆"),
    ("partial", "钢城", "钢城手工馒头坊"),
    ("partial", "老矿工", "石拐老矿工馒头店"),
    ("partial", "阿拉坦", "白云矿区阿拉坦牛肉干坊"),
    ("partial", "孟家酸粥", "哈林格尔孟家酸粥坊"),
    # names with their middle left out
    ("middle", "刘记凉皮", "刘记萨拉齐凉皮坊"),
    ("middle", "南门外豆腐坊", "南门外刘记豆腐坊"),
    ("middle", "马记焙子", "西脑包马记焙子铺"),
    ("middle", "金山镇油面坊", "金山镇高家油面坊"),
    ("middle", "萨拉齐熏鸡", "萨拉齐郭家熏鸡店"),
    ("middle", "美岱召炸糕", "美岱召黄米炸糕坊"),
    ("middle", "沙河油香", "沙河镇杨记油香坊"),
    ("middle", "哈林格尔酸粥", "哈林格尔孟家酸粥坊"),
    ("middle", "西斗铺粉条厂", "西斗铺马铃薯粉条厂"),
    ("middle", "白云鄂博奶食坊", "白云鄂博蒙古包奶食坊"),
    # foods
    ("product", "凉糕", _any("凉糕")),
    ("product", "莜面", _any("莜面/油面")),
    ("product", "胡麻油", _any("胡麻油/胡油")),
    ("product", "炒米", _any("炒米")),
    ("product", "奶豆腐", _any("奶豆腐")),
    ("product", "焙子", _any("焙子")),
    ("product", "酸粥", "哈林格尔孟家酸粥坊"),
    ("product", "羊杂", _any("羊杂")),
    ("product", "熏鸡", "萨拉齐郭家熏鸡店"),
    ("product", "香油", "沟门香油坊"),
    ("product", "桃酥", "昆都仑区金穗糕点坊"),
    ("product", "豆芽", "瑞丰源豆芽坊"),
    ("product", "粉皮", "青山红星粉条厂"),
    ("product", "素糕", "五当召素糕坊"),
    ("product", "燕麦片", "固阳燕麦炒米坊"),
    ("product", "重阳糕", "重阳糕点坊"),
    ("product", "馓子", "沙河镇杨记油香坊"),
    # a place and a food
    ("place", "昆区 凉皮", _any("凉皮", "昆都仑区")),
    ("place", "土右豆腐", _any("豆腐", "土默特右旗")),
    ("place", "固阳 月饼", _any("月饼", "固阳县")),
    ("place", "青山 馒头", _any("馒头/馍馍", "青山区")),
    ("place", "九原 胡麻油", _any("胡麻油/胡油", "九原区")),
    ("place", "石拐 醋", "石拐区大德恒醋坊"),
    ("place", "白云 挂面", _any("挂面", "白云鄂博矿区")),
    ("place", "达茂 挂面", _any("挂面", "达尔罕茂明安联合旗")),
    ("place", "东河 凉糕", _any("凉糕", "东河区")),
    ("place", "萨县 熏鸡", "萨拉齐郭家熏鸡店"),
    ("place", "九原区 炒米", "哈林格尔炒米厂"),
    ("place", "昆都仑 醋", "昆区晋泉老陈醋坊"),
    ("place", "固阳炒米", "固阳燕麦炒米坊"),
    ("place", "青山区豆腐脑", _any("豆腐脑", "青山区")),
    ("place", "东河羊杂", "北梁老韩家羊杂作坊"),
    # local and trade names (the bureau's vocabulary)
    ("dialect", "酿皮", _any("凉皮/酿皮")),
    ("dialect", "稍麦", _any("烧麦/稍麦/烧卖")),
    ("dialect", "捎卖", _any("烧麦/稍麦/烧卖")),
    ("dialect", "胡油", _any("胡麻油/胡油")),
    ("dialect", "豆干", _any("豆腐干/豆干")),
    ("dialect", "油面", _any("莜面/油面")),
    ("dialect", "栲栳栳", _any("莜面窝窝")),
    ("dialect", "搓鱼鱼", _any("莜面鱼鱼")),
    ("dialect", "手扒肉", _any("手把肉/手扒肉")),
    ("dialect", "馍馍", _any("馒头/馍馍")),
    ("dialect", "干豆腐", _any("豆腐皮/干豆腐")),
    ("dialect", "豆花", _any("豆腐脑/豆花")),
    ("dialect", "炸糕", _any("油糕/炸糕")),
    ("dialect", "萨拉齐酿皮", _any("凉皮/酿皮", "土默特右旗")),
    ("dialect", "德顺源烧麦", "德顺源稍麦馆"),
    ("dialect", "烧卖", _any("烧麦/稍麦/烧卖")),
    # place abbreviations
    ("abbrev", "昆区晋泉", "昆区晋泉老陈醋坊"),
    ("abbrev", "土右豆腐坊", _any("豆腐", "土默特右旗")),
    ("abbrev", "达茂 奶食品", "百灵庙奶食品作坊"),
    ("abbrev", "白云区牛肉干", _any("牛肉干", "白云鄂博矿区")),
    ("abbrev", "昆区 馒头", _any("馒头/馍馍", "昆都仑区")),
    ("abbrev", "土右 胡油", _any("胡麻油/胡油", "土默特右旗")),
    ("abbrev", "达茂风干肉", "达茂草原风干肉坊"),
    ("abbrev", "萨县 酿皮", _any("凉皮/酿皮", "土默特右旗")),
    ("abbrev", "九原 粉条", _any("粉条", "九原区")),
    ("abbrev", "石拐 羊杂", "吉忽伦图羊杂作坊"),
    ("abbrev", "白云鄂博 挂面", _any("挂面", "白云鄂博矿区")),
    # same-sound character typos
    ("typo", "豆付", _any("豆腐")),
    ("typo", "凉披", _any("凉皮/酿皮")),
    ("typo", "老东河凉搞", "老东河凉糕坊"),
    ("typo", "胡麻由", _any("胡麻油/胡油")),
    ("typo", "萨拉其凉皮", _any("凉皮", "土默特右旗")),
    ("typo", "福盛祥月并", "福盛祥月饼坊"),
    ("typo", "德顺元", "德顺源稍麦馆"),
    ("typo", "阿尔丁牛肉甘", "阿尔丁牛肉干作坊"),
    ("typo", "敕勒川豆付", "土右旗敕勒川豆腐坊"),
    ("typo", "哈林格尔炒米场", "哈林格尔炒米厂"),
    ("typo", "希拉木仁", "希拉穆仁手把肉作坊"),
    ("typo", "吉忽伦图羊杂做坊", "吉忽伦图羊杂作坊"),
    # pinyin, run together
    ("pinyin", "laodonghe", "老东河凉糕坊"),
    ("pinyin", "deshunyuan", "德顺源稍麦馆"),
    ("pinyin", "chilechuan", "土右旗敕勒川豆腐坊"),
    ("pinyin", "salaqiliangpifang", "萨拉齐凉皮坊"),
    ("pinyin", "jinquan", "昆区晋泉老陈醋坊"),
    ("pinyin", "fushengxiang", "福盛祥月饼坊"),
    ("pinyin", "aerding", "阿尔丁牛肉干作坊"),
    ("pinyin", "liangpi", _any("凉皮/酿皮")),
    ("pinyin", "shaomai", _any("烧麦/稍麦/烧卖")),
    ("pinyin", "youmian", _any("莜面/油面")),
    ("pinyin", "guyangyoumian", _any("莜面/油面", "固阳县")),
    ("pinyin", "chongqingxiaomian", "重庆小面作坊"),
    ("pinyin", "changshoumahua", "长寿麻花店"),
    ("pinyin", "yinhanglu", "银行路豆腐坊"),
    ("pinyin", "chaoyangliangfen", "朝阳凉粉店"),
    ("pinyin", "doufugan", _any("豆腐干/豆干")),
    ("pinyin", "xilamuren", "希拉穆仁手把肉作坊"),
    ("pinyin", "jiajiale", "家家乐豆腐坊"),
    # pinyin typed apart
    ("spaced", "liang pi", _any("凉皮/酿皮")),
    ("spaced", "lao dong he", "老东河凉糕坊"),
    ("spaced", "de shun yuan", "德顺源稍麦馆"),
    ("spaced", "you mian", _any("莜面/油面")),
    ("spaced", "hu ma you", _any("胡麻油/胡油")),
    ("spaced", "fu sheng xiang", "福盛祥月饼坊"),
    ("spaced", "bai ling miao nai shi pin", "百灵庙奶食品作坊"),
    # a whole name's pinyin with a letter missing, doubled or swapped somewhere
    ("pinyin-typo", "laodongheliangaofang", "老东河凉糕坊"),
    ("pinyin-typo", "laodonghelianggaofagn", "老东河凉糕坊"),
    ("pinyin-typo", "deshunyuanshaomaiguann", "德顺源稍麦馆"),
    ("pinyin-typo", "salaqiliangpifnag", "萨拉齐凉皮坊"),
    ("pinyin-typo", "fushengxiangyuebngfang", "福盛祥月饼坊"),
    ("pinyin-typo", "aerdingniurouganzuofagn", "阿尔丁牛肉干作坊"),
    ("pinyin-typo", "wudangzhaosugoafang", "五当召素糕坊"),
    ("pinyin-typo", "guyangyoumianshougongzuoofang", "固阳莜面手工作坊"),
    ("pinyin-typo", "jiajialedoufuffang", "家家乐豆腐坊"),
    ("pinyin-typo", "xilamurenshoubarouzuofang", "希拉穆仁手把肉作坊"),
    ("pinyin-typo", "chongqinxiaomianzuofang", "重庆小面作坊"),
    ("pinyin-typo", "meidaizhaohuangmizhagaofang", "美岱召黄米炸糕坊"),
    # … and in part of a name
    ("pinyin-typo", "deshunyuansahomai", "德顺源稍麦馆"),
    ("pinyin-typo", "fushengxiangyeubing", "福盛祥月饼坊"),
    ("pinyin-typo", "chilechaundoufu", "土右旗敕勒川豆腐坊"),
    # initials
    ("initials", "ldhlgf", "老东河凉糕坊"),
    ("initials", "dsysmg", "德顺源稍麦馆"),
    ("initials", "slqlpf", "萨拉齐凉皮坊"),
    ("initials", "fsxybf", "福盛祥月饼坊"),
    ("initials", "ldh", "老东河凉糕坊"),
    ("initials", "dsy", "德顺源稍麦馆"),
    ("initials", "cqxmzf", "重庆小面作坊"),
    ("initials", "ldhlgff", "老东河凉糕坊"),
    ("initials", "wdzsgf", "五当召素糕坊"),
    ("initials", "jjldff", "家家乐豆腐坊"),
    # spoken questions
    ("question", "附近有卖莜面的作坊吗", _any("莜面/油面")),
    ("question", "哪里有卖凉皮的", _any("凉皮/酿皮")),
    ("question", "哪家稍麦好吃", _any("烧麦/稍麦/烧卖")),
    ("question", "固阳有卖月饼的吗", _any("月饼", "固阳县")),
    ("question", "附近的豆腐坊", _any("豆腐")),
    ("question", "哪里能买到胡油", _any("胡麻油/胡油")),
    ("question", "请问老东河凉糕在哪", "老东河凉糕坊"),
    ("question", "我想买奶豆腐", _any("奶豆腐")),
    ("question", "推荐一下昆区的凉皮", _any("凉皮", "昆都仑区")),
    ("question", "有没有卖炒米的", _any("炒米")),
    ("question", "青山区哪里有豆腐脑", _any("豆腐脑", "青山区")),
    ("question", "萨拉齐哪家酿皮正宗", _any("凉皮/酿皮", "土默特右旗")),
    # certificate numbers (whole, or the digits)
    ("cert", "cert:德顺源稍麦馆", "德顺源稍麦馆"),
    ("cert", "digits:德顺源稍麦馆", "德顺源稍麦馆"),
    ("cert", "cert:老汗家豆腐坊", "老汗家豆腐坊"),
    ("cert", "digits:老汗家豆腐坊", "老汗家豆腐坊"),
    ("cert", "digits:沟门香油坊", "沟门香油坊"),
    ("cert", "cert:百灵庙蒙餐焙子店", "百灵庙蒙餐焙子店"),
    ("cert", "digits:曾家熏肉坊", "曾家熏肉坊"),
    ("cert", "cert:乐园麻花坊", "乐园麻花坊"),
]

KINDS = list(dict.fromkeys(kind for kind, _, _ in QUERIES))

# Look-alikes: generated names made of the same places, brands and foods, so that a query has
# to pick its workshop out of many near ones.
# How shops name their place: the county as people shorten it, or the station's town.
_COUNTY_WORD = {
    "东河区": "东河",
    "昆都仑区": "昆区",
    "青山区": "青山",
    "九原区": "九原",
    "石拐区": "石拐",
    "白云鄂博矿区": "白云",
    "土默特右旗": "土右",
    "固阳县": "固阳",
    "达尔罕茂明安联合旗": "达茂",
}
_BRANDS = ["王记", "李家", "老张", "刘氏", "鑫源", "兴旺", "丰收", "金穗", "永兴", "聚福", "同盛"]
_FOODS = [
    ("凉皮", "粮食加工品"),
    ("豆腐", "豆制品"),
    ("莜面", "粮食加工品"),
    ("月饼", "糕点"),
    ("凉糕", "糕点"),
    ("胡麻油", "食用植物油"),
    ("挂面", "粮食加工品"),
    ("馒头", "粮食加工品"),
    ("麻花", "糕点"),
    ("牛肉干", "肉制品"),
    ("烧麦", "速冻食品"),
    ("粉条", "淀粉及淀粉制品"),
]
_SUFFIXES = ["坊", "作坊", "加工坊", "店", "手工作坊"]
TIERS = ["gold", "silver", "silver", "bronze", "bronze", "bronze", "orange", "unrated"]


def lookalikes(n: int, seed: int = 7) -> list[tuple[str, str, str, str, str]]:
    rnd = random.Random(seed)
    stations = [(county, s) for county, group in STATIONS.items() for s in group]
    out = []
    for _ in range(n):
        food, cat = rnd.choice(_FOODS)
        county, station = rnd.choice(stations)
        place = rnd.choice([_COUNTY_WORD[county], station, ""])
        name = f"{place}{rnd.choice(_BRANDS)}{food}{rnd.choice(_SUFFIXES)}"
        out.append((name, food, cat, station, rnd.choice(TIERS)))
    return out


def load(session, extra: int = 0) -> dict:
    """Create the jurisdictions, categories and workshops (and `extra` look-alikes) in an empty
    database; returns {"queries": [(kind, query, answer)], "workshops": {name: (id, county,
    varieties)}} with certificate placeholders filled in."""
    from sqlalchemy import insert

    city = Jurisdiction(code="R150200", name="包头市", level="city")
    session.add(city)
    station_of, county_of = {}, {}
    for ci, (county, stations) in enumerate(STATIONS.items()):
        c = Jurisdiction(code=f"R1502{ci + 1:02d}", name=county, level="county", parent=city)
        session.add(c)
        for si, name in enumerate(stations):
            s = Jurisdiction(
                code=f"R1502{ci + 1:02d}{si}",
                name=f"{name}市场监督管理所",
                level="station",
                parent=c,
            )
            session.add(s)
            station_of[name], county_of[name] = s, county
    session.flush()
    cats = {}
    rows, links = [], []
    for i, (name, varieties, cat, station, tier) in enumerate(
        WORKSHOPS + lookalikes(extra), start=1
    ):
        if cat not in cats:
            cats[cat] = ProductCategory(code=f"R{len(cats)}", name=cat, high_risk=cat in HIGH_RISK)
            session.add(cats[cat])
            session.flush()
        rows.append(
            dict(
                public_code=f"R{i:07d}",
                cert_type="登记证",
                cert_no=f"蒙食小作坊登字第1502{i:08d}号",
                name=name,
                operator_name="王建国",
                address=f"包头市{county_of[station]}{station}街{i % 300 + 1}号",
                station_id=station_of[station].id,
                varieties=varieties,
                status="open",
                tier_code=tier,
                seven_in_place={},
                additives="",
                valid_from=date(2025, 1, 1),
                version=1,
                time_honoured=False,
            )
        )
    for start in range(0, len(rows), 2000):
        session.execute(insert(Workshop), rows[start : start + 2000])
    ids = dict(session.query(Workshop.cert_no, Workshop.id))
    for row, (_, _, cat, _, _) in zip(rows, WORKSHOPS + lookalikes(extra)):
        links.append({"workshop_id": ids[row["cert_no"]], "category_id": cats[cat].id})
    from shifangbang.models import workshop_category

    for start in range(0, len(links), 2000):
        session.execute(insert(workshop_category), links[start : start + 2000])
    session.commit()
    named = {row["name"]: row for row in rows[: len(WORKSHOPS)]}
    workshops = {name: ids[row["cert_no"]] for name, row in named.items()}
    by_id = {
        ids[row["cert_no"]]: (row["name"], county_of[w[3]], row["varieties"])
        for row, w in zip(rows, WORKSHOPS + lookalikes(extra))
    }
    queries = []
    for kind, q, answer in QUERIES:
        if q.startswith(("cert:", "digits:")):
            how, name = q.split(":", 1)
            cert = named[name]["cert_no"]
            q = cert if how == "cert" else "".join(ch for ch in cert if ch.isdigit())
        queries.append((kind, q, answer))
    return {"queries": queries, "workshops": workshops, "by_id": by_id}


def is_right(answer, hit_id: int, data: dict) -> bool:
    if isinstance(answer, str):
        return data["workshops"][answer] == hit_id
    if hit_id not in data["by_id"]:
        return False
    name, county, varieties = data["by_id"][hit_id]
    if answer.county and county != answer.county:
        return False
    return any(food in name or food in varieties for food in answer.foods)


def evaluate(search, data: dict) -> dict:
    """Run every query through `search(q) -> [workshop ids]`; returns {kind: (hit@3, MRR, n)}
    and the misses, as {"kinds": …, "misses": [(kind, q, top names)]}."""
    per_kind: dict[str, list[float]] = {}
    misses = []
    for kind, q, answer in data["queries"]:
        ids = search(q)[:10]
        rank = next((n for n, i in enumerate(ids, 1) if is_right(answer, i, data)), None)
        per_kind.setdefault(kind, []).append(1.0 / rank if rank else 0.0)
        if not rank or rank > 3:
            misses.append((kind, q, [data["by_id"].get(i, (i,))[0] for i in ids[:3]]))
    kinds = {}
    for kind, rr in per_kind.items():
        kinds[kind] = (sum(r >= 1 / 3 for r in rr) / len(rr), sum(rr) / len(rr), len(rr))
    all_rr = [r for rr in per_kind.values() for r in rr]
    kinds["all"] = (
        sum(r >= 1 / 3 for r in all_rr) / len(all_rr),
        sum(all_rr) / len(all_rr),
        len(all_rr),
    )
    return {"kinds": kinds, "misses": misses}
