"""Tier decisions: propose → decide → publish; authorisation; the current tier follows publication."""

import pytest

from shifangbang import access, tiers
from shifangbang.models import AuditLog, ChangeLog, TierDecision

from . import factories as f


@pytest.fixture
def setup(db):
    j = f.jurisdictions()
    data = {
        "j": j,
        "w": f.workshop(j["xinaobao"], tier_code="silver"),
        "officer": f.user("officer", j["xinaobao"]),
        "other_officer": f.user("officer", j["kun1"]),
        "admin": f.user("admin"),
        "viewer": f.user("viewer", j["donghe"]),
    }
    db.session.commit()  # a refused operation rolls back to here, not to an empty database
    return data


def test_full_cycle_changes_public_tier_only_on_publish(db, setup):
    w, officer, admin = setup["w"], setup["officer"], setup["admin"]
    d = tiers.propose(
        officer,
        w,
        "bronze",
        "hygiene",
        "后厨卫生差",
        public_reason="经现场检查核实，依据检查结果调整。",
    )
    assert d.direction == "downgrade" and w.tier_code == "silver"
    tiers.decide(admin, d, approve=True)
    assert w.tier_code == "silver" and tiers.pending_publication(w) is d
    changes_before = db.session.query(ChangeLog).filter_by(workshop_id=w.id).count()
    tiers.publish(admin, d)
    assert w.tier_code == "bronze" and w.tier_since is not None
    assert tiers.pending_publication(w) is None
    assert tiers.published_history(w) == [d]
    assert db.session.query(ChangeLog).filter_by(workshop_id=w.id).count() == changes_before + 1
    actions = [a.action for a in db.session.query(AuditLog).order_by(AuditLog.seq)]
    assert actions[-3:] == ["tier.propose", "tier.decide", "tier.publish"]


def test_officer_cannot_decide_and_other_station_cannot_propose(db, setup):
    w = setup["w"]
    with pytest.raises(access.Forbidden):
        tiers.propose(
            setup["other_officer"],
            w,
            "gold",
            "inspection",
            public_reason="经现场检查核实，依据检查结果调整。",
        )
    with pytest.raises(access.Forbidden):
        tiers.propose(
            setup["viewer"],
            w,
            "gold",
            "inspection",
            public_reason="经现场检查核实，依据检查结果调整。",
        )
    d = tiers.propose(
        setup["officer"],
        w,
        "gold",
        "inspection",
        public_reason="经现场检查核实，依据检查结果调整。",
    )
    with pytest.raises(access.Forbidden):
        tiers.decide(setup["officer"], d, approve=True)
    with pytest.raises(tiers.TierError):
        tiers.publish(setup["admin"], d)  # not decided yet


def test_rejected_decision_is_never_public(db, setup):
    d = tiers.propose(
        setup["officer"],
        setup["w"],
        "gold",
        "inspection",
        public_reason="经现场检查核实，依据检查结果调整。",
    )
    tiers.decide(setup["admin"], d, approve=False, note="检查记录不足以支持升榜")
    assert d.status == "rejected" and setup["w"].tier_code == "silver"
    with pytest.raises(tiers.TierError):
        tiers.publish(setup["admin"], d)


def test_upgrade_request_limit(db, setup):
    w, officer = setup["w"], setup["officer"]
    first = tiers.propose(
        officer,
        w,
        "gold",
        "upgrade_request",
        upgrade_request=True,
        public_reason="经现场检查核实，依据检查结果调整。",
    )
    # One open proposal per workshop: the first is decided (rejected) before the next one.
    tiers.decide(setup["admin"], first, approve=False, note="条件尚不具备")
    second = tiers.propose(
        officer,
        w,
        "gold",
        "upgrade_request",
        upgrade_request=True,
        public_reason="经现场检查核实，依据检查结果调整。",
    )
    tiers.decide(setup["admin"], second, approve=False, note="条件尚不具备")
    with pytest.raises(tiers.TierError, match="已达上限"):
        tiers.propose(
            officer,
            w,
            "gold",
            "upgrade_request",
            upgrade_request=True,
            public_reason="经现场检查核实，依据检查结果调整。",
        )


def test_failed_rule_rolls_back_everything(db, setup):
    n = db.session.query(TierDecision).count()
    with pytest.raises(tiers.TierError):
        tiers.propose(
            setup["officer"],
            setup["w"],
            "platinum",
            "inspection",
            public_reason="经现场检查核实，依据检查结果调整。",
        )
    assert db.session.query(TierDecision).count() == n
