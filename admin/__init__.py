"""Regulator back office: sign-in, registry, tiers, titles, inspections, complaints, statistics."""

from flask import Flask


def init_app(app: Flask) -> None:
    from . import (
        audit,
        complaints,
        draws,
        inspections,
        posters,
        sampling,
        stats,
        tiers,
        titles,
        users,
        views,
        workshops,
    )
    from .nav import may_open, menu

    app.register_blueprint(views.bp)
    app.jinja_env.globals.update(admin_menu=menu, may_open=may_open)
    for module in (
        workshops,
        users,
        audit,
        posters,
        complaints,
        inspections,
        sampling,
        tiers,
        titles,
        draws,
        stats,
    ):
        app.register_blueprint(module.bp)
    from . import programme

    for blueprint in programme.BLUEPRINTS:
        app.register_blueprint(blueprint)
