"""Error codes and the rejection type: the contract with storage and the CLI."""

from __future__ import annotations

import pickle

import pytest

from review_calendar.intake import issues as E
from review_calendar.intake.issues import (
    CODES,
    FileProblem,
    IntakeIssue,
    IntakeRejected,
    IssueFactory,
    has_errors,
    issue,
)

pytestmark = pytest.mark.unit

ISSUE = IntakeIssue("名单.xlsx", "联系人名单", 12, "手机", "1381234567", E.MOBILE_INVALID, "第12行……")
WARNING = IntakeIssue("名单.xlsx", None, None, None, None, E.VALUE_INCONSISTENT, "提示", severity="warning")


def test_every_code_constant_is_its_own_name_and_documented() -> None:
    constants = {name: value for name, value in vars(E).items() if name.isupper() and isinstance(value, str)}

    assert all(name == value for name, value in constants.items())
    assert set(constants.values()) == set(CODES)


def test_code_descriptions_are_chinese() -> None:
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in CODES.values())


def test_issue_to_dict() -> None:
    assert ISSUE.to_dict() == {
        "file": "名单.xlsx",
        "sheet": "联系人名单",
        "row": 12,
        "column": "手机",
        "value": "1381234567",
        "code": "MOBILE_INVALID",
        "message": "第12行……",
        "severity": "error",
    }


def test_rejection_to_dict_has_the_ingest_json_shape() -> None:
    rejection = IntakeRejected([ISSUE], sha256="ab" * 32)

    assert rejection.to_dict() == {"file": "名单.xlsx", "sha256": "ab" * 32, "errors": [ISSUE.to_dict()]}


def test_rejection_lists_its_codes() -> None:
    assert IntakeRejected([ISSUE, WARNING]).codes == ["MOBILE_INVALID", "VALUE_INCONSISTENT"]


@pytest.mark.parametrize(
    ("issues", "expected"),
    [
        pytest.param([ISSUE], True, id="error"),
        pytest.param([WARNING], False, id="warning-only"),
        pytest.param([], False, id="none"),
    ],
)
def test_has_errors(issues: list[IntakeIssue], expected: bool) -> None:
    assert has_errors(issues) is expected


def test_rejection_survives_pickling_with_its_issues() -> None:
    rejection = pickle.loads(pickle.dumps(IntakeRejected([ISSUE], sha256="cd" * 32)))

    assert (rejection.issues, rejection.sha256) == ([ISSUE], "cd" * 32)


def test_issue_factory_places_issues_by_name() -> None:
    new = IssueFactory("名单.xlsx", "联系人名单")

    made = new(E.MOBILE_INVALID, "第12行……", row=12, column="手机", value="1381234567")

    assert (
        made
        == ISSUE
        == issue(
            "名单.xlsx",
            E.MOBILE_INVALID,
            "第12行……",
            sheet="联系人名单",
            row=12,
            column="手机",
            value="1381234567",
        )
    )


def test_file_problem_names_the_file_in_its_issue() -> None:
    problem = FileProblem(E.FILE_EMPTY, "文件“{file}”是空文件。", value="0")

    made = problem.to_issue("名单.xlsx")

    assert (made.file, made.code, made.message, made.value) == (
        "名单.xlsx",
        E.FILE_EMPTY,
        "文件“名单.xlsx”是空文件。",
        "0",
    )


@pytest.mark.parametrize("code", [E.REGION_MIXED, E.REGION_NOT_EXPECTED, E.REGION_MISMATCH])
def test_submitter_region_codes_are_intake_codes(code: str) -> None:
    assert code in CODES
