"""Regulator back office: sign-in, registry, tiers, titles, inspections, complaints, statistics."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import draws, inspections, sampling, stats, tiers, titles, views

    app.register_blueprint(views.bp)
    for module in (inspections, sampling, tiers, titles, draws, stats):
        app.register_blueprint(module.bp)
