"""Recording inspections, rectification orders and the tier proposals the result implies."""

from datetime import timedelta

import pytest

from shifangbang import access, current_deployment, inspections, sampling
from shifangbang.inspections import ItemResult
from shifangbang.models import AuditLog, ChangeLog, RectificationItem, TierDecision
from shifangbang.timeutil import today

from . import factories as f


@pytest.fixture
def s(db):
    j = f.jurisdictions()
    data = {
        "j": j,
        "w": f.workshop(j["xinaobao"], tier_code="silver"),
        "o1": f.user("officer", j["xinaobao"]),
        "o2": f.user("officer", j["xinaobao"]),
        "county": f.user("officer", j["donghe"]),
        "other": f.user("officer", j["kun1"]),
        "admin": f.user("admin"),
    }
    db.session.commit()
    return data


def answers(fail=(), na=()):
    return [
        ItemResult(
            c["code"],
            "fail" if c["code"] in fail else "na" if c["code"] in na else "pass",
            "发现问题" if c["code"] in fail else "",
        )
        for c in current_deployment().checklist_items()
    ]


def ordinary_codes(n):
    return [c["code"] for c in current_deployment().checklist_items() if not c["key"]][:n]


def key_code():
    return next(c["code"] for c in current_deployment().checklist_items() if c["key"])


def rec(s, items, day=None, due=None, who=None, inspectors=None, **kw):
    day = day or today() - timedelta(days=1)
    return inspections.record(
        who or s["o1"],
        s["w"],
        inspected_on=day,
        kind="routine",
        inspector_ids=inspectors or [s["o1"].id, s["o2"].id],
        items=items,
        rectification_due=due,
        **kw,
    )


def test_failed_key_item_is_fail_proposes_two_step_downgrade_and_logs_problems(db, s):
    w = s["w"]
    i = rec(s, answers(fail=[key_code()]), due=today() + timedelta(days=15))
    assert i.result == "fail" and i.rectification_required
    assert w.last_inspected_on == i.inspected_on
    p = i.proposal
    assert p is not None and p.to_tier == "orange" and p.direction == "downgrade"
    assert p.reason_category == "inspection" and p.inspection_id == i.id and p.status == "proposed"
    assert w.tier_code == "silver"  # proposed, never published by the system
    items = db.session.query(RectificationItem).filter_by(inspection_id=i.id).all()
    assert len(items) == 1 and items[0].due_on == i.rectification_due
    assert db.session.query(ChangeLog).filter_by(workshop_id=w.id).count() >= 1
    assert {"inspection.record", "tier.propose"} <= {a.action for a in db.session.query(AuditLog)}


def test_nine_ordinary_failures_is_one_step_downgrade(db, s):
    i = rec(s, answers(fail=ordinary_codes(9)), due=today() + timedelta(days=10))
    assert i.result == "fail" and i.proposal.to_tier == "bronze"


def test_basic_result_needs_deadline_and_proposes_nothing(db, s):
    with pytest.raises(inspections.InspectionError, match="整改期限"):
        rec(s, answers(fail=ordinary_codes(8)))
    i = rec(s, answers(fail=ordinary_codes(8)), due=today() + timedelta(days=10))
    assert i.result == "basic" and i.proposal is None


def test_no_downgrade_below_bottom_or_for_unrated(db, s):
    s["w"].tier_code = "orange"
    db.session.commit()
    assert rec(s, answers(fail=[key_code()]), due=today() + timedelta(days=5)).proposal is None
    s["w"].tier_code = "unrated"
    db.session.commit()
    assert rec(s, answers(fail=[key_code()]), due=today() + timedelta(days=5)).proposal is None


def test_pass_proposes_upgrade_only_when_rectification_closed_and_no_confirmed_failure(db, s):
    w = s["w"]
    first = rec(
        s,
        answers(fail=ordinary_codes(1)),
        day=today() - timedelta(days=20),
        due=today() - timedelta(days=5),
    )
    assert first.proposal is None
    assert rec(s, answers()).proposal is None  # the order is still open
    inspections.complete_rectification(s["o1"], first, today() - timedelta(days=6))
    assert (
        db.session.query(RectificationItem).filter_by(inspection_id=first.id).one().fixed_on
        is not None
    )
    p = rec(s, answers()).proposal
    assert p is not None and p.to_tier == "gold" and p.direction == "upgrade"
    assert rec(s, answers()).proposal is None  # one open proposal at a time
    db.session.delete(p)
    sampling.record(
        s["o1"],
        w,
        sampled_on=today() - timedelta(days=60),
        product="豆腐",
        lab="包头市检验检测中心",
        result="fail",
        failed_item="苯甲酸",
        measured_value="0.5g/kg",
        limit_value="不得使用",
        notice_no="BT-1",
        notice_on=today() - timedelta(days=55),
    )
    assert rec(s, answers()).proposal is None  # a confirmed failure within 12 months blocks it


def test_inspectors_at_least_two_from_the_jurisdiction(db, s):
    with pytest.raises(inspections.InspectionError, match="至少 2 名"):
        rec(s, answers(), inspectors=[s["o1"].id])
    with pytest.raises(inspections.InspectionError, match="所在辖区"):
        rec(s, answers(), inspectors=[s["o1"].id, s["other"].id])
    # An officer of the county above the station may inspect with the station's officer.
    assert rec(s, answers(), inspectors=[s["o1"].id, s["county"].id]).result == "pass"


def test_every_item_answered_and_failures_explained(db, s):
    with pytest.raises(inspections.InspectionError, match="未填写"):
        rec(s, answers()[:-1])
    bad = answers(fail=ordinary_codes(1))
    bad[[r.outcome for r in bad].index("fail")].note = ""
    with pytest.raises(inspections.InspectionError, match="问题说明"):
        rec(s, bad, due=today() + timedelta(days=3))
    with pytest.raises(inspections.InspectionError, match="晚于今天"):
        rec(s, answers(), day=today() + timedelta(days=1))


def test_authorisation_other_station_and_viewer(db, s):
    with pytest.raises(access.Forbidden):
        rec(s, answers(), who=s["other"])
    viewer = f.user("viewer", s["j"]["xinaobao"])
    db.session.commit()
    with pytest.raises(access.Forbidden):
        rec(s, answers(), who=viewer)
    assert db.session.query(TierDecision).count() == 0


def test_overdue_rectifications_list(db, s):
    late = rec(
        s,
        answers(fail=ordinary_codes(1)),
        day=today() - timedelta(days=30),
        due=today() - timedelta(days=1),
    )
    rec(
        s, answers(fail=ordinary_codes(1)), day=today() - timedelta(days=30), due=today()
    )  # due today: not yet late
    listed = inspections.overdue_rectifications({s["j"]["xinaobao"].id})
    assert [i.id for i in listed] == [late.id]
    assert inspections.overdue_rectifications({s["j"]["kun1"].id}) == []
    inspections.complete_rectification(s["o2"], late, today())
    assert inspections.overdue_rectifications(None) == []
    with pytest.raises(inspections.InspectionError):
        inspections.complete_rectification(s["o2"], late, today())
