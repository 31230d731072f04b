"""The public form, acknowledgement and /track; the back-office inbox, detail, actions, photos."""

import io
import re

import pytest
from flask import g
from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from shifangbang import complaints
from shifangbang.models import Attachment, AuditLog, Complaint
from tests import complaint_data as cd
from tests import factories


@pytest.fixture
def p(db):
    places = cd.place()
    db.session.commit()
    return places


def _count(db):
    return db.session.query(Complaint).count()


def _post(client, data, files=()):
    body = dict(data)
    if files:
        body["photos"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/complain", data=body, content_type="multipart/form-data")


def _receipt(html: str) -> tuple[list[str], str]:
    numbers = re.findall(r'data-testid="tracking-no">([A-Z0-9]+)<', html)
    password = re.search(r'data-testid="password">([A-Z0-9]+)<', html).group(1)
    return numbers, password


def test_form_prefilled_from_workshop_page_with_notices(client, p):
    html = client.get(f"/complain?w={p['workshop'].public_code}").get_data(as_text=True)
    assert p["workshop"].name in html and p["workshop"].address in html
    assert "匿名举报不会收到处理结果通知" in html
    assert "内部知情人" in html and "给予奖励" in html  # the deployment's reward notice
    assert 'name="website"' in html  # honeypot


def test_form_workshop_search_and_unregistered_option(client, p):
    html = client.get(f"/complain?q={p['workshop'].name}").get_data(as_text=True)
    assert f"w={p['workshop'].public_code}" in html
    html = client.get("/complain?q=不存在的名字").get_data(as_text=True)
    assert "没有找到" in html and "东河区" in html  # the county choice for black workshops


def test_form_workshop_search_uses_the_search_index(app, client, db, p, tmp_path):
    """Found as on /search: pinyin and typos too, closed workshops included."""
    from search_index import SearchIndex

    w = p["workshop"]
    w.name, w.status = "萨拉齐凉皮坊", "suspended"
    db.session.commit()
    index = SearchIndex(tmp_path / "index", sync_interval=0)
    saved, app.extensions["search_index"] = app.extensions["search_index"], index
    try:
        index.rebuild()
        for q in ("salaqi", "salaqu", "凉皮"):
            assert f"w={w.public_code}" in client.get("/complain", query_string={"q": q}).get_data(
                as_text=True
            ), q
    finally:
        app.extensions["search_index"] = saved


def test_submit_with_photo_stores_it_without_exif(client, db, p):
    resp = _post(
        client,
        cd.form(p["workshop"], kind="report", anonymous="1"),
        files=[("IMG_0001.jpg", cd.jpeg_with_gps())],
    )
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    html = resp.get_data(as_text=True)
    (number,), password = _receipt(html)
    assert "只显示这一次" in html and "已收到 1 张照片" in html
    c = db.session.scalar(select(Complaint).where(Complaint.tracking_no == number))
    (att,) = db.session.scalars(select(Attachment).where(Attachment.complaint_id == c.id)).all()
    stored = Image.open(io.BytesIO(att.data))
    assert len(stored.getexif()) == 0 and b"Exif" not in att.data and b"TestPhone" not in att.data
    assert max(stored.size) <= 1600 and (att.width, att.height) == stored.size
    assert c.password_hash != password and complaints.track(number, password) is not None


def test_both_gives_two_numbers_one_password(client, p):
    html = _post(client, cd.form(p["workshop"], kind="both")).get_data(as_text=True)
    numbers, password = _receipt(html)
    assert [n[:2] for n in numbers] == ["TS", "JB"]


@pytest.mark.parametrize(
    "upload,message",
    [
        (("notes.txt", b"just some text, not a picture"), "不是有效的图片"),
        (("big.png", None), "像素尺寸过大"),
    ],
)
def test_refused_photo_keeps_the_form(client, db, p, upload, message):
    name, content = upload
    content = content if content is not None else cd.bomb()
    before = _count(db)
    data = cd.form(p["workshop"], content="作坊后院堆着发霉的黄豆，工人直接拿去泡。")
    resp = _post(
        client, data, files=[("ok.jpg", cd.jpeg_with_gps(size=(400, 300))), (name, content)]
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert message in html and "其余内容已保留" in html
    assert "作坊后院堆着发霉的黄豆" in html and cd.NAME in html and cd.PHONE in html
    assert 'value="spoiled" selected' in html
    assert _count(db) == before


def test_invalid_form_keeps_values_and_says_why(client, db, p):
    before = _count(db)
    resp = _post(client, cd.form(p["workshop"], phone="12345", content="太短"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "有效的 11 位手机号码" in html and "至少 10 个字" in html
    assert 'value="12345"' in html and "太短" in html
    assert _count(db) == before


def test_honeypot_gets_no_acknowledgement(client, db, p):
    before = _count(db)
    resp = _post(client, cd.form(p["workshop"], website="http://x"))
    assert resp.status_code == 400 and "tracking-no" not in resp.get_data(as_text=True)
    assert _count(db) == before


def test_no_acknowledgement_when_the_commit_fails(client, db, p, monkeypatch):
    """Durability: the tracking number appears only after a successful commit."""
    before = _count(db)

    def broken_commit():
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(db.session, "commit", broken_commit)
    resp = _post(client, cd.form(p["workshop"], content="豆腐有酸味，吃了以后肚子疼，请尽快处理。"))
    monkeypatch.undo()
    html = resp.get_data(as_text=True)
    assert resp.status_code == 503
    assert "没有保存成功" in html and "tracking-no" not in html and "查询密码只显示" not in html
    assert "豆腐有酸味，吃了以后肚子疼" in html  # kept for another try
    assert _count(db) == before


# --- /track -----------------------------------------------------------------------------------------


def test_track_shows_timeline_and_replies_never_text_or_identity(client, db, p):
    r = cd.submit(p["workshop"], kind="both")
    c = cd.one(r, "complaint")
    complaints.add_note(p["officer"], c, "内部：当事人住在作坊隔壁")
    complaints.transition(p["officer"], c, "accept", public_reply="已受理，三日内联系双方调解。")
    db.session.commit()
    resp = client.post("/track", data={"number": c.tracking_no, "password": r.password})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    assert "已受理（调解中）" in html and "三日内联系双方调解" in html
    # The random tracking number may happen to hold the phone's last four digits: look past it.
    shown = html.replace(c.tracking_no, "")
    for secret in (
        cd.CONTENT,
        cd.NAME,
        cd.PHONE,
        cd.PHONE[-4:],
        "当事人住在作坊隔壁",
        "退款并道歉",
    ):
        assert secret not in shown


def test_wrong_number_and_wrong_password_get_the_same_answer(client, p):
    r = cd.submit(p["workshop"])
    number = r.items[0][1]
    wrong_pw = client.post("/track", data={"number": number, "password": "AAAAAAAAAA"})
    wrong_no = client.post("/track", data={"number": "TS1111111111", "password": r.password})
    assert wrong_pw.status_code == wrong_no.status_code == 200
    # Identical apart from echoing the number the person typed back into the form.
    assert wrong_pw.get_data(as_text=True).replace(number, "N") == wrong_no.get_data(
        as_text=True
    ).replace("TS1111111111", "N")
    assert "跟踪号或查询密码不正确" in wrong_pw.get_data(as_text=True)


# --- back office -------------------------------------------------------------------------------------


def _login(app, user):
    c = app.test_client()
    assert factories.login(c, user).status_code == 302
    return c


def test_inbox_lists_items_without_identity(app, db, p):
    late = cd.one(cd.submit(p["workshop"]))
    late.due_on = late.due_on.replace(year=2020)
    db.session.commit()
    html = _login(app, p["officer"]).get("/admin/complaints").get_data(as_text=True)
    assert late.tracking_no in html and "已超期" in html and 'class="overdue' in html
    assert cd.NAME not in html and cd.PHONE not in html and cd.CONTENT not in html
    other = _login(app, p["other_officer"]).get("/admin/complaints").get_data(as_text=True)
    assert late.tracking_no not in other
    filtered = (
        _login(app, p["officer"])
        .get("/admin/complaints?overdue=1&kind=complaint")
        .get_data(as_text=True)
    )
    assert late.tracking_no in filtered


def test_identity_shown_only_on_request_to_allowed_officers_and_audited(app, db, p):
    c = cd.one(cd.submit(p["workshop"]))
    db.session.commit()
    officer = _login(app, p["officer"])
    html = officer.get(f"/admin/complaints/{c.id}").get_data(as_text=True)
    assert cd.CONTENT in html and cd.NAME not in html and cd.PHONE not in html
    audits = db.session.query(AuditLog).filter_by(action="complaint.view_reporter").count()
    html = officer.post(f"/admin/complaints/{c.id}/identity").get_data(as_text=True)
    assert cd.NAME in html and cd.PHONE in html and "记入审计日志" in html
    assert (
        db.session.query(AuditLog).filter_by(action="complaint.view_reporter").count() == audits + 1
    )
    viewer = _login(app, p["viewer"])
    html = viewer.get(f"/admin/complaints/{c.id}").get_data(as_text=True)
    assert cd.NAME not in html and "查看身份信息" not in html
    assert viewer.post(f"/admin/complaints/{c.id}/identity").status_code == 403
    other = _login(app, p["other_officer"])
    assert other.get(f"/admin/complaints/{c.id}").status_code == 403
    assert other.post(f"/admin/complaints/{c.id}/identity").status_code == 403
    assert (
        db.session.query(AuditLog).filter_by(action="complaint.view_reporter").count() == audits + 1
    )


def test_photos_only_from_the_back_office_with_authorisation(app, client, db, p):
    r = cd.submit(p["workshop"], uploads=[("a.jpg", cd.jpeg_with_gps(size=(300, 200)))])
    c = cd.one(r)
    att = c.attachments[0]
    db.session.commit()
    url = f"/admin/complaints/{c.id}/photos/{att.id}"
    resp = _login(app, p["officer"]).get(url)
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg" and resp.data == att.data
    assert resp.headers["Cache-Control"] == "no-store"
    assert _login(app, p["other_officer"]).get(url).status_code == 403
    g.pop(
        "_login_user", None
    )  # the db fixture's app context outlives requests; forget the last user
    assert client.get(url).status_code == 302  # to the sign-in page
    assert (
        _login(app, p["officer"]).get(f"/admin/complaints/{c.id}/photos/{att.id + 999}").status_code
        == 404
    )


def test_actions_through_the_forms(app, db, p):
    c = cd.one(cd.submit(p["workshop"]))
    db.session.commit()
    officer = _login(app, p["officer"])
    html = officer.get(f"/admin/complaints/{c.id}").get_data(as_text=True)
    assert "受理" in html and "不予受理" in html and "开始核查" not in html
    # A refusal without a reason: a Chinese message, the typed note kept, nothing changed.
    resp = officer.post(
        f"/admin/complaints/{c.id}/act", data={"action": "refuse", "note": "我写的备注"}
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "请从列表中选择不予受理的理由" in body and "我写的备注" in body
    resp = officer.post(
        f"/admin/complaints/{c.id}/act", data={"action": "accept", "public_reply": "已受理"}
    )
    assert resp.status_code == 302
    assert (
        officer.post(
            f"/admin/complaints/{c.id}/assign", data={"assignee": p["officer"].id}
        ).status_code
        == 302
    )
    assert (
        officer.post(f"/admin/complaints/{c.id}/note", data={"note": "约定周五调解"}).status_code
        == 302
    )
    assert (
        officer.post(f"/admin/complaints/{c.id}/reply", data={"reply": "周五上午调解"}).status_code
        == 302
    )
    db.session.expire_all()
    c = db.session.get(Complaint, c.id)
    assert c.status == "accepted" and c.assigned_to_id == p["officer"].id
    html = officer.get(f"/admin/complaints/{c.id}").get_data(as_text=True)
    assert "约定周五调解" in html and "周五上午调解" in html and "调解成功" in html
    # Someone else's station: refused by the domain, not only hidden.
    other = _login(app, p["other_officer"])
    assert (
        other.post(f"/admin/complaints/{c.id}/act", data={"action": "mediate"}).status_code == 403
    )
    viewer = _login(app, p["viewer"])
    assert (
        viewer.post(f"/admin/complaints/{c.id}/act", data={"action": "mediate"}).status_code == 403
    )


def test_a_closing_step_is_asked_first_with_the_reply_the_complainant_will_read(app, db, p):
    c = cd.one(cd.submit(p["workshop"]))
    db.session.commit()
    officer = _login(app, p["officer"])
    refuse = {"action": "refuse", "reason": "handled_elsewhere", "public_reply": "法院已受理此事"}
    resp = officer.post(f"/admin/complaints/{c.id}/act", data=refuse)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "请确认：不予受理并办结" in body
    assert "办结后不能再改动" in body and "法院已受理此事" in body
    assert (
        'name="confirmed" value="1"' in body and 'value="handled_elsewhere"' in body
    )  # posted again
    db.session.expire_all()
    assert db.session.get(Complaint, c.id).status == "new"  # asked, nothing done
    # A step the rules refuse is not asked: the form comes back with the message at once.
    resp = officer.post(f"/admin/complaints/{c.id}/act", data={"action": "refuse"})
    assert resp.status_code == 422 and "请确认" not in resp.get_data(as_text=True)
    # Confirmed, it is done; a step that does not close the item is never asked.
    resp = officer.post(f"/admin/complaints/{c.id}/act", data=refuse | {"confirmed": "1"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Complaint, c.id).status == "refused"
    other = cd.one(cd.submit(p["workshop"]))
    db.session.commit()
    resp = officer.post(f"/admin/complaints/{other.id}/act", data={"action": "accept"})
    assert resp.status_code == 302


def test_finding_opens_review_from_the_form(app, db, p):
    p["workshop"].tier_code = "gold"
    r = cd.one(cd.submit(p["workshop"], kind="report", anonymous="1"))
    db.session.commit()
    officer = _login(app, p["officer"])
    officer.post(f"/admin/complaints/{r.id}/act", data={"action": "verify"})
    resp = officer.post(
        f"/admin/complaints/{r.id}/finding", data={"verified": "1"}, follow_redirects=True
    )
    assert "已生成降榜复核建议" in resp.get_data(as_text=True)
