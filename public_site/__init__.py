"""Consumer-facing site: home, workshop pages, search, rankings, complaints, open data; the JSON APIs."""

from flask import Flask


def init_app(app: Flask) -> None:
    from shifangbang import opendata

    from . import (
        api,
        badge,
        complaints,
        draws,
        errors,
        feeds,
        open311,
        opendata_views,
        search,
        views,
        workshop,
    )

    app.register_blueprint(views.bp)
    for module in (
        workshop,
        badge,
        search,
        complaints,
        draws,
        api,
        open311,
        opendata_views,
        feeds,
    ):
        app.register_blueprint(module.bp)
    opendata.init_app(app)
    # Config.JSON_AS_ASCII is ignored since Flask 2.3: apply it, so the API sends readable UTF-8.
    app.json.ensure_ascii = bool(app.config.get("JSON_AS_ASCII", False))
    errors.init_app(app)
