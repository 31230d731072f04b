"""Consumer pages without a browser: the home page's tasks, brand pages, result-card facts from the
public read model, the complaint form's names, limits, expired tokens and early size refusal,
static delivery (fingerprints, a year's caching, compression), the favicon and `make run`'s
public address."""

import gzip
import io
import re
import subprocess
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from shifangbang import complaints, deployment, palette, public_status
from shifangbang.models import Inspection, Poster
from shifangbang.timeutil import today, utcnow

from . import factories as f
from .conftest import ROOT, make_test_app

TASKS = {
    "投诉举报": "/complain",
    "进度查询": "/track",
    "榜单": "/rankings",
    "评定公布": "/rankings/announcements",
    "双随机": "/draws",
    "开放数据": "/open-data/",
}


@pytest.fixture
def j(db):
    return f.jurisdictions()


# --- home -------------------------------------------------------------------------------------


@pytest.mark.parametrize("large", ["0", "1"])
def test_home_links_every_consumer_task(client, db, large):
    client.set_cookie("large_text", large)
    html = client.get("/").get_data(as_text=True)
    tasks = re.search(r'<ul class="tasks">(.*?)</ul>', html, re.S).group(1)
    for label, path in TASKS.items():
        assert re.search(rf'<a href="{re.escape(path)}"><b>{label}</b>', tasks), label
    assert 'action="/search"' in html  # and the search box
    for b in deployment.load().brands:
        assert f'href="/brand/{quote(b.name)}"' in html
    assert ('class="large"' in html) == (large == "1")


# --- deployment: colours, 七到位, brands ---------------------------------------------------------


def test_default_tier_colours_carry_white_text_at_aa():
    d = deployment.load()
    for t in (*d.tiers, d.unrated):
        assert deployment.contrast("#ffffff", t.colour) >= 4.5, t
    red = next(c for c in d.colour_codes if c["colour"] == "红色")["hex"]
    r, g, b = (int(red[i : i + 2], 16) for i in (1, 3, 5))
    assert r > 180 and g < 80 and b < 80  # red, not pink


def _copy(tmp_path: Path, old: str, new: str) -> Path:
    text = deployment.DEFAULT_FILE.read_text()
    assert old in text
    path = tmp_path / "deployment.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_a_low_contrast_tier_colour_is_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="contrast"):
        deployment.load(_copy(tmp_path, 'colour = "#946c00"', 'colour = "#b8860b"'))


def test_seven_in_place_wording_comes_from_the_deployment(tmp_path, client, db, j):
    d = deployment.load(_copy(tmp_path, 'label = "进货查验到位"', 'label = "原料进货查验到位"'))
    assert d.seven_in_place[0].label == "原料进货查验到位"
    with pytest.raises(ValueError, match="seven_in_place"):
        deployment.load(_copy(tmp_path, 'key = "purchase"', 'key = "purchases"'))
    # Left out, the 兴县 list is the default; the page shows the deployment's wording.
    assert deployment.load(_copy(tmp_path, "[[seven_in_place]]", "[[ignored]]")).seven_in_place
    w = f.workshop(j["xinaobao"], seven_in_place={"purchase": True, "storage": False})
    html = client.get(f"/w/{w.public_code}").get_data(as_text=True)
    items = re.findall(r'<li class="([ynu])">([^<]+)<b>', html)
    assert [label for _, label in items] == [i.label for i in deployment.SEVEN_IN_PLACE_DEFAULT]
    assert items[0] == ("y", "进货查验到位") and items[-1] == ("n", "贮存配送到位")
    assert items[1][0] == "u"  # not checked yet


def test_brand_page_members_by_tier_story_and_links(client, db, j):
    gold = f.workshop(j["xinaobao"], name="甲凉皮坊", tier_code="gold", regional_brand="萨拉齐凉皮")
    f.workshop(j["xinaobao"], name="乙凉皮坊", tier_code="orange", regional_brand="萨拉齐凉皮")
    f.workshop(
        j["xinaobao"],
        name="丙凉皮坊",
        tier_code="gold",
        regional_brand="萨拉齐凉皮",
        status="cancelled",
    )
    f.workshop(j["xinaobao"], name="丁莜面坊", tier_code="gold", regional_brand="固阳莜面")
    html = client.get("/brand/萨拉齐凉皮").get_data(as_text=True)
    assert "<h1>萨拉齐凉皮</h1>" in html and "萨拉齐凉皮以本地小麦面粉" in html
    assert html.index("甲凉皮坊") < html.index("乙凉皮坊")  # 金榜 before 橙榜
    assert "丙凉皮坊" not in html and "丁莜面坊" not in html
    # Linked from the member's own page and listed on /brands.
    page = client.get(f"/w/{gold.public_code}").get_data(as_text=True)
    assert 'href="/brand/%E8%90%A8%E6%8B%89%E9%BD%90%E5%87%89%E7%9A%AE"' in page
    assert "萨拉齐凉皮" in client.get("/brands").get_data(as_text=True)


