"""The mini-program JSON API, /api/v1: public data only, one error shape, pagination, ETags.

The OpenAPI 3.1 document is at /api/v1/openapi.json (openapi.py); the tests keep it equal to the routes.
"""
from flask import Blueprint, request

from shifangbang.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies, no session: nothing for a forged cross-site request to ride on
limiter.limit("300 per minute")(bp)


@bp.before_request
def refuse_nul():
    """NUL cannot be stored or compared in PostgreSQL text; refuse it up front instead of failing later."""
    from .common import ApiError

    if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        raise ApiError(400, "invalid_parameter", "请求中含有非法字符。")


from . import routes  # noqa: E402,F401  (registers the endpoints on bp)
