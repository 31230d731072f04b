"""Consumer-facing site: home, workshop pages, search, rankings, complaints; the /api/v1 JSON API."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import complaints, errors, search, views, workshop

    app.register_blueprint(views.bp)
    app.register_blueprint(workshop.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(complaints.bp)
    errors.init_app(app)
