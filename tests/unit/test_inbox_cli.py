"""``review-calendar inbox sweep``: the operators' sweep, in Chinese, with a dry run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from review_calendar.cli import main
from review_calendar.intake.inbox import inbox_dir
from review_calendar.settings import get_settings
from review_calendar.store.queries import expected_submitters, record_instances
from review_calendar_demo.seed import seed_demo
from review_calendar_demo.synthetic import break_records, records_for, set_received, write_xlsx
from tests.faults import RECEIVED, contact_list_instance
from tests.security.inbox_cases import a_contact_list, submission_count

if TYPE_CHECKING:
    from pathlib import Path

SWEEP = ["inbox", "sweep", "--programme", "hebei_smart_cluster", "--as-of", "2025-03-31"]


@pytest.fixture
def inbox(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo province's 2025 contact-list inbox with a good file, a broken one and a misplaced one."""
    from review_calendar.store.db import session_scope

    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    programme, instance = contact_list_instance()
    record_instances(migrated_url, programme, 2025)
    folder = inbox_dir(get_settings(), instance)
    with session_scope(migrated_url) as session:
        cities = expected_submitters(session, programme, instance)
    a_contact_list(migrated_url, folder / cities[0].region_code / "名单.xlsx", 0)
    broken = break_records(records_for(programme, instance, cities[1], seed=1), "bad_mobile", 2025)
    set_received(write_xlsx(folder / cities[1].region_code / "坏名单.xlsx", broken, "联系人"), RECEIVED)
    a_contact_list(migrated_url, folder / "石家庄市" / "名单.xlsx", 2)
    return folder


def test_sweep_prints_what_it_took_in_rejected_and_could_not_place(
    inbox: Path, migrated_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(SWEEP)

    out = capsys.readouterr().out
    assert code == 1  # a file was rejected and one could not be placed
    assert "已接收 名单.xlsx" in out
    assert "已退回 坏名单.xlsx" in out and "退回通知已登记" in out
    assert "无法归位 1 个" in out and "石家庄市/名单.xlsx：目录“石家庄市”不是6位行政区划代码" in out
    assert "合计：接收 1 个，退回 1 个，已存在 0 个，无法归位 1 个" in out
    assert submission_count(migrated_url) == 2


def test_dry_run_lists_what_would_be_taken_and_takes_nothing(
    inbox: Path, migrated_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*SWEEP, "--dry-run"])

    out = capsys.readouterr().out
    assert "试运行" in out and out.count("将接收 ") == 2
    assert "无法归位 1 个" in out
    assert code == 1
    assert submission_count(migrated_url) == 0
    assert len(list(inbox.rglob("*.xlsx"))) == 3


def test_year_sweeps_every_obligation_of_the_cycle(inbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main([*SWEEP, "--year", "2025", "--dry-run", "--json"])

    out = capsys.readouterr().out
    assert '"swept": ' in out and "contact_list" in out


def test_unknown_programme_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inbox", "sweep", "--programme", "nope"]) == 2


def test_a_year_without_a_cycle_is_a_usage_error_that_says_so(
    inbox: Path, migrated_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["inbox", "sweep", "--programme", "hebei_smart_cluster", "--year", "1999"])

    err = capsys.readouterr().err
    assert code == 2 and "在 1999 年没有报送周期（报送周期自 2016 年起" in err
    assert submission_count(migrated_url) == 0 and len(list(inbox.rglob("*.xlsx"))) == 3


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["inbox", "sweep"], "用法错误：缺少必需参数：--programme"),
        (
            [*SWEEP[:4], "--as-of", "2025-13-01"],
            "用法错误：参数 --as-of：应为日期 YYYY-MM-DD，收到 '2025-13-01'",
        ),
        ([*SWEEP[:4], "--year", "明年"], "用法错误：参数 --year：应为年度（如 2025），收到 '明年'"),
    ],
)
def test_usage_errors_read_in_chinese(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2 and expected in capsys.readouterr().err


def test_the_sweep_names_each_file_already_received(
    inbox: Path, migrated_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    [kept] = [p for p in inbox.glob("*/名单.xlsx") if p.parent.name.isdigit()]
    copy = kept.read_bytes()
    main(SWEEP)
    (kept.parent / "名单（再次报送）.xlsx").write_bytes(copy)
    capsys.readouterr()

    main(SWEEP)

    out = capsys.readouterr().out
    assert "已存在 名单（再次报送）.xlsx（相同文件已接收过）" in out and "已存在 1 个" in out


def test_a_receipt_date_in_the_future_is_refused_before_anything_is_stored(
    inbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import datetime as dt

    from review_calendar.domain.calendar import TZ

    tomorrow = dt.datetime.now(TZ).date() + dt.timedelta(days=1)
    before = submission_count(str(get_settings().db_url))
    files = [str(p) for p in inbox.rglob("*.xlsx")][:1]

    code = main(["ingest", *files, "--programme", "hebei_smart_cluster", "--year", "2025",
                 "--obligation", "contact_list", "--received-on", tomorrow.isoformat()])  # fmt: skip

    assert code == 2 and "晚于今天" in capsys.readouterr().err
    assert submission_count(str(get_settings().db_url)) == before
