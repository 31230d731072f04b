"""A small, realistic data set for the API, open-data and Open311 tests."""

from datetime import timedelta

from shifangbang.extensions import db
from shifangbang.models import (
    Inspection,
    InspectionItem,
    RectificationItem,
    Sampling,
    StaffMember,
    TierDecision,
    Title,
    TitleGrant,
)
from shifangbang.timeutil import today, utcnow

from . import factories as f


def arrange() -> dict:
    """Jurisdictions, four workshops (gold with everything, bronze with rectification, unrated and
    overdue, closed), with inspections, samplings, titles and tier history. Committed."""
    j = f.jurisdictions()
    j["xinaobao"].phone = "0472-4171234"
    doufu = f.category("豆制品", True)
    liangshi = f.category("粮食加工品", False)
    now = today()
    gold = f.workshop(
        j["xinaobao"],
        name="老东河凉糕坊",
        operator_name="张三丰",
        operator_phone="13904720001",
        operator_id_no="150202198001011234",
        safety_manager="李四光",
        tier_code="gold",
        tier_since=now - timedelta(days=30),
        last_inspected_on=now - timedelta(days=40),
        lat=40.5900,
        lng=110.0200,
        categories=[liangshi],
        varieties="凉糕、黄米糕",
        pledge_signed_on=now - timedelta(days=200),
        seven_in_place={"purchase": True, "cleaning": True},
        additives="无",
        regional_brand="老东河凉糕",
    )
    bronze = f.workshop(
        j["nanmen"],
        name="南门豆腐坊",
        operator_name="王小二",
        tier_code="bronze",
        tier_since=now - timedelta(days=10),
        last_inspected_on=now - timedelta(days=12),
        lat=40.6000,
        lng=110.0300,
        categories=[doufu],
    )
    unrated = f.workshop(
        j["kun1"],
        name="昆北面食坊",
        operator_name="赵六",
        categories=[liangshi],
        lat=40.65,
        lng=109.84,
    )
    unrated.created_at = utcnow() - timedelta(days=800)
    closed = f.workshop(
        j["xinaobao"],
        name="已注销豆腐坊",
        operator_name="钱七",
        status="cancelled",
        categories=[doufu],
        tier_code="orange",
        lat=40.591,
        lng=110.021,
    )
    gold.staff = [
        StaffMember(name="孙悟空", role="生产人员", health_cert_expires=now + timedelta(days=100))
    ]

    officer = f.user("officer", j["xinaobao"])
    officer2 = f.user("officer", j["xinaobao"])
    insp = Inspection(
        workshop_id=gold.id,
        inspected_on=now - timedelta(days=40),
        kind="routine",
        result="basic",
        rectification_required=True,
        rectification_due=now - timedelta(days=20),
        rectification_done_on=now - timedelta(days=25),
    )
    insp.inspectors = [officer, officer2]
    insp.items = [
        InspectionItem(
            area="生产场所卫生",
            code="A4",
            text="有防蝇、防鼠、防虫设施且有效",
            is_key=False,
            outcome="fail",
            note="纱窗破损",
        ),
        InspectionItem(
            area="生产场所卫生",
            code="A1",
            text="生产场所与登记地址一致",
            is_key=True,
            outcome="pass",
        ),
    ]
    older = Inspection(
        workshop_id=gold.id, inspected_on=now - timedelta(days=400), kind="random", result="pass"
    )
    binsp = Inspection(
        workshop_id=bronze.id,
        inspected_on=now - timedelta(days=12),
        kind="complaint",
        result="fail",
    )
    binsp.items = [
        InspectionItem(
            area="原料进货查验", code="B2", text="未使用非食品原料", is_key=True, outcome="fail"
        )
    ]
    db.session.add_all([insp, older, binsp])
    samplings = [
        Sampling(
            workshop_id=gold.id,
            sampled_on=now - timedelta(days=d),
            product=f"凉糕{d}",
            lab="包头市食检所",
            result="pass",
        )
        for d in (5, 50, 100, 300)
    ]
    samplings[0].result = "fail"
    samplings[0].failed_item = "菌落总数"
    samplings[0].measured_value = "2.1×10⁵ CFU/g"
    samplings[0].limit_value = "1×10⁵ CFU/g"
    samplings[0].retest_status = "requested"
    db.session.add_all(samplings)
    title = Title(
        name=f"包头市食品小作坊示范点{gold.id}", authority="包头市市场监督管理局", level="city"
    )
    old_title = Title(name=f"山西省名特优示范食品作坊{gold.id}", authority="省局", level="province")
    db.session.add_all([title, old_title])
    db.session.flush()
    db.session.add_all(
        [
            TitleGrant(
                workshop_id=gold.id,
                title_id=title.id,
                granted_on=now - timedelta(days=100),
                status="held",
            ),
            TitleGrant(
                workshop_id=gold.id,
                title_id=old_title.id,
                granted_on=now - timedelta(days=900),
                status="revoked",
                revoked_on=now - timedelta(days=60),
                revoke_rule="two_failures",
            ),
            TierDecision(
                workshop_id=gold.id,
                from_tier="unrated",
                to_tier="silver",
                direction="initial",
                reason_category="initial",
                status="published",
                effective_on=now - timedelta(days=300),
                published_at=utcnow() - timedelta(days=300),
            ),
            TierDecision(
                workshop_id=gold.id,
                from_tier="silver",
                to_tier="gold",
                direction="upgrade",
                reason_category="inspection",
                status="published",
                effective_on=now - timedelta(days=30),
                published_at=utcnow() - timedelta(days=30),
            ),
            TierDecision(
                workshop_id=bronze.id,
                from_tier="bronze",
                to_tier="silver",
                direction="upgrade",
                reason_category="rectified",
                status="decided",
                effective_on=now,
            ),
            TierDecision(
                workshop_id=bronze.id,
                from_tier="unrated",
                to_tier="bronze",
                direction="initial",
                reason_category="inspection",
                status="published",
                effective_on=now - timedelta(days=10),
                published_at=utcnow() - timedelta(days=10),
            ),
            RectificationItem(
                workshop_id=bronze.id,
                problem="原料无进货记录",
                measure="建立台账",
                due_on=now + timedelta(days=20),
            ),
            RectificationItem(
                workshop_id=bronze.id,
                problem="工具未按色标分类",
                measure="购置色标工具",
                due_on=now - timedelta(days=5),
            ),
            RectificationItem(
                workshop_id=bronze.id,
                problem="地面破损",
                measure="修补",
                due_on=now - timedelta(days=30),
                fixed_on=now - timedelta(days=31),
            ),
        ]
    )
    db.session.commit()
    return {
        "j": j,
        "gold": gold,
        "bronze": bronze,
        "unrated": unrated,
        "closed": closed,
        "doufu": doufu,
        "liangshi": liangshi,
    }
