"""Security headers, set on every response in one place (docs/deployment.md lists them).

Scripts and styles come only from this site's files: no inline <script>, <style> or style
attribute anywhere. The deployment file's colours (tiers, 色标化) are classes appended to the
style sheets (palette.py), not style attributes. A response that sets its own policy (badge.svg)
keeps it.
"""

from flask import Flask

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-elem 'self'",
        "style-src-attr 'none'",
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
