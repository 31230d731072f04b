"""The workshop's public page (/w/<code>): content, states, masking, caching, unknown codes, posters."""

import gzip
import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import event

from shifangbang import changes, codes, public_cache, public_status
from shifangbang.models import (
    Inspection,
    Poster,
    RectificationItem,
    Sampling,
    StaffMember,
    TierDecision,
    Title,
    TitleGrant,
)
from shifangbang.timeutil import today, utcnow

from . import factories as f
from .conftest import make_test_app

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://sfb.example.cn"  # BASE_URL of the test app


def decision(
    db,
    w,
    to,
    frm="unrated",
    direction="initial",
    reason="initial",
    status="published",
    days_ago=100,
):
    d = TierDecision(
        workshop_id=w.id,
        from_tier=frm,
        to_tier=to,
        direction=direction,
        reason_category=reason,
        status=status,
        effective_on=today() - timedelta(days=days_ago),
        decided_at=utcnow() - timedelta(days=days_ago),
        published_at=utcnow() - timedelta(days=days_ago) if status == "published" else None,
    )
    db.session.add(d)
    return d


def rich_workshop(db, j, *, samplings=4, titles=2, history=True, tier="gold"):
    """A workshop with everything the page shows: history, titles, inspection, samplings, staff."""
    w = f.workshop(
        j["xinaobao"],
        name="老东河凉糕作坊",
        tier_code=tier,
        tier_since=today() - timedelta(days=30),
        last_inspected_on=today() - timedelta(days=40),
        safety_manager="李秀英",
        pledge_signed_on=date(2025, 3, 1),
        additives="食用碱、单甘酯",
        seven_in_place={"purchase": True, "cleaning": True, "health": False},
        regional_brand="老东河凉糕",
        time_honoured=True,
    )
    w.staff = [
        StaffMember(
            name="赵小红", role="生产人员", health_cert_expires=today() + timedelta(days=200)
        ),
        StaffMember(
            name="钱大力", role="生产人员", health_cert_expires=today() - timedelta(days=3)
        ),
    ]
    officer = f.user("officer", j["xinaobao"])
    officer.display_name = "刘执法"
    insp = Inspection(
        workshop_id=w.id,
        inspected_on=today() - timedelta(days=40),
        kind="random",
        result="basic",
        rectification_required=True,
        rectification_due=today() + timedelta(days=10),
    )
    insp.inspectors = [officer]
    db.session.add(insp)
    for n in range(samplings):
        db.session.add(
            Sampling(
                workshop_id=w.id,
                sampled_on=today() - timedelta(days=10 + 30 * n),
                product=f"凉糕批次{n}",
                lab="包头市食品检验所",
                result="pass",
            )
        )
    for n in range(titles):
        t = Title(
            name=f"包头市食品小作坊示范点{n}-{w.id}", authority="包头市市场监督管理局", level="city"
        )
        db.session.add(t)
        db.session.flush()
        db.session.add(TitleGrant(workshop_id=w.id, title_id=t.id, granted_on=date(2024, 5, 1)))
    if history:
        decision(db, w, "bronze", days_ago=400)
        decision(db, w, "silver", "bronze", "upgrade", "inspection", days_ago=200)
        decision(db, w, "gold", "silver", "upgrade", "rectified", days_ago=30)
    db.session.commit()
    return w


def count_queries(db, fn):
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.session.get_bind()
    engine = getattr(engine, "engine", engine)
    event.listen(engine, "before_cursor_execute", before)
    try:
        result = fn()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return result, [
        s for s in statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))
    ]


@pytest.fixture
def j(db):
    return f.jurisdictions()


# --- content ---------------------------------------------------------------------------------


