"""Inspection rules (DESIGN.md §2, 监督检查)."""
from collections.abc import Iterable

# 基本符合 allows at most this many failed ordinary items; any failed key item is 不符合.
MAX_ORDINARY_FAILURES_FOR_BASIC = 8


def overall_result(items: Iterable) -> str:
    """符合 / 基本符合 / 不符合 from checklist items (objects with .is_key and .outcome).

    pass  – no item failed;
    basic – only ordinary items failed, at most 8 of them;
    fail  – any key item failed, or more than 8 ordinary items failed.
    """
    ordinary_failures = 0
    for item in items:
        if item.outcome != "fail":
            continue
        if item.is_key:
            return "fail"
        ordinary_failures += 1
    if ordinary_failures == 0:
        return "pass"
    return "basic" if ordinary_failures <= MAX_ORDINARY_FAILURES_FOR_BASIC else "fail"
