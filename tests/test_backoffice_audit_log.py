"""The audit log in Chinese: every action code the code writes has a label; entities by name;
values in display form; filters by person, action, workshop and date."""

import ast
from datetime import date
from pathlib import Path

from shifangbang import registry, tiers
from shifangbang.complaints import TRANSITIONS
from shifangbang.labels import AUDIT_ACTIONS
from shifangbang.models import AuditLog
from shifangbang.timeutil import today

from .registry_helpers import edit_form, login_as, world

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    p
    for d in ("shifangbang", "admin", "public_site", "search_index")
    for p in (ROOT / d).rglob("*.py")
]
# Action codes built at run time: the values each placeholder takes.
EXPANSIONS = {
    "complaint.{action}": [f"complaint.{a}" for a in TRANSITIONS],
    "title.flag_{kind}": ["title.flag_serious_problem", "title.flag_incident"],
}


def _action_strings() -> set[str]:
    """The action argument of every audit.record(actor, action, …) call in the code."""
    found: set[str] = set()
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "audit"
            ):
                continue
            arg = node.args[1] if len(node.args) > 1 else None
            arg = arg or next((k.value for k in node.keywords if k.arg == "action"), None)
            if isinstance(arg, ast.Constant):
                found.add(arg.value)
            elif isinstance(arg, ast.IfExp):
                found |= {x.value for x in (arg.body, arg.orelse)}
            elif isinstance(arg, ast.JoinedStr):
                pattern = "".join(
                    v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
                    for v in arg.values
                )
                assert pattern in EXPANSIONS, f"{path}: add {pattern!r} to EXPANSIONS"
                found |= set(EXPANSIONS[pattern])
            else:
                raise AssertionError(f"{path}:{node.lineno}: action is not a literal")
    return found


def test_every_action_written_has_a_chinese_label():
    actions = _action_strings()
    assert len(actions) > 50  # the scan really finds the calls
    missing = sorted(actions - set(AUDIT_ACTIONS))
    assert missing == [], f"labels.AUDIT_ACTIONS lacks {missing}"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in label) for label in AUDIT_ACTIONS.values())


def _tier_decision(db, w):
    d = tiers.propose(
        w.admin,
        w.own,
        "bronze",
        "inspection",
        "检查基本符合",
        public_reason="依据监督检查结果调整。",
    )
    tiers.decide(w.admin, d, True, date(2026, 1, 5))
    tiers.publish(w.admin, d)
    db.session.commit()
    return d


def test_log_shows_names_and_display_values_not_codes(app, db):
    w = world(db)
    _tier_decision(db, w)
    registry.update_workshop(
        w.officer, w.own.id, edit_form(w.own, name="改名豆腐坊"), w.own.version
    )
    db.session.commit()
    admin = login_as(app, w.admin)
    body = admin.get("/admin/audit?action=tier.publish").get_data(as_text=True)
    assert "发布榜级" in body and ">改名豆腐坊 · 待评定 → 铜榜</a>" in body
    # Fields in Chinese, tier names and statuses in display form, the workshop by name.
    for shown in ("新榜级", "铜榜", "已发布", "已决定待发布", "监督检查结果", "首次定榜"):
        assert shown in body, shown
    for raw in ("tier.publish</", "workshop_id", ">bronze<", ">decided<", "to_tier"):
        assert raw not in body, raw
    body = admin.get("/admin/audit?action=workshop.edit").get_data(as_text=True)
    assert ">改名豆腐坊</a>" in body and "作坊名称" in body


def test_filters_by_person_action_workshop_and_date(app, db):
    w = world(db)
    _tier_decision(db, w)
    registry.update_workshop(
        w.admin, w.other.id, edit_form(w.other, varieties="凉糕"), w.other.version
    )
    db.session.commit()
    admin = login_as(app, w.admin)

    def actions(query):
        body = admin.get(f"/admin/audit?{query}").get_data(as_text=True)
        return {a for a in AUDIT_ACTIONS if f'data-action="{a}"' in body}

    # By workshop: its own rows and its tier decisions' rows, nothing about the other one.
    assert actions("workshop=西脑包") == {"tier.propose", "tier.decide", "tier.publish"}
    assert actions(f"workshop={w.other.public_code}") == {"workshop.edit"}
    assert actions(f"actor={w.admin.username}&action=tier.decide") == {"tier.decide"}
    assert actions(f"actor={w.officer.username}") == set()
    day = today().isoformat()
    assert "tier.publish" in actions(f"date_from={day}&date_to={day}")
    assert actions("date_to=2020-01-01") == set()
    # The person filter offers the people in the log; the action filter offers Chinese labels.
    body = admin.get("/admin/audit").get_data(as_text=True)
    assert f'<option value="{w.admin.username}"' in body
    assert '<option value="tier.publish" >发布榜级</option>' in body.replace("  ", " ")
    assert db.session.query(AuditLog).count() >= 4
