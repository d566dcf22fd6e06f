"""The operators' command line (output, JSON, exit codes, loading the region table) and the demo's own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from review_calendar.cli import main
from review_calendar.store.db import session_scope, upgrade
from review_calendar.store.models import Region
from review_calendar_demo.cli import main as demo_main

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
HEBEI_TABLE = ROOT / "include" / "review_calendar" / "data" / "regions" / "hebei.csv"


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

    assert json.loads(capsys.readouterr().out)["warnings"][0].startswith(
        "2031 年的节假日安排尚未发布或未配置"
    )


def test_deadlines_json_shows_clause_due_basis_and_recurrence_of_every_obligation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """冀工信产业〔2016〕93号 七 asks the 2016 batch for the contact list once (Mar 31): yearly is our configuration.

    The yearly evaluation has no date in 93号 五 (配置日期); major progress is reported any time
    (93号 五 随时上报), so it is listed without a date.
    """
    main(["deadlines", "--programme", "hebei_smart_cluster", "--year", "2024", "--json"])

    rows = {o["id"]: o for o in json.loads(capsys.readouterr().out)["obligations"]}

    contact = rows["contact_list"]
    assert (contact["recurrence"], contact["recurrence_is_configured"], contact["recurrence_label"]) == (
        "yearly",
        True,
        "每年（配置）",
    )
    assert (contact["due_is_configured"], contact["due_label"]) == (False, "法定截止日期")
    assert contact["clause"].startswith("冀工信产业〔2016〕93号 七")
    evaluation = rows["performance_evaluation"]
    assert (evaluation["due_is_configured"], evaluation["due_label"]) == (True, "配置日期")
    plan = rows["development_plan"]  # 二、七: once for the 2016 batch; per pilot and plan period is ours
    assert (plan["recurrence"], plan["recurrence_is_configured"]) == ("plan_period", True)
    assert plan["recurrence_label"] == "试点首个年度及规划期届满后（配置）"
    progress = rows["major_progress"]
    assert (progress["kind"], progress["effective_due"], progress["recurrence"]) == ("ad_hoc", None, "ad_hoc")
    assert "五" in progress["clause"] and "随时上报" in progress["clause"]
    assert all(
        {"clause", "due_is_configured", "recurrence", "recurrence_is_configured"} <= set(o)
        for o in rows.values()
    )


def test_deadlines_lists_the_major_change_report_of_article_17_4(capsys: pytest.CaptureFixture[str]) -> None:
    """工信部企业〔2022〕119号 第十七条（四）: major changes are reported when they happen, no fixed date."""
    main(["deadlines", "--programme", "miit_sme_cluster", "--year", "2025", "--json"])

    rows = {o["id"]: o for o in json.loads(capsys.readouterr().out)["obligations"]}

    change = rows["major_change_report"]
    assert (change["kind"], change["statutory_due"], change["due_label"]) == (
        "ad_hoc",
        None,
        "随时报送（无固定日期）",
    )
    assert "第十七条（四）" in change["clause"]


def test_deadlines_recompute_moves_a_recorded_deadline_after_the_arrangement_is_added(
    review_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """2028-04-30 (Sunday, 第十六条) recorded as 2028-05-03; the arrangement makes May 1-5 holidays."""
    import review_calendar.domain.calendar as calendar_module
    from review_calendar.domain.programmes import load_programme
    from review_calendar.settings import get_settings
    from review_calendar.store.queries import record_instances

    assert main(["db", "upgrade"]) == 0
    monkeypatch.setattr(calendar_module, "_default", None)  # the fallback calendar: 2028 has no data
    record_instances(get_settings().db_url, load_programme("miit_sme_cluster"), 2028)
    table = tmp_path / "holidays.yaml"
    table.write_text(
        "2028:\n  holidays: [2028-05-01, 2028-05-02, 2028-05-03, 2028-05-04, 2028-05-05]\n"
        "  workdays: [2028-04-30, 2028-05-06]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("REVIEW_CALENDAR_HOLIDAYS", str(table))
    monkeypatch.setattr(calendar_module, "_default", None)
    capsys.readouterr()

    code = main(
        [
            "deadlines",
            "recompute",
            "--programme",
            "miit_sme_cluster",
            "--year",
            "2028",
            "--as-of",
            "2028-01-05",
            "--json",
        ]
    )

    data = json.loads(capsys.readouterr().out)
    rows = {o["id"]: o for o in data["obligations"]}
    assert code == 0
    assert data["recomputed"]["moved"] == []  # Apr 30 became a make-up working day: never shortened
    assert rows["annual_info_table"]["effective_due"] == "2028-05-03"
    assert data["warnings"] == []


def test_unknown_programme_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deadlines", "--programme", "nope", "--year", "2024"]) == 2
    assert "没有项目“nope”" in capsys.readouterr().err


def test_missing_argument_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["deadlines", "--programme", "hebei_smart_cluster"])
    assert exit_info.value.code == 2


def test_programmes_check_fails_on_invalid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.yaml").write_text("id: bad\n", encoding="utf-8")

    code = main(["programmes", "check", "--dir", str(tmp_path)])

    assert code == 1
    assert "无效  bad.yaml：name：缺少必填项" in capsys.readouterr().out


def test_programmes_check_passes_on_shipped_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["programmes", "check"]) == 0
    assert capsys.readouterr().out.count("有效  ") == 4


def test_db_upgrade_and_demo_seed(review_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert demo_main(["seed"]) == 0

    out = capsys.readouterr().out
    assert "at revision" in out
    assert "regions 303, clusters 24, enrolments 25, subsidies 3" in out
    assert (review_env / "review.db").exists()


def test_the_demo_is_not_a_command_of_the_product(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["seed", "demo"])

    assert exit_info.value.code == 2
    assert "无效的选择 'seed'" in capsys.readouterr().err


def test_demo_seed_runs_as_a_module(review_env: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), os.environ.get("PYTHONPATH", "")]),
    }

    done = subprocess.run(
        [sys.executable, "-m", "review_calendar_demo", "seed"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert "demo data loaded: regions 303" in done.stdout


@pytest.fixture
def cli_db(db_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The review database the command line writes to: an empty one on SQLite, then on PostgreSQL."""
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", db_url)
    return db_url


