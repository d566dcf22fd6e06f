"""Reviewers return a submission (退回修改) and grant or refuse a county's request for more time (延期申请).

The rule table first (the one submission-state rule with returns and extensions),
then the whole way on a real review database: the proposal recorded once per
file, the answer taken as the decision DAG takes it, the region's state, the
county's e-mail and the reminders against the region's own due date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

import review_calendar.tasks.returns as task_returns
from review_calendar.aggregate.states import states_by_region, submission_state
from review_calendar.decide.answers import Answer, take_answer
from review_calendar.decide.extensions import propose_extension
from review_calendar.decide.returns import propose_review
from review_calendar.domain.facts import Fact, FactError
from review_calendar.domain.programmes import find_instance, load_programme_file
from review_calendar.notify.reminders import plan_reminders
from review_calendar.store.db import session_scope
from review_calendar.store.due_changes import RegionDue
from review_calendar.store.facts import save_fact
from review_calendar.store.models import Contact, Decision, DueChange, OutboxMessage, Submission
from review_calendar.store.reviews import AskedIn, ask
from review_calendar_demo.seed import seed_demo

pytestmark = pytest.mark.unit
A = load_programme_file(Path(__file__).resolve().parents[2] / "programmes" / "hebei_smart_cluster.yaml")
PLAN = find_instance(A, 2025, "development_plan")
DUE = PLAN.effective_due  # 2025-06-30
D = dt.date
BEFORE, AFTER, NEW_DUE, LATER, CLOSED = (
    D(2025, 6, 20),
    D(2025, 7, 8),
    D(2025, 7, 18),
    D(2025, 7, 25),
    D(2025, 8, 29),
)
GAOCHENG, YUTIAN = "130109", "130229"


@dataclass(frozen=True)
class File:
    """A stored file as the rule reads it; late as intake records it."""

    id: int
    status: str
    received_on: dt.date
    file_name: str = "f.xlsx"
    error_count: int = 0

    @property
    def is_late(self) -> bool:
        return self.status != "rejected" and self.received_on > DUE


RETURNED_1 = RegionDue(returns={1: NEW_DUE})


@pytest.mark.parametrize(
    ("files", "changes", "as_of", "state"),
    [
        pytest.param([File(1, "accepted", BEFORE)], RETURNED_1, AFTER, "returned", id="returned-until-new-due"),
        pytest.param([File(1, "accepted", BEFORE)], RETURNED_1, NEW_DUE, "returned", id="returned-on-new-due"),
        pytest.param([File(1, "accepted", BEFORE)], RETURNED_1, LATER, "missing", id="new-due-passed-missing"),
        pytest.param([File(1, "accepted", D(2025, 6, 1))], RegionDue(returns={1: D(2025, 6, 10)}), D(2025, 6, 15),
                     "open", id="new-due-passed-window-open"),
        pytest.param([File(1, "superseded", BEFORE), File(2, "accepted", AFTER)], RETURNED_1, CLOSED,
                     "on_time_corrected", id="correction-by-new-due-keeps-on-time"),
        pytest.param([File(1, "superseded", D(2025, 6, 1)), File(2, "accepted", D(2025, 6, 5))], RETURNED_1, CLOSED,
                     "on_time", id="correction-before-due-on-time"),
        pytest.param([File(1, "superseded", BEFORE), File(2, "accepted", LATER)], RETURNED_1, CLOSED,
                     "late", id="correction-after-new-due-late"),
        pytest.param([File(1, "superseded", D(2025, 7, 2)), File(2, "accepted", AFTER)],
                     RegionDue(returns={1: NEW_DUE}), CLOSED, "late", id="late-original-stays-late"),
        pytest.param([File(1, "superseded", BEFORE), File(2, "superseded", AFTER), File(3, "accepted", D(2025, 7, 30))],
                     RegionDue(returns={1: NEW_DUE, 2: D(2025, 8, 1)}), CLOSED, "on_time_corrected",
                     id="returned-twice-keeps-original-standing"),
        pytest.param([File(1, "accepted", BEFORE)], RegionDue(returns={1: None}), CLOSED, "returned",
                     id="return-without-date-holds"),
        pytest.param([File(1, "accepted", AFTER)], RegionDue(extended_to=D(2025, 7, 10)), CLOSED, "on_time",
                     id="extension-file-by-granted-date"),
        pytest.param([File(1, "accepted", LATER)], RegionDue(extended_to=D(2025, 7, 10)), CLOSED, "late",
                     id="extension-file-after-granted-date"),
        pytest.param([], RegionDue(extended_to=D(2025, 7, 10)), D(2025, 7, 5), "open", id="extension-open-until-date"),
        pytest.param([], RegionDue(extended_to=D(2025, 7, 10)), D(2025, 7, 11), "missing", id="extension-then-missing"),
        pytest.param([File(1, "accepted", AFTER)], None, CLOSED, "late", id="no-change-late"),
    ],
)  # fmt: skip
def test_the_state_rule_with_returns_and_extensions(
    files: list[File], changes: RegionDue | None, as_of: dt.date, state: str
) -> None:
    verdict = submission_state(files, PLAN, as_of, changes)

    assert verdict.state == state
    if state == "returned":
        assert verdict.label == "退回修改"


# The whole way on a real review database.

WHERE = AskedIn("decisions__hebei_smart_cluster", "run-1", "review", 0)


def _submission(url: str, n: int, day: dt.date, status: str = "accepted", region: str = GAOCHENG) -> int:
    with session_scope(url) as s:
        sub = Submission(
            programme_id=A.id, cycle_year=2025, obligation_id=PLAN.obligation_id, period="Y",
            region_code=region, file_name=f"规划-{n}.xlsx", stored_path="x",
            content_hash=f"h{n}".ljust(64, "0"), received_on=day, status=status, is_late=day > DUE,
        )  # fmt: skip
        s.add(sub)
        s.flush()
        return sub.id


def _correct(url: str, old: int, n: int, day: dt.date) -> int:
    new = _submission(url, n, day)
    with session_scope(url) as s:
        s.get(Submission, old).status = "superseded"
    return new


def _decisions(url: str, kind: str) -> list[Decision]:
    with session_scope(url) as s:
        rows = list(s.scalars(select(Decision).where(Decision.kind == kind).order_by(Decision.id)))
        s.expunge_all()
    return rows


def _answer(
    url: str, decision_id: int, answer: str, *, outcome=None, reason="", new_due=None, run="run-1"
) -> dict:
    where = AskedIn(WHERE.dag_id, run, WHERE.task_id, decision_id)
    with session_scope(url) as s:
        ask(s, s.get(Decision, decision_id), where)
        at = dt.datetime(2025, 7, 1, 2, tzinfo=dt.UTC)
        return take_answer(s, A, where, Answer(answer, outcome, reason, new_due, "reviewer1", at))


def _outbox(url: str, kind: str) -> list[OutboxMessage]:
    with session_scope(url) as s:
        rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))
        s.expunge_all()
    return rows


def _state(url: str, as_of: dt.date, region: str = GAOCHENG) -> str:
    with session_scope(url) as s:
        return states_by_region(s, PLAN, as_of, [region])[region].state


@pytest.fixture
def demo(migrated_url: str) -> str:
    """The demo province; 藁城区, its city bureau (石家庄市) and 玉田县 have contacts."""
    seed_demo(migrated_url)
    with session_scope(migrated_url) as s:
        for code, name in ((GAOCHENG, "王处长"), ("130100", "李局长"), (YUTIAN, "赵处长")):
            s.merge(Contact(programme_id=A.id, cycle_year=2025, region_code=code, role="责任处室负责同志",
                            name=name, email=f"office{code}@example.gov.cn"))  # fmt: skip
    return migrated_url


def test_an_accepted_plan_is_proposed_once_and_a_corrected_file_again(demo: str) -> None:
    first = _submission(demo, 1, BEFORE)
    with session_scope(demo) as s:
        assert propose_review(s, A, PLAN, first, "intake-1")
    with session_scope(demo) as s:  # a re-run proposes nothing again
        assert not propose_review(s, A, PLAN, first, "intake-2")
    second = _correct(demo, first, 2, AFTER)
    with session_scope(demo) as s:
        assert propose_review(s, A, PLAN, second, "intake-3")
        half_year = find_instance(A, 2025, "half_year_report")
        assert not propose_review(s, A, half_year, first, "intake-3")  # needs no reading

    rows = _decisions(demo, "submission_review")
    assert [r.subject for r in rows] == [
        f"development_plan/Y/{GAOCHENG}/{first}",
        f"development_plan/Y/{GAOCHENG}/{second}",
    ]
    figures = rows[0].figures
    assert (figures["state"], rows[0].outcome) == ("proposed", "submission_accepted")
    assert figures["region_name"] == "藁城区"
    assert figures["file_name"] == "规划-1.xlsx" and figures["received_on"] == BEFORE.isoformat()
    assert figures["link"] == "/review-calendar/programmes/hebei_smart_cluster/2025/development_plan/Y"


def test_a_return_shows_returned_mails_the_comment_and_a_correction_in_time_keeps_the_standing(
    demo: str,
) -> None:
    first = _submission(demo, 1, BEFORE)
    with session_scope(demo) as s:
        propose_review(s, A, PLAN, first, "intake-1")
    decision = _decisions(demo, "submission_review")[0]
    assert _outbox(demo, "returned") == []  # nothing mailed before the answer

    result = _answer(
        demo,
        decision.id,
        "change",
        outcome="submission_returned",
        reason="保障措施过于笼统，请细化",
        new_due=NEW_DUE,
    )

    assert result["state"] == "changed"
    assert _state(demo, AFTER) == "returned"
    [mail] = _outbox(demo, "returned")
    assert "退回修改" in mail.subject and "2025年7月18日" in mail.subject
    assert "保障措施过于笼统，请细化" in mail.body
    assert "2025年7月18日" in mail.body and "规划-1.xlsx" in mail.body
    assert "按原报送时间认定" in mail.body

    _correct(demo, first, 2, D(2025, 7, 15))
    assert _state(demo, CLOSED) == "on_time_corrected"


def test_a_correction_after_the_new_due_date_is_late_and_none_is_missing(demo: str) -> None:
    first = _submission(demo, 1, BEFORE)
    with session_scope(demo) as s:
        propose_review(s, A, PLAN, first, "intake-1")
    decision = _decisions(demo, "submission_review")[0]
    # The Required Action's 退回补充材料: the decision DAG then calls return_submission.
    result = _answer(demo, decision.id, "return", reason="总体思路空泛", new_due=NEW_DUE)
    assert result["state"] == "returned"
    with session_scope(demo) as s:
        d = s.get(Decision, decision.id)
        assert task_returns.return_submission(s, A, d, "总体思路空泛", NEW_DUE, "reviewer1")
    with session_scope(demo) as s:  # applied again: recorded and mailed once
        assert not task_returns.return_submission(
            s, A, s.get(Decision, decision.id), "总体思路空泛", NEW_DUE, "reviewer1"
        )

    assert len(_outbox(demo, "returned")) == 1
    assert _state(demo, LATER) == "missing"
    _correct(demo, first, 2, LATER)
    assert _state(demo, CLOSED) == "late"


def test_an_approved_plan_changes_nothing(demo: str) -> None:
    first = _submission(demo, 1, BEFORE)
    with session_scope(demo) as s:
        propose_review(s, A, PLAN, first, "intake-1")
    decision = _decisions(demo, "submission_review")[0]

    assert _answer(demo, decision.id, "approve")["state"] == "approved"
    assert _state(demo, CLOSED) == "on_time"
    with session_scope(demo) as s:
        assert s.scalars(select(DueChange)).all() == []


def _request(url: str, until: dt.date, reason: str = "县政府常务会议推迟审议规划") -> int:
    fact = Fact(
        A.id,
        "extension_request",
        2025,
        "",
        GAOCHENG,
        until,
        details={"obligation": "development_plan", "reason": reason},
    )
    with session_scope(url) as s:
        row, _ = save_fact(s, fact, recorded_by="clerk", source="cli")
        propose_extension(s, A, row, "cli:clerk")
        return row.id


def test_an_extension_granted_moves_the_regions_due_date_and_its_reminders(demo: str) -> None:
    _request(demo, D(2025, 7, 15))
    _request(demo, D(2025, 7, 15))  # recorded again: one request, one proposal
    [decision] = _decisions(demo, "extension")
    assert decision.figures["current_due"] == DUE.isoformat()
    assert decision.figures["requested_due"] == "2025-07-15"
    assert decision.figures["region_name"] == "藁城区"
    assert _outbox(demo, "extension") == []

    # The reviewer approves with a date of their own: it wins over the one asked for.
    assert _answer(demo, decision.id, "approve", new_due=D(2025, 7, 21))["state"] == "approved"

    [mail] = _outbox(demo, "extension")
    assert "同意延期至2025年7月21日" in mail.subject
    assert "2025年6月30日" in mail.body and "2025年7月21日" in mail.body
    assert _state(demo, D(2025, 7, 10)) == "open"  # not missing before the granted date
    _submission(demo, 1, D(2025, 7, 20))
    assert _state(demo, CLOSED) == "on_time"


def test_no_overdue_reminder_before_the_granted_date(demo: str) -> None:
    _request(demo, D(2025, 7, 21))
    [decision] = _decisions(demo, "extension")
    _answer(demo, decision.id, "approve")

    def overdue(region: str) -> list[OutboxMessage]:
        return [m for m in _outbox(demo, "reminder")
                if m.instance_key == PLAN.key and m.region_code == region and "overdue" in m.stage]  # fmt: skip

    day = D(2025, 7, 1)
    while day < D(2025, 7, 21):
        plan_reminders(demo, A, 2025, day)
        day += dt.timedelta(days=1)
    assert overdue(YUTIAN)  # 玉田县 got no extension: reminded as overdue
    assert overdue(GAOCHENG) == []
    while not overdue(GAOCHENG):
        plan_reminders(demo, A, 2025, day)
        day += dt.timedelta(days=1)
        assert day < D(2025, 8, 10)
    mine = overdue(GAOCHENG)[0]
    assert mine.stage.endswith("@2025-07-21")
    assert "2025年7月21日" in mine.body and "经申请同意延期，原截止日期为2025年6月30日" in mine.body


def test_an_extension_refused_leaves_the_due_date_and_says_why(demo: str) -> None:
    _request(demo, D(2025, 7, 15))
    [decision] = _decisions(demo, "extension")
    result = _answer(
        demo, decision.id, "change", outcome="extension_refused", reason="其他县均已按时报送，理由不充分"
    )

    assert result["state"] == "changed"
    [mail] = _outbox(demo, "extension")
    assert "不同意延期" in mail.subject
    assert "其他县均已按时报送，理由不充分" in mail.body and "原截止日期2025年6月30日" in mail.body
    assert _state(demo, D(2025, 7, 10)) == "missing"
    _submission(demo, 1, D(2025, 7, 12))
    assert _state(demo, CLOSED) == "late"


def test_an_extension_request_must_be_complete_and_later_than_the_due_date(demo: str) -> None:
    from review_calendar.tasks.facts import check_extension_request

    with pytest.raises(FactError, match="延期理由"):
        _request(demo, D(2025, 7, 15), reason="")
    with session_scope(demo) as s:
        early = Fact(A.id, "extension_request", 2025, "", GAOCHENG, D(2025, 6, 1),
                     details={"obligation": "development_plan", "reason": "x"})  # fmt: skip
        with pytest.raises(FactError, match="不晚于现在的截止日期"):
            check_extension_request(s, A, early)
        unknown = Fact(A.id, "extension_request", 2025, "", GAOCHENG, D(2025, 7, 15),
                       details={"obligation": "no_such", "reason": "x"})  # fmt: skip
        with pytest.raises(FactError, match="没有报送事项"):
            check_extension_request(s, A, unknown)


@pytest.fixture
def seeded(db_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo database the command line writes to."""
    from review_calendar.store.db import upgrade

    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", db_url)
    upgrade(db_url)
    seed_demo(db_url)
    return db_url


