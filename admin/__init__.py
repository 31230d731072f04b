"""Regulator back office: sign-in, registry, tiers, titles, inspections, complaints, statistics."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import audit, complaints, posters, users, views, workshops

    app.register_blueprint(views.bp)
    app.register_blueprint(workshops.bp)
    app.register_blueprint(users.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(posters.bp)
    app.register_blueprint(complaints.bp)
