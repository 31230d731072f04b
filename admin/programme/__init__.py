"""The plans' action programme in the back office (DESIGN.md §2b): one blueprint per part."""

from . import (
    cases,
    colourcode,
    cultivation,
    growth,
    monitoring,
    notices,
    overview,
    plaques,
    reports,
    spotcheck,
)

BLUEPRINTS = (
    overview.bp,
    cases.bp,
    plaques.bp,
    colourcode.bp,
    monitoring.bp,
    cultivation.bp,
    notices.bp,
    growth.bp,
    spotcheck.bp,
    reports.bp,
)
