"""Regulator back office: sign-in, registry, tiers, titles, inspections, complaints, statistics."""
from flask import Flask


def init_app(app: Flask) -> None:
    from . import draws, inspections, sampling, stats, tiers, titles, views

    app.register_blueprint(views.bp)
    for module in (inspections, sampling, tiers, titles, draws, stats):
        module.bp.after_request(views.no_store)  # personal data: never cached
        app.register_blueprint(module.bp)
