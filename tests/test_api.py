"""/api/v1: real data through every endpoint, ETags, pagination, JSON errors, masking."""

import io
import json
import re

import pytest
from PIL import Image

import search_index
from shifangbang.extensions import db as _db
from shifangbang.models import Complaint, ComplaintEvent

from . import factories as f
from .api_data import arrange
from .conftest import make_test_app, screenshot


def test_workshop_detail_shows_everything_the_public_page_shows(client, db):
    data = arrange()
    r = client.get(f"/api/v1/workshops/{data['gold'].public_code}")
    assert r.status_code == 200 and r.mimetype == "application/json"
    w = r.get_json()
    assert w["name"] == "老东河凉糕坊"
    assert (
        w["tier"]["code"] == "gold"
        and w["tier"]["name"] == "金榜"
        and w["tier"]["colour"] == "#946c00"
    )
    assert w["tier"]["since"] == data["gold"].tier_since.isoformat()
    assert w["states"] == {
        "unrated": False,
        "new_rating_pending": False,
        "inspection_overdue": False,
    }
    assert [t["name"] for t in w["titles"]["held"]] == [f"包头市食品小作坊示范点{data['gold'].id}"]
    assert w["titles"]["recently_revoked"][0]["reason"] == "同一年度抽检不合格2次及以上"
    latest = w["latest_inspection"]
    assert latest["result"] == "basic" and latest["result_label"] == "基本符合"
    assert latest["failed_items"] == [
        {"code": "A4", "text": "有防蝇、防鼠、防虫设施且有效", "is_key": False}
    ]
    assert len(w["samplings"]) == 3  # the last three only
    assert (
        w["samplings"][0]["retest_pending"] is True
        and w["samplings"][0]["retest_label"] == "复检中"
    )
    assert [h["to_tier"]["code"] for h in w["tier_history"]] == ["gold", "silver"]  # newest first
    assert w["rectification"] is None  # gold carries no rectification list
    board = w["info_board"]
    assert board["operator"] == "张**" and board["safety_manager"] == "李**"
    assert board["staff_health"][0]["name"] == "孙**" and board["staff_health"][0]["valid"] is True
    assert board["supervising_station"]["phone"] == "0472-4171234"
    assert {s["key"]: s["in_place"] for s in board["seven_in_place"]}["purchase"] is True
    assert len(board["pledge"]["items"]) == 7
    assert w["links"]["badge"].endswith(f"/w/{data['gold'].public_code}/badge.svg")


def test_lower_tier_shows_rectification_and_pending_rating(client, db):
    data = arrange()
    w = client.get(f"/api/v1/workshops/{data['bronze'].public_code}").get_json()
    assert w["states"]["new_rating_pending"] is True
    assert w["tier"]["code"] == "bronze"  # the decided tier is not shown until published
    open_items = w["rectification"]["open"]
    assert [i["problem"] for i in open_items] == ["工具未按色标分类", "原料无进货记录"]
    assert [i["overdue"] for i in open_items] == [True, False]
    assert [i["problem"] for i in w["rectification"]["recently_fixed"]] == ["地面破损"]


def test_unrated_and_overdue_states(client, db):
    data = arrange()
    w = client.get(f"/api/v1/workshops/{data['unrated'].public_code}").get_json()
    assert w["tier"]["name"] == "待评定"
    assert w["states"]["unrated"] is True and w["states"]["inspection_overdue"] is True
    assert w["latest_inspection"] is None


def test_no_identity_anywhere_in_api_output(client, db):
    data = arrange()
    c = Complaint(
        tracking_no="2026000011112222",
        password_hash="x",
        submission_id="s1",
        kind="report",
        workshop_id=data["gold"].id,
        jurisdiction_id=data["j"]["xinaobao"].id,
        category="hygiene",
        content="后厨有老鼠出没的秘密内容",
        reporter_name="周举报",
        reporter_phone="13800009999",
        due_on=data["gold"].valid_to,
    )
    _db.session.add(c)
    _db.session.commit()
    everything = ""
    code = data["gold"].public_code
    for path in [
        "/api/v1/workshops",
        f"/api/v1/workshops/{code}",
        "/api/v1/search?q=凉糕",
        "/api/v1/nearby?lat=40.59&lng=110.02&radius_km=5",
        "/api/v1/rankings",
        "/api/v1/announcements",
        "/open311/v2/requests.json",
    ]:
        r = client.get(path)
        assert r.status_code == 200, path
        everything += json.dumps(r.get_json(), ensure_ascii=False)  # decoded, whatever the escaping
    # A request's own detail needs its query password (tests/security/test_open311_privacy.py).
    assert client.get(f"/open311/v2/requests/{c.tracking_no}.json").status_code == 404
    text = everything
    for secret in (
        "张三丰",
        "13904720001",
        "150202198001011234",
        "李四光",
        "孙悟空",
        "周举报",
        "13800009999",
        "后厨有老鼠",
    ):
        assert secret not in text, secret
    assert "张**" in text


