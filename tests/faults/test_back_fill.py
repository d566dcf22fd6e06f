"""A back-fill never dates a file earlier than it really arrived (real files, a real database).

An operator's ``inbox sweep --as-of <past day>`` or a re-run of a past sweep
stands for a moment before a file written now: the file is not received on
that day. It stays in the inbox, the printout says why, and the next live sweep
takes it at its real arrival (its status-change time). A simulated year (the
demo) keeps placing its files now and receiving them at the sweep's moment.
A file moved or renamed inside its region's folders keeps its first sighting.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from review_calendar.cli import main
from review_calendar.domain.calendar import TZ
from review_calendar.intake.inbox import inbox_dir, pending_files
from review_calendar.settings import get_settings
from review_calendar.store.db import session_scope
from review_calendar.store.models import InboxSighting, Submission
from review_calendar.store.queries import expected_submitters
from review_calendar.store.receipts import aware
from review_calendar.tasks import ingest_inbox
from review_calendar.tasks.inbox import sweep_now
from review_calendar.tasks.sightings import first_seen_at
from review_calendar_demo.synthetic import records_for, write_xlsx
from tests.faults import contact_list_instance

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.faults

PROGRAMME, INSTANCE = contact_list_instance()  # due 2025-03-31


@pytest.fixture
def live_env(sweep_env: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The fault suite's province, on the server's real clock (no simulated year)."""
    monkeypatch.delenv("REVIEW_CALENDAR_SIMULATED_YEAR")
    assert not get_settings().simulated_year
    return sweep_env


def _drop(url: str, name: str = "联系人名单.xlsx") -> Path:
    with session_scope(url) as session:
        city = expected_submitters(session, PROGRAMME, INSTANCE)[0]
    path = inbox_dir(get_settings(), INSTANCE) / city.region_code / name
    return write_xlsx(path, records_for(PROGRAMME, INSTANCE, city, seed=1), "联系人")


def _ctime(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.lstat().st_ctime, tz=TZ).replace(microsecond=0)


def _submissions(url: str) -> list[Submission]:
    with session_scope(url) as session:
        return list(session.scalars(select(Submission)))


def test_an_operator_back_fill_leaves_a_file_that_arrived_now_for_the_live_sweep(
    live_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _drop(live_env)
    arrived = _ctime(path)

    code = main(["inbox", "sweep", "--programme", PROGRAMME.id, "--year", "2025", "--as-of", "2025-03-20"])

    out = capsys.readouterr().out
    assert code == 0 and _submissions(live_env) == []
    assert pending_files(get_settings(), INSTANCE) == [path]
    assert f"晚于本次巡检时刻到达 {path.name}" in out and "由下次实时巡检按实际到达时间接收" in out
    with session_scope(live_env) as session:
        [sighting] = session.scalars(select(InboxSighting)).all()
        assert aware(sighting.first_seen_at) >= arrived  # never the back-fill's day

    result = ingest_inbox(INSTANCE.key, dt.datetime.now(TZ).isoformat())  # the next live sweep

    [sub] = _submissions(live_env)
    assert result["accepted"] == 1 and pending_files(get_settings(), INSTANCE) == []
    assert (aware(sub.received_at), sub.received_on, sub.is_late) == (arrived, arrived.date(), True)


def test_a_re_run_of_a_past_sweep_does_not_receive_a_later_file_on_its_day(live_env: str) -> None:
    path = _drop(live_env)
    past = dt.datetime(2025, 3, 20, 10, 0, tzinfo=TZ)

    result = sweep_now(past, PROGRAMME.id, run_id="scheduled__2025-03-20T10:00:00+08:00")

    [entry] = result["instances"]
    assert result["totals"]["accepted"] == 0 and _submissions(live_env) == []
    assert [f["file"] for f in entry["later"]] == [path.name]
    assert dt.datetime.fromisoformat(entry["later"][0]["received_at"]) >= _ctime(path)


def test_a_live_sweep_takes_a_file_that_arrived_after_its_scheduled_moment(live_env: str) -> None:
    scheduled = dt.datetime.now(TZ) - dt.timedelta(minutes=2)  # the run started late
    path = _drop(live_env)
    arrived = _ctime(path)

    result = ingest_inbox(INSTANCE.key, scheduled.isoformat())

    [sub] = _submissions(live_env)
    assert result["accepted"] == 1 and result["later"] == []
    assert aware(sub.received_at) == arrived  # its real arrival, not the run's moment


def test_a_simulated_year_receives_its_files_at_the_sweeps_moment(sweep_env: str) -> None:
    assert get_settings().simulated_year
    _drop(sweep_env)

    ingest_inbox(INSTANCE.key, "2025-03-20T10:00:00+08:00")

    [sub] = _submissions(sweep_env)
    assert (aware(sub.received_at), sub.is_late) == (dt.datetime(2025, 3, 20, 10, 0, tzinfo=TZ), False)


def test_a_file_moved_inside_its_region_folder_keeps_its_first_sighting(sweep_env: str) -> None:
    settings = get_settings()
    path = _drop(sweep_env)
    seen = dt.datetime(2025, 3, 30, 15, 0, tzinfo=TZ)
    first_seen_at(settings, INSTANCE, [path], seen)  # seen on the due day, then tidied up by its city
    nested = path.parent / "3月" / "联系人名单（定稿）.xlsx"
    nested.parent.mkdir()
    path.rename(nested)

    result = ingest_inbox(INSTANCE.key, "2025-04-02T10:00:00+08:00")

    [sub] = _submissions(sweep_env)
    assert result["accepted"] == 1
    assert (aware(sub.received_at), sub.is_late) == (seen, False)


def test_a_file_renamed_after_a_sighting_keeps_its_real_arrival(live_env: str) -> None:
    path = _drop(live_env)
    arrived = _ctime(path)
    sweep_now(dt.datetime(2025, 3, 20, 10, 0, tzinfo=TZ), PROGRAMME.id)  # a back-fill sees it, leaves it
    time.sleep(1.1)
    renamed = path.with_name("联系人名单（改名）.xlsx")
    path.rename(renamed)
    assert _ctime(renamed) > arrived  # a rename changes the status-change time

    ingest_inbox(INSTANCE.key, dt.datetime.now(TZ).isoformat())

    [sub] = _submissions(live_env)
    assert (sub.file_name, aware(sub.received_at)) == (renamed.name, arrived)


def test_a_misplaced_file_moved_to_its_region_folder_keeps_the_time_it_landed(live_env: str) -> None:
    path = _drop(live_env)
    folder = path.parent
    misplaced = folder.parent / "石家庄市" / path.name  # a city name instead of its code
    misplaced.parent.mkdir()
    path.rename(misplaced)
    landed = _ctime(misplaced)
    first = ingest_inbox(INSTANCE.key, dt.datetime.now(TZ).isoformat())
    assert first["accepted"] == 0 and [u["path"].split("/")[-2] for u in first["unplaced"]] == ["石家庄市"]
    time.sleep(1.1)
    misplaced.rename(path)  # the operator puts it in its place after the alert
    assert _ctime(path) > landed

    result = ingest_inbox(INSTANCE.key, dt.datetime.now(TZ).isoformat())

    [sub] = _submissions(live_env)
    assert result["accepted"] == 1 and aware(sub.received_at) == landed
