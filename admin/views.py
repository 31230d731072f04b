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
from .helpers import local_path

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

PENDING_KEY = "pending_2fa"  # (user id, started at) between the password and the TOTP step
PENDING_SECONDS = 300
NONCE_KEY = "sfb_nonce"  # the user's session_token at sign-in (see load_user in shifangbang)


def _safe_next() -> str:
    next_url = local_path(request.args.get("next"), "")
    return next_url if next_url.startswith("/admin") else url_for("admin.dashboard")


def _sign_in(user: User):
    session.clear()  # a fresh session on sign-in: nothing planted before it survives (fixation)
    if not user.session_token:
        users.rotate_session_token(user)
        db.session.commit()
    login_user(user)
    session[NONCE_KEY] = user.session_token
    session.permanent = True


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user, error = users.authenticate(
            form.username.data.strip(), form.password.data, request.remote_addr
        )
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
        error = users.check_totp(user, form.code.data, request.remote_addr)
        db.session.commit()
        if error is None:
            _sign_in(user)
            return redirect(_safe_next())
        flash(error, "error")
    return render_template("admin/login_totp.html", form=form)


@bp.post("/logout")
def logout():
    """Signs this user out everywhere: the nonce every saved cookie carries is replaced."""
    if current_user.is_authenticated:
        users.rotate_session_token(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash("已退出登录。")
    return redirect(url_for("admin.login"))


@bp.route("/account/totp", methods=["GET", "POST"])
@login_required
def totp_setup():
    """Enrol a TOTP app: show the secret (QR and text), confirm with one code. The secret waits
    in the user's row (not in the readable session cookie) until confirmed."""
    if current_user.totp_secret:
        return render_template("admin/totp_setup.html", enrolled=True)
    secret = current_user.totp_pending_secret
    if not secret:
        secret = current_user.totp_pending_secret = users.new_totp_secret()
        db.session.commit()
    form = TotpForm()
    if form.validate_on_submit():
        try:
            users.enable_totp(current_user, secret, form.code.data)
        except users.UserError as e:
            flash(str(e), "error")
        else:
            db.session.commit()
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


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """A signed-in user changes their own password; their other sessions end, this one stays."""
    if request.method == "POST":
        f = request.form
        try:
            users.change_own_password(
                current_user, f.get("current", ""), f.get("new", ""), f.get("confirm", "")
            )
        except users.UserError as e:
            db.session.rollback()
            flash(str(e), "error")
            return render_template("admin/password.html"), 422
        db.session.commit()
        session[NONCE_KEY] = current_user.session_token
        flash("密码已修改，其他设备上的登录已失效。", "success")
        return redirect(url_for("admin.dashboard"))
    return render_template("admin/password.html")


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