def test_list_filters_and_closed_hidden(client, db):
    data = arrange()
    codes = lambda r: {w["code"] for w in r.get_json()["items"]}  # noqa: E731
    all_open = codes(client.get("/api/v1/workshops?per_page=100"))
    assert data["closed"].public_code not in all_open
    assert {
        data["gold"].public_code,
        data["bronze"].public_code,
        data["unrated"].public_code,
    } <= all_open
    assert data["closed"].public_code in codes(
        client.get("/api/v1/workshops?status=all&per_page=100")
    )
    assert codes(client.get("/api/v1/workshops?tier=gold&per_page=100")) >= {
        data["gold"].public_code
    }
    assert data["bronze"].public_code not in codes(
        client.get("/api/v1/workshops?tier=gold&per_page=100")
    )
    donghe = codes(client.get(f"/api/v1/workshops?county={data['j']['donghe'].code}"))
    assert donghe == {data["gold"].public_code, data["bronze"].public_code}
    station = codes(client.get(f"/api/v1/workshops?station={data['j']['nanmen'].code}"))
    assert station == {data["bronze"].public_code}
    risky = codes(client.get(f"/api/v1/workshops?county={data['j']['donghe'].code}&high_risk=true"))
    assert risky == {data["bronze"].public_code}
    cat = codes(
        client.get(f"/api/v1/workshops?county={data['j']['city'].code}&category=粮食加工品")
    )
    assert cat == {data["gold"].public_code, data["unrated"].public_code}
    assert codes(client.get("/api/v1/workshops?q=凉糕")) == {data["gold"].public_code}
    assert codes(client.get("/api/v1/search?q=100%25")) == set()  # % is literal, not a wildcard
    r = client.get(
        "/api/v1/workshops?county=NOPE"
    )  # an unknown place matches nothing, like a category
    assert r.status_code == 200 and r.get_json()["total"] == 0


@pytest.mark.parametrize("indexed", [False, True], ids=["database", "index"])
def test_search_goes_through_search_index_with_every_filter(client, db, indexed):
    data = arrange()
    if indexed:
        search_index.ensure_current()
    codes = lambda r: {w["code"] for w in r.get_json()["items"]}  # noqa: E731
    donghe, city = data["j"]["donghe"].code, data["j"]["city"].code
    assert codes(client.get("/api/v1/search?q=凉糕")) == {data["gold"].public_code}
    if indexed:  # pinyin initials: only the index can answer these
        assert codes(client.get("/api/v1/search?q=ldh")) == {data["gold"].public_code}
    assert codes(client.get(f"/api/v1/search?county={donghe}&high_risk=true")) == {
        data["bronze"].public_code
    }
    assert codes(client.get(f"/api/v1/search?county={donghe}&high_risk=false")) == {
        data["gold"].public_code
    }
    assert codes(client.get(f"/api/v1/search?station={data['j']['nanmen'].code}")) == {
        data["bronze"].public_code
    }
    assert codes(client.get(f"/api/v1/search?county={city}&category=粮食加工品")) == {
        data["gold"].public_code,
        data["unrated"].public_code,
    }
    assert codes(client.get("/api/v1/search?status=cancelled")) == {data["closed"].public_code}
    assert codes(client.get("/api/v1/search?q=注销")) == set()  # closed workshops only when asked
    assert codes(client.get("/api/v1/search?q=注销&status=all")) == {data["closed"].public_code}
    assert codes(client.get("/api/v1/workshops?q=凉糕")) == {data["gold"].public_code}
    for bad in ("county=NOPE", "category=NOPE"):
        r = client.get(f"/api/v1/search?{bad}")
        assert r.status_code == 200 and r.get_json()["total"] == 0
    body = client.get("/api/v1/search?q=凉糕&per_page=1").get_json()
    assert body["query"] == "凉糕" and body["total"] == 1 and body["pages"] == 1


