"""Consumer-facing site: home, workshop pages, search, rankings, complaints; the /api/v1 JSON API."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import draws, errors, views

    app.register_blueprint(views.bp)
    app.register_blueprint(draws.bp)
    errors.init_app(app)
