"""Back-office sign-in and home. Feature screens live in sibling modules with their own routes."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from shifangbang import access, users, workshops
from shifangbang.extensions import db, limiter

from .auth import role_required
from .forms import LoginForm

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


@bp.after_request
def no_store(response):
    """Back-office pages carry personal data: never cached by browsers or proxies."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user, error = users.authenticate(form.username.data.strip(), form.password.data)
        db.session.commit()  # failure counters and lockouts must persist
        if user is not None:
            login_user(user)
            next_url = request.args.get("next") or ""
            return redirect(next_url if next_url.startswith("/admin") else url_for("admin.dashboard"))
        flash(error, "error")
    return render_template("admin/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    flash("已退出登录。")
    return redirect(url_for("admin.login"))


@bp.get("/")
@role_required()
def dashboard():
    scope = access.visible_jurisdiction_ids(current_user)
    return render_template("admin/dashboard.html", counts=workshops.tier_counts(scope))
