"""The back-office menu: one entry per screen, shown only to roles that may open it.

Whether a role may open a screen is read from the view's own @role_required guard, so the menu
cannot offer what answers 403. Links come from url_for (the canonical URL, no redirect).
"""

from flask import current_app, url_for
from flask_login import current_user

MENU = (
    ("admin.dashboard", "首页"),
    ("admin_workshops.index", "作坊档案"),
    ("admin_inspections.index", "监督检查"),
    ("admin_sampling.index", "抽检"),
    ("admin_tiers.index", "分级定榜"),
    ("admin_titles.index", "示范称号"),
    ("admin_complaints.inbox", "投诉举报"),
    ("admin_draws.index", "双随机"),
    ("posters.index", "公示牌"),
    ("admin_stats.index", "统计"),
    ("admin_programme.index", "行动计划"),
    ("admin_users.index", "账号"),
    ("admin_jurisdictions.index", "辖区"),
    ("admin_audit.index", "审计日志"),
)


def may_open(endpoint: str) -> bool:
    view = current_app.view_functions.get(endpoint)
    if view is None or not current_user.is_authenticated:
        return False
    roles = getattr(view, "roles", ())
    return not roles or current_user.role in roles


def menu() -> list[tuple[str, str]]:
    """(url, label) of the screens the signed-in user may open."""
    return [(url_for(endpoint), label) for endpoint, label in MENU if may_open(endpoint)]
