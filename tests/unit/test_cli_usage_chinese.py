"""The command line's usage errors read in Chinese, whatever the command (the real CLI, in a subprocess).

argparse's own messages (a missing or unknown command, an unknown option, a bad
value, a missing required option) are the operators' first answer: each is one
Chinese line naming the wrong argument and pointing at ``--help``, exit code 2.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "review_calendar.cli", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
        check=False,
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ((), "缺少必需参数：command"),
        (("frobnicate",), "参数 command：无效的选择 'frobnicate'（可选：'deadlines'"),
        (("db",), "缺少必需参数：action"),
        (("db", "upgrade", "--bogus"), "无法识别的参数：--bogus"),
        (("deadlines", "--programme", "p", "--year", "明年"), "参数 --year：取值无效（应为整数）：'明年'"),
        (("deadlines", "--year", "2025"), "缺少必需参数：--programme"),
        (("ingest", "--received-on", "2025-13-01", "x.xlsx"), "参数 --received-on：应为日期 YYYY-MM-DD"),
        (("inbox", "sweep"), "缺少必需参数：--programme"),
        (("mail", "fetch", "--limit"), "参数 --limit：需要一个取值"),
        (("remind", "--programme", "p", "--as-of"), "参数 --as-of：需要一个取值"),
    ],
)
def test_usage_errors_are_one_chinese_line_naming_the_argument_and_help(
    argv: tuple[str, ...], expected: str
) -> None:
    done = _run(*argv)

    *usage, last = done.stderr.strip().splitlines()
    assert done.returncode == 2 and done.stdout == ""
    assert expected in last, done.stderr
    assert "用法错误" in last and "--help" in last
    assert usage and usage[0].startswith("用法：")
    for english in ("error:", "usage:", "argument", "invalid", "required", "unrecognized", "expected"):
        assert english not in done.stderr


def test_help_still_works_and_exits_0() -> None:
    done = _run("--help")

    assert done.returncode == 0 and "deadlines" in done.stdout


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("deadlines", "--programme", "nope", "--year", "2025"), "没有项目“nope”；已有："),
        (
            (
                "ingest",
                "--programme",
                "hebei_smart_cluster",
                "--year",
                "2025",
                "--obligation",
                "progress_report",
                "无此文件.xlsx",
            ),
            "文件不存在：无此文件.xlsx",
        ),
        (("ingest", "--received-on", "2999-01-01", "x.xlsx"), "--received-on 2999-01-01 晚于今天"),
    ],
)
def test_errors_after_parsing_are_one_chinese_line_too(argv: tuple[str, ...], expected: str) -> None:
    """What the operator asked for does not exist: one line ``review-calendar：错误：…``, exit code 2."""
    done = _run(*argv)

    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("review-calendar：错误：")
    assert expected in done.stderr and done.stderr.count("\n") == 1, done.stderr
    for english in ("error:", "unknown", "no such", "known:", "programme "):
        assert english not in done.stderr
