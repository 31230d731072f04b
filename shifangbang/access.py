"""Who may do what, where. Enforced in domain functions, not only by hiding buttons.

Roles: admin sees and changes everything; officer acts within the subtree of their own
jurisdiction (normally a station); viewer reads within their jurisdiction and changes nothing.
"""

from sqlalchemy import select

from .extensions import db
from .models import Jurisdiction, User

READ_ACTIONS = frozenset({"view", "export"})
WRITE_ACTIONS = frozenset(
    {
        "create",
        "edit",
        "change_status",
        "import",
        "inspect",
        "sample",
        "propose_tier",
        "handle_complaint",
        "issue_poster",
        "rectify",
        "handle_case",  # 立案, 取缔 (cases.py)
        "draw",  # stations run their own 双随机 draws within their jurisdiction (issue 17)
        # Not a write, but officer-only: reading a complainant's identity.
        "view_reporter",
    }
)
ADMIN_ACTIONS = frozenset(
    {
        "decide_tier",
        "publish_tier",
        "grant_title",
        "revoke_title",
        "manage_users",
        "publish_draw",
        "view_audit",
        "edit_jurisdiction",
        "edit_category",  # the product categories' catalogue (categories.py)
        "decide_case",  # 行政处罚决定 (cases.py)
    }
)


class Forbidden(Exception):
    """Raised by domain functions when the user may not do this; views turn it into 403."""

    def __init__(self, message: str = "您没有权限进行此操作。"):
        super().__init__(message)
        self.message = message


def subtree_ids(root_id: int) -> set[int]:
    """The ids of a jurisdiction and everything below it."""
    rows = db.session.execute(select(Jurisdiction.id, Jurisdiction.parent_id)).all()
    children: dict[int | None, list[int]] = {}
    for jid, parent in rows:
        children.setdefault(parent, []).append(jid)
    out, stack = set(), [root_id]
    while stack:
        node = stack.pop()
        out.add(node)
        stack.extend(children.get(node, ()))
    return out


def visible_jurisdiction_ids(user: User) -> set[int] | None:
    """None means everywhere (bureau administrator)."""
    if user.role == "admin":
        return None
    if user.jurisdiction_id is None:
        return set()
    return subtree_ids(user.jurisdiction_id)


def can(user: User | None, action: str, jurisdiction_id: int | None = None) -> bool:
    if action not in READ_ACTIONS | WRITE_ACTIONS | ADMIN_ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if user is None or not user.is_active:
        return False
    if user.role == "admin":
        return True
    if action in ADMIN_ACTIONS:
        return False
    if action not in READ_ACTIONS and user.role != "officer":
        return False
    if jurisdiction_id is None:  # an action not tied to a place, e.g. listing
        return True
    return jurisdiction_id in visible_jurisdiction_ids(user)


def require(user: User | None, action: str, jurisdiction_id: int | None = None) -> None:
    if not can(user, action, jurisdiction_id):
        raise Forbidden()
