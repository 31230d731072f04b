"""View guards for the back office. Real authorisation is in shifangbang.access (domain layer)."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required


def role_required(*roles: str):
    """Signed in, and (when roles are given) holding one of them."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.roles = roles  # read by the menu (admin/nav.py): it links only what opens
        return wrapped

    return decorator
