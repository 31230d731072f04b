"""One gate for the back office: every /admin page needs a session, honours the TOTP enrolment
requirement and is sent with Cache-Control: no-store (exports included)."""

import re

from flask import url_for

from shifangbang.models import TierDecision

from .. import factories as f
from ..registry_helpers import login_as, world


def _get_rules(app) -> list:
    return [
        r
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/admin") and "GET" in r.methods and r.endpoint != "static"
    ]


def _path(app, rule) -> str:
    with app.test_request_context():
        return url_for(rule.endpoint, **{a: 1 for a in rule.arguments})


def test_every_back_office_page_is_no_store_and_needs_sign_in(app, client, db):
    w = world(db)
    rules = _get_rules(app)
    assert len(rules) > 25
    for rule in rules:
        path = _path(app, rule)
        r = client.get(path)
        assert r.headers.get("Cache-Control") == "no-store", path
        if rule.endpoint not in ("admin.login", "admin.login_totp"):
            assert r.status_code == 302 and "/admin/login" in r.headers["Location"], path
    admin = login_as(app, w.admin)
    checked = 0
    for rule in rules:
        r = admin.get(_path(app, rule))
        assert r.headers.get("Cache-Control") == "no-store", rule.rule
        checked += r.status_code == 200
    # The ones found lacking on main (accounts, audit log, records, exports with phones and IDs).
    for path in (
        "/admin/users",
        "/admin/audit",
        f"/admin/workshops/{w.own.id}",
        "/admin/workshops/export.csv",
        "/admin/workshops/export.xlsx",
        "/admin/stats/sheet.xlsx",
    ):
        r = admin.get(path)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", path
    assert checked > 15


def test_totp_requirement_is_enforced_on_every_page(app, db):
    u = f.user("admin")
    db.session.commit()
    client = login_as(app, u)
    u.totp_required = True
    db.session.commit()
    for path in ("/admin/", "/admin/workshops", "/admin/users", "/admin/workshops/export.csv"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"] == "/admin/account/totp", path
    assert client.get("/admin/account/totp").status_code == 200


def test_no_open_redirect_through_back_fields(app, db):
    w = world(db)
    admin = login_as(app, w.admin)

    def decision() -> TierDecision:
        # One open proposal per workshop: close the previous round's before filing the next.
        for old in TierDecision.query.filter(
            TierDecision.workshop_id == w.own.id,
            TierDecision.status.in_(("proposed", "decided")),
        ):
            old.status = "rejected"
        d = TierDecision(
            workshop_id=w.own.id,
            from_tier="unrated",
            to_tier="bronze",
            direction="initial",
            reason_category="initial",
        )
        db.session.add(d)
        db.session.commit()
        return d

    for back in (
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
    ):
        for action in ("decide", "publish"):
            r = admin.post(
                f"/admin/tiers/{decision().id}/{action}",
                data={"back": back, "approve": "0", "note": "证据不足", "confirmed": "1"},
            )
            assert r.status_code == 302 and r.headers["Location"] == "/admin/tiers/", (action, back)
    d = decision()
    r = admin.post(
        f"/admin/tiers/{d.id}/publish",
        data={"back": f"/admin/tiers/w/{w.own.id}", "confirmed": "1"},
    )
    assert r.headers["Location"] == f"/admin/tiers/w/{w.own.id}"  # a page of ours still works
    admin_page = admin.get("/admin/")
    assert re.search("修改密码", admin_page.get_data(as_text=True))
