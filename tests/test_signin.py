"""Sign-in: lockout, CSRF, session hygiene, rate limit, TOTP second factor, and the accounts pages."""

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from shifangbang import users
from shifangbang.models import AuditLog, User

from . import factories as f
from .conftest import make_test_app
from .registry_helpers import login_as, world


def test_lockout_after_repeated_failures(client, db):
    u = f.user("officer", f.jurisdictions()["xinaobao"])
    db.session.commit()
    for _ in range(users.MAX_FAILED_LOGINS):
        r = f.login(client, u, "wrong-password-1")
        assert r.status_code == 200 and "用户名或密码错误" in r.get_data(as_text=True)
    r = f.login(client, u)  # the right password, but locked now
    assert r.status_code == 200 and "临时锁定" in r.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    assert db.session.scalar(
        select(AuditLog).where(AuditLog.action == "user.locked", AuditLog.entity_id == str(u.id))
    )
    # An administrator's password reset lifts the lock.
    users.set_password(None, u, f.PASSWORD)
    db.session.commit()
    assert f.login(client, u).status_code == 302


def test_csrf_rejects_a_post_without_token(app, db):
    w = world(db)
    client = login_as(app, w.admin)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = client.post(
            f"/admin/workshops/{w.own.id}/status",
            data={"status": "revoked", "on": "2026-01-01", "reason": "x", "version": w.own.version},
        )
        assert r.status_code == 400 and "安全校验失败" in r.get_data(as_text=True)
        r = client.post("/admin/login", data={"username": w.admin.username, "password": f.PASSWORD})
        assert r.status_code == 400
        # With the token from the page, the same form goes through.
        page = client.get(f"/admin/workshops/{w.own.id}/status").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        r = client.post(
            f"/admin/workshops/{w.own.id}/status",
            data={
                "status": "suspended",
                "on": "2026-01-01",
                "reason": "停业整顿",
                "version": w.own.version,
                "confirmed": "1",
                "csrf_token": token,
            },
        )
        assert r.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    db.session.expire_all()
    assert w.own.status == "suspended"


def test_session_is_fresh_after_sign_in_and_cookies_are_secure(app, client, db):
    u = f.user("admin")
    db.session.commit()
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    r = f.login(client, u)
    assert r.status_code == 302
    cookie = r.headers["Set-Cookie"]
    assert (
        "HttpOnly" in cookie and "SameSite=Lax" in cookie
    )  # Secure follows BASE_URL (tests/test_app.py)
    with client.session_transaction() as s:
        assert "planted" not in s and s["_user_id"] == str(u.id)
    assert app.login_manager.session_protection == "strong"
    client.post("/admin/logout")
    assert client.get("/admin/").status_code == 302


