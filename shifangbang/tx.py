"""Domain operations own their transaction: the outermost @transactional call commits or rolls back.

Nested calls (one operation composed of others) join the caller's transaction, so a whole
operation is durable at once, before any view acknowledges it.
"""

from contextvars import ContextVar
from functools import wraps

from .extensions import db

_depth: ContextVar[int] = ContextVar("tx_depth", default=0)


def transactional(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        depth = _depth.get()
        token = _depth.set(depth + 1)
        try:
            result = fn(*args, **kwargs)
            if depth == 0:
                db.session.commit()
            return result
        except BaseException:
            if depth == 0:
                db.session.rollback()
            raise
        finally:
            _depth.reset(token)

    return wrapper