def test_pagination_limits_and_links(client, db):
    j = f.jurisdictions()
    for n in range(5):
        f.workshop(j["kun1"], name=f"分页作坊{n}")
    _db.session.commit()
    county = j["kun"].code
    r = client.get(f"/api/v1/workshops?county={county}&per_page=2")
    body = r.get_json()
    assert body["total"] == 5 and body["pages"] == 3 and len(body["items"]) == 2
    assert body["links"]["prev"] is None and "page=2" in body["links"]["next"]
    assert body["links"]["next"].startswith("https://sfb.example.cn/api/v1/workshops?")
    seen = [w["code"] for w in body["items"]]
    nxt = body["links"]["next"].replace("https://sfb.example.cn", "")
    while nxt:
        body = client.get(nxt).get_json()
        seen += [w["code"] for w in body["items"]]
        nxt = body["links"]["next"] and body["links"]["next"].replace("https://sfb.example.cn", "")
    assert len(seen) == len(set(seen)) == 5
    for bad in ("per_page=101", "per_page=0", "page=0", "page=abc"):
        r = client.get(f"/api/v1/workshops?{bad}")
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_parameter", bad


def test_nearby_sorted_by_distance_within_radius(client, db):
    data = arrange()
    r = client.get("/api/v1/nearby?lat=40.5900&lng=110.0200&radius_km=2")
    items = r.get_json()["items"]
    assert [w["code"] for w in items] == [data["gold"].public_code, data["bronze"].public_code]
    assert items[0]["distance_km"] == 0 and 1.0 < items[1]["distance_km"] < 1.6  # ~1.4 km
    far = client.get("/api/v1/nearby?lat=40.5900&lng=110.0200&radius_km=50").get_json()["items"]
    assert data["unrated"].public_code in [w["code"] for w in far]  # ~16 km away
    distances = [w["distance_km"] for w in far]
    assert distances == sorted(distances)
    r = client.get("/api/v1/nearby?lat=40")
    assert r.status_code == 400 and "lng" in r.get_json()["error"]["details"]


def test_rankings_tiers_categories_jurisdictions_announcements(client, db):
    data = arrange()
    county = data["j"]["city"].code
    r = client.get(f"/api/v1/rankings?county={county}").get_json()
    assert [w["code"] for w in r["items"]] == [data["gold"].public_code, data["bronze"].public_code]
    counts = {c["code"]: c["count"] for c in r["counts"]}
    assert (
        counts["gold"] == 1
        and counts["bronze"] == 1
        and counts["unrated"] == 1
        and counts["orange"] == 0
    )
    tiers = client.get("/api/v1/tiers").get_json()
    assert [t["name"] for t in tiers["items"]] == ["金榜", "银榜", "铜榜", "橙榜"]
    assert tiers["unrated"]["name"] == "待评定"
    cats = {c["name"]: c for c in client.get("/api/v1/categories").get_json()["items"]}
    assert cats["豆制品"]["high_risk"] is True and cats["豆制品"]["workshop_count"] >= 1
    tree = client.get("/api/v1/jurisdictions").get_json()["items"]
    city = next(n for n in tree if n["code"] == county)
    assert {c["name"] for c in city["children"]} == {"东河区", "昆都仑区"}
    donghe = next(c for c in city["children"] if c["name"] == "东河区")
    assert {s["name"] for s in donghe["children"]} == {"西脑包市场监管所", "南门外市场监管所"}
    ann = client.get(f"/api/v1/announcements?county={county}").get_json()
    assert [(a["workshop"]["code"], a["to_tier"]["code"]) for a in ann["items"]] == [
        (data["bronze"].public_code, "bronze"),
        (data["gold"].public_code, "gold"),
        (data["gold"].public_code, "silver"),
    ]  # newest first; the decided-not-published one is absent


