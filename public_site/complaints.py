"""The public complaint/report form, its acknowledgement, and /track. Rules live in
shifangbang.complaints; this module only reads the request and picks a page."""

from flask import Blueprint, current_app, make_response, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

import search_index
from search_index import SearchParams
from shifangbang import complaints, photos
from shifangbang.extensions import db, limiter

from . import errors
from .search import workshops_by_id

bp = Blueprint("complaints", __name__, template_folder="templates")

# A submission declaring more bytes than the photos allowed plus the text is refused before any of
# it is read (a consumer on a slow network is not kept waiting to hear "too big"); the form's
# script refuses an oversize photo before sending it at all.
MAX_SUBMISSION = photos.MAX_PHOTOS * photos.MAX_BYTES + 256 * 1024
EXPIRED = "这个页面打开时间太长，安全校验已过期。您填写的内容已保留，请核对后再点“提交”。"


@bp.url_value_preprocessor
def _cap_submission(endpoint, values):
    # Runs before the app's before_request hooks, so before CSRF protection reads the body.
    if endpoint == "complaints.complain_submit":
        request.max_content_length = MAX_SUBMISSION


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(e):
    mb = photos.MAX_BYTES // (1024 * 1024)
    return errors.error_response(
        413,
        f"照片太大，没有提交成功：最多 {photos.MAX_PHOTOS} 张，每张不超过 {mb} MB。"
        "请返回上一页，换小一点的照片（或不附照片）再提交。",
        "too_large",
    )


def _submit_limit() -> str:
    return current_app.config["COMPLAINT_SUBMIT_LIMIT"]


def _track_limit() -> str:
    return current_app.config["COMPLAINT_TRACK_LIMIT"]


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _search(q: str, limit: int = 10) -> list:
    """Workshops to complain about, found as on /search (pinyin, typos), closed ones included."""
    result = search_index.search(SearchParams(q=q[:100], status="all", per_page=limit))
    found = workshops_by_id(h.id for h in result.hits)
    return [found[h.id] for h in result.hits if h.id in found]


def _form_page(
    values: dict, errors: dict | None = None, status: int = 200, message: str | None = None
):
    workshop = complaints.find_workshop(values.get("w"))
    q = request.args.get("q", "").strip()
    # Whether someone else (on this network) reported this workshop is never shown: it would
    # tell a colleague or the workshop that a report exists. Officers see it in the inbox.
    page = render_template(
        "public/complain.html",
        values=values,
        errors=errors or {},
        workshop=workshop,
        q=q,
        results=_search(q) if q and workshop is None else [],
        counties=complaints.counties(),
        limits=complaints.FIELD_MAX,
        message=message,
        max_photos=photos.MAX_PHOTOS,
        max_photo_bytes=photos.MAX_BYTES,
        max_photo_mb=photos.MAX_BYTES // (1024 * 1024),
        content_min=complaints.CONTENT_MIN,
        name_min=complaints.NAME_MIN,
        honeypot=complaints.HONEYPOT_FIELD,
    )
    return _no_store(make_response(page, status))


@bp.get("/complain")
def complain_form():
    values = {"w": request.args.get("w", "").strip(), "kind": request.args.get("kind", "")}
    return _form_page(values)


def _uploads() -> list[tuple[str, bytes]]:
    out = []
    for f in request.files.getlist("photos"):
        data = f.read(photos.MAX_BYTES + 1)  # bounded: an oversize file is refused by its length
        if f.filename or data:
            out.append((f.filename or "", data))
    return out


@bp.post("/complain")
@limiter.limit(_submit_limit, methods=["POST"])
def complain_submit():
    values = request.form.to_dict()
    try:
        receipt = complaints.submit(request.form, _uploads(), client_ip=request.remote_addr)
    except complaints.SubmissionInvalid as e:
        return _form_page(values, e.errors, 422)
    except complaints.SpamSuspected as e:
        return _form_page({}, None, 400, str(e))
    except SQLAlchemyError:
        # Nothing was acknowledged: say so and keep what the person typed.
        db.session.rollback()
        current_app.logger.exception("complaint submission could not be stored")
        return _form_page(
            values,
            None,
            503,
            "系统繁忙，您的反映没有保存成功，请稍后再点“提交”。填写的内容已保留（照片需重新选择）。",
        )
    # Rendered only now, after the commit: the password exists nowhere else.
    return _no_store(make_response(render_template("public/complain_done.html", receipt=receipt)))


def _expired_complaint():
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    return _form_page(values, None, 200, EXPIRED + "照片需要重新选择。")


def _expired_track():
    page = render_template(
        "public/track.html",
        view=None,
        failed=False,
        number=request.form.get("number", ""),
        message=EXPIRED,
    )
    return _no_store(make_response(page, 200))


errors.CSRF_RECOVERY["complaints.complain_submit"] = _expired_complaint
errors.CSRF_RECOVERY["complaints.track_result"] = _expired_track


@bp.get("/track")
def track_form():
    return _no_store(
        make_response(
            render_template(
                "public/track.html", view=None, failed=False, number=request.args.get("no", "")
            )
        )
    )


@bp.post("/track")
@limiter.limit(_track_limit, methods=["POST"])
def track_result():
    number = request.form.get("number", "")
    view = complaints.track(number, request.form.get("password", ""))
    page = render_template("public/track.html", view=view, failed=view is None, number=number)
    return _no_store(make_response(page, 200))
