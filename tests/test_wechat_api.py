"""The mini-program backend against a local fake of WeChat's server API (tests/wechat_fake.py):
sign-in, bound cases, verified phone, subscriptions and the outbox, scanned posters."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shifangbang import complaints, posters, tiers, wechat_outbox
from shifangbang.models import (
    WechatBinding,
    WechatOutbox,
    WechatSession,
    WechatSubscription,
    WechatToken,
    WechatUser,
)
from shifangbang.timeutil import utcnow
from tests import complaint_data as cd
from tests import factories

from .conftest import CASE_TEMPLATE, WORKSHOP_TEMPLATE
from .wechat_fake import APPID, SECRET


@pytest.fixture
def p(db):
    places = cd.place()
    db.session.commit()
    return places


def login(client, fake, openid="oUser-0001") -> str:
    r = client.post("/api/v1/wechat/login", json={"code": fake.issue_code(openid)})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def file_report(client, token, workshop, **extra):
    form = {
        "kind": "report",
        "workshop_code": workshop.public_code,
        "category": "spoiled",
        "content": cd.CONTENT,
        "reporter_name": cd.NAME,
        "reporter_phone": cd.PHONE,
        **extra,
    }
    headers = bearer(token) if token else {}
    r = client.post(
        "/api/v1/complaints", data=form, headers=headers, content_type="multipart/form-data"
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


# --- sign-in ---------------------------------------------------------------------------------


def test_login_gives_an_opaque_token_stored_only_as_its_hash(client, db, wx):
    r = client.post("/api/v1/wechat/login", json={"code": wx.issue_code("oAlice")})
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) == {"token", "expires_in"} and body["expires_in"] == 30 * 86400
    assert "oAlice" not in body["token"]
    stored = db.session.scalars(select(WechatSession.token_hash)).all()
    assert body["token"] not in stored and len(stored) == 1
    call = [q for path, q in wx.requests if path == "sns/jscode2session"][-1]
    assert call["appid"] == APPID and call["secret"] == SECRET
    assert call["grant_type"] == "authorization_code"
    # The session_key is not kept anywhere.
    assert db.session.scalar(select(func.count()).select_from(WechatUser)) == 1
    assert not hasattr(WechatUser, "session_key")
    r = client.get("/api/v1/me/complaints", headers=bearer(body["token"]))
    assert r.status_code == 200 and r.get_json() == {"items": [], "total": 0}


def test_login_errors_map_to_clear_api_errors(client, db, wx):
    r = client.post("/api/v1/wechat/login", json={"code": "never-issued"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_code"
    code = wx.issue_code("oBob")
    assert client.post("/api/v1/wechat/login", json={"code": code}).status_code == 200
    assert client.post("/api/v1/wechat/login", json={"code": code}).status_code == 401  # used
    for errcode in (45011, -1):
        wx.fail("sns/jscode2session", errcode)
        r = client.post("/api/v1/wechat/login", json={"code": wx.issue_code("oBob")})
        assert r.status_code == 503, errcode
        assert int(r.headers["Retry-After"]) > 0
        assert "微信服务繁忙" in r.get_json()["error"]["message"]
    assert client.post("/api/v1/wechat/login", json={}).status_code == 400
    assert client.post("/api/v1/wechat/login", data="code=x").status_code == 415


def test_without_an_appid_the_mini_program_is_off(client, db, fake):
    r = client.post("/api/v1/wechat/login", json={"code": fake.issue_code("oX")})
    assert r.status_code == 503 and "Retry-After" in r.headers


def test_me_needs_a_valid_token(client, db, wx):
    r = client.get("/api/v1/me/complaints")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/me/complaints", headers=bearer("forged")).status_code == 401
    token = login(client, wx)
    db.session.execute(
        WechatSession.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1))
    )
    assert client.get("/api/v1/me/complaints", headers=bearer(token)).status_code == 401


# --- bound cases -----------------------------------------------------------------------------


def test_a_report_filed_with_a_token_is_listed_without_a_password(client, db, wx, p):
    token = login(client, wx, "oCarol")
    body = file_report(client, token, p["workshop"])
    assert body["bound"] is True
    number = body["items"][0]["tracking_no"]
    listed = client.get("/api/v1/me/complaints", headers=bearer(token)).get_json()
    assert [i["tracking_no"] for i in listed["items"]] == [number]
    item = listed["items"][0]
    assert item["status"] == "new" and item["due_on"] and item["replies"] == []
    c = db.session.scalar(
        select(complaints.Complaint).where(complaints.Complaint.tracking_no == number)
    )
    complaints.transition(p["officer"], c, "verify", public_reply="已安排执法人员核查。")
    item = client.get("/api/v1/me/complaints", headers=bearer(token)).get_json()["items"][0]
    assert item["status"] == "verifying"
    assert [r["text"] for r in item["replies"]] == ["已安排执法人员核查。"]
    # Another user sees nothing of it.
    other = login(client, wx, "oDave")
    assert client.get("/api/v1/me/complaints", headers=bearer(other)).get_json()["total"] == 0


def test_anonymous_reports_stay_anonymous_and_unbound(client, db, wx, p):
    token = login(client, wx, "oErin")
    body = file_report(client, token, p["workshop"], reporter_name="", reporter_phone="")
    assert body["bound"] is False
    assert db.session.scalar(select(func.count()).select_from(WechatBinding)) == 0
    assert client.get("/api/v1/me/complaints", headers=bearer(token)).get_json()["total"] == 0
    # Without a token nothing is bound either; with a bad one the client is told to sign in again.
    assert file_report(client, None, p["workshop"])["bound"] is False
    r = client.post(
        "/api/v1/complaints",
        data={"kind": "report", "content": cd.CONTENT},
        headers=bearer("expired-token"),
        content_type="multipart/form-data",
    )
    assert r.status_code == 401


def test_officers_see_that_a_case_is_bound_never_the_openid(client, db, wx, p):
    token = login(client, wx, "oSecretOpenid42")
    number = file_report(client, token, p["workshop"])["items"][0]["tracking_no"]
    c = db.session.scalar(
        select(complaints.Complaint).where(complaints.Complaint.tracking_no == number)
    )
    factories.login(client, p["officer"])
    html = client.get(f"/admin/complaints/{c.id}").get_data(as_text=True)
    assert "已绑定微信" in html
    assert "oSecretOpenid42" not in html
    html = client.post(f"/admin/complaints/{c.id}/identity").get_data(as_text=True)
    assert cd.NAME in html and "oSecretOpenid42" not in html


def test_verified_phone_on_a_named_complaint(client, db, wx, p):
    token = login(client, wx, "oFrank")
    number = file_report(client, token, p["workshop"])["items"][0]["tracking_no"]
    url = f"/api/v1/me/complaints/{number}/phone"
    r = client.post(url, json={"code": wx.issue_phone_code("13900000000")}, headers=bearer(token))
    assert r.status_code == 422 and "不一致" in r.get_json()["error"]["message"]
    r = client.post(url, json={"code": "not-issued"}, headers=bearer(token))
    assert r.status_code == 422
    wx.expire_token()  # the cached access token is now stale: refreshed on 40001, then retried
    r = client.post(url, json={"code": wx.issue_phone_code(cd.PHONE)}, headers=bearer(token))
    assert r.status_code == 200 and r.get_json()["phone_verified"] is True
    c = db.session.scalar(
        select(complaints.Complaint).where(complaints.Complaint.tracking_no == number)
    )
    assert c.reporter_phone_verified_at is not None
    assert any(t.get("force_refresh") for t in wx.token_requests)
    factories.login(client, p["officer"])
    assert "手机号已通过微信验证" in client.get(f"/admin/complaints/{c.id}").get_data(as_text=True)
    other = login(client, wx, "oGrace")
    r = client.post(url, json={"code": wx.issue_phone_code(cd.PHONE)}, headers=bearer(other))
    assert r.status_code == 404  # not theirs


# --- subscriptions and the outbox ------------------------------------------------------------


def subscribe_case(client, token, number):
    r = client.post(
        "/api/v1/me/subscriptions",
        json={"kind": "case", "tracking_no": number},
        headers=bearer(token),
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _bound_case(client, db, wx, p, openid):
    token = login(client, wx, openid)
    number = file_report(client, token, p["workshop"])["items"][0]["tracking_no"]
    c = db.session.scalar(
        select(complaints.Complaint).where(complaints.Complaint.tracking_no == number)
    )
    return token, number, c


def test_a_case_subscription_sends_one_message_when_the_case_moves(client, db, wx, p):
    token, number, c = _bound_case(client, db, wx, p, "oHeidi")
    sub = subscribe_case(client, token, number)
    assert sub["template_id"] == CASE_TEMPLATE and sub["status"] == "active"
    complaints.add_note(p["officer"], c, "内部备注：不是进度")  # internal: no notice
    assert wechat_outbox.deliver_due() == {}
    complaints.transition(p["officer"], c, "verify", public_reply="已安排核查。")
    assert wechat_outbox.deliver_due() == {"sent": 1}
    [message] = wx.sent_to("oHeidi")
    assert message["template_id"] == CASE_TEMPLATE
    assert message["page"] == f"pages/case/detail?no={number}"
    assert message["data"]["character_string1"] == {"value": number}
    assert message["data"]["phrase2"] == {"value": "核查中"}  # 5 characters at most
    assert message["data"]["thing4"] == {"value": "已安排核查。"}
    assert message["miniprogram_state"] == "formal" and message["lang"] == "zh_CN"
    # One-time: the next move sends nothing until the user subscribes again.
    complaints.transition(p["officer"], c, "open_case")
    assert wechat_outbox.deliver_due() == {} and len(wx.sent_to("oHeidi")) == 1
    assert db.session.get(WechatSubscription, sub["id"]).status == "used"


def test_logout_ends_only_this_sign_in(client, db, wx, p):
    phone, tablet = login(client, wx, "oIvan"), login(client, wx, "oIvan")
    assert client.post("/api/v1/wechat/logout", headers=bearer(phone)).status_code == 204
    assert client.get("/api/v1/me/complaints", headers=bearer(phone)).status_code == 401
    assert client.get("/api/v1/me/complaints", headers=bearer(tablet)).status_code == 200
    again = client.post("/api/v1/wechat/logout", headers=bearer(phone))
    assert again.status_code == 401 and again.get_json()["error"]["code"] == "unauthorized"
    assert client.post("/api/v1/wechat/logout").status_code == 401


def test_deleting_the_account_forgets_the_user_and_keeps_the_cases(client, db, wx, p):
    token = login(client, wx, "oJudy")
    receipt = file_report(client, token, p["workshop"])
    number, password = receipt["items"][0]["tracking_no"], receipt["password"]
    c = db.session.scalar(
        select(complaints.Complaint).where(complaints.Complaint.tracking_no == number)
    )
    r = client.post(
        f"/api/v1/me/complaints/{number}/phone",
        json={"code": wx.issue_phone_code(cd.PHONE)},
        headers=bearer(token),
    )
    assert r.status_code == 200
    subscribe_case(client, token, number)
    complaints.transition(p["officer"], c, "verify", public_reply="已安排核查。")  # a notice queued
    other = login(client, wx, "oKeep")
    user_id = db.session.scalar(select(WechatUser.id).where(WechatUser.openid == "oJudy"))

    r = client.delete("/api/v1/me", headers=bearer(token))
    assert r.status_code == 200 and r.get_json() == {"deleted": True, "cases_unbound": 1}
    for model in (WechatSession, WechatBinding, WechatSubscription, WechatOutbox):
        rows = select(func.count()).select_from(model).where(model.user_id == user_id)
        assert db.session.scalar(rows) == 0, model.__name__
    assert db.session.scalar(select(WechatUser).where(WechatUser.openid == "oJudy")) is None
    assert wechat_outbox.deliver_due() == {} and wx.sent_to("oJudy") == []  # nothing goes out
    assert client.get("/api/v1/me/complaints", headers=bearer(token)).status_code == 401
    # The case stays as the bureau's record, no longer shown as bound; other users are untouched.
    tracked = client.get(
        f"/api/v1/complaints/{number}", headers={"X-Tracking-Password": password}
    ).get_json()
    assert tracked["status"] == "verifying"  # still tracked with its number and password
    factories.login(client, p["officer"])
    page = client.get(f"/admin/complaints/{c.id}").get_data(as_text=True)
    assert "已绑定微信" not in page
    assert "手机号已通过微信验证" in page  # the case's own record outlives the account
    assert client.get("/api/v1/me/complaints", headers=bearer(other)).status_code == 200


def test_stale_token_is_refreshed_once_and_shared(client, db, wx, p):
    token, number, c = _bound_case(client, db, wx, p, "oIvan")
    subscribe_case(client, token, number)
    wechat_outbox.access_token(wechat_outbox.Client.from_config(client.application.config))
    wx.expire_token()
    complaints.transition(p["officer"], c, "verify")
    assert wechat_outbox.deliver_due() == {"sent": 1}
    row = db.session.get(WechatToken, 1, populate_existing=True)
    assert row.access_token == wx.token  # the refreshed token is stored for every worker


def test_busy_wechat_backs_off_and_retries(client, db, wx, p):
    token, number, c = _bound_case(client, db, wx, p, "oJudy")
    subscribe_case(client, token, number)
    wx.fail("cgi-bin/message/subscribe/send", -1, 45011)
    complaints.transition(p["officer"], c, "verify")
    assert wechat_outbox.deliver_due() == {"pending": 1}
    row = db.session.scalar(select(WechatOutbox))
    first_wait = row.next_attempt_at - utcnow()
    assert row.attempts == 1 and timedelta(seconds=5) < first_wait <= timedelta(seconds=10)
    assert wechat_outbox.deliver_due() == {}  # not due yet
    row.next_attempt_at = utcnow()
    db.session.commit()
    assert wechat_outbox.deliver_due() == {"pending": 1}
    db.session.refresh(row)
    assert row.attempts == 2 and row.next_attempt_at - utcnow() > first_wait  # exponential
    row.next_attempt_at = utcnow()
    db.session.commit()
    assert wechat_outbox.deliver_due() == {"sent": 1}
    assert len(wx.sent_to("oJudy")) == 1


def test_a_refused_subscription_is_dropped(client, db, wx, p):
    token, number, c = _bound_case(client, db, wx, p, "oKim")
    sub = subscribe_case(client, token, number)
    wx.refusing.add("oKim")
    complaints.transition(p["officer"], c, "verify")
    assert wechat_outbox.deliver_due() == {"dropped": 1}
    assert db.session.get(WechatSubscription, sub["id"]).status == "dropped"
    assert db.session.scalar(select(WechatOutbox.status)) == "dropped"
    assert wechat_outbox.deliver_due() == {} and wx.sent_to("oKim") == []


def test_a_claim_is_taken_once(client, db, wx, p):
    token, number, c = _bound_case(client, db, wx, p, "oLeo")
    subscribe_case(client, token, number)
    complaints.transition(p["officer"], c, "verify")
    row_id = db.session.scalar(select(WechatOutbox.id))
    assert wechat_outbox.claim(row_id) is True
    assert (
        wechat_outbox.claim(row_id) is False
    )  # another worker's conditional UPDATE matches nothing
    assert wechat_outbox.deliver_due() == {}
    # A worker that died mid-send: after the lease the row is due again.
    db.session.execute(
        WechatOutbox.__table__.update().values(claimed_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert wechat_outbox.deliver_due() == {"sent": 1}


def test_subscriptions_are_checked(client, db, wx, p):
    token = login(client, wx, "oMia")
    url = "/api/v1/me/subscriptions"
    assert client.post(url, json={"kind": "case", "tracking_no": "JB0000000000"}).status_code == 401
    r = client.post(
        url, json={"kind": "case", "tracking_no": "JB0000000000"}, headers=bearer(token)
    )
    assert r.status_code == 404
    assert client.post(url, json={"kind": "x"}, headers=bearer(token)).status_code == 400
    r = client.post(url, json={"kind": "workshop", "workshop_code": "NOPE"}, headers=bearer(token))
    assert r.status_code == 404
    # Someone else's case cannot be followed.
    _, number, _ = _bound_case(client, db, wx, p, "oNick")
    r = client.post(url, json={"kind": "case", "tracking_no": number}, headers=bearer(token))
    assert r.status_code == 404


def test_a_workshop_subscription_fires_on_a_tier_change_not_on_an_edit(client, db, wx, p):
    token = login(client, wx, "oOlga")
    w = p["workshop"]
    r = client.post(
        "/api/v1/me/subscriptions",
        json={"kind": "workshop", "workshop_code": w.public_code},
        headers=bearer(token),
    )
    assert r.status_code == 201 and r.get_json()["template_id"] == WORKSHOP_TEMPLATE
    from shifangbang import changes

    changes.touch(w)  # a change that leaves tier, titles and state alone
    db.session.commit()
    assert wechat_outbox.deliver_due() == {}
    admin = p["admin"]
    d = tiers.propose(
        admin,
        w,
        "gold",
        next(iter(tiers.TIER_REASONS)),
        "检查结果优良",
        public_reason="依据监督检查结果调整。",
    )
    tiers.decide(admin, d, True)
    assert wechat_outbox.deliver_due() == {}  # decided, not yet published: the tier is unchanged
    tiers.publish(admin, d)
    assert wechat_outbox.deliver_due() == {"sent": 1}
    [message] = wx.sent_to("oOlga")
    assert message["data"]["thing1"] == {"value": w.name[:20]}
    assert message["data"]["thing2"] == {"value": "榜级变为金榜"}
    assert message["page"] == f"pages/workshop/detail?code={w.public_code}"


# --- scanned posters -------------------------------------------------------------------------


def test_scan_answers_the_workshop_and_whether_the_poster_is_current(client, db, p):
    w = p["workshop"]
    base = client.application.config["BASE_URL"]
    poster = posters.issue(p["officer"], w)
    r = client.get(
        "/api/v1/scan", query_string={"q": f"{base}/w/{w.public_code}?p={poster.issue_no}"}
    )
    assert r.status_code == 200
    body = r.get_json()
    assert body["workshop"]["code"] == w.public_code and body["workshop"]["name"] == w.name
    assert body["poster"]["current"] is True and body["poster"]["state"] == "current"
    # The web page reads the same link the same way.
    page = client.get(f"/w/{w.public_code}?p={poster.issue_no}").get_data(as_text=True)
    assert "已过期" not in page
    from shifangbang import changes

    w.public_changed_at = utcnow() + timedelta(seconds=1)
    changes.touch(w)
    db.session.commit()
    body = client.get(
        "/api/v1/scan", query_string={"q": f"{base}/w/{w.public_code.lower()}?p={poster.issue_no}"}
    ).get_json()
    assert body["poster"]["current"] is False and body["poster"]["state"] == "outdated"
    assert "已过期" in client.get(f"/w/{w.public_code}?p={poster.issue_no}").get_data(as_text=True)
    body = client.get(
        "/api/v1/scan", query_string={"q": f"{base}/w/{w.public_code}?p=99"}
    ).get_json()
    assert body["poster"]["found"] is False and body["poster"]["state"] == "unknown"
    body = client.get("/api/v1/scan", query_string={"q": f"{base}/w/{w.public_code}"}).get_json()
    assert body["poster"] is None
    r = client.get("/api/v1/scan", query_string={"q": f"https://evil.example/w/{w.public_code}"})
    assert r.status_code == 404
    assert client.get("/api/v1/scan", query_string={"q": f"{base}/w/NOSUCH"}).status_code == 404
    assert client.get("/api/v1/scan").status_code == 400


def test_photos_and_fields_still_work_with_a_token(client, db, wx, p):
    token = login(client, wx, "oPam")
    form = {
        "kind": "complaint",
        "workshop_code": p["workshop"].public_code,
        "category": "spoiled",
        "content": cd.CONTENT,
        "demand": "退款",
        "reporter_name": cd.NAME,
        "reporter_phone": cd.PHONE,
        "photos": [(io.BytesIO(cd.png()), "a.png")],
    }
    r = client.post(
        "/api/v1/complaints", data=form, headers=bearer(token), content_type="multipart/form-data"
    )
    assert r.status_code == 201 and r.get_json()["bound"] is True


def committed_outbox(app, openid: str, n: int) -> tuple[list[int], int]:
    """A user with n due outbox rows, committed (for threads with their own connections):
    (row ids, user id). drop_user() removes them."""
    from shifangbang.extensions import db as _db

    with app.app_context():
        user = WechatUser(openid=openid)
        _db.session.add(user)
        _db.session.flush()
        rows = [
            WechatOutbox(user_id=user.id, template_id="t", data={}, next_attempt_at=utcnow())
            for _ in range(n)
        ]
        _db.session.add_all(rows)
        _db.session.commit()
        return [r.id for r in rows], user.id


def drop_user(app, user_id: int) -> None:
    from shifangbang.extensions import db as _db

    with app.app_context():
        _db.session.execute(WechatOutbox.__table__.delete().where(WechatOutbox.user_id == user_id))
        _db.session.execute(WechatUser.__table__.delete().where(WechatUser.id == user_id))
        _db.session.commit()


def test_concurrent_workers_claim_each_row_exactly_once(app):
    """Four threads (each its own session and connection, as workers have) race over the same rows:
    every row is claimed by exactly one of them, on SQLite and on PostgreSQL."""
    import threading

    from shifangbang.extensions import db as _db

    ids, user_id = committed_outbox(app, "oRace", 40)
    won: list[list[int]] = []
    start = threading.Barrier(4)

    def worker():
        with app.app_context():
            start.wait()
            won.append([i for i in ids if wechat_outbox.claim(i)])
            _db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        claimed = sorted(i for mine in won for i in mine)
        assert claimed == sorted(ids)  # all claimed, none twice
    finally:
        drop_user(app, user_id)


def test_a_stopping_worker_finishes_the_row_in_hand_and_claims_no_other(app, fake):
    """A deploy stops gunicorn's workers: the delivery thread sends the notice it has claimed
    (killed mid-send, the row would wait out its lease and count an attempt WeChat never saw)
    and leaves the next one pending for the new workers."""
    from shifangbang.extensions import db as _db

    send = "cgi-bin/message/subscribe/send"
    saved = {k: app.config[k] for k in ("WECHAT_APPID", "WECHAT_SECRET", "WECHAT_API_BASE")}
    app.config.update(WECHAT_APPID=APPID, WECHAT_SECRET=SECRET, WECHAT_API_BASE=fake.url)
    fake.fail_next.clear()
    fake.delay[send] = 1.0
    ids, user_id = committed_outbox(app, "oStop", 2)
    seen = len(fake.requests)  # the fake serves every backend's run of this test
    try:
        worker = wechat_outbox.start_worker(app)
        deadline = utcnow() + timedelta(seconds=30)
        while not any(p == send and q["touser"] == "oStop" for p, q in fake.requests[seen:]):
            assert utcnow() < deadline, "the worker sent nothing"
            worker.stopping.wait(0.05)
        worker.stop()  # while WeChat is still answering the first send
        assert not worker.is_alive()
        with app.app_context():
            got = {
                r.id: (r.status, r.attempts)
                for r in _db.session.scalars(select(WechatOutbox).where(WechatOutbox.id.in_(ids)))
            }
        assert got == {ids[0]: ("sent", 1), ids[1]: ("pending", 0)}
        assert [q["touser"] for p, q in fake.requests[seen:] if p == send] == ["oStop"]
    finally:
        fake.delay.clear()
        app.config.update(saved)
        drop_user(app, user_id)