def test_etag_and_304(client, db):
    data = arrange()
    path = f"/api/v1/workshops/{data['gold'].public_code}"
    r = client.get(path)
    etag = r.headers["ETag"]
    assert etag and r.headers["Cache-Control"] == "public, no-cache"
    r2 = client.get(path, headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.data == b""
    data["gold"].name = "老东河凉糕坊（新址）"
    _db.session.commit()
    r3 = client.get(path, headers={"If-None-Match": etag})
    assert r3.status_code == 200 and r3.headers["ETag"] != etag
    lst = client.get("/api/v1/workshops")
    assert (
        client.get("/api/v1/workshops", headers={"If-None-Match": lst.headers["ETag"]}).status_code
        == 304
    )


def _error(r, status):
    assert r.status_code == status and r.mimetype == "application/json", r.get_data(as_text=True)[
        :200
    ]
    e = r.get_json()["error"]
    assert e["status"] == status and e["message"] and e["code"]
    return e


def test_json_errors_404_405_415_422(client, db):
    _error(client.get("/api/v1/workshops/NOSUCH"), 404)
    _error(client.get("/api/v1/nothing-here"), 404)
    r = client.delete("/api/v1/workshops")
    _error(r, 405)
    assert "GET" in r.headers["Allow"]
    _error(client.post("/api/v1/workshops"), 405)
    _error(client.post("/api/v1/complaints", json={"content": "x"}), 415)
    e = _error(
        client.post(
            "/api/v1/complaints",
            data={"kind": "complaint", "content": "短"},
            content_type="multipart/form-data",
        ),
        422,
    )
    assert {"content", "reporter_name", "reporter_phone", "workshop_code"} <= set(e["details"])


def test_json_error_413(app, db):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        client = app.test_client()
        r = client.post(
            "/api/v1/complaints", data={"content": "x" * 5000}, content_type="multipart/form-data"
        )
        _error(r, 413)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 30 * 1024 * 1024


def test_json_error_429_with_rate_limits_enabled(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'rl.db'}", tmp_path / "idx", RATELIMIT_ENABLED=True)
    with app.app_context():
        _db.create_all()
    client = app.test_client()
    statuses = [
        client.get("/api/v1/complaints/2026000000000000?password=x").status_code for _ in range(22)
    ]
    assert statuses[:20] == [404] * 20
    e = _error(client.get("/api/v1/complaints/2026000000000000?password=x"), 429)
    assert e["code"] == "http_429"


def _jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_complaint_submit_and_track(client, db):
    data = arrange()
    form = {
        "kind": "both",
        "workshop_code": data["gold"].public_code,
        "category": "quality",
        "content": "买的凉糕发酸，疑似变质。",
        "reporter_name": "周投诉",
        "reporter_phone": "13800001111",
        "product": "凉糕",
        "purchased_on": "2026-01-02",
        "amount_yuan": "12.5",
        "demand": "退款",
        "photos": [(io.BytesIO(_jpeg_with_exif()), "a.jpg")],
    }
    r = client.post("/api/v1/complaints", data=form, content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert [i["kind"] for i in body["items"]] == ["complaint", "report"]
    assert [i["tracking_no"][:2] for i in body["items"]] == [
        "TS",
        "JB",
    ]  # shifangbang.complaints numbers
    assert all(re.fullmatch(r"(TS|JB)\d{10}", i["tracking_no"]) for i in body["items"])
    assert r.headers["Location"] == body["items"][0]["links"]["status"]
    rows = Complaint.query.filter(
        Complaint.tracking_no.in_([i["tracking_no"] for i in body["items"]])
    ).all()
    assert len({c.submission_id for c in rows}) == 1 and all(c.channel == "api" for c in rows)
    assert all(c.jurisdiction_id == data["j"]["xinaobao"].id for c in rows)
    photo = rows[0].attachments[0]
    assert photo.mime == "image/jpeg" and b"SecretCam" not in photo.data
    no = body["items"][0]["tracking_no"]
    assert client.get(f"/api/v1/complaints/{no}").status_code == 404
    assert client.get(f"/api/v1/complaints/{no}?password=wrong").status_code == 404
    ok = client.get(f"/api/v1/complaints/{no}", headers={"X-Tracking-Password": body["password"]})
    assert ok.status_code == 200 and ok.headers["Cache-Control"] == "private, no-store"
    status = ok.get_json()
    assert (
        status["status"] == "new" and status["status_label"] == "待处理" and status["open"] is True
    )
    text = ok.get_data(as_text=True)
    assert "周投诉" not in text and "13800001111" not in text and "发酸" not in text
    row = next(c for c in rows if c.tracking_no == no)
    row.events.append(
        ComplaintEvent(to_status="accepted", note="内部备注", public_reply="已受理，正在调解。")
    )
    row.status = "accepted"
    _db.session.commit()
    status = client.get(
        f"/api/v1/complaints/{no}", headers={"X-Tracking-Password": body["password"]}
    ).get_json()
    assert status["replies"][0]["text"] == "已受理，正在调解。" and "内部备注" not in json.dumps(
        status
    )


def test_anonymous_report_about_unregistered_workshop(client, db):
    data = arrange()
    r = client.post(
        "/api/v1/complaints",
        data={
            "kind": "report",
            "unregistered_name": "无名豆腐作坊",
            "unregistered_address": "东河区某巷 3 号",
            "jurisdiction": data["j"]["nanmen"].code,
            "category": "unlicensed",
            "content": "夜间在民房内生产豆腐。",
            "anonymous": "true",
        },
        content_type="multipart/form-data",
    )
    assert r.status_code == 201
    c = Complaint.query.filter_by(tracking_no=r.get_json()["items"][0]["tracking_no"]).one()
    assert c.workshop_id is None and c.anonymous and c.reporter_name is None
    assert c.jurisdiction_id == data["j"]["donghe"].id  # the county, for an unregistered workshop


def test_bad_photo_is_422_and_nothing_is_saved(client, db):
    data = arrange()
    before = Complaint.query.count()
    r = client.post(
        "/api/v1/complaints",
        data={
            "workshop_code": data["gold"].public_code,
            "content": "这张图片是坏的。",
            "photos": [(io.BytesIO(b"not an image"), "x.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert _error(r, 422)["details"]["photos"]
    assert Complaint.query.count() == before


def test_badge_svg(client, db):
    data = arrange()
    r = client.get(f"/w/{data['gold'].public_code}/badge.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    svg = r.get_data(as_text=True)
    assert "金榜" in svg and "#946c00" in svg and data["gold"].tier_since.isoformat() in svg
    assert len(r.data) < 2048 and r.headers["Cache-Control"] == "public, no-cache"
    assert (
        client.get(r.request.path, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    )
    closed = client.get(f"/w/{data['closed'].public_code}/badge.svg").get_data(as_text=True)
    assert "注销" in closed and "橙榜" not in closed
    missing = client.get("/w/NOPE/badge.svg")
    assert missing.status_code == 404 and missing.mimetype == "image/svg+xml"
    assert "未找到" in missing.get_data(as_text=True)
    import xml.etree.ElementTree as ET

    ET.fromstring(svg)  # well-formed


def test_api_is_csrf_exempt(tmp_path):
    csrf_app = make_test_app(
        f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "i", WTF_CSRF_ENABLED=True
    )
    with csrf_app.app_context():
        _db.create_all()
    r = csrf_app.test_client().post(
        "/api/v1/complaints", data={"content": "x"}, content_type="multipart/form-data"
    )
    assert r.status_code == 422  # reached validation: no CSRF token needed for the API
    r = csrf_app.test_client().post("/open311/v2/requests.json", data={"service_code": "x"})
    assert r.status_code == 400 and "安全校验" not in r.get_json()[0]["description"]


@pytest.mark.browser
def test_badges_render_in_a_browser(client, db, page):
    data = arrange()
    svgs = [
        client.get(f"/w/{code}/badge.svg").get_data(as_text=True)
        for code in (
            data["gold"].public_code,
            data["bronze"].public_code,
            data["unrated"].public_code,
            data["closed"].public_code,
            "NOPE",
        )
    ]
    page.set_content(
        "<body style='background:#fff;padding:12px'>"
        + "".join(f"<div style='margin:8px'>{s}</div>" for s in svgs)
        + "</body>"
    )
    boxes = [page.locator("svg").nth(i).bounding_box() for i in range(len(svgs))]
    assert all(abs(b["height"] - 22) < 0.5 and 80 < b["width"] < 260 for b in boxes), boxes
    screenshot(page, "api-badges")
