"""The action programme's to-do providers for the back-office home (todo.py): stations' reports
overdue or due, cases past their deadline, verified reports awaiting 立案, plaques not recovered
in time, follow-up samplings (跟踪抽检) overdue."""

from . import cases, monitoring, plaques, reporting
from .todo import Todo, provider


@provider
def programme_due(user, scope, on):
    reports = reporting.summary(scope, on)
    open_cases = cases.listing(scope, "open")
    follow_ups = monitoring.open_follow_ups(scope)
    return [
        Todo(
            "所/中队报表（三清单、月报）逾期未报",
            reports["overdue"],
            "admin_reports.index",
            {},
            True,
        ),
        Todo("所/中队报表（三清单、月报）待报送", reports["due"], "admin_reports.index", {}),
        Todo(
            "案件超过办案期限",
            sum(cases.is_overdue(c, on) for c in open_cases),
            "admin_cases.index",
            {"status": "open"},
            True,
        ),
        Todo("举报查实待立案", len(cases.open_reports(scope)), "admin_cases.index", {}),
        Todo(
            "撤销称号后逾期未收回牌匾",
            sum(s.overdue for s in plaques.states(scope)),
            "admin_plaques.index",
            {},
            True,
        ),
        Todo(
            "风险监测发现问题，跟踪抽检已逾期",
            sum(f.overdue for f in follow_ups),
            "admin_monitoring.index",
            {},
            True,
        ),
        Todo(
            "风险监测发现问题，待跟踪抽检",
            sum(not f.overdue for f in follow_ups),
            "admin_monitoring.index",
            {},
        ),
    ]
