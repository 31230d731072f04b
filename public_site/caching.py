"""The HTTP caching policy for everything public, applied once for the whole site.

Every public GET answer is revalidated on every use: `Cache-Control: public, no-cache` with an
ETag (and Last-Modified where the view knows it). A browser or CDN keeps its copy but asks each
time with If-None-Match and gets a cheap 304 while nothing changed, so a tier, title or state
change reaches every channel (page, API, badge, search, home, open data) on the next load instead
of after a max-age window. Views only compute a cheap ETag when they can (the workshop page);
everything else gets one from its body here.

Answers that set their own Cache-Control keep it: private ones (`no-store`: complaint forms,
/track, the back office) and those that never change for a given URL (QR images, static files).
"""

from flask import Flask, request

POLICY = "public, no-cache"
# Blueprints of the consumer site and its APIs; the back office sets no-store itself.
PUBLIC_BLUEPRINTS = frozenset(
    {
        "public",
        "workshop",
        "badge",
        "search",
        "complaints",
        "public_draws",
        "api",
        "open311",
        "opendata",
        "feeds",
    }
)


def is_public(blueprint: str | None, endpoint: str | None) -> bool:
    if endpoint == "static" or endpoint is None:
        return False
    return (blueprint or "").split(".")[0] in PUBLIC_BLUEPRINTS or endpoint == "wechat_verify"


def revalidate(response):
    if request.method not in ("GET", "HEAD") or not is_public(request.blueprint, request.endpoint):
        return response
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = POLICY
        if response.mimetype == "text/html":
            # The large-type cookie changes the markup: caches keep the variants apart.
            response.vary.add("Cookie")
    if response.status_code == 200 and not response.direct_passthrough:
        if response.get_etag()[0] is None and not response.is_streamed:
            response.add_etag()
        response.make_conditional(request)
    return response


def init_app(app: Flask) -> None:
    app.after_request(revalidate)
