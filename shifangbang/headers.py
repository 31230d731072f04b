"""Security headers, set on every response in one place (docs/deployment.md lists them).

Scripts and style sheets come only from this site: no inline <script> or <style> anywhere.
Style *attributes* stay allowed (`style-src-attr`): tier colours come from the deployment file
and are written as `style="background:…"`; CSS cannot run script. Browsers without CSP level 3
fall back to `style-src`, which therefore also admits inline styles (never scripts).
A response that sets its own policy (badge.svg) keeps it.
"""

from flask import Flask

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "style-src-elem 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"


def init_app(app: Flask) -> None:
    headers = dict(HEADERS)
    if app.config["BASE_URL"].startswith("https://"):
        headers["Strict-Transport-Security"] = HSTS
    # Static files are answered before Flask (WhiteNoise, assets.py): it adds these too.
    app.extensions["security_headers"] = headers

    @app.after_request
    def security_headers(response):
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
