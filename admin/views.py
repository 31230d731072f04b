"""Back-office sign-in (password, then TOTP when enrolled) and home.

Feature screens live in sibling modules with their own blueprints.
"""

import base64
import io
import time

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from shifangbang import access, todo, users, workshops
from shifangbang.extensions import db, limiter
from shifangbang.models import User

from .auth import role_required
from .forms import LoginForm, TotpForm

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

PENDING_KEY = "pending_2fa"  # (user id, started at) between the password and the TOTP step
PENDING_SECONDS = 300
ENROL_KEY = "totp_enrol_secret"


@bp.after_request
def no_store(response):
    """Back-office pages carry personal data: never cached by browsers or proxies."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.before_app_request
def enforce_totp_enrolment():
    """An account required to use a second factor may do nothing else until it has one."""
    if (
        request.path.startswith("/admin")
        and current_user.is_authenticated
        and current_user.totp_required
        and not current_user.totp_secret
        and request.endpoint not in ("admin.totp_setup", "admin.logout", "static")
    ):
        flash("管理员要求您的账号启用动态验证码，请先完成绑定。", "error")
        return redirect(url_for("admin.totp_setup"))


def _safe_next() -> str:
    next_url = request.args.get("next") or ""
    ok = next_url.startswith("/admin") and not next_url.startswith("//")
    return next_url if ok else url_for("admin.dashboard")


def _sign_in(user: User):
    session.clear()  # a fresh session on sign-in: nothing planted before it survives (fixation)
    login_user(user)
    session.permanent = True


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user, error = users.authenticate(form.username.data.strip(), form.password.data)
        db.session.commit()  # failure counters and lockouts must persist
        if user is not None and user.totp_secret:
            next_url = _safe_next()
            session.clear()
            session[PENDING_KEY] = [user.id, time.time()]
            return redirect(url_for("admin.login_totp", next=next_url))
        if user is not None:
            _sign_in(user)
            return redirect(_safe_next())
        flash(error, "error")
    return render_template("admin/login.html", form=form)


@bp.route("/login/totp", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login_totp():
    pending = session.get(PENDING_KEY)
    user = db.session.get(User, pending[0]) if pending else None
    if user is None or not user.active or time.time() - pending[1] > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        flash("请重新输入用户名和密码。", "error")
        return redirect(url_for("admin.login"))
    form = TotpForm()
    if form.validate_on_submit():
        error = users.check_totp(user, form.code.data)
        db.session.commit()
        if error is None:
            _sign_in(user)
            return redirect(_safe_next())
        flash(error, "error")
    return render_template("admin/login_totp.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash("已退出登录。")
    return redirect(url_for("admin.login"))


@bp.route("/account/totp", methods=["GET", "POST"])
@login_required
def totp_setup():
    """Enrol a TOTP app: show the secret (QR and text), confirm with one code."""
    if current_user.totp_secret:
        return render_template("admin/totp_setup.html", enrolled=True)
    secret = session.get(ENROL_KEY) or users.new_totp_secret()
    session[ENROL_KEY] = secret
    form = TotpForm()
    if form.validate_on_submit():
        try:
            users.enable_totp(current_user, secret, form.code.data)
        except users.UserError as e:
            flash(str(e), "error")
        else:
            db.session.commit()
            session.pop(ENROL_KEY, None)
            flash("动态验证码已启用，今后登录需输入手机上的 6 位数字。", "success")
            return redirect(url_for("admin.dashboard"))
    uri = users.totp_uri(current_user, secret)
    return render_template(
        "admin/totp_setup.html",
        enrolled=False,
        form=form,
        secret=secret,
        uri=uri,
        qr=_qr_data_uri(uri),
    )


def _qr_data_uri(text: str) -> str:
    import qrcode
    from qrcode.image.svg import SvgPathImage

    buf = io.BytesIO()
    qrcode.make(text, image_factory=SvgPathImage, box_size=8).save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


@bp.get("/")
@role_required()
def dashboard():
    scope = access.visible_jurisdiction_ids(current_user)
    return render_template(
        "admin/dashboard.html",
        counts=workshops.tier_counts(scope),
        todos=todo.for_user(current_user),
    )
