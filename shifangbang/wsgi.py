"""WSGI entry point for gunicorn: `gunicorn shifangbang.wsgi:app`."""

from . import create_app

app = create_app()