def test_cli_records_an_extension_request_once_as_a_proposal(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from review_calendar.cli import main

    argv = ["record", "extension-request", "--programme", "hebei_smart_cluster", "--year", "2025",
            "--obligation", "development_plan", "--region", GAOCHENG, "--until", "2025-07-15",
            "--reason", "县政府常务会议推迟审议规划", "--by", "省厅张三"]  # fmt: skip

    assert main(argv) == 0
    assert main(argv) == 0

    outputs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["new"] for o in outputs] == [True, False]
    assert [o["proposal"] for o in outputs] == [True, False]
    [decision] = _decisions(seeded, "extension")
    assert (decision.outcome, decision.figures["state"]) == ("extension_granted", "proposed")
    assert decision.figures["request_reason"] == "县政府常务会议推迟审议规划"
    assert decision.figures["period"] == "Y"


def test_cli_refuses_an_extension_to_a_date_before_the_due_date(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from review_calendar.cli import main

    code = main(["record", "extension-request", "--programme", "hebei_smart_cluster", "--year", "2025",
                 "--obligation", "development_plan", "--region", GAOCHENG, "--until", "2025-06-01",
                 "--reason", "x", "--by", "省厅张三"])  # fmt: skip

    assert code == 1
    assert "不晚于现在的截止日期" in capsys.readouterr().err
    assert _decisions(seeded, "extension") == []


def test_intake_proposes_a_reading_of_each_accepted_plan_once(
    migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file's own transaction records the proposal; the same file again is a duplicate, a correction a new one."""
    from review_calendar.intake.inbox import inbox_dir, pending_files
    from review_calendar.settings import get_settings
    from review_calendar.store.queries import expected_submitters, record_instances
    from review_calendar.tasks.intake import ingest_files
    from review_calendar_demo.documents import write_pdf
    from review_calendar_demo.synthetic import records_for, write_xlsx

    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    record_instances(migrated_url, A, 2025)
    settings = get_settings()
    with session_scope(migrated_url) as s:
        county = expected_submitters(s, A, PLAN)[0]
    folder = inbox_dir(settings, PLAN) / county.region_code
    records = records_for(A, PLAN, county)

    written: dict[str, bytes] = {}

    def place(name: str, day: dt.date) -> None:
        sheet = folder / name
        if name in written:  # the very same bytes (a workbook written again differs in its timestamps)
            sheet.write_bytes(written[name])
        else:
            written[name] = write_xlsx(sheet, records, "规划").read_bytes()
        write_pdf(folder / "县政府批复.pdf")
        ingest_files(migrated_url, settings, A, PLAN, pending_files(settings, PLAN), move=True,
                     received_on=day)  # fmt: skip

    place("规划.xlsx", BEFORE)
    place("规划.xlsx", BEFORE)  # the same bytes again: a duplicate, nothing proposed
    records["development_plan"][0]["total_investment"] = "13,000"
    place("规划（修改稿）.xlsx", AFTER)

    rows = _decisions(migrated_url, "submission_review")
    assert [r.figures["file_name"] for r in rows] == ["规划.xlsx", "规划（修改稿）.xlsx"]
    assert {r.figures["state"] for r in rows} == {"proposed"}
    assert {r.figures["region_code"] for r in rows} == {county.region_code}


def test_a_returned_file_is_chased_against_its_new_due_date(demo: str) -> None:
    first = _submission(demo, 1, BEFORE)
    with session_scope(demo) as s:
        propose_review(s, A, PLAN, first, "intake-1")
    decision = _decisions(demo, "submission_review")[0]
    _answer(
        demo, decision.id, "change", outcome="submission_returned", reason="保障措施过于笼统", new_due=NEW_DUE
    )

    day = D(2025, 7, 1)
    while day <= D(2025, 8, 8):
        plan_reminders(demo, A, 2025, day)
        day += dt.timedelta(days=1)

    mine = [m for m in _outbox(demo, "reminder") if m.instance_key == PLAN.key and m.region_code == GAOCHENG]
    assert mine and all(m.stage.endswith("@2025-07-18") for m in mine)
    assert {m.stage.split("@")[0] for m in mine} >= {"before_3", "due_day"}
    assert min(m.created_on for m in mine if "overdue" in m.stage) > NEW_DUE
    assert "退回修改" in mine[0].body and "2025年7月18日" in mine[0].body
