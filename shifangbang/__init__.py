"""食坊榜 core: the app factory. Domain rules live in the sibling modules, not in views."""

import logging
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import deployment as deployment_mod
from . import textinput
from .config import ROOT, Config
from .extensions import csrf, db, limiter, login_manager, migrate


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        static_folder=str(ROOT / "static"),
        static_url_path="/static",
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.request_class = textinput.CleanRequest  # control characters never reach a view
    app.config.from_object(Config(app.instance_path))
    if test_config:
        app.config.update(test_config)
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = _ratelimit_file(app)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A server's connections can drop (restart, failover): check each before use. A SQLite
        # file cannot, so the page hot path is spared the extra SELECT 1 there.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_pre_ping", True)
    if app.config.get("AUDIT_HEAD_FILE") == "auto":
        app.config["AUDIT_HEAD_FILE"] = str(_head_file_for(app))
    app.extensions["deployment"] = deployment_mod.load(app.config.get("DEPLOYMENT_FILE"))
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.login_message = "请先登录。"
    # A session moved to another client is dropped. Flask-Login only marks a *permanent* session
    # non-fresh when its client changes, so load_user enforces the binding itself.
    login_manager.session_protection = "strong"

    from . import assets, cli, headers, templating
    from .models import User

    @login_manager.user_loader
    def load_user(user_id: str):
        """The signed-in user, only while the session carries the user's current nonce (sign-out,
        password change/reset and deactivation replace it) and comes from the client it was
        issued to (Flask-Login's "strong" identifier: address and User-Agent)."""
        from flask import session

        from .users import session_token_matches

        user = db.session.get(User, int(user_id))
        if user is None or not user.active:
            return None
        if not session_token_matches(user, session.get("sfb_nonce")):
            return None
        if session.get("_id") != login_manager._session_identifier_generator():
            return None
        return user

    templating.init_app(app)
    headers.init_app(app)
    cli.init_app(app)
    assets.init_app(app)

    import search_index

    search_index.init_app(app)

    import admin
    import public_site

    public_site.init_app(app)
    admin.init_app(app)

    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    return app


def _ratelimit_file(app: Flask) -> str:
    """Without Redis: a SQLite file that all workers on this machine share (beside a SQLite
    database, so a copy of the instance carries its own; else in the instance folder)."""
    from sqlalchemy.engine import make_url

    from .ratelimit_storage import uri_for

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return uri_for(str(Path(url.database).with_suffix(".ratelimits.sqlite")))
    return uri_for(str(Path(app.instance_path) / "ratelimits.sqlite"))


def _head_file_for(app: Flask) -> Path:
    """The audit head file of this app's database: heads of one database never mix with
    another's (tests, benchmarks and `make run` share the instance folder)."""
    import hashlib

    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
    name = hashlib.sha256(url.encode()).hexdigest()[:12]
    return Path(app.instance_path) / f"audit_heads-{name}.jsonl"


def current_deployment() -> deployment_mod.Deployment:
    return current_app.extensions["deployment"]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL for concurrent readers, a busy timeout instead of 'database is locked', real FKs,
    and synchronous=FULL so a commit is on disk before we acknowledge it."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()
