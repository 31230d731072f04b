"""Consumer pages on a 390 px phone, in standard and large type: axe-core finds no serious or
critical problem on any public page; every task one tap from home; nearby sorting only where it
can work; forms that keep what was typed; brand pages; screenshots to look at."""

import gzip
import re
import urllib.request
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe

from shifangbang.demo import DEMO_QUERY_PASSWORD
from shifangbang.extensions import db
from shifangbang.models import Complaint, Inspection, Poster, RectificationItem, TierDecision
from shifangbang.timeutil import today, utcnow

from . import factories as f
from .conftest import PHONE, screenshot, submit

pytestmark = pytest.mark.browser

BRAND = "萨拉齐凉皮"
AXE = Axe()


@pytest.fixture(scope="module")
def shop(live_server):
    """One workshop per tier and public state, all members of one regional brand."""
    with live_server.app.app_context():
        j = f.jurisdictions()
        station = j["xinaobao"]
        codes = {}

        def make(key, **fields):
            fields.setdefault("tier_since", today() - timedelta(days=90))
            fields.setdefault("last_inspected_on", today() - timedelta(days=40))
            w = f.workshop(
                station, name=f"萨拉齐凉皮{key}坊", regional_brand=BRAND, varieties="凉皮", **fields
            )
            codes[key] = w.public_code
            return w

        gold = make(
            "gold",
            tier_code="gold",
            seven_in_place={k: k != "storage" for k in ("purchase", "cleaning", "health")}
            | {"storage": False},
        )
        db.session.add(
            Inspection(
                workshop_id=gold.id,
                inspected_on=today() - timedelta(days=40),
                kind="routine",
                result="pass",
            )
        )
        for tier in ("silver", "orange"):
            make(tier, tier_code=tier)
        bronze = make("bronze", tier_code="bronze")
        db.session.add(
            RectificationItem(
                workshop_id=bronze.id, problem="原料未离地存放", due_on=today() + timedelta(30)
            )
        )
        make("unrated", tier_code="unrated", tier_since=None, last_inspected_on=None)
        make("closed", tier_code="silver", status="suspended", status_changed_on=today())
        overdue = make(
            "overdue", tier_code="bronze", last_inspected_on=today() - timedelta(days=500)
        )
        db.session.add(
            Inspection(
                workshop_id=overdue.id,
                inspected_on=today() - timedelta(days=500),
                kind="routine",
                result="basic",
            )
        )
        pending = make("pending", tier_code="silver")
        db.session.add(
            TierDecision(
                workshop_id=pending.id,
                from_tier="silver",
                to_tier="gold",
                direction="upgrade",
                reason_category="inspection",
                status="decided",
                decided_at=utcnow(),
            )
        )
        poster = make("poster", tier_code="gold")
        db.session.flush()
        db.session.add(
            Poster(
                workshop_id=poster.id,
                issue_no=1,
                size="A4",
                tier_code="gold",
                issued_at=utcnow(),
            )
        )
        db.session.commit()
        return codes


def public_pages(url: str, shop: dict) -> dict[str, str]:
    pages = {
        "home": "/",
        "search": "/search?q=凉皮",
        "search-empty": "/search?q=不存在的作坊名称",
        "rankings": "/rankings",
        "ranking-county": None,  # filled below from the rankings page
        "announcements": "/rankings/announcements",
        "complain": "/complain",
        "complain-workshop": f"/complain?w={shop['gold']}",
        "track": "/track",
        "draws": "/draws",
        "open-data": "/open-data/",
        "brands": "/brands",
        "brand": f"/brand/{BRAND}",
        "unknown-workshop": "/w/ZZZZ9999",
    }
    pages.update({f"workshop-{k}": f"/w/{c}" for k, c in shop.items()})
    pages["workshop-poster-current"] = f"/w/{shop['poster']}?p=1"
    pages["workshop-poster-unknown"] = f"/w/{shop['gold']}?p=9"
    return pages