def test_login_is_rate_limited(tmp_path):
    from flask_migrate import upgrade

    app = make_test_app(f"sqlite:///{tmp_path / 'rl.db'}", tmp_path / "idx", RATELIMIT_ENABLED=True)
    with app.app_context():
        upgrade()
    client = app.test_client()
    codes = [
        client.post("/admin/login", data={"username": "nobody", "password": "x"}).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [200] * 10 and codes[-1] == 429


def test_next_parameter_stays_in_back_office(client, db):
    u = f.user("admin")
    db.session.commit()
    r = client.post(
        "/admin/login?next=https://evil.example/",
        data={"username": u.username, "password": f.PASSWORD},
    )
    assert r.headers["Location"] == "/admin/"


# --- TOTP ----------------------------------------------------------------------------------------


def test_totp_enrolment_and_second_step(client, db):
    u = f.user("admin")
    db.session.commit()
    f.login(client, u)
    page = client.get("/admin/account/totp").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)[1]
    assert "otpauth://totp/" in page and "data:image/svg+xml;base64," in page
    r = client.post("/admin/account/totp", data={"code": "000000"})
    assert "动态验证码不正确" in r.get_data(as_text=True)
    r = client.post("/admin/account/totp", data={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, u.id).totp_secret == secret
    client.post("/admin/logout")

    # Password alone is not enough now.
    r = f.login(client, u)
    assert r.headers["Location"].startswith("/admin/login/totp")
    assert client.get("/admin/").status_code == 302
    r = client.post("/admin/login/totp", data={"code": "123456"})
    assert "动态验证码不正确" in r.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    r = client.post("/admin/login/totp", data={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 302 and client.get("/admin/").status_code == 200


def test_totp_step_needs_the_password_step_first(client, db):
    u = f.user("admin")
    u.totp_secret = pyotp.random_base32()
    db.session.commit()
    r = client.post("/admin/login/totp", data={"code": pyotp.TOTP(u.totp_secret).now()})
    assert (
        r.headers["Location"].startswith("/admin/login")
        and client.get("/admin/").status_code == 302
    )


def test_a_totp_code_signs_in_once(app, client, db):
    """A code read over a shoulder or replayed within its 30 seconds does not sign in again."""
    u = f.user("admin")
    u.totp_secret = pyotp.random_base32()
    db.session.commit()
    code = pyotp.TOTP(u.totp_secret).now()
    f.login(client, u)
    r = client.post("/admin/login/totp", data={"code": code})
    assert r.status_code == 302 and client.get("/admin/").status_code == 200
    other = app.test_client()
    f.login(other, u)
    r = other.post("/admin/login/totp", data={"code": code})
    assert (
        "动态验证码不正确" in r.get_data(as_text=True) and other.get("/admin/").status_code == 302
    )
    # The previous step's code (a phone clock running late) is older still: refused too.
    earlier = pyotp.TOTP(u.totp_secret).at(time.time() - 30)
    assert "动态验证码不正确" in other.post("/admin/login/totp", data={"code": earlier}).get_data(
        as_text=True
    )


def test_wrong_totp_codes_lock_the_account(client, db):
    u = f.user("admin")
    u.totp_secret = pyotp.random_base32()
    db.session.commit()
    f.login(client, u)
    for _ in range(users.MAX_FAILED_LOGINS):
        client.post("/admin/login/totp", data={"code": "000000"})
    r = client.post("/admin/login/totp", data={"code": pyotp.TOTP(u.totp_secret).now()})
    assert "临时锁定" in r.get_data(as_text=True) and client.get("/admin/").status_code == 302


def test_required_totp_blocks_everything_until_enrolled(client, runner, db):
    u = f.user("admin")
    db.session.commit()
    result = runner.invoke(args=["users", "totp", u.username, "--require"])
    assert result.exit_code == 0 and "必须" in result.output
    f.login(client, u)
    r = client.get("/admin/workshops")
    assert r.status_code == 302 and r.headers["Location"] == "/admin/account/totp"
    assert client.get("/admin/account/totp").status_code == 200
    # Lost phone: the CLI clears the secret; the next sign-in asks to enrol again.
    db.session.expire_all()
    user = db.session.get(User, u.id)
    user.totp_secret = pyotp.random_base32()
    db.session.commit()
    result = runner.invoke(args=["users", "totp", u.username, "--reset"])
    assert result.exit_code == 0
    db.session.expire_all()
    user = db.session.get(User, u.id)
    assert user.totp_secret is None and user.totp_required is True


# --- accounts pages -----------------------------------------------------------------------------


def test_admin_creates_deactivates_and_resets_accounts(app, db):
    w = world(db)
    client = login_as(app, w.admin)
    r = client.post(
        "/admin/users",
        data={
            "username": "zhang.san",
            "display_name": "张三",
            "role": "officer",
            "jurisdiction_id": w.stations["kun1"].id,
            "password": "short",
        },
    )
    assert r.status_code == 422 and "密码至少" in r.get_data(as_text=True)
    assert 'value="zhang.san"' in r.get_data(as_text=True)  # what was typed is kept
    r = client.post(
        "/admin/users",
        data={
            "username": "zhang.san",
            "display_name": "张三",
            "role": "officer",
            "jurisdiction_id": w.stations["kun1"].id,
            "password": "Kunbei-2026!",
        },
    )
    assert r.status_code == 302
    new = db.session.scalar(select(User).where(User.username == "zhang.san"))
    assert new.role == "officer" and new.jurisdiction_id == w.stations["kun1"].id
    assert f.login(app.test_client(), new, "Kunbei-2026!").status_code == 302

    client.post(
        f"/admin/users/{new.id}",
        data={
            "action": "update",
            "role": "viewer",
            "display_name": "张三",
            "jurisdiction_id": w.stations["kun1"].id,
        },
    )
    client.post(f"/admin/users/{new.id}", data={"action": "deactivate", "confirmed": "1"})
    db.session.expire_all()
    new = db.session.get(User, new.id)
    assert new.role == "viewer" and not new.active
    other = app.test_client()
    r = f.login(other, new, "Kunbei-2026!")
    assert r.status_code == 200 and "用户名或密码错误" in r.get_data(as_text=True)

    client.post(f"/admin/users/{new.id}", data={"action": "activate"})
    client.post(f"/admin/users/{new.id}", data={"action": "password", "password": "Another-pass-9"})
    assert f.login(app.test_client(), new, "Another-pass-9").status_code == 302
    actions = db.session.scalars(
        select(AuditLog.action).where(AuditLog.entity == "user", AuditLog.entity_id == str(new.id))
    ).all()
    assert {
        "user.create",
        "user.update",
        "user.deactivate",
        "user.activate",
        "user.reset_password",
    } <= set(actions)


def test_admin_cannot_lock_themselves_out(app, db):
    w = world(db)
    client = login_as(app, w.admin)
    r = client.post(f"/admin/users/{w.admin.id}", data={"action": "deactivate", "confirmed": "1"})
    assert r.status_code == 422 and "不能停用自己的账号" in r.get_data(as_text=True)
    r = client.post(
        f"/admin/users/{w.admin.id}",
        data={
            "action": "update",
            "role": "viewer",
            "display_name": "x",
            "jurisdiction_id": w.stations["kun1"].id,
        },
    )
    assert r.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, w.admin.id).role == "admin"


def test_officer_cannot_manage_accounts_even_through_the_domain(app, db):
    w = world(db)
    from shifangbang.access import Forbidden

    with app.test_request_context(), pytest.raises(Forbidden):
        users.create_user(w.officer, "sneaky", "Sneaky-pass-1", "admin", "偷偷")
    r = login_as(app, w.officer).post(
        "/admin/users",
        data={
            "username": "sneaky",
            "display_name": "x",
            "role": "admin",
            "password": "Sneaky-pass-1",
        },
    )
    assert r.status_code == 403
    assert db.session.scalar(select(User).where(User.username == "sneaky")) is None
