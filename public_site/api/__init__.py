"""The mini-program JSON API, /api/v1: public data only, one error shape, pagination, ETags.

The OpenAPI 3.1 document is at /api/v1/openapi.json (openapi.py); the tests keep it equal to the routes.
"""

from flask import Blueprint

from shifangbang.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies, no session: nothing for a forged cross-site request to ride on
limiter.limit("300 per minute")(bp)


from . import routes, wechat  # noqa: E402,F401  (registers the endpoints on bp)
