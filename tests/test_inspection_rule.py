"""The first domain rule: an inspection's overall result from its checklist items."""

from types import SimpleNamespace

import pytest

from shifangbang.inspections import overall_result


def items(ordinary_failures=0, key_failures=0, passes=20, na=2):
    out = [SimpleNamespace(is_key=False, outcome="fail") for _ in range(ordinary_failures)]
    out += [SimpleNamespace(is_key=True, outcome="fail") for _ in range(key_failures)]
    out += [SimpleNamespace(is_key=i % 3 == 0, outcome="pass") for i in range(passes)]
    out += [SimpleNamespace(is_key=True, outcome="na") for _ in range(na)]
    return out


@pytest.mark.parametrize(
    "ordinary, key, expected",
    [
        (0, 0, "pass"),
        (1, 0, "basic"),
        (8, 0, "basic"),  # the boundary: at most 8 ordinary failures is still 基本符合
        (9, 0, "fail"),
        (0, 1, "fail"),  # any key failure
        (1, 1, "fail"),
    ],
)
def test_overall_result(ordinary, key, expected):
    assert overall_result(items(ordinary, key)) == expected


def test_not_applicable_key_items_do_not_fail():
    assert overall_result(items(0, 0, passes=0, na=5)) == "pass"


def test_empty_checklist_passes():
    assert overall_result([]) == "pass"
