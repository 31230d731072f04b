"""Sign-in: growing delays per (name, client) and per name instead of a 15-minute lock anyone
could trigger; unknown, wrong and throttled names answer alike and in about the same time."""

import re
import statistics
import time
from datetime import timedelta

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from shifangbang import users
from shifangbang.models import SignInThrottle, User

from .. import factories as f


def _client(app, ip: str):
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = ip
    return c


def _post(client, username: str, password: str):
    return client.post("/admin/login", data={"username": username, "password": password})


def test_an_attacker_cannot_lock_the_owner_out(app, db):
    u = f.user("admin")
    db.session.commit()
    attacker = _client(app, "203.0.113.7")
    for _ in range(users.MAX_FAILED_LOGINS + 3):
        _post(attacker, u.username, "guess-guess-1")
    r = _post(attacker, u.username, f.PASSWORD)
    assert r.status_code == 200 and "秒后再试" in r.get_data(as_text=True)
    # Before: "临时锁定 … 15 分钟" for everyone. Now the owner, elsewhere, signs in at once.
    assert _post(_client(app, "198.51.100.20"), u.username, f.PASSWORD).status_code == 302


def test_delays_grow_and_are_capped(app, db):
    name = "nobody-here"
    ip = "192.0.2.1"
    waits = []
    for _ in range(users.MAX_FAILED_LOGINS + 20):
        for row in db.session.scalars(select(SignInThrottle)):
            row.last_failed_at -= timedelta(hours=1)  # as if the previous wait were over
        db.session.flush()
        assert users.authenticate(name, "x", ip) == (None, "用户名或密码错误。")
        db.session.expire_all()
        waits.append(users.throttle_wait(name, ip))
    assert waits[: users.MAX_FAILED_LOGINS - 1] == [0] * (users.MAX_FAILED_LOGINS - 1)
    growing = waits[users.MAX_FAILED_LOGINS - 1 :]
    assert growing[:4] == [2, 4, 8, 16] and max(growing) == users.CLIENT_MAX_DELAY
    # From anywhere else the name waits at most ACCOUNT_MAX_DELAY, however many failures.
    assert 0 < users.throttle_wait(name, "192.0.2.99") <= users.ACCOUNT_MAX_DELAY


def test_unknown_and_throttled_names_answer_alike(app, db):
    real = f.user("admin")
    real.password_hash = generate_password_hash("Real-pass-2026")  # the production hash cost
    db.session.commit()
    client = _client(app, "203.0.113.50")

    def timed(username: str, password: str) -> tuple[str, float]:
        start = time.perf_counter()
        r = _post(client, username, password)
        elapsed = time.perf_counter() - start
        return re.search(r'class="flash error">([^<]*)<', r.get_data(as_text=True))[1], elapsed

    # What would give a name away: one password hash more or less (before: a locked account
    # answered in 16 ms, an unknown name in 400 ms).
    hashes = []
    for _ in range(3):
        start = time.perf_counter()
        check_password_hash(real.password_hash, "Wrong-pass-1")
        hashes.append(time.perf_counter() - start)
    one_hash = statistics.median(hashes)

    def apart(a, b) -> float:
        return abs(statistics.median(d for _, d in a) - statistics.median(d for _, d in b))

    # Not yet throttled: the same message, and both pay for one password hash.
    wrong, unknown = [], []
    for _ in range(3):  # interleaved, so a burst of load on the machine hits both alike
        wrong.append(timed(real.username, "Wrong-pass-1"))
        unknown.append(timed("no-such-user", "Wrong-pass-1"))
    assert {t for t, _ in wrong} == {t for t, _ in unknown}
    assert apart(wrong, unknown) < one_hash / 2, (apart(wrong, unknown), one_hash)
    # Throttled: the same message for both names, and no hash for either.
    for _ in range(3):
        timed(real.username, "Wrong-pass-1"), timed("no-such-user", "Wrong-pass-1")
    real_runs, none_runs = [], []
    for _ in range(5):
        real_runs.append(timed(real.username, "Real-pass-2026"))
        none_runs.append(timed("no-such-user", "Real-pass-2026"))
    assert {t for t, _ in real_runs} == {t for t, _ in none_runs}
    assert "秒后再试" in real_runs[0][0]
    assert apart(real_runs, none_runs) < one_hash / 2, (apart(real_runs, none_runs), one_hash)


def test_wrong_totp_codes_are_throttled_like_passwords(app, db):
    import pyotp

    u = f.user("admin")
    u.totp_secret = pyotp.random_base32()
    db.session.commit()
    client = _client(app, "203.0.113.9")
    assert _post(client, u.username, f.PASSWORD).status_code == 302
    for _ in range(users.MAX_FAILED_LOGINS):
        client.post("/admin/login/totp", data={"code": "000000"})
    r = client.post("/admin/login/totp", data={"code": pyotp.TOTP(u.totp_secret).now()})
    assert "秒后再试" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, u.id).locked_until is None  # no lock anyone could set


def test_accounts_page_shows_an_account_under_attack(app, db):
    from ..registry_helpers import login_as, world

    w = world(db)
    for i in range(users.ACCOUNT_FREE_FAILURES):
        _post(_client(app, f"203.0.113.{i + 1}"), w.officer.username, "guess-guess-1")
    page = login_as(app, w.admin).get("/admin/users").get_data(as_text=True)
    assert "登录受限" in page and page.count("登录受限") == 1