def test_brand_pages_unknown_and_unconfigured(client, db, j):
    assert client.get("/brand/没有这个品牌").status_code == 404
    assert client.get("/brand/" + "长" * 61).status_code == 404
    # A configured brand without open members still tells its story.
    r = client.get("/brand/固阳莜面")
    assert r.status_code == 200 and "目前没有在营的固阳莜面作坊" in r.get_data(as_text=True)
    # A brand carried by workshops but missing from the deployment file: listed, no story.
    f.workshop(j["xinaobao"], name="石拐烧麦坊", tier_code="silver", regional_brand="石拐烧麦")
    r = client.get("/brand/石拐烧麦")
    assert r.status_code == 200 and "石拐烧麦坊" in r.get_data(as_text=True)
    assert "/brand/%E7%9F%B3" in client.get("/brands").get_data(as_text=True)


# --- result cards: facts from the public read model ------------------------------------------


def test_card_facts_agree_with_the_workshop_page(db, j):
    limit = deployment.load().bureau.inspection_overdue_days
    recent = f.workshop(j["xinaobao"], last_inspected_on=today() - timedelta(days=20))
    # As inspections.record leaves it: the row, and the workshop's last_inspected_on.
    stale = f.workshop(j["xinaobao"], last_inspected_on=today() - timedelta(days=limit + 5))
    db.session.add(
        Inspection(
            workshop_id=stale.id,
            inspected_on=today() - timedelta(days=limit + 5),
            kind="routine",
            result="pass",
        )
    )
    closed = f.workshop(
        j["xinaobao"], status="suspended", last_inspected_on=today() - timedelta(days=limit + 50)
    )
    db.session.flush()
    facts = public_status.card_facts([recent, stale, closed])
    for w in (recent, stale, closed):
        s = public_status.assemble(w.public_code)
        assert (facts[w.id].last_inspected_on, facts[w.id].overdue) == (
            s.last_inspected_on,
            s.overdue,
        )
    assert [facts[w.id].overdue for w in (recent, stale, closed)] == [False, True, False]
    assert facts[stale.id].last_inspected_on == today() - timedelta(days=limit + 5)


def test_ranking_cards_show_last_inspection_and_overdue(client, db, j):
    f.workshop(j["xinaobao"], name="准时检查坊", last_inspected_on=today() - timedelta(days=3))
    f.workshop(j["xinaobao"], name="超期未检坊", last_inspected_on=today() - timedelta(days=800))
    html = client.get(f"/rankings?county={j['xinaobao'].parent_id}").get_data(as_text=True)
    cards = dict(re.findall(r"<strong>([^<]+坊)</strong>.*?(最近检查：.*?)</div>", html, re.S))
    d = today() - timedelta(days=3)
    assert cards["准时检查坊"].startswith(f"最近检查：{d.year}年{d.month}月{d.day}日")
    assert "超期未检" not in cards["准时检查坊"] and "超期未检" in cards["超期未检坊"]


def test_current_poster_is_confirmed(client, db, j):
    w = f.workshop(j["xinaobao"])
    # Issued for what the workshop shows now (a poster's tier, titles and state are checked).
    db.session.add(Poster(workshop_id=w.id, issue_no=1, size="A4", tier_code=w.tier_code))
    db.session.flush()
    assert "此公示牌为最新" in client.get(f"/w/{w.public_code}?p=1").get_data(as_text=True)
    assert "此公示牌为最新" not in client.get(f"/w/{w.public_code}?p=2").get_data(as_text=True)
    assert "此公示牌为最新" not in client.get(f"/w/{w.public_code}").get_data(as_text=True)
    w.public_changed_at = utcnow() + timedelta(seconds=1)  # the status changed since printing
    db.session.flush()
    html = client.get(f"/w/{w.public_code}?p=1").get_data(as_text=True)
    assert "此公示牌为最新" not in html and "公示牌已过期" in html