def test_page_shows_the_official_status_with_dates_and_masked_operator(client, db, j):
    w = rich_workshop(db, j)
    r = client.get(f"/w/{w.public_code}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "老东河凉糕作坊" in html and w.cert_no in html and w.address in html
    assert "金榜" in html and "bg-946c00" in html  # badge in its colour (palette.py)
    tier_since, inspected = today() - timedelta(days=30), today() - timedelta(days=40)
    assert f"{tier_since.year}年{tier_since.month}月{tier_since.day}日" in html
    assert f"{inspected.year}年{inspected.month}月{inspected.day}日" in html
    assert "双随机检查" in html and "基本符合" in html and "整改期限" in html
    assert "刘执法" in html  # supervising inspector
    # Operator, safety manager and staff are people: masked.
    assert "王**" in html and "139****1234" in html and "李**" in html and "赵**" in html
    for secret in ("王建国", "13904721234", "李秀英", "赵小红", "钱大力"):
        assert secret not in html
    # Info board.
    assert (
        "不使用回收食品作为原料生产食品" in html and "进货查验到位" in html and "✘ 未到位" in html
    )
    assert (
        "食用碱、单甘酯" in html
        and "植物性原料" in html
        and "12315" in html
        and "内部知情人举报" in html
    )
    assert "已过期" in html  # 钱大力's health certificate
    assert "老字号" in html and "西脑包市场监管所" in html
    assert html.count("更新于") >= 6
    assert html.count(f'href="/complain?w={w.public_code}"') == 2
    assert "<script" not in html


def test_last_three_samplings_with_failure_details_and_retest_pending(client, db, j):
    w = rich_workshop(db, j, samplings=0)
    for n, (result, retest) in enumerate(
        [("pass", "none"), ("fail", "requested"), ("fail", "upheld"), ("pass", "none")]
    ):
        db.session.add(
            Sampling(
                workshop_id=w.id,
                sampled_on=today() - timedelta(days=5 + 20 * n),
                product=f"产品{n}",
                lab="检验所",
                result=result,
                retest_status=retest,
                failed_item="苯甲酸" if result == "fail" else None,
                measured_value="1.2g/kg" if result == "fail" else None,
                limit_value="≤1.0g/kg" if result == "fail" else None,
            )
        )
    db.session.commit()
    html = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    assert "产品0" in html and "产品1" in html and "产品2" in html and "产品3" not in html
    assert "复检中，结果待定" in html
    assert "苯甲酸" in html and "1.2g/kg" in html and "≤1.0g/kg" in html
    assert html.index("产品0") < html.index("产品1") < html.index("产品2")  # newest first


def test_tier_history_timeline(client, db, j):
    w = rich_workshop(db, j)
    html = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    timeline = html[html.index('id="history"') : html.index('id="basic"')]
    assert timeline.count("<li") == 3
    assert timeline.count("升榜") == 2 and "首次定榜" in timeline
    assert "整改到位" in timeline and "监督检查结果" in timeline and "首次评定" in timeline
    assert timeline.index("整改到位") < timeline.index("首次评定")  # newest first


def test_titles_held_and_recently_revoked(client, db, j):
    w = rich_workshop(db, j, titles=1)
    for name, revoked_on in (
        ("最近撤销的称号", today() - timedelta(days=20)),
        ("很久以前撤销的称号", today() - timedelta(days=800)),
    ):
        t = Title(name=name, authority="吕梁市市场监督管理局", level="city")
        db.session.add(t)
        db.session.flush()
        db.session.add(
            TitleGrant(
                workshop_id=w.id,
                title_id=t.id,
                granted_on=date(2020, 1, 1),
                status="revoked",
                revoked_on=revoked_on,
                revoke_rule="two_failures",
            )
        )
    db.session.commit()
    html = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    assert "包头市食品小作坊示范点0" in html and "有效" in html
    assert (
        "<s>最近撤销的称号</s>" in html
        and "已撤销" in html
        and "同一年度抽检不合格2次及以上" in html
    )
    assert "很久以前撤销的称号" not in html


def test_rectification_items_only_for_tiers_that_carry_a_list(client, db, j):
    gold = rich_workshop(db, j)
    bronze = f.workshop(j["xinaobao"], tier_code="bronze", tier_since=today())
    for shop in (gold, bronze):
        db.session.add(
            RectificationItem(
                workshop_id=shop.id, problem="防蝇设施缺失", due_on=today() - timedelta(days=1)
            )
        )
        db.session.add(
            RectificationItem(
                workshop_id=shop.id, problem="已整改的问题", due_on=today(), fixed_on=today()
            )
        )
    db.session.commit()
    html = client.get(f"/w/{bronze.public_code}").get_data(as_text=True)
    assert "一坊一策" in html and "防蝇设施缺失" in html and "已逾期" in html
    assert "已整改的问题" not in html
    assert "防蝇设施缺失" not in client.get(f"/w/{gold.public_code}").get_data(as_text=True)


# --- states ----------------------------------------------------------------------------------


def test_unrated_state(client, db, j):
    w = f.workshop(j["xinaobao"])
    db.session.commit()
    html = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    assert "待评定" in html and "尚未完成首次分级评定" in html and "尚无检查记录" in html


def test_pending_publication_state_does_not_reveal_the_new_tier(client, db, j):
    w = rich_workshop(db, j, history=False)
    assert "新评级待发布" not in client.get(f"/w/{w.public_code}").get_data(as_text=True)
    decision(db, w, "orange", "gold", "downgrade", "hygiene", status="decided", days_ago=1)
    changes.touch(w)
    db.session.commit()
    html = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    assert "新评级待发布" in html
    assert "橙榜" not in html.split('id="basic"')[0].split('class="desc"')[1]


@pytest.mark.parametrize("days, overdue", [(364, False), (366, True)])
def test_overdue_for_inspection(client, db, j, days, overdue):
    w = f.workshop(
        j["xinaobao"],
        tier_code="silver",
        tier_since=today() - timedelta(days=500),
        last_inspected_on=today() - timedelta(days=days),
    )
    db.session.commit()
    html = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    assert ("超期未检" in html) is overdue


def test_never_inspected_long_registered_workshop_is_overdue(db, j):
    w = f.workshop(j["xinaobao"], created_at=utcnow() - timedelta(days=400))
    db.session.commit()
    assert public_status.assemble(w.public_code).overdue


@pytest.mark.parametrize(
    "status, label", [("suspended", "停业"), ("cancelled", "注销"), ("revoked", "吊销")]
)
def test_closed_workshops_get_a_red_banner(client, db, j, status, label):
    w = f.workshop(
        j["xinaobao"], status=status, status_changed_on=date(2026, 2, 3), tier_code="gold"
    )
    db.session.commit()
    html = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    assert f'<p class="banner" role="alert">该作坊已{label}（2026年2月3日起）' in html
    assert "超期未检" not in html
    open_shop = f.workshop(j["xinaobao"])
    db.session.commit()
    assert 'class="banner"' not in client.get(f"/w/{open_shop.public_code}").get_data(as_text=True)


# --- bounded queries -----------------------------------------------------------------------


def test_assemble_uses_a_bounded_number_of_queries(app, db, j):
    small = rich_workshop(db, j, samplings=1, titles=1, history=False)
    big = rich_workshop(db, j, samplings=12, titles=8, tier="bronze")
    for n in range(10):
        db.session.add(RectificationItem(workshop_id=big.id, problem=f"问题{n}", due_on=today()))
        db.session.add(
            StaffMember(workshop_id=big.id, name=f"员工{n}", health_cert_expires=today())
        )
    db.session.commit()
    small_code, big_code = small.public_code, big.public_code
    db.session.expire_all()

    def render(code):
        status = public_status.assemble(code, poster_issue_no=1)
        with app.test_request_context(f"/w/{code}"):
            from flask import render_template

            render_template(
                "public/workshop.html",
                s=status,
                w=status.workshop,
                canonical="x",
                complain_url="y",
                health_cert_state=public_status.health_cert_state,
            )
        return status

    s_small, q_small = count_queries(db, lambda: render(small_code))
    db.session.expire_all()
    s_big, q_big = count_queries(db, lambda: render(big_code))
    assert (
        len(s_big.titles_held) == 8 and len(s_big.samplings) == 3 and len(s_big.rectification) == 10
    )
    assert len(s_big.history) == 3 and len(s_big.staff) == 12
    assert len(q_big) <= 11, "\n".join(q[:90].replace("\n", " ") for q in q_big)
    assert len(q_big) - len(q_small) <= 1  # only the rectification query is extra (bronze)


# --- caching ------------------------------------------------------------------------------


def test_cache_headers_and_conditional_requests(client, db, j):
    w = rich_workshop(db, j)
    url = f"/w/{w.public_code}"
    r = client.get(url)
    etag, last_modified = r.headers["ETag"], r.headers["Last-Modified"]
    assert r.headers["Cache-Control"] == "public, no-cache"
    assert "Cookie" in r.headers["Vary"]
    assert "Set-Cookie" not in r.headers
    r304 = client.get(url, headers={"If-None-Match": etag})
    assert r304.status_code == 304 and r304.data == b"" and r304.headers["ETag"] == etag
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    # A large-type reader gets other markup, so another ETag.
    client.set_cookie("large_text", "1")
    large = client.get(url)
    assert large.headers["ETag"] != etag and '<html lang="zh-CN" class="large">' in large.get_data(
        as_text=True
    )
    client.delete_cookie("large_text")
    # A public change gives a new ETag and fresh content, even though the page was cached.
    w.name = "老东河凉糕作坊（新址）"
    w.public_changed_at = utcnow() + timedelta(seconds=2)  # later than the If-Modified-Since second
    db.session.commit()
    fresh = client.get(url, headers={"If-None-Match": etag, "If-Modified-Since": last_modified})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag
    assert "老东河凉糕作坊（新址）" in fresh.get_data(as_text=True)


def test_last_modified_is_the_last_public_change(client, db, j):
    w = rich_workshop(db, j)
    w.public_changed_at = datetime.combine(today(), datetime.min.time()) + timedelta(
        hours=1
    )  # after local midnight
    db.session.commit()
    r = client.get(f"/w/{w.public_code}")
    assert r.last_modified.replace(tzinfo=None) == w.public_changed_at.replace(microsecond=0)


def test_page_and_css_weigh_at_most_20_kb_compressed(client, db, j):
    w = rich_workshop(db, j, samplings=3, titles=3)
    html = client.get(f"/w/{w.public_code}").data
    css = b"".join(
        (ROOT / "static/css" / name).read_bytes() for name in ("site.css", "workshop.css")
    )
    total = len(gzip.compress(html, 9)) + len(gzip.compress(css, 9))
    assert total <= 20 * 1024, total
    # The stylesheet under its fingerprinted name (cached for a year, see shifangbang/assets.py).
    assert re.search(
        r'<link rel="stylesheet" href="/static/css/workshop\.[0-9a-f]{12}\.css">', html.decode()
    )


# --- unknown codes and poster freshness ---------------------------------------------------------


def test_unknown_code_explains_and_offers_fake_poster_report(client, db):
    r = client.get("/w/ZZZZ9999")
    assert r.status_code == 404
    html = r.get_data(as_text=True)
    assert "这不是有效的官方公示二维码" in html and "ZZZZ9999" in html
    assert 'href="/complain?category=fake_poster"' in html
    assert client.get("/w/" + "A" * 40).status_code == 404


def test_lowercase_code_redirects_to_the_canonical_address(client, db, j):
    w = f.workshop(j["xinaobao"])
    db.session.commit()
    r = client.get(f"/w/{w.public_code.lower()}?p=3")
    assert r.status_code == 301 and r.headers["Location"].endswith(f"/w/{w.public_code}?p=3")


def test_outdated_poster_notice(client, db, j):
    w = rich_workshop(db, j)
    db.session.add(
        Poster(
            workshop_id=w.id,
            issue_no=1,
            size="A4",
            tier_code="silver",
            issued_at=utcnow() - timedelta(days=60),
        )
    )
    db.session.add(
        Poster(
            workshop_id=w.id,
            issue_no=2,
            size="A4",
            tier_code="gold",
            issued_at=utcnow() + timedelta(seconds=5),
        )
    )
    db.session.commit()
    notice = "您扫描的公示牌已过期，请以本页信息为准"
    old = client.get(f"/w/{w.public_code}?p=1").get_data(as_text=True)
    assert notice in old and "第 1 期" in old
    current = client.get(f"/w/{w.public_code}?p=2").get_data(as_text=True)
    assert notice not in current and "未查到" not in current
    assert notice not in client.get(f"/w/{w.public_code}").get_data(as_text=True)
    unknown = client.get(f"/w/{w.public_code}?p=9").get_data(as_text=True)
    assert "未查到第 9 期公示牌的发放记录" in unknown and "category=fake_poster" in unknown
    # The next public change makes poster 2 outdated too.
    w.public_changed_at = utcnow() + timedelta(seconds=10)
    db.session.commit()
    assert notice in client.get(f"/w/{w.public_code}?p=2").get_data(as_text=True)


# --- QR codes ------------------------------------------------------------------------------------


def decode(png_bytes: bytes) -> list:
    import zxingcpp

    return zxingcpp.read_barcodes(Image.open(io.BytesIO(png_bytes)).convert("L"))


def test_qr_png_decodes_to_the_canonical_url(client, db, j):
    w = f.workshop(j["xinaobao"])
    db.session.commit()
    r = client.get(f"/w/{w.public_code}/qr.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert r.headers["Cache-Control"].startswith("public, max-age=")
    results = decode(r.data)
    assert [x.text for x in results] == [f"{BASE}/w/{w.public_code}"]
    assert results[0].ec_level == "M"
    img = Image.open(io.BytesIO(r.data)).convert("L")
    quiet = 4 * 10  # 4 modules × box size 10
    assert all(img.getpixel((x, y)) == 255 for x in range(img.width) for y in range(quiet))
    assert (
        client.get(
            f"/w/{w.public_code}/qr.png", headers={"If-None-Match": r.headers["ETag"]}
        ).status_code
        == 304
    )


def test_qr_svg_has_a_white_quiet_zone_and_the_same_matrix(client, db, j):
    import qrcode

    w = f.workshop(j["xinaobao"])
    db.session.commit()
    r = client.get(f"/w/{w.public_code}/qr.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(f"{BASE}/w/{w.public_code}")
    qr.make(fit=True)
    n = len(qr.get_matrix())
    svg = r.get_data(as_text=True)
    assert f'viewBox="0 0 {n} {n}"' in svg and 'fill="#fff"' in svg
    assert "M4 4h7" in svg  # the finder pattern starts after the 4-module quiet zone


def test_qr_for_unknown_code_is_404(client, db):
    assert client.get("/w/NOPE2345/qr.png").status_code == 404
    assert client.get("/w/NOPE2345/qr.svg").status_code == 404


def test_canonical_url_is_short(app):
    with app.app_context():
        from shifangbang import qr

        assert len(qr.page_url(codes.generate())) < 40


# --- public codes ------------------------------------------------------------------------------


def test_new_public_code_is_short_unambiguous_and_unique(db, j, monkeypatch):
    taken = f.workshop(j["xinaobao"], public_code="ABCD2345")
    db.session.commit()
    seen = {codes.new_public_code() for _ in range(200)}
    assert len(seen) == 200
    for code in seen:
        assert len(code) <= codes.MAX_LENGTH and set(code) <= set(codes.ALPHABET)
        assert not set(code) & set("01OIL")
    queue = iter([taken.public_code, "WXYZ6789"])
    monkeypatch.setattr(codes, "generate", lambda length=codes.LENGTH: next(queue))
    assert codes.new_public_code() == "WXYZ6789"


# --- WeChat verification file ---------------------------------------------------------------


def test_wechat_verification_file(tmp_path, app):

    assert app.test_client().get("/MP_verify_abc123.txt").status_code == 404
    toml = (ROOT / "shifangbang/deployment.toml").read_text(encoding="utf-8")
    toml = toml.replace('wechat_verify_file = ""', 'wechat_verify_file = "MP_verify_abc123.txt"')
    toml = toml.replace('wechat_verify_content = ""', 'wechat_verify_content = "abc123"')
    path = tmp_path / "deployment.toml"
    path.write_text(toml, encoding="utf-8")
    configured = make_test_app(
        f"sqlite:///{tmp_path / 'w.db'}", tmp_path / "idx", DEPLOYMENT_FILE=str(path)
    )
    r = configured.test_client().get("/MP_verify_abc123.txt")
    assert r.status_code == 200 and r.data == b"abc123" and r.mimetype == "text/plain"
    assert configured.test_client().get("/MP_verify_other.txt").status_code == 404


def test_the_micro_cache_window_is_read_from_the_environment_per_app(tmp_path, monkeypatch):
    """SHIFANGBANG_PAGE_MICROCACHE reaches the app through its Config (not read at import), and
    without it the window is a second in service and none under tests."""
    url, idx = f"sqlite:///{tmp_path / 'm.db'}", tmp_path / "idx"
    for value, expected in (("0", 0.0), ("2.5", 2.5)):
        monkeypatch.setenv("SHIFANGBANG_PAGE_MICROCACHE", value)
        with make_test_app(url, idx).app_context():
            assert public_cache.head_ttl() == expected
    monkeypatch.delenv("SHIFANGBANG_PAGE_MICROCACHE")
    testing = make_test_app(url, idx)
    with testing.app_context():
        assert public_cache.head_ttl() == 0.0
        testing.testing = False
        assert public_cache.head_ttl() == public_cache.HEAD_TTL_DEFAULT == 1.0


def test_head_micro_cache_and_render_cache_are_bounded(app, client, db, j, monkeypatch):
    from public_site import workshop as view

    w = f.workshop(j["xinaobao"], name="旧名称作坊")
    db.session.commit()
    monkeypatch.setitem(app.config, "PUBLIC_HEAD_TTL", 60)
    monkeypatch.setattr(view, "_heads", {})
    assert "旧名称作坊" in client.get(f"/w/{w.public_code}").get_data(as_text=True)
    w.name = "新名称作坊"
    changes.touch(w)
    db.session.commit()
    # Within the micro-cache window a worker still answers from memory ...
    assert "旧名称作坊" in client.get(f"/w/{w.public_code}").get_data(as_text=True)
    view._heads.clear()  # ... and the window's end (here: forced) brings the change.
    assert "新名称作坊" in client.get(f"/w/{w.public_code}").get_data(as_text=True)
    # Unknown codes are remembered too, but never beyond the bound.
    monkeypatch.setattr(view, "_HEADS_MAX", 5)
    for n in range(12):
        client.get(f"/w/NOPE{n:04d}")
    assert len(view._heads) <= 5
    cache = public_cache.RenderCache(size=2, ttl=60)
    for key in "abc":
        cache.put(key, key * 3)
    assert cache.get("a") is None and cache.get("c") == "ccc"
