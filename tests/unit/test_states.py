"""The one submission-state rule (``review_calendar.aggregate.states``) and everyone who asks it.

The table below is the rule: each case is a region's files for Programme A's
2025 development plan (window 2025-05-01 to 2025-06-30) and the day asked
about. The tests after it check that the aggregation (and so the reports), the
reviewers' pages and the state counts all give that rule's answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from review_calendar.aggregate.states import (
    COUNTED_AS,
    LAGGING_STATES,
    ON_TIME_STATES,
    OUTSTANDING_STATES,
    SUBMITTED_STATES,
    submission_state,
    submission_states,
    window_phase,
)
from review_calendar.aggregate.write import aggregate_province
from review_calendar.domain.labels import SUBMISSION_STATE_HINTS, SUBMISSION_STATES
from review_calendar.domain.programmes import find_instance, load_programme_file
from review_calendar.reviewer_pages.calendar import programme_calendar
from review_calendar.reviewer_pages.matrix import status_matrix
from review_calendar.store.db import session_scope
from review_calendar.store.models import Submission
from review_calendar_demo.seed import seed_demo

pytestmark = pytest.mark.unit
A = load_programme_file(Path(__file__).resolve().parents[2] / "programmes" / "hebei_smart_cluster.yaml")
PLAN = find_instance(A, 2025, "development_plan")
OPENS, DUE = PLAN.opens_on, PLAN.effective_due  # 2025-05-01, 2025-06-30
D = dt.date
BEFORE, AFTER, LATER = D(2025, 6, 20), D(2025, 7, 8), D(2025, 7, 20)
CLOSED = D(2025, 7, 31)


@dataclass(frozen=True)
class File:
    """A stored file as the rule reads it; lateness as intake records it (acceptable and after the due date)."""

    id: int
    status: str
    received_on: dt.date
    file_name: str = "f.xlsx"
    error_count: int = 0
    awaiting: str = ""

    @property
    def is_late(self) -> bool:
        return self.status != "rejected" and self.received_on > DUE


def files(*specs: tuple[str, dt.date] | tuple[str, dt.date, str]) -> list[File]:
    """Files from (status, received on[, awaiting]) specs."""
    return [File(n, spec[0], spec[1], f"{n}.xlsx", 0, *spec[2:]) for n, spec in enumerate(specs, start=1)]


#: 冀工信产业〔2016〕93号 二: a plan not approved by the county government does not count as submitted.
UNAPPROVED = "approval"


STATE_TABLE = [
    pytest.param(files(("accepted", BEFORE)), CLOSED, "on_time", id="accepted-before-due"),
    pytest.param(files(("accepted", DUE)), CLOSED, "on_time", id="accepted-on-due-day"),
    pytest.param(files(("accepted", AFTER)), CLOSED, "late", id="accepted-after-due"),
    pytest.param(files(("superseded", BEFORE), ("accepted", AFTER)), CLOSED, "on_time_corrected",
                 id="on-time-then-correction-after-due"),
    pytest.param(files(("superseded", D(2025, 6, 1)), ("accepted", BEFORE)), CLOSED, "on_time",
                 id="on-time-then-correction-before-due"),
    pytest.param(files(("superseded", BEFORE), ("superseded", AFTER), ("accepted", LATER)), CLOSED,
                 "on_time_corrected", id="corrected-twice"),
    pytest.param(files(("superseded", AFTER), ("accepted", LATER)), CLOSED, "late", id="late-then-correction"),
    pytest.param(files(("rejected", BEFORE), ("accepted", AFTER)), CLOSED, "late",
                 id="rejected-on-time-then-accepted-late"),
    pytest.param(files(("rejected", D(2025, 6, 1)), ("accepted", BEFORE)), CLOSED, "on_time",
                 id="rejected-then-accepted-on-time"),
    pytest.param(files(("accepted", BEFORE), ("rejected", AFTER)), CLOSED, "on_time",
                 id="accepted-then-a-rejected-file"),
    pytest.param(files(("rejected", BEFORE)), D(2025, 6, 25), "rejected", id="only-rejected-window-open"),
    pytest.param(files(("rejected", BEFORE), ("rejected", D(2025, 6, 28))), CLOSED, "rejected",
                 id="only-rejected-window-closed"),
    pytest.param([], DUE + dt.timedelta(days=1), "missing", id="nothing-day-after-due"),
    pytest.param([], DUE, "open", id="nothing-on-due-day"),
    pytest.param([], OPENS, "open", id="nothing-on-opening-day"),
    pytest.param([], OPENS - dt.timedelta(days=1), "not_due", id="nothing-before-opening"),
    pytest.param(files(("accepted", AFTER)), D(2025, 7, 1), "missing", id="file-received-after-the-day-asked"),
    pytest.param(files(("superseded", BEFORE), ("accepted", AFTER)), D(2025, 7, 1), "on_time",
                 id="correction-not-yet-received"),
    pytest.param(files(("superseded", BEFORE)), CLOSED, "on_time", id="acceptable-file-replaced-later"),
    pytest.param(files(("accepted", BEFORE, UNAPPROVED)), CLOSED, "awaiting_approval",
                 id="plan-without-its-county-approval"),
    pytest.param(files(("superseded", BEFORE, UNAPPROVED), ("accepted", AFTER)), CLOSED, "late",
                 id="unapproved-on-time-then-approved-after-due"),
    pytest.param(files(("superseded", BEFORE), ("accepted", AFTER, UNAPPROVED)), CLOSED, "awaiting_approval",
                 id="approved-then-a-correction-without-approval"),
]  # fmt: skip


@pytest.mark.parametrize(("received", "as_of", "state"), STATE_TABLE)
def test_submission_state(received: list[File], as_of: dt.date, state: str) -> None:
    verdict = submission_state(received, PLAN, as_of)

    assert verdict.state == state
    assert verdict.label == SUBMISSION_STATES[state]


def test_the_deciding_file_is_the_one_whose_data_counts() -> None:
    received = files(("superseded", BEFORE), ("rejected", AFTER), ("accepted", LATER))

    verdict = submission_state(received, PLAN, CLOSED)

    assert (verdict.state, verdict.file, verdict.attempts) == ("on_time_corrected", received[2], 3)


def test_a_rejected_region_names_its_last_rejected_file() -> None:
    received = files(("rejected", BEFORE), ("rejected", D(2025, 6, 25)))

    verdict = submission_state(list(reversed(received)), PLAN, CLOSED)

    assert verdict.file == received[1]


@pytest.mark.parametrize(
    ("day", "phase"),
    [
        pytest.param(OPENS - dt.timedelta(days=1), "upcoming", id="before-opening"),
        pytest.param(OPENS, "open", id="opening-day"),
        pytest.param(DUE, "open", id="due-day"),
        pytest.param(DUE + dt.timedelta(days=1), "closed", id="day-after-due"),
    ],
)
def test_window_phase(day: dt.date, phase: str) -> None:
    assert window_phase(PLAN, day) == phase


def test_every_state_has_a_label_a_hint_and_a_count() -> None:
    states = set(SUBMISSION_STATES) - {"not_applicable"}

    assert set(SUBMISSION_STATE_HINTS) == set(SUBMISSION_STATES)
    assert set(COUNTED_AS) == states
    assert set(SUBMITTED_STATES) | set(OUTSTANDING_STATES) == states
    assert set(ON_TIME_STATES) <= set(SUBMITTED_STATES)
    assert not set(SUBMITTED_STATES) & set(OUTSTANDING_STATES)
    assert set(LAGGING_STATES) == states - set(ON_TIME_STATES)


# Everyone who shows a state asks the same rule: the demo year's 藁城区 (130109) sent its
# development plan on time; the gate stopped it and the county's correction came after the
# due date. The report, the on-time rate and the reviewers' page once disagreed about it.
GAOCHENG = "130109"


@pytest.fixture
def corrected(migrated_url: str) -> str:
    """The demo province; 藁城区's plan on time then corrected late, 玉田县's plan only late."""
    seed_demo(migrated_url)
    with session_scope(migrated_url) as s:
        for n, (region, status, day) in enumerate(
            [(GAOCHENG, "superseded", BEFORE), (GAOCHENG, "accepted", AFTER), ("130229", "accepted", AFTER)]
        ):
            s.add(
                Submission(
                    programme_id=A.id, cycle_year=2025, obligation_id=PLAN.obligation_id, period="Y",
                    region_code=region, file_name=f"{region}-{n}.xlsx", stored_path="x",
                    content_hash=f"h{n}".ljust(64, "0"), received_on=day, status=status, is_late=day > DUE,
                )
            )  # fmt: skip
    return migrated_url


def test_aggregation_pages_and_calendar_agree_on_a_late_correction(corrected: str) -> None:
    with session_scope(corrected) as s:
        states = submission_states(s, A, PLAN, CLOSED).set_index("region_code")["state"]
        agg = aggregate_province(s, A, PLAN, CLOSED)
        matrix = status_matrix(s, A, 2025, CLOSED)
        calendar = programme_calendar(s, A, 2025, CLOSED)

    assert states[GAOCHENG] == "on_time_corrected"
    assert agg.regions.set_index("region_code").loc[GAOCHENG, "state"] == "on_time_corrected"
    assert matrix.cell(GAOCHENG, "development_plan").state == "on_time_corrected"
    assert matrix.cell(GAOCHENG, "development_plan").label == "按时提交（已更正）"
    assert matrix.cell("130229", "development_plan").state == "late"
    plan = next(e for e in calendar.entries if e.obligation_id == "development_plan")
    assert (plan.accepted, plan.late) == (2, 1)


def test_the_on_time_rate_counts_a_corrected_on_time_file(corrected: str) -> None:
    with session_scope(corrected) as s:
        agg = aggregate_province(s, A, PLAN, CLOSED)

    assert (agg.totals["expected"], agg.totals["on_time"], agg.totals["late"]) == (5, 1, 1)
    assert agg.totals["on_time_rate"] == pytest.approx(1 / 5)
    assert GAOCHENG not in set(agg.lagging["region_code"])
