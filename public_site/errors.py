"""Every error gets a plain Chinese page (or, under /api/, one JSON shape) — never a bare 500."""

from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from shifangbang.access import Forbidden
from shifangbang.errors import DomainError

MESSAGES = {
    400: "请求有误，请检查后重试。",
    403: "您没有权限访问此页面。",
    404: "找不到您要的页面。",
    405: "不支持这种请求方式。",
    413: "上传的内容太大。",
    415: "不支持这种内容格式。",
    422: "提交的内容有误。",
    429: "操作太频繁，请稍后再试。",
    500: "服务器出了点问题，我们已经记录，请稍后再试。",
}


# Forms that, when their token has expired (or the session that held it is gone), are shown
# again with what was typed and a fresh token instead of an error page: endpoint → view.
# Only a post carrying one of our tokens qualifies; a post without any is refused as before.
CSRF_RECOVERY: dict[str, Callable[[], Any]] = {}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def wants_open311() -> bool:
    return request.path.startswith("/open311/")


def error_response(
    status: int, message: str | None = None, code: str | None = None, details=None, headers=None
):
    message = message or MESSAGES.get(status, "出错了。")
    if wants_open311():
        from .open311 import error_response as open311_error  # JSON or XML, as the URL asks

        return open311_error(status, message, headers)
    if wants_json():
        body = {"error": {"status": status, "code": code or f"http_{status}", "message": message}}
        if details:
            body["error"]["details"] = details
        return jsonify(body), status, headers or {}
    return (
        render_template("public/error.html", status=status, message=message),
        status,
        headers or {},
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(e):
        recover = CSRF_RECOVERY.get(request.endpoint or "")
        if recover is not None and request.form.get("csrf_token"):
            return recover()
        return error_response(
            400, "页面已过期或来源不明（安全校验失败），请返回上一页刷新后重新提交。", "csrf"
        )

    @app.errorhandler(Forbidden)
    def forbidden(e):
        return error_response(403, e.message, "forbidden")

    @app.errorhandler(DomainError)
    def refused(e):
        # A view without a form of its own to show the message on: the rule's words, as a 400.
        return error_response(400, str(e), "refused")

    @app.errorhandler(HTTPException)
    def http_error(e):
        # Keep the headers that say how to recover: Allow (405), Retry-After (429, 503),
        # WWW-Authenticate (401).
        kept = {
            k: v for k, v in e.get_headers() if k in ("Allow", "Retry-After", "WWW-Authenticate")
        }
        code = getattr(e, "api_code", None)
        return error_response(
            e.code or 500,
            getattr(e, "api_message", None) or MESSAGES.get(e.code),
            code,
            getattr(e, "api_details", None),
            kept,
        )

    @app.errorhandler(Exception)
    def unexpected(e):
        app.logger.exception("unhandled error on %s", request.path)
        return error_response(500)
