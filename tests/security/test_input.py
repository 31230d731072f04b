"""Input: images refused by their declared size before decoding; over-long text refused with a
message and a visible limit (never cut); control characters never stored; the badge escapes
quotes; the re-test form answers bad input in Chinese; nothing public reveals another report."""

import io
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from PIL import Image, ImageFile

from shifangbang import photos
from shifangbang.models import Complaint, Sampling

from ..registry_helpers import login_as, world


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, "PNG", optimize=True)
    return out.getvalue()


def test_huge_canvas_is_refused_from_its_header(monkeypatch):
    bomb = _png(7740, 7740)  # 59.9 MP in a few KB: accepted (and decoded, ~2.3 s) on main
    assert len(bomb) < 50_000

    def no_decoding(self):
        raise AssertionError("decoded before the size check")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(photos.PhotoError, match="像素尺寸过大"):
        photos.process(bomb, "照片")


def test_a_phone_photo_still_goes_through():
    out = io.BytesIO()
    Image.new("RGB", (4032, 3024), (120, 160, 90)).save(out, "JPEG", quality=70)  # 12 MP
    photo = photos.process(out.getvalue())
    assert max(photo.width, photo.height) == photos.MAX_SIDE


def _complaint_form(w, **over) -> dict:
    data = {
        "w": w.public_code,
        "kind": "report",
        "category": "hygiene",
        "content": "作坊后厨地面有积水，苍蝇很多。",
        "anonymous": "1",
    }
    data.update(over)
    return data


def test_over_long_text_is_refused_with_its_limit_never_cut(client, db):
    w = world(db).own
    before = Complaint.query.count()
    r = client.post("/complain", data=_complaint_form(w, content="很" * 30000))
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "具体情况最多 2000 字，您填写了 30000 字" in page
    assert Complaint.query.count() == before  # main: "已经保存", with 2,000 of 30,000 kept
    form = client.get(f"/complain?w={w.public_code}").get_data(as_text=True)
    assert 'maxlength="2000"' in form and "最多 2000 字" in form  # the limit, without JavaScript
    assert "js/complain." in form  # the live counter, from a (fingerprinted) file, not inline
    r = client.post(
        "/api/v1/complaints",
        data={
            "workshop_code": w.public_code,
            "kind": "report",
            "category": "hygiene",
            "content": "很" * 2001,
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 422 and "2000" in r.get_json()["error"]["details"]["content"]


def test_control_characters_are_never_stored(client, db):
    w = world(db).own
    text = "后厨\x00有老鼠\x1b[31m，标签\u202egpj.exe\u202c写错了。\n第二行"
    r = client.post("/complain", data=_complaint_form(w, content=text, product="豆腐\x07干"))
    assert r.status_code == 200, r.get_data(as_text=True)
    c = Complaint.query.order_by(Complaint.id.desc()).first()
    assert c.content == "后厨有老鼠[31m，标签gpj.exe写错了。\n第二行" and c.product == "豆腐干"


def test_no_public_page_reveals_another_report(app, db):
    w = world(db).own
    colleague = app.test_client()
    assert colleague.post("/complain", data=_complaint_form(w)).status_code == 200
    other = app.test_client()  # same network (same address), another person
    page = other.get(f"/complain?w={w.public_code}").get_data(as_text=True)
    assert "已有人" not in page and "提交过反映" not in page
    done = other.post("/complain", data=_complaint_form(w, content="又看到后厨地面积水严重。"))
    assert done.status_code == 200 and "已有人" not in done.get_data(as_text=True)


def test_badge_escapes_quotes(client, db):
    w = world(db).own
    w.name = '豆腐坊" onload="alert(1)" x="'
    db.session.commit()
    r = client.get(f"/w/{w.public_code}/badge.svg")
    root = ET.fromstring(r.data)  # main: a duplicate attribute, or an onload on <svg>
    assert set(root.attrib) == {"width", "height", "role", "aria-label"}
    assert root.attrib["aria-label"].startswith('食坊榜：豆腐坊" onload=')


def test_retest_request_without_notice_date_is_a_chinese_error(app, db):
    w = world(db)
    s = Sampling(
        workshop_id=w.own.id,
        sampled_on=date(2026, 3, 2),
        product="豆腐",
        lab="包头市食品检验所",
        result="fail",
        failed_item="苯甲酸",
        measured_value="0.5",
        limit_value="不得检出",
    )
    db.session.add(s)
    db.session.commit()
    client = login_as(app, w.officer)
    for requested_on in ("2026-03-05", ""):
        r = client.post(
            f"/admin/sampling/{s.id}/retest",
            data={"action": "request", "requested_on": requested_on},
        )
        assert r.status_code in (302, 422), requested_on  # main: 500
        page = (client.get(r.headers["Location"]) if r.status_code == 302 else r).get_data(
            as_text=True
        )
        assert ("送达日期" if requested_on else "复检申请日期") in page
