"""Small builders for test data. Each returns flushed model objects inside the test's transaction."""

import itertools
from datetime import date, timedelta

from werkzeug.security import generate_password_hash

from shifangbang.extensions import db
from shifangbang.models import Jurisdiction, ProductCategory, User, Workshop
from shifangbang.timeutil import today

PASSWORD = "Test-pass-2026"
_counter = itertools.count(1)
_PW_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")  # fast in tests


def jurisdictions() -> dict[str, Jurisdiction]:
    """包头市 → 东河区 (两个所), 昆都仑区 (一个所)."""
    n = next(_counter)
    city = Jurisdiction(code=f"T{n}", name="包头市", level="city")
    donghe = Jurisdiction(code=f"T{n}-DH", name="东河区", level="county", parent=city)
    kun = Jurisdiction(code=f"T{n}-KD", name="昆都仑区", level="county", parent=city)
    xinaobao = Jurisdiction(
        code=f"T{n}-DH1", name="西脑包市场监管所", level="station", parent=donghe
    )
    nanmen = Jurisdiction(code=f"T{n}-DH2", name="南门外市场监管所", level="station", parent=donghe)
    kun1 = Jurisdiction(code=f"T{n}-KD1", name="昆北市场监管所", level="station", parent=kun)
    db.session.add_all([city, donghe, kun, xinaobao, nanmen, kun1])
    db.session.flush()
    return {
        "city": city,
        "donghe": donghe,
        "kun": kun,
        "xinaobao": xinaobao,
        "nanmen": nanmen,
        "kun1": kun1,
    }


def category(name: str = "豆制品", high_risk: bool = True) -> ProductCategory:
    existing = db.session.query(ProductCategory).filter_by(name=name).first()
    if existing:
        return existing
    c = ProductCategory(code=f"C{next(_counter)}", name=name, high_risk=high_risk)
    db.session.add(c)
    db.session.flush()
    return c


def workshop(station: Jurisdiction, **fields) -> Workshop:
    n = next(_counter)
    values = dict(
        public_code=f"T{n:06d}",
        cert_type="登记证",
        cert_no=f"蒙食小作坊登字第1502{n:08d}号",
        name=f"测试豆腐作坊{n}号",
        operator_name="王建国",
        operator_phone="13904721234",
        address=f"包头市东河区巴彦塔拉大街{n}号",
        station_id=station.id,
        varieties="豆腐、豆腐干",
        valid_from=date(2025, 1, 1),
        valid_to=date(2028, 1, 1),
        status="open",
        seven_in_place={},
    )
    categories = fields.pop("categories", None)
    if fields.get("tier_code") not in (None, "unrated"):
        # A rated workshop has the date of its rating, as the registry requires (an import of an
        # export of the whole test registry checks it).
        values["tier_since"] = today() - timedelta(days=30)
    values.update(fields)
    w = Workshop(**values)
    w.categories = categories if categories is not None else [category()]
    db.session.add(w)
    db.session.flush()
    return w


def user(
    role: str = "officer", jurisdiction: Jurisdiction | None = None, username: str | None = None
) -> User:
    u = User(
        username=username or f"user{next(_counter)}",
        display_name="测试人员",
        role=role,
        jurisdiction_id=jurisdiction.id if jurisdiction else None,
        password_hash=_PW_HASH,
    )
    db.session.add(u)
    db.session.flush()
    return u


def login(client, u: User, password: str = PASSWORD):
    return client.post("/admin/login", data={"username": u.username, "password": password})
