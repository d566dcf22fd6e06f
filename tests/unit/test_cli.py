"""The operators' command line: output, JSON and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review_calendar.cli import main

pytestmark = pytest.mark.unit


def test_deadlines_json_lists_effective_dates(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["deadlines", "--programme", "hebei_smart_cluster", "--year", "2024", "--json"])

    data = json.loads(capsys.readouterr().out)
    dates = {
        o["id"]: (o["statutory_due"], o["effective_due"], o["submitter"], o["recipient"])
        for o in data["obligations"]
    }
    assert code == 0
    assert dates["contact_list"] == ("2024-03-31", "2024-04-01", "city", "province")
    assert dates["development_plan"][:2] == ("2024-06-30", "2024-07-01")
    assert dates["half_year_report"][:2] == ("2024-07-15", "2024-07-15")
    assert dates["full_year_report"][:2] == ("2025-01-15", "2025-01-15")
    assert data["obligations"][0]["title"] == "主管领导及责任处室负责同志名单"


def test_deadlines_text_marks_moved_dates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deadlines", "--programme", "hebei_smart_cluster", "--year", "2024"]) == 0

    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("contact_list"))
    assert "2024-04-01" in line and "(顺延)" in line


def test_deadlines_warns_for_years_without_holiday_data(capsys: pytest.CaptureFixture[str]) -> None:
    main(["deadlines", "--programme", "miit_sme_cluster", "--year", "2031", "--json"])

    assert json.loads(capsys.readouterr().out)["warnings"][0].startswith("2031 年的法定节假日安排尚未配置")


def test_unknown_programme_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deadlines", "--programme", "nope", "--year", "2024"]) == 2
    assert "unknown programme 'nope'" in capsys.readouterr().err


def test_missing_argument_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["deadlines", "--programme", "hebei_smart_cluster"])
    assert exit_info.value.code == 2


def test_programmes_check_fails_on_invalid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.yaml").write_text("id: bad\n", encoding="utf-8")

    code = main(["programmes", "check", "--dir", str(tmp_path)])

    assert code == 1
    assert "INVALID bad.yaml: name: Field required" in capsys.readouterr().out


def test_programmes_check_passes_on_shipped_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["programmes", "check"]) == 0
    assert capsys.readouterr().out.count("ok ") == 4


def test_db_upgrade_and_seed_demo(review_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["seed", "demo"]) == 0

    out = capsys.readouterr().out
    assert "at revision" in out
    assert "regions 303, clusters 24, enrolments 25, subsidies 3" in out
    assert (review_env / "review.db").exists()