def serious(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    results = AXE.run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(str(n["target"]) for n in v["nodes"][:4])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("large", [False, True], ids=["standard", "large"])
def test_axe_finds_nothing_serious_on_any_public_page(live_server, browser, shop, large):
    context = browser.new_context(**PHONE)
    if large:
        context.add_cookies([{"name": "large_text", "value": "1", "url": live_server.url}])
    page = context.new_page()
    found = {}
    try:
        pages = public_pages(live_server.url, shop)
        page.goto(live_server.url + "/rankings")
        pages["ranking-county"] = page.locator("table a").first.get_attribute("href")
        for name, path in pages.items():
            page.goto(live_server.url + path)
            assert page.evaluate("document.documentElement.className") == ("large" if large else "")
            problems = serious(page)
            if problems:
                found[name] = problems
            # Nothing overflows the phone's width in either type size.
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
        # A published draw, when the demo has one.
        page.goto(live_server.url + "/draws")
        draw = page.locator("main a[href^='/draws/']")
        if draw.count():
            draw.first.click()
            problems = serious(page)
            if problems:
                found["draw"] = problems
        # A tracking answer (the demo complaints share one query password, case-insensitive).
        with live_server.app.app_context():
            # The first rows are the demo's; later ones come from other tests' submissions.
            number = db.session.scalar(
                db.select(Complaint.tracking_no).order_by(Complaint.id).limit(1)
            )
        page.goto(live_server.url + "/track")
        page.fill("#number", number)
        page.fill("#password", DEMO_QUERY_PASSWORD.lower())  # as README gives it
        submit(page)
        assert page.locator("[data-testid=status]").count() == 1
        problems = serious(page)
        if problems:
            found["track-result"] = problems
        # The complaint form with its error messages shown.
        page.goto(live_server.url + "/complain")
        submit(page)
        assert page.locator(".error-text").count() > 2
        problems = serious(page)
        if problems:
            found["complain-errors"] = problems
    finally:
        context.close()
    assert not found, found


def test_home_leads_to_every_task_in_one_tap(live_server, page, shop):
    for large in (False, True):
        if large:
            page.context.add_cookies([{"name": "large_text", "value": "1", "url": live_server.url}])
        targets = {
            "投诉举报": "/complain",
            "进度查询": "/track",
            "榜单": "/rankings",
            "评定公布": "/rankings/announcements",
            "双随机": "/draws",
            "开放数据": "/open-data/",
        }
        for label, path in targets.items():
            page.goto(live_server.url + "/")
            link = page.locator(".tasks a", has_text=label)
            assert link.is_visible()
            box = link.bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44  # a thumb's target
            link.click()
            assert page.url == live_server.url + path, label
            assert page.locator("h1").count() >= 1
        page.goto(live_server.url + "/")
        page.fill("#q", "凉皮")
        page.locator(".hero button[type=submit]").click()
        page.locator(".card.result").first.wait_for()  # the results page has loaded
        assert "/search?q=" in page.url
        page.goto(live_server.url + "/")
        page.locator(".chips a", has_text=BRAND).click()
        assert page.locator("h1").text_content() == BRAND


def test_screenshots_of_home_workshop_and_brand_in_both_modes(live_server, page, shop):
    for large in (False, True):
        if large:
            page.context.add_cookies([{"name": "large_text", "value": "1", "url": live_server.url}])
        mode = "large" if large else "standard"
        page.goto(live_server.url + "/")
        screenshot(page, f"consumer-home-{mode}")
        page.goto(f"{live_server.url}/w/{shop['gold']}")
        screenshot(page, f"consumer-workshop-{mode}")
        page.goto(f"{live_server.url}/brand/{BRAND}")
        screenshot(page, f"consumer-brand-{mode}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_brand_page_lists_members_by_tier_and_is_linked(live_server, page, shop):
    page.goto(f"{live_server.url}/w/{shop['gold']}")
    page.locator("#basic a.chip", has_text=BRAND).click()
    assert page.locator("h1").text_content() == BRAND
    assert "萨拉齐凉皮以本地小麦面粉" in page.locator("main").text_content()  # the story
    headings = [h.split()[0] for h in page.locator(".tiergroup h2").all_text_contents()]
    assert headings == ["金榜", "银榜", "铜榜", "橙榜", "待评定"]  # best first
    names = page.locator(".tiergroup").first.locator(".card strong").all_text_contents()
    assert {"萨拉齐凉皮gold坊", "萨拉齐凉皮poster坊"} <= set(names)
    assert "萨拉齐凉皮closed坊" not in page.locator("main").text_content()  # closed: not listed
    # Each card says when the workshop was last inspected, and marks the overdue one.
    overdue = page.locator(".card", has_text="萨拉齐凉皮overdue坊")
    assert "超期未检" in overdue.text_content()
    gold = page.locator(".card", has_text="萨拉齐凉皮gold坊")
    when = today() - timedelta(days=40)
    assert f"最近检查：{when.year}年{when.month}月{when.day}日" in gold.text_content()
    assert "超期未检" not in gold.text_content()


def test_search_cards_show_inspection_date_overdue_mark_and_brand(live_server, page, shop):
    page.goto(live_server.url + "/search?q=凉皮")
    cards = page.locator(".card.result")
    assert cards.count() > 0
    for i in range(min(cards.count(), 5)):
        assert "最近检查：" in cards.nth(i).text_content()
    # A query naming a brand leads to the brand page in one tap.
    page.goto(live_server.url + f"/search?q={BRAND}")
    page.locator(".brandbox a").click()
    assert page.locator("h1").text_content() == BRAND


def test_workshop_page_confirms_a_current_poster_and_shows_seven_in_place(live_server, page, shop):
    page.goto(f"{live_server.url}/w/{shop['poster']}?p=1")
    assert page.locator(".current").is_visible()
    assert "此公示牌为最新" in page.locator(".current").text_content()
    page.goto(f"{live_server.url}/w/{shop['gold']}?p=9")
    assert page.locator(".current").count() == 0
    labels = page.locator(".checks li").all_text_contents()
    assert len(labels) == 7 and labels[0].startswith("进货查验到位")
    assert labels[-1].startswith("贮存配送到位")
    # The red swatch of the 色标化 legend is red, not pink.
    red = page.locator(".colours li", has_text="红色").locator("i")
    rgb = red.evaluate("el => getComputedStyle(el).backgroundColor")
    r, g, b = (int(x) for x in re.findall(r"\d+", rgb)[:3])
    assert r > 180 and g < 80 and b < 80, rgb


def test_nearby_sort_hidden_without_javascript(live_server, browser):
    context = browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/search?q=凉皮")
        page.locator(".filters summary").click()
        assert page.locator(".filters .apply").is_visible()
        assert not page.locator(".locate").is_visible()
    finally:
        context.close()


def test_nearby_sort_explains_a_refused_location(live_server, browser):
    context = browser.new_context(**PHONE)  # no geolocation permission: the request is refused
    try:
        page = context.new_page()
        page.goto(live_server.url + "/search?q=凉皮")
        page.locator(".filters summary").click()
        button = page.locator(".locate")
        assert button.is_visible()
        button.click()
        message = page.locator(".located")
        message.wait_for(state="visible")
        page.wait_for_function("!document.querySelector('.located').textContent.includes('正在')")
        assert "没有允许本网站使用位置" in message.text_content()
        assert "/search?q=" in page.url and "sort=distance" not in page.url
    finally:
        context.close()


def test_nearby_sort_works_with_a_location(live_server, browser):
    context = browser.new_context(
        **PHONE, geolocation={"latitude": 40.58, "longitude": 110.04}, permissions=["geolocation"]
    )
    try:
        page = context.new_page()
        page.goto(live_server.url + "/search?q=凉皮")
        page.locator(".filters summary").click()
        with page.expect_navigation():
            page.locator(".locate").click()
        assert "sort=distance" in page.url and "lat=40.58" in page.url
    finally:
        context.close()


def _fill_report(page, name: str):
    page.locator("input[name=kind][value=report]").check()
    page.select_option("#category", "hygiene")
    page.fill("#content", "作坊门口堆放垃圾，苍蝇很多，凉皮直接放在地上。")
    page.fill("#name", name)
    page.fill("#phone", "13904721234")


def test_rare_character_and_minority_names_are_accepted(live_server, page, shop):
    for name in ("王䶮", "阿依古丽·买买提"):
        page.goto(f"{live_server.url}/complain?w={shop['gold']}")
        _fill_report(page, name)
        counter = page.locator("#limit-name")
        assert f"已写 {len(name)} 字" in counter.text_content()  # 䶮 counts as one
        assert "最多 30 字" in counter.text_content()
        submit(page)
        assert page.locator(".receipt").count() == 1, page.locator("main").text_content()


def test_limits_and_counters_beside_fields(live_server, page, shop):
    page.goto(f"{live_server.url}/complain?w={shop['gold']}")
    note = page.locator("#limit-content")
    assert "至少 10 字" in note.text_content() and "最多 2000 字" in note.text_content()
    page.fill("#content", "凉皮里有头发")
    assert "已写 6 字" in note.text_content()
    assert page.locator("#content").get_attribute("aria-describedby") == "limit-content"
    page.fill("#name", "王䶮")
    page.locator("#limit-name").scroll_into_view_if_needed()
    screenshot(page, "consumer-complain-limits")


def test_expired_form_comes_back_with_what_was_typed(live_server, page, shop):
    page.goto(f"{live_server.url}/complain?w={shop['gold']}")
    _fill_report(page, "李秀英")
    page.context.clear_cookies()  # the session (and its CSRF secret) is gone, as after hours
    submit(page)
    main = page.locator("main").text_content()
    assert "安全校验已过期" in main
    assert page.locator("#content").input_value().startswith("作坊门口堆放垃圾")
    assert page.locator("#name").input_value() == "李秀英"
    submit(page)  # the fresh token works
    assert page.locator(".receipt").count() == 1, page.locator("main").text_content()


def test_oversize_photo_refused_before_upload(live_server, page, shop):
    page.goto(f"{live_server.url}/complain?w={shop['gold']}")
    _fill_report(page, "李秀英")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    big = b"\xff\xd8\xff" + b"0" * (8 * 1024 * 1024 + 10)
    page.set_input_files(
        "#photos", files=[{"name": "big.jpg", "mimeType": "image/jpeg", "buffer": big}]
    )
    alert = page.locator("#photos-too-big")
    assert alert.is_visible() and "超过 8 MB" in alert.text_content()
    page.click("button.big-button")
    page.wait_for_timeout(300)
    assert posts == [] and "/complain?w=" in page.url


def test_static_files_cached_compressed_and_favicon(live_server, page):
    page.goto(live_server.url + "/")
    css = page.locator("link[rel=stylesheet]").first.get_attribute("href")
    assert re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", css)
    icon = page.locator("link[rel=icon]").get_attribute("href")
    req = urllib.request.Request(live_server.url + css, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req) as r:
        assert "max-age=31536000" in r.headers["Cache-Control"]
        assert r.headers["Content-Encoding"] == "gzip"
        assert b"box-sizing" in gzip.decompress(r.read())
    req = urllib.request.Request(live_server.url + "/", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req) as r:
        assert r.headers["Content-Encoding"] == "gzip"
        assert "食品小作坊分级定榜公示" in gzip.decompress(r.read()).decode()
    for path in ("/favicon.ico", icon):
        with urllib.request.urlopen(live_server.url + path) as r:
            assert r.status == 200 and r.read(4) == b"\x00\x00\x01\x00"  # an ICO file
