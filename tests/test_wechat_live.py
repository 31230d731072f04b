"""End to end under gunicorn (2 workers), WeChat being the local fake: sign in, file a bound
report, list it, subscribe, restart, an officer acts in the back office (real sign-in and CSRF),
WeChat is busy once, restart again — and exactly one subscribe message reaches the user."""

import time
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import select

from shifangbang.demo import DEMO_ACCOUNTS
from shifangbang.extensions import db
from shifangbang.models import Complaint, WechatOutbox, Workshop

from .conftest import CASE_TEMPLATE, ROOT, LiveServer
from .test_scaleout import TOKEN, Regulator
from .wechat_fake import APPID, SECRET

pytestmark = pytest.mark.scaleout

SEND = "cgi-bin/message/subscribe/send"


def deployment_file(path) -> str:
    """The shipped deployment file with a case-progress template id filled in."""
    text = (ROOT / "shifangbang/deployment.toml").read_text()
    head, sep, tail = text.partition('[wechat.case_progress]\ntemplate_id = ""')
    assert sep, "deployment.toml has no [wechat.case_progress] template_id"
    path.write_text(head + f'[wechat.case_progress]\ntemplate_id = "{CASE_TEMPLATE}"' + tail)
    return str(path)


def act(officer: Regulator, complaint_id: int, action: str, reply: str) -> tuple[int, bytes]:
    """The officer's button on the case page: the form carries that page's CSRF token."""
    detail = f"{officer.url}/admin/complaints/{complaint_id}"
    page = officer.opener.open(detail, timeout=30).read()
    form = {
        "csrf_token": TOKEN.search(page).group(1).decode(),
        "action": action,
        "public_reply": reply,
    }
    with officer.opener.open(f"{detail}/act", data=urlencode(form).encode(), timeout=30) as r:
        return r.status, r.read()


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout}s: {what}")


def test_a_notice_reaches_the_user_once_across_restarts(tmp_path, fake):
    fake.fail_next.clear()
    server = LiveServer(
        tmp_path,
        workers=2,
        demo_size=30,
        env={
            "WECHAT_APPID": APPID,
            "WECHAT_SECRET": SECRET,
            "WECHAT_API_BASE": fake.url,
            "SHIFANGBANG_DEPLOYMENT": deployment_file(tmp_path / "deployment.toml"),
        },
    )
    try:
        api = server.url + "/api/v1"
        with server.app.app_context():
            code = db.session.scalar(
                select(Workshop.public_code).where(Workshop.status == "open").order_by(Workshop.id)
            )
        r = requests.post(
            f"{api}/wechat/login", json={"code": fake.issue_code("oLive")}, timeout=30
        )
        assert r.status_code == 200
        auth = {"Authorization": f"Bearer {r.json()['token']}"}
        r = requests.post(
            f"{api}/complaints",
            headers=auth,
            files={"_": ("", b"")},  # multipart/form-data
            data={
                "kind": "report",
                "workshop_code": code,
                "category": "spoiled",
                "content": "作坊后院堆放过期原料，操作间没有防蝇设施。",
                "reporter_name": "李秀英",
                "reporter_phone": "13812345678",
            },
            timeout=30,
        )
        assert r.status_code == 201 and r.json()["bound"] is True
        number = r.json()["items"][0]["tracking_no"]
        mine = requests.get(f"{api}/me/complaints", headers=auth, timeout=30).json()
        assert [i["tracking_no"] for i in mine["items"]] == [number]
        r = requests.post(
            f"{api}/me/subscriptions",
            headers=auth,
            json={"kind": "case", "tracking_no": number},
            timeout=30,
        )
        assert r.status_code == 201

        server.stop()  # a restart between subscribing and the officer's action
        server.start()

        fake.fail(SEND, -1)  # WeChat is busy for the first attempt
        with server.app.app_context():
            complaint_id = db.session.scalar(
                select(Complaint.id).where(Complaint.tracking_no == number)
            )
        admin_password = dict((u, p) for u, p, _ in DEMO_ACCOUNTS)["admin"]
        officer = Regulator(server.url, "admin", admin_password)
        status, body = act(officer, complaint_id, "verify", "已安排执法人员现场核查。")
        assert status == 200 and "已开始核查".encode() in body
        acted = time.monotonic()

        # The first attempt leaves within a minute, without anyone running a command; it fails.
        wait_until(lambda: any(p == SEND for p, _ in fake.requests), 60, "a first attempt")
        assert fake.sent_to("oLive") == []
        server.stop()  # the retry is in the database, not in a worker's memory
        server.start()

        [message] = wait_until(lambda: fake.sent_to("oLive"), 90, "the retried message")
        assert time.monotonic() - acted < 120
        assert message["template_id"] == CASE_TEMPLATE
        assert message["data"]["character_string1"] == {"value": number}
        assert message["data"]["thing4"] == {"value": "已安排执法人员现场核查。"}
        time.sleep(12)  # two more rounds of both workers: still exactly one message
        assert len(fake.sent_to("oLive")) == 1
        assert sum(1 for p, q in fake.requests if p == SEND and q["touser"] == "oLive") == 2
        with server.app.app_context():
            row = db.session.scalar(select(WechatOutbox))
            assert (row.status, row.attempts) == ("sent", 2)
        mine = requests.get(f"{api}/me/complaints", headers=auth, timeout=30).json()
        assert mine["items"][0]["status"] == "verifying"
    finally:
        server.stop()