def test_search_names_a_brand_page(client, db):
    html = client.get("/search?q=萨拉齐凉皮").get_data(as_text=True)
    assert re.search(
        r'class="brandbox">区域公用品牌 <a href="/brand/[^"]+"><strong>萨拉齐凉皮', html
    )
    assert 'class="brandbox"' not in client.get("/search?q=豆腐").get_data(as_text=True)


# --- complaint form ---------------------------------------------------------------------------


def _report(**fields):
    form = {
        "kind": "report",
        "category": "hygiene",
        "content": "作坊门口堆放垃圾，苍蝇很多。",
        "unregistered_address": "东河区某村东头",
        "phone": "13904721234",
    }
    form.update(fields)
    return form


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("王䶮", "王䶮"),  # CJK extension A
        ("𠮷野", "𠮷野"),  # extension B, outside the basic plane
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽 • 买买提", "阿依古丽·买买提"),  # a phone's bullet, spaced: the middle dot
        ("热依拉・阿不都", "热依拉·阿不都"),
        ("John Smith", "John Smith"),
    ],
)
def test_real_names_in_any_cjk_character_and_with_the_middle_dot(db, typed, stored):
    v, errors = complaints.validate(_report(name=typed))
    assert "name" not in errors, errors.get("name")
    assert v["name"] == stored


def test_bad_names_get_a_message_that_says_why(db):
    _, errors = complaints.validate(_report(name="王1"))
    assert "汉字或英文字母" in errors["name"] and "2–20" not in errors["name"]
    _, errors = complaints.validate(_report(name="·王五"))
    assert "·" in errors["name"]
    _, errors = complaints.validate(_report(name="王" * 31))
    assert f"{complaints.NAME_MIN}–{complaints.NAME_MAX} 个字" in errors["name"]
    assert "31" in errors["name"]
    _, errors = complaints.validate(_report(name=""))
    assert "请填写真实姓名" in errors["name"]


def test_form_states_each_limit_beside_its_field(client, db):
    html = client.get("/complain").get_data(as_text=True)
    for field, most in complaints.FIELD_MAX.items():
        note = re.search(rf'<small class="limit" id="limit-{field}"[^>]*>([^<]*)</small>', html)
        assert note and f"最多 {most} 字" in note.group(1), field
        assert f'aria-describedby="limit-{field}"' in html
    assert "每张不超过 8 MB" in html
    assert re.search(r'<script src="/static/js/complain\.[0-9a-f]{12}\.js" defer>', html)


def _csrf_app(tmp_path):
    from flask_migrate import upgrade

    app = make_test_app(f"sqlite:///{tmp_path / 'c.db'}", tmp_path / "index", WTF_CSRF_ENABLED=True)
    with app.app_context():
        upgrade()
    return app


