"""The factory, configuration, deployment settings, schema and health check."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from shifangbang import create_app, deployment
from shifangbang.extensions import db as _db
from shifangbang.models import Workshop

from . import factories as f


def test_secret_key_generated_into_instance_folder_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app({"TESTING": True})
    key_file = Path(app.instance_path) / "secret_key"
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(app.config["SECRET_KEY"]) == 64
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert create_app({"TESTING": True}).config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_config_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("BASE_URL", "https://spb.gov.example/")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")
    assert app.config["SEARCH_INDEX_DIR"] == str(tmp_path / "idx")
    assert app.config["BASE_URL"] == "https://spb.gov.example"  # trailing slash dropped
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_default_database_is_sqlite_in_instance_folder_with_wal(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SECRET_KEY", "x")
    app = create_app({"TESTING": True})
    assert (
        app.config["SQLALCHEMY_DATABASE_URI"]
        == f"sqlite:///{Path(app.instance_path) / 'shifangbang.db'}"
    )
    engine = create_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_default_deployment_is_baotou_ladder():
    d = deployment.load()
    assert [t.name for t in d.tiers] == ["金榜", "银榜", "铜榜", "橙榜"]
    assert d.unrated.name == "待评定"
    assert d.tier("nonsense") is d.unrated
    assert [t.code for t in d.tiers if t.needs_rectification] == ["bronze", "orange"]
    assert d.valid_certificate_number("蒙食小作坊登字第150202000123号")
    assert not d.valid_certificate_number("蒙食小作坊登字第15020200012号")
    assert [c["colour"] for c in d.colour_codes] == ["红色", "蓝色", "绿色", "黄色", "白色"]
    items = d.checklist_items()
    assert len({i["code"] for i in items}) == len(items)
    assert any(i["area"] == "色标化管理" for i in items)


def test_deployment_file_is_editable(tmp_path, monkeypatch):
    text_ = deployment.DEFAULT_FILE.read_text().replace('name = "金榜"', 'name = "红榜"')
    path = tmp_path / "d.toml"
    path.write_text(text_)
    monkeypatch.setenv("SHIFANGBANG_DEPLOYMENT", str(path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'd.db'}")
    app = create_app({"TESTING": True, "SECRET_KEY": "x"})
    assert app.extensions["deployment"].tiers[0].name == "红榜"


def test_duplicate_tier_codes_are_refused(tmp_path):
    text_ = deployment.DEFAULT_FILE.read_text().replace('code = "silver"', 'code = "gold"')
    path = tmp_path / "bad.toml"
    path.write_text(text_)
    with pytest.raises(ValueError):
        deployment.load(path)


def test_migrations_match_models(app):
    """`flask db upgrade` built the schema (per backend); it must agree with the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from shifangbang.spatial import include_name  # hand-written spatial/dialect indexes

    with app.app_context():
        with _db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_name": include_name})
            diff = compare_metadata(context, _db.metadata)
            assert diff == []
            tables = set(inspect(conn).get_table_names())
    assert {
        "workshop",
        "tier_decision",
        "complaint",
        "audit_log",
        "change_log",
        "title_grant",
    } <= tables


def test_foreign_keys_are_enforced(db):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        w = Workshop(
            public_code="BAD1",
            cert_type="登记证",
            cert_no="x",
            name="x",
            operator_name="x",
            address="x",
            station_id=999999,
            seven_in_place={},
        )
        db.session.add(w)
        db.session.flush()


def test_home_page_lists_workshops_with_tier(client, db):
    j = f.jurisdictions()
    f.workshop(j["xinaobao"], name="老东河凉糕作坊", tier_code="gold")
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "老东河凉糕作坊" in page
    assert "bg-946c00" in page  # gold colour beside it (palette.py)
    assert 'lang="zh-CN"' in page


def test_healthz_reports_database(client):
    body = client.get("/healthz").get_json()
    assert body["checks"]["database"]["ok"] is True
    assert "search_index" in body["checks"]


