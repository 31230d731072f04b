"""Sessions carry the user's nonce: a cookie saved before sign-out, a password change or reset, or
deactivation stops working; a cookie moved to another client (User-Agent) is refused."""

from sqlalchemy import select

from shifangbang import users
from shifangbang.models import AuditLog, User

from .. import factories as f
from ..registry_helpers import login_as, world


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _with_cookie(app, value: str, ua: str | None = None):
    other = app.test_client()
    other.set_cookie("session", value)
    if ua:
        other.environ_base["HTTP_USER_AGENT"] = ua
    return other


def test_saved_cookie_stops_working_after_sign_out(app, db):
    u = f.user("officer", f.jurisdictions()["xinaobao"])
    db.session.commit()
    client = login_as(app, u)
    saved = _cookie(client)
    assert _with_cookie(app, saved).get("/admin/").status_code == 200
    client.post("/admin/logout")
    assert _with_cookie(app, saved).get("/admin/").status_code == 302


def test_saved_cookie_stops_working_after_reset_and_deactivation(app, db):
    w = world(db)
    victim = login_as(app, w.officer)
    saved = _cookie(victim)
    admin = login_as(app, w.admin)
    r = admin.post(
        f"/admin/users/{w.officer.id}",
        data={"action": "password", "password": "Qiang-mima-7788", "confirmed": "1"},
    )
    assert r.status_code == 302
    assert _with_cookie(app, saved).get("/admin/").status_code == 302
    # Sign in with the new password, then the account is deactivated: that cookie dies too.
    fresh = app.test_client()
    assert f.login(fresh, w.officer, "Qiang-mima-7788").status_code == 302
    saved = _cookie(fresh)
    admin.post(f"/admin/users/{w.officer.id}", data={"action": "deactivate", "confirmed": "1"})
    db.session.expire_all()
    admin.post(f"/admin/users/{w.officer.id}", data={"action": "activate", "confirmed": "1"})
    assert _with_cookie(app, saved).get("/admin/").status_code == 302


def test_cookie_from_another_client_is_refused(app, db):
    u = f.user("admin")
    db.session.commit()
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = "Officer-Browser/1.0"
    assert f.login(client, u).status_code == 302
    assert client.get("/admin/").status_code == 200
    saved = _cookie(client)
    assert _with_cookie(app, saved, "Officer-Browser/1.0").get("/admin/").status_code == 200
    assert _with_cookie(app, saved, "Thief-Browser/2.0").get("/admin/").status_code == 302


def test_change_own_password_rotates_other_sessions_and_is_audited(app, db):
    u = f.user("viewer", f.jurisdictions()["xinaobao"])
    db.session.commit()
    phone = login_as(app, u)
    desk = login_as(app, u)
    assert desk.get("/admin/account/password").status_code == 200
    r = desk.post(
        "/admin/account/password",
        data={"current": "wrong-one-123", "new": "Xin-mima-2468", "confirm": "Xin-mima-2468"},
    )
    assert r.status_code == 422 and "当前密码不正确" in r.get_data(as_text=True)
    r = desk.post(
        "/admin/account/password",
        data={"current": f.PASSWORD, "new": "password123", "confirm": "password123"},
    )
    assert r.status_code == 422 and "太常见" in r.get_data(as_text=True)
    r = desk.post(
        "/admin/account/password",
        data={"current": f.PASSWORD, "new": "Xin-mima-2468", "confirm": "Xin-mima-2468"},
    )
    assert r.status_code == 302
    assert desk.get("/admin/").status_code == 200  # this session goes on
    assert phone.get("/admin/").status_code == 302  # the other one ends
    assert db.session.scalar(
        select(AuditLog).where(
            AuditLog.action == "user.change_password", AuditLog.entity_id == str(u.id)
        )
    )
    assert f.login(app.test_client(), u, "Xin-mima-2468").status_code == 302


def test_password_policy_refuses_common_and_username_based(db):
    for password, username in (
        ("password12", "wanggang"),
        ("Qwerty2026!", "wanggang"),
        ("12345678ab", "wanggang"),
        ("Wanggang-2026", "wanggang"),
        ("xx-WANGGANG-1", "wanggang"),
    ):
        try:
            users.create_user(None, username, password, "admin", "王刚")
        except users.UserError:
            continue
        raise AssertionError(f"{password!r} accepted")
    user = users.create_user(None, "wanggang", "Caoyuan-ma-5813", "admin", "王刚")
    assert user.id
    from shifangbang.demo import DEMO_ACCOUNTS

    for username, password, _role in DEMO_ACCOUNTS:
        users.check_password_strength(password, username)


def test_totp_enrolment_secret_is_not_in_the_cookie(app, db):
    import re

    u = f.user("admin")
    db.session.commit()
    client = login_as(app, u)
    page = client.get("/admin/account/totp").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)[1]
    session = app.session_interface.get_signing_serializer(app).loads(_cookie(client))
    assert secret not in repr(session)  # the cookie is signed, not encrypted: anyone can read it
    db.session.expire_all()
    assert db.session.get(User, u.id).totp_pending_secret == secret
    # The same secret is shown again (the QR scanned a minute ago stays valid).
    again = client.get("/admin/account/totp").get_data(as_text=True)
    assert f'id="totp-secret">{secret}<' in again
