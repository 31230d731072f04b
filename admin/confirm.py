"""Confirmation before a publishing or destructive action, without JavaScript.

A view decorated with @confirm_first(ask) runs only when its form carries confirmed=1. The
first POST gets a confirmation page instead: the question, what will happen, and a form that
posts every field again (typed text included) with confirmed=1, or a way back.
"""

from functools import wraps
from urllib.parse import urlsplit

from flask import render_template, request, url_for

CONFIRM_FIELD = "confirmed"


def _back() -> str:
    for candidate in (request.form.get("back"), request.referrer):
        if candidate:
            parts = urlsplit(candidate)
            same_site = not parts.netloc or parts.netloc == request.host
            if same_site and parts.path.startswith("/admin"):
                return candidate
    return url_for("admin.dashboard")


def confirm_first(ask):
    """ask(**view_args) -> (question, detail) when the posted action needs confirming, else None."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if request.method == "POST" and request.form.get(CONFIRM_FIELD) != "1":
                question = ask(**kwargs)
                if question is not None:
                    title, detail = question
                    fields = [
                        (k, v)
                        for k, v in request.form.items(multi=True)
                        if k not in ("csrf_token", CONFIRM_FIELD)
                    ]
                    return render_template(
                        "admin/confirm.html",
                        title=title,
                        detail=detail,
                        fields=fields,
                        action=request.full_path.rstrip("?"),
                        back=_back(),
                    )
            return view(*args, **kwargs)

        return wrapper

    return decorate
