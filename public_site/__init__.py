"""Consumer-facing site: home, workshop pages, search, rankings, complaints; the /api/v1 JSON API."""
from flask import Flask


def init_app(app: Flask) -> None:
    from shifangbang import opendata

    from . import api, badge, errors, open311, opendata_views, views

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(badge.bp)
    app.register_blueprint(open311.bp)
    app.register_blueprint(opendata_views.bp)
    opendata.init_app(app)
    # Config.JSON_AS_ASCII is ignored since Flask 2.3: apply it, so the API sends readable UTF-8.
    app.json.ensure_ascii = bool(app.config.get("JSON_AS_ASCII", False))
    errors.init_app(app)
