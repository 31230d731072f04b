"""Security headers come from the app on every response; no template carries inline script or a
<style> element (the CSP forbids both)."""

import re
from pathlib import Path

from flask import url_for

from shifangbang import palette

from ..conftest import ROOT, make_test_app
from ..registry_helpers import login_as, world

PAGES = ["/", "/search?q=豆腐", "/complain", "/track", "/open-data/", "/admin/login"]


def _check(r, https: bool = True) -> None:
    csp = r.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ") if d}
    assert directives.get("frame-ancestors") == ["'none'"], csp
    assert directives.get("script-src") == ["'self'"], csp  # no 'unsafe-inline', no eval
    assert directives.get("style-src-elem") == ["'self'"], csp
    assert directives.get("style-src") == ["'self'"], csp  # no 'unsafe-inline'
    assert directives.get("style-src-attr") == ["'none'"], csp
    assert directives.get("object-src") == ["'none'"] and directives.get("base-uri") == ["'none'"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert ("Strict-Transport-Security" in r.headers) is https


def test_public_and_back_office_pages_carry_the_headers(app, client, db):
    w = world(db)
    code = w.own.public_code
    for path in [*PAGES, f"/w/{code}", "/api/v1/tiers", "/open311/v2/services.json", "/nope"]:
        _check(client.get(path))
    admin = login_as(app, w.admin)
    for path in ("/admin/", "/admin/users", "/admin/workshops/export.csv"):
        r = admin.get(path)
        assert r.status_code == 200, path
        _check(r)
    # The embeddable badge keeps its own, tighter policy.
    badge = client.get(f"/w/{code}/badge.svg")
    assert badge.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_hsts_only_when_the_site_is_https(tmp_path):
    app = make_test_app(
        f"sqlite:///{tmp_path / 'h.db'}", tmp_path / "idx", BASE_URL="http://localhost:8000"
    )
    r = app.test_client().get("/static/css/site.css")
    _check(r, https=False)


def test_no_inline_script_or_style_element_in_any_template():
    templates = [p for p in ROOT.glob("*/templates/**/*.html") if ".venv" not in p.parts]
    assert len(templates) > 40
    for path in templates:
        html = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, f"{path}: inline script {tag}"
        assert "<style" not in html, f"{path}: <style> element"
        assert not re.search(r"\sstyle=", html), f"{path}: style attribute (use palette classes)"
        handler = r"<[a-z][^>]*\son(?:click|load|error|change|submit|input|focus|blur|mouse\w+|key\w+)\s*="
        assert not re.search(handler, html), f"{path}: inline event handler"
        assert "javascript:" not in html, path


def test_static_scripts_exist_for_what_was_inline():
    assert (Path(ROOT) / "static/js/search.js").exists()  # the search page's nearby control


def test_every_deployment_colour_is_a_class_in_the_served_style_sheets(app, client):
    deployment = app.extensions["deployment"]
    with app.test_request_context():
        url = url_for("static", filename="css/site.css")  # the fingerprinted copy pages link
    sheet = client.get(url)
    assert sheet.status_code == 200 and "immutable" in sheet.headers["Cache-Control"]
    css = sheet.get_data(as_text=True)
    for colour in [t.colour for t in deployment.tiers] + [
        c["hex"] for c in deployment.colour_codes
    ]:
        assert f".{palette.bg(colour)}{{background-color:{colour.lower()}}}" in css, colour
        assert f".{palette.bd(colour)}{{border-color:{colour.lower()}}}" in css, colour
    # Only plain #rrggbb becomes a class: nothing else from a file reaches CSS.
    assert palette.bg("red;background:url(x)") == "" and palette.bg(None) == ""
