"""Authorisation for every registry function (one place for the CLI's exemption)."""

from flask import has_request_context

from .. import access


def require(actor, action: str, jurisdiction_id: int | None = None) -> None:
    """actor None is the system (the CLI); never accepted while serving a web request."""
    if actor is None and not has_request_context():
        return
    access.require(actor, action, jurisdiction_id)
