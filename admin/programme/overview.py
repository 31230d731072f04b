"""/admin/programme: where each part of the action programme stands in the user's jurisdiction."""

from flask import Blueprint, render_template

from shifangbang import (
    cases,
    colourcode,
    cultivation,
    growth,
    monitoring,
    plaques,
    reporting,
    spotcheck,
)

from ..auth import role_required
from ..helpers import scope

bp = Blueprint("admin_programme", __name__, url_prefix="/admin/programme")


def todo(ids: set[int] | None) -> dict:
    """What needs doing now (the dashboard and the overview page): overdue cases, reports waiting
    for 立案, overdue plaques and follow-up samplings, and the reporting calendar."""
    open_cases = cases.listing(ids, "open")
    follow_ups = monitoring.open_follow_ups(ids)
    return {
        "open_cases": len(open_cases),
        "overdue_cases": sum(cases.is_overdue(c) for c in open_cases),
        "reports_waiting": len(cases.open_reports(ids)),
        "plaques_overdue": sum(s.overdue for s in plaques.states(ids)),
        "follow_ups": len(follow_ups),
        "follow_ups_overdue": sum(f.overdue for f in follow_ups),
        "reports": reporting.summary(ids),
    }


@bp.get("/")
@role_required()
def index():
    ids = scope()
    pool = cultivation.listing(ids)
    counts = growth.counts(ids)
    return render_template(
        "admin/programme/index.html",
        t=todo(ids),
        pool=sum(c.status == "pool" for c in pool),
        applied=sum(c.status == "applied" for c in pool),
        growth_open=sum(counts["upgrade"].get(st, 0) for st in growth.stages()[:-1]),
        growth_listed=counts["growth"].get(growth.GROWTH_STAGE, 0),
        spotchecks=len(spotcheck.recent(ids)),
    )


def programme_figures(ids: set[int] | None) -> dict:
    """The action programme's counts for the statistics page (ids: the chosen subtree)."""
    return {
        "colour": colourcode.per_station(ids),
        "targets": cultivation.progress(ids),
        "monitoring": monitoring.count(ids),
        "growth": growth.counts(ids),
        "stages": growth.stages(),
    }
