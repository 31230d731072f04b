"""Consumer-facing site: home, workshop pages, search, rankings, complaints; the /api/v1 JSON API."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import complaints, draws, errors, search, views, workshop

    app.register_blueprint(views.bp)
    for module in (workshop, search, complaints, draws):
        app.register_blueprint(module.bp)
    errors.init_app(app)