def test_unknown_page_is_chinese_404_and_api_is_json(client):
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "找不到" in r.get_data(as_text=True)
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.get_json()["error"]["status"] == 404


def test_large_text_preference_persists_and_redirects_only_locally(client):
    r = client.get("/prefs/large-text?on=1&next=/")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert "large_text=1" in r.headers["Set-Cookie"]
    assert 'class="large"' in client.get("/").get_data(as_text=True)
    r = client.get("/prefs/large-text?on=1&next=//evil.example.com/")
    assert r.headers["Location"] == "/"


def test_client_address_behind_a_trusted_proxy(tmp_path, monkeypatch):
    """Rate limits key on the client address: behind nginx it must come from X-Forwarded-For,
    and only when the deployment says a proxy is there (otherwise anyone could forge it)."""
    from flask import request

    def seen_address(proxies: int) -> str:
        monkeypatch.setenv("TRUSTED_PROXIES", str(proxies))
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
        app = create_app({"TESTING": True, "SECRET_KEY": "x"})
        app.add_url_rule("/_addr", "addr", lambda: request.remote_addr)
        return (
            app.test_client()
            .get(
                "/_addr",
                headers={"X-Forwarded-For": "203.0.113.7"},
                environ_base={"REMOTE_ADDR": "127.0.0.1"},
            )
            .get_data(as_text=True)
        )

    assert seen_address(0) == "127.0.0.1"
    assert seen_address(1) == "203.0.113.7"


def test_a_domain_error_escaping_a_view_is_a_chinese_400(tmp_path):
    """One way for refusals: every domain error shares DomainError, and one that no view caught
    becomes a 400 with the rule's words (a JSON error under /api/), never a 500."""
    from shifangbang import complaints, registry, tiers, titles
    from shifangbang.errors import DomainError

    from .conftest import make_test_app

    app = make_test_app(f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "index")
    for error in (
        tiers.TierError,
        titles.TitleError,
        registry.ValidationError,
        complaints.ComplaintError,
    ):
        assert issubclass(error, DomainError)

    @app.get("/_test/refuse")
    @app.get("/api/v1/_test/refuse")
    def refuse():
        raise tiers.TierError("只能对待决定的定榜建议作出决定。")

    client = app.test_client()
    page = client.get("/_test/refuse")
    assert page.status_code == 400
    assert "只能对待决定的定榜建议作出决定。" in page.get_data(as_text=True)
    api = client.get("/api/v1/_test/refuse")
    assert api.status_code == 400
    assert api.get_json()["error"]["message"] == "只能对待决定的定榜建议作出决定。"


def test_phone_verification_moves_to_the_case_and_back(tmp_path):
    """phone_0001 moves wechat_binding.phone_verified_at onto the complaint (and its downgrade
    moves it back) without losing a mark, on a database holding the demo's bound cases."""
    from flask_migrate import downgrade, upgrade

    from shifangbang import demo

    from .conftest import make_test_app

    app = make_test_app(f"sqlite:///{tmp_path / 'm.db'}", tmp_path / "index")
    with app.app_context():
        upgrade()
        demo.load(7, 300)
        marked = "SELECT id, reporter_phone_verified_at FROM complaint"
        before = {i: at for i, at in _db.session.execute(text(marked)).all() if at is not None}
        _db.session.commit()
        assert before  # the demo verifies some bound cases' phones
        downgrade(revision="scaleread_0001")
        moved = dict(
            _db.session.execute(
                text(
                    "SELECT complaint_id, phone_verified_at FROM wechat_binding "
                    "WHERE phone_verified_at IS NOT NULL"
                )
            ).all()
        )
        _db.session.commit()
        assert moved == before
        upgrade()
        after = {i: at for i, at in _db.session.execute(text(marked)).all() if at is not None}
        assert after == before
        _db.session.remove()
        _db.engine.dispose()
