"""Search: Whoosh schema, Chinese and pinyin analysis, index sync from the change log, queries.

Placeholder until issue 4 lands: the database fallback is the only search, and there is no index.
"""
from flask import Flask


def init_app(app: Flask) -> None:
    pass


def ensure_current(progress: bool = False) -> None:
    """Bring the index up to date with the database (build it when missing)."""


def health() -> dict:
    return {"ok": True, "detail": "未启用全文索引"}
