"""A fixed, hand-written set of workshops for the search tests (names, products, places, tiers)."""

from datetime import date

from shifangbang.extensions import db
from shifangbang.models import Title, TitleGrant

from . import factories as f

# name, varieties, category (high-risk?), station key, tier, status, (lat, lng)
WORKSHOPS = [
    (
        "老东河凉糕作坊",
        "凉糕、黄米凉糕",
        ("糕点", True),
        "xinaobao",
        "gold",
        "open",
        (40.5870, 110.0480),
    ),
    (
        "萨拉齐凉皮坊",
        "凉皮、面筋",
        ("粮食加工品", False),
        "kun1",
        "silver",
        "open",
        (40.6560, 109.8400),
    ),
    ("固阳莜面手工作坊", "莜面、莜面鱼鱼", ("粮食加工品", False), "nanmen", "bronze", "open", None),
    (
        "王记豆腐坊",
        "豆腐、豆腐干",
        ("豆制品", True),
        "xinaobao",
        "gold",
        "open",
        (40.5900, 110.0300),
    ),
    ("李家老豆腐", "豆腐、豆腐皮", ("豆制品", True), "kun1", "orange", "open", (40.6600, 109.8500)),
    ("重庆小面作坊", "挂面、小面", ("粮食加工品", False), "kun1", "silver", "open", None),
    ("长寿麻花店", "麻花", ("糕点", True), "nanmen", "bronze", "open", None),
    (
        "福源胡麻油坊",
        "胡麻油",
        ("食用植物油", True),
        "xinaobao",
        "silver",
        "open",
        (40.5950, 110.0700),
    ),
    ("晋泉老陈醋坊", "老陈醋、熏醋", ("食醋", True), "kun1", "gold", "open", None),
    ("草原手把肉加工坊", "手把肉、风干肉", ("肉制品", True), "nanmen", "bronze", "open", None),
    ("蒙香牛肉干作坊", "牛肉干", ("肉制品", True), "kun1", "unrated", "open", None),
    ("巴彦塔拉月饼坊", "月饼、糖麻叶", ("糕点", True), "xinaobao", "silver", "open", None),
    ("红星粉条厂", "粉条、粉皮", ("淀粉及淀粉制品", True), "nanmen", "orange", "open", None),
    ("东河奶豆腐作坊", "奶豆腐、奶皮子", ("乳制品", False), "xinaobao", "gold", "open", None),
    ("鑫源挂面坊", "挂面", ("粮食加工品", False), "kun1", "bronze", "open", None),
    ("老王熏肉坊", "熏肉、腊肉", ("肉制品", True), "xinaobao", "silver", "suspended", None),
    ("刘家烧麦馆", "烧麦", ("方便食品", False), "nanmen", "gold", "open", None),
    ("绿源豆芽坊", "豆芽", ("豆制品", True), "kun1", "unrated", "open", None),
    ("马记馒头坊", "馒头、花卷", ("粮食加工品", False), "nanmen", "silver", "open", None),
    ("丰收炒米坊", "炒米、黄米", ("粮食加工品", False), "kun1", "gold", "open", None),
    ("金穗糕点坊", "蛋糕、桃酥", ("糕点", True), "xinaobao", "bronze", "open", None),
    ("山城酱油坊", "酱油", ("调味品", False), "nanmen", "orange", "open", None),
    ("张记凉粉店", "凉粉", ("淀粉及淀粉制品", True), "kun1", "silver", "cancelled", None),
    ("乐乐豆腐脑", "豆腐脑", ("豆制品", True), "nanmen", "silver", "open", None),
    ("兴旺腐竹厂", "腐竹", ("豆制品", True), "xinaobao", "bronze", "open", None),
    ("北梁糖麻叶作坊", "糖麻叶", ("糕点", True), "nanmen", "silver", "open", None),
]
LAODONGHE_CERT = "蒙食小作坊登字第150202000123号"


def create() -> dict:
    """Creates the corpus (flushed, not committed). Returns {'j': jurisdictions, 'w': {name: Workshop},
    'cats': {name: ProductCategory}, 'title': Title}."""
    j = f.jurisdictions()
    out, cats = {}, {}
    for i, (name, varieties, (cat, risky), station, tier, status, loc) in enumerate(WORKSHOPS):
        cats[cat] = f.category(cat, high_risk=risky)
        extra = {"cert_no": LAODONGHE_CERT} if name == "老东河凉糕作坊" else {}
        if name == "老东河凉糕作坊":
            extra["regional_brand"] = "老东河凉糕"
        w = f.workshop(
            j[station],
            name=name,
            varieties=varieties,
            categories=[cats[cat]],
            tier_code=tier,
            status=status,
            lat=loc[0] if loc else None,
            lng=loc[1] if loc else None,
            address=f"包头市{j[station].parent.name}第{i + 1}街{i + 1}号",
            **extra,
        )
        out[name] = w
    title = db.session.query(Title).filter_by(name="包头市食品小作坊示范点").first()
    if title is None:
        title = Title(name="包头市食品小作坊示范点", authority="包头市市场监督管理局", level="city")
        db.session.add(title)
        db.session.flush()
    for name in ("王记豆腐坊", "晋泉老陈醋坊"):
        db.session.add(
            TitleGrant(workshop_id=out[name].id, title_id=title.id, granted_on=date(2025, 6, 1))
        )
    db.session.flush()
    return {"j": j, "w": out, "cats": cats, "title": title}
