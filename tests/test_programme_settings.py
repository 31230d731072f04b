"""The action programme's deployment settings: typed, defaulted once, bad values refused."""

from datetime import date
from pathlib import Path

import pytest

from shifangbang import deployment


def with_programme(tmp_path: Path, body: str) -> Path:
    text = deployment.DEFAULT_FILE.read_text("utf-8")
    start = text.index("[programme]")
    end = text.find("\n[", start + 1)
    path = tmp_path / "d.toml"
    path.write_text(
        text[:start] + "[programme]\n" + body + (text[end:] if end != -1 else ""), "utf-8"
    )
    return path


def test_shipped_file_sets_the_baotou_deadline_and_xing_county_target():
    p = deployment.load().programme
    assert p.colour_code_deadline == date(2026, 11, 30)
    assert p.title_target_share == 0.10 and p.report_due_day == 24
    assert p.acceptance_standard and p.upgrade_stages[-1] == "取得许可"


def test_defaults_when_the_table_is_missing_and_bad_values_refused(tmp_path):
    p = deployment.load(with_programme(tmp_path, "")).programme
    assert p == deployment.Programme()
    assert p.colour_code_deadline is None  # 色标化 off the public page without a deadline
    with pytest.raises(ValueError, match="unknown settings"):
        deployment.load(with_programme(tmp_path, "penalty_days = 3\n"))
    with pytest.raises(ValueError, match="report_due_day"):
        deployment.load(with_programme(tmp_path, "report_due_day = 31\n"))
    with pytest.raises(ValueError, match="shares"):
        deployment.load(with_programme(tmp_path, "title_target_share = 10\n"))