@pytest.fixture
def table(tmp_path: Path) -> Path:
    """The official Hebei region table as an operator has it on disk."""
    path = tmp_path / "河北省行政区划.csv"
    shutil.copyfile(HEBEI_TABLE, path)
    return path


def edit_line(path: Path, line: int, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` on 1-based ``line`` of a UTF-8 file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def region_names(url: str) -> dict[str, str]:
    with session_scope(url) as session:
        return dict(session.execute(select(Region.code, Region.name)).tuples().all())


def test_regions_load_fills_an_empty_database(
    cli_db: str, table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["regions", "load", str(table)])

    names = region_names(cli_db)
    assert code == 0
    assert (
        "行政区划已载入 河北省行政区划.csv：河北省（130000）179 条，新增 179，更新 0，未变 0"
        in capsys.readouterr().out
    )
    assert (len(names), names["130000"], names["130683"], names["130682"]) == (
        179,
        "河北省",
        "安国市",
        "定州市",
    )


def test_regions_load_twice_changes_nothing(
    cli_db: str, table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["regions", "load", str(table)])
    before = region_names(cli_db)

    code = main(["regions", "load", str(table)])

    assert code == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("新增 0，更新 0，未变 179")
    assert region_names(cli_db) == before


def test_regions_load_updates_a_renamed_region(
    cli_db: str, table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["regions", "load", str(table)])
    edit_line(table, 4, "长安区", "长安新区")

    code = main(["regions", "load", str(table), "--province", "130000"])

    assert code == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("新增 0，更新 1，未变 178")
    assert region_names(cli_db)["130102"] == "长安新区"


@pytest.mark.parametrize(
    ("line", "old", "new", "message"),
    [
        pytest.param(4, "county", "town", "第 4 行，字段 level：层级 'town' 无效", id="level"),
        pytest.param(4, "130102", "13010", "第 4 行，字段 code：代码 '13010' 不是 6 位数字", id="code"),
        pytest.param(
            4,
            ",130100",
            ",130199",
            "第 4 行，字段 parent_code：上级 130199 不是本文件中的市级单位",
            id="parent",
        ),
        pytest.param(4, "长安区", "", "第 4 行，字段 name：名称为空", id="name"),
    ],
)
def test_a_malformed_table_is_refused_whole_naming_file_row_and_field(
    cli_db: str, table: Path, capsys: pytest.CaptureFixture[str], line: int, old: str, new: str, message: str
) -> None:
    edit_line(table, line, old, new)

    code = main(["regions", "load", str(table)])

    upgrade(cli_db)
    assert code == 1
    assert f"行政区划文件有误，未载入：河北省行政区划.csv {message}" in capsys.readouterr().err
    assert region_names(cli_db) == {}


def test_a_table_of_another_province_names_the_first_wrong_code(
    cli_db: str, table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["regions", "load", str(table), "--province", "140000"])

    assert code == 1
    assert "河北省行政区划.csv 第 2 行，字段 code：代码 130000 不属于 140000" in capsys.readouterr().err


def test_regions_load_of_a_missing_file_is_a_usage_error(
    review_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["regions", "load", str(tmp_path / "nope.csv")]) == 2
    assert "文件不存在" in capsys.readouterr().err


def test_regions_load_refuses_a_code_that_is_not_a_province() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["regions", "load", "x.csv", "--province", "130100"])

    assert exit_info.value.code == 2


def test_regions_loaded_by_the_operator_are_the_demo_province_s_real_ones(
    cli_db: str, table: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["regions", "load", str(table)])
    demo_main(["seed"])

    with session_scope(cli_db) as session:
        hebei = session.scalar(
            select(func.count()).select_from(Region).where(Region.province_code == "130000")
        )
    assert hebei == 179
    assert "新增 179" in capsys.readouterr().out


def test_output_cut_short_by_a_pipe_ends_quietly() -> None:
    """``review-calendar deadlines --json | head``: no BrokenPipeError traceback when the reader has gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte: every write fails with EPIPE
    try:
        result = subprocess.run(
            [sys.executable, "-c", "from review_calendar.cli import main; raise SystemExit(main())",
             "deadlines", "--programme", "hebei_smart_cluster", "--year", "2025", "--json"],
            stdout=write_end, stderr=subprocess.PIPE, text=True, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)

    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
    assert result.returncode == 0