def test_expired_form_is_shown_again_with_what_was_typed(tmp_path):
    client = _csrf_app(tmp_path).test_client()
    typed = _report(name="王䶮", content="凉皮里吃出了头发，老板不承认。", csrf_token="expired")
    r = client.post("/complain", data=typed)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "安全校验已过期" in html
    assert "凉皮里吃出了头发，老板不承认。</textarea>" in html
    assert 'value="王䶮"' in html and 'value="13904721234"' in html
    assert r.headers["Cache-Control"] == "no-store"
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert token != "expired"
    # The fresh token passes: the same post now reaches validation (no county chosen → 422).
    r = client.post("/complain", data=dict(typed, csrf_token=token))
    assert r.status_code == 422 and "安全校验" not in r.get_data(as_text=True)
    # /track keeps the number (not the password).
    r = client.post(
        "/track", data={"number": "JB1234567890", "password": "SECRET", "csrf_token": "x"}
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'value="JB1234567890"' in html and "SECRET" not in html


class _Unreadable(io.RawIOBase):
    def readable(self):
        return True

    def readinto(self, b):
        raise AssertionError("the body was read")


def test_oversize_submission_refused_by_its_declared_length(client, db):
    from public_site.complaints import MAX_SUBMISSION

    r = client.post(
        "/complain",
        environ_overrides={
            "wsgi.input": _Unreadable(),
            "CONTENT_LENGTH": str(MAX_SUBMISSION + 1),
            "CONTENT_TYPE": "multipart/form-data; boundary=x",
        },
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 413 and "每张不超过 8 MB" in html and "返回上一页" in html


# --- delivery ---------------------------------------------------------------------------------


def test_static_files_fingerprinted_cached_a_year_and_gzipped(app, client, db):
    html = client.get("/").get_data(as_text=True)
    css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', html).group(1)
    r = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    served = (ROOT / "static/css/site.css").read_bytes()
    served += palette.css(app.extensions["deployment"]).encode()  # the deployment's colours
    assert gzip.decompress(r.data) == served
    plain = client.get("/static/css/site.css")
    assert plain.status_code == 200 and "max-age=300" in plain.headers["Cache-Control"]
    assert client.get("/static/css/site.000000000000.css").status_code == 404


def test_html_is_gzipped_and_revalidates(client, db, j):
    w = f.workshop(j["xinaobao"])
    r = client.get(f"/w/{w.public_code}", headers={"Accept-Encoding": "gzip, br"})
    assert r.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in r.headers["Vary"]
    assert w.name in gzip.decompress(r.data).decode()
    etag = r.headers["ETag"]
    assert etag.startswith('W/"')  # the gzip coding of the same content
    again = client.get(
        f"/w/{w.public_code}", headers={"Accept-Encoding": "gzip", "If-None-Match": etag}
    )
    assert again.status_code == 304
    identity = client.get(f"/w/{w.public_code}")
    assert "Content-Encoding" not in identity.headers and w.name in identity.get_data(as_text=True)


def test_favicon(client, db):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.data[:4] == b"\x00\x00\x01\x00"
    assert "max-age" in r.headers["Cache-Control"]
    assert '<link rel="icon" href="/static/favicon.' in client.get("/").get_data(as_text=True)


# --- make run's public address ------------------------------------------------------------------


def _make_run(port: int, **env) -> str:
    import os

    environ = {k: v for k, v in os.environ.items() if k != "BASE_URL"} | env
    out = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", f"PORT={port}"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next(line for line in out.splitlines() if "gunicorn" in line and "--bind" in line)


def test_make_run_links_to_the_port_it_listens_on_unless_base_url_is_set(monkeypatch, tmp_path):
    line = _make_run(8163)
    assert "--bind 127.0.0.1:8163" in line and "BASE_URL='http://127.0.0.1:8163'" in line
    line = _make_run(8163, BASE_URL="https://sfb.example.gov.cn")
    assert "BASE_URL='https://sfb.example.gov.cn'" in line
    # Config keeps BASE_URL's meaning: the QR codes and canonical links use it.
    from shifangbang import create_app, qr

    monkeypatch.setenv("BASE_URL", "http://127.0.0.1:8163/")
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        assert qr.page_url("AB12") == "http://127.0.0.1:8163/w/AB12"


def test_only_html_pages_are_compressed_here(client, db, j):
    for i in range(6):
        f.workshop(j["xinaobao"], name=f"压缩测试作坊{i}")
    r = client.get("/api/v1/workshops", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
    assert r.get_json()["items"]  # API clients read JSON as sent
    again = client.get("/api/v1/workshops", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304


def test_demo_complaints_can_be_tracked_with_the_readme_password(tmp_path):
    from flask_migrate import upgrade

    from shifangbang import demo
    from shifangbang.extensions import db
    from shifangbang.models import Complaint

    app = make_test_app(f"sqlite:///{tmp_path / 'demo.db'}", tmp_path / "index")
    with app.app_context():
        upgrade()
        demo.load(seed=1, size=60)
        numbers = db.session.scalars(db.select(Complaint.tracking_no)).all()
        assert numbers and all(complaints.TRACKING_NO.fullmatch(n) for n in numbers)
        assert complaints.track(numbers[0].lower(), "cx2026") is not None


def test_a_page_cached_before_a_deploy_still_finds_its_stylesheet(tmp_path):
    import shutil

    from shifangbang import create_app

    probe = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    old = Path(probe.instance_path) / "static-build" / "0000-consumer-test"
    (old / "css").mkdir(parents=True, exist_ok=True)
    (old / "css" / "site.0123456789ab.css").write_text("body{color:#000}")
    try:
        app = create_app(
            {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
        )
        r = app.test_client().get("/static/css/site.0123456789ab.css")
        assert r.status_code == 200 and r.data == b"body{color:#000}"
        assert "max-age=31536000" in r.headers["Cache-Control"]
    finally:
        shutil.rmtree(old)
