"""Regulator back office: sign-in, registry, tiers, titles, inspections, complaints, statistics.

Every request under /admin passes through one gate (`_gate`) and one response hook (`_no_store`):
sign-in, the TOTP enrolment requirement and `Cache-Control: no-store` are applied here once, by
path, so a page added later is covered without doing anything. Roles are still checked per view
(auth.role_required) and in the domain.
"""

from flask import Flask, flash, redirect, request, url_for
from flask_login import current_user

from shifangbang.extensions import login_manager

# Reachable without a session (the sign-in steps themselves).
OPEN_ENDPOINTS = frozenset({"admin.login", "admin.login_totp"})
# Reachable by a signed-in user who still has to enrol a required TOTP second factor.
ENROLMENT_ENDPOINTS = frozenset({"admin.totp_setup", "admin.logout"})


def _in_back_office() -> bool:
    return request.path == "/admin" or request.path.startswith("/admin/")


def _gate():
    if not _in_back_office() or request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if (
        current_user.totp_required
        and not current_user.totp_secret
        and request.endpoint not in ENROLMENT_ENDPOINTS
    ):
        flash("管理员要求您的账号启用动态验证码，请先完成绑定。", "error")
        return redirect(url_for("admin.totp_setup"))
    return None


def _no_store(response):
    """Back-office pages and files carry personal data: never cached by browsers or proxies."""
    if _in_back_office():
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    from . import (
        audit,
        complaints,
        draws,
        inspections,
        jurisdictions,
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

    app.before_request(_gate)
    app.after_request(_no_store)
    app.register_blueprint(views.bp)
    app.jinja_env.globals.update(admin_menu=menu, may_open=may_open)
    for module in (
        workshops,
        users,
        jurisdictions,
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
