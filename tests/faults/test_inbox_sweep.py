"""The inbox sweep with files in every folder shape, files still being uploaded and files replaced mid-run.

Real folders and files, real writer threads, the real sweep
(``tasks.ingest_inbox`` / ``tasks.intake.sweep_instance``) and review database:

- every file under an inbox is taken in when its place is unambiguous (a code
  folder with stray spaces, the obligation folder with its period suffix, a
  folder nested in a region folder) or reported to the operators with the
  reason (log line, sweep result, stored list); nothing is left silently;
- upload tools' temporary files are left alone;
- a file still being written is taken only once it is stable;
- what the database describes is exactly the bytes stored, even when the
  inbox file is replaced between reading and storing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from pathlib import Path

import pytest

from review_calendar.intake.inbox import inbox_dir, scan_inbox, stable_files
from review_calendar.settings import get_settings
from review_calendar.tasks import ingest_inbox
from review_calendar.tasks.intake import ingest_files, sweep_instance
from review_calendar_demo.synthetic import records_for, write_csv
from tests.faults import AS_OF, contact_list_instance
from tests.security.inbox_cases import a_contact_list, city_code, digest, submissions

pytestmark = pytest.mark.faults


def test_files_whose_place_is_unambiguous_are_taken_in(sweep_env: str) -> None:
    settings = get_settings()
    _, instance = contact_list_instance()
    inbox = inbox_dir(settings, instance)
    year_dir = inbox.parent
    codes = [city_code(sweep_env, n) for n in range(3)]
    a_contact_list(sweep_env, inbox / f" {codes[0]} " / "名单.xlsx", 0)  # code with stray spaces
    a_contact_list(sweep_env, year_dir / "contact_list_Y" / codes[1] / "名单.xlsx", 1)  # period suffix
    a_contact_list(sweep_env, inbox / codes[2] / "2025-03-20" / "第二版" / "名单.xlsx", 2)  # nested

    result = ingest_inbox(instance.key, AS_OF)

    assert (result["accepted"], result["rejected"], result["unplaced"]) == (3, 0, [])
    assert sorted(s.region_code for s in submissions(sweep_env)) == sorted(codes)
    assert scan_inbox(settings, instance).files == []


def test_files_in_ambiguous_places_are_reported_with_the_reason(
    sweep_env: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = get_settings()
    _, instance = contact_list_instance()
    inbox = inbox_dir(settings, instance)
    a_contact_list(sweep_env, inbox / "石家庄市" / "名单.xlsx")  # a city name instead of a code
    a_contact_list(sweep_env, inbox / "2025-03-20" / "名单.xlsx", 1)  # a dated folder

    with caplog.at_level(logging.WARNING):
        result = ingest_inbox(instance.key, AS_OF)

    assert result["accepted"] == 0 and submissions(sweep_env) == []
    assert sorted(u["path"].split("/")[-2] for u in result["unplaced"]) == ["2025-03-20", "石家庄市"]
    reasons = {u["path"].split("/")[-2]: u["reason"] for u in result["unplaced"]}
    assert reasons["石家庄市"] == "目录“石家庄市”不是6位行政区划代码，无法确定报送地区"
    assert sum("not taken in" in r.getMessage() for r in caplog.records) == 2
    assert (settings.reports_dir / "inbox" / "hebei_smart_cluster_2025_contact_list_Y.json").exists()
    assert all(
        (settings.inbox_dir / u["path"]).exists() for u in result["unplaced"]
    )  # left for the operators


@pytest.mark.parametrize(
    "name", ["名单.xlsx.filepart", "名单.xlsx.crdownload", "upload.tmp", "~$名单.xlsx", "名单.xlsx.part"]
)
def test_upload_tools_temporary_files_are_left_alone(sweep_env: str, name: str) -> None:
    settings = get_settings()
    _, instance = contact_list_instance()
    code = city_code(sweep_env)
    temporary = inbox_dir(settings, instance) / code / name
    a_contact_list(sweep_env, temporary)

    result = ingest_inbox(instance.key, AS_OF)

    assert (result["accepted"], result["rejected"], result["unplaced"], result["temporary"]) == (0, 0, [], 1)
    assert temporary.exists()


def contact_csv_bytes(url: str, tmp_path: Path) -> bytes:
    programme, instance = contact_list_instance()
    from review_calendar.store.db import session_scope
    from review_calendar.store.queries import expected_submitters

    with session_scope(url) as session:
        city = expected_submitters(session, programme, instance)[0]
    records = records_for(programme, instance, city)["contact_list"]
    return write_csv(tmp_path / "whole.csv", records, "contact_list", encoding="utf-8").read_bytes()


def test_file_still_being_uploaded_waits_and_is_taken_whole_once_stable(
    sweep_env: str, tmp_path: Path
) -> None:
    settings = get_settings()
    programme, instance = contact_list_instance()
    whole = contact_csv_bytes(sweep_env, tmp_path)
    lines = whole.splitlines(keepends=True)
    target = inbox_dir(settings, instance) / city_code(sweep_env) / "名单.csv"
    target.parent.mkdir(parents=True)
    head = len(b"".join(lines[:2]))  # the header and the first row so far
    target.write_bytes(whole[:head])
    rest = whole[head:]
    step = max(1, len(rest) // 30)  # the rest in 30 pieces over about 3 seconds

    def upload() -> None:
        with target.open("ab") as out:
            for start in range(0, len(rest), step):
                time.sleep(0.1)
                out.write(rest[start : start + step])
                out.flush()

    writer = threading.Thread(target=upload)
    writer.start()
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    try:
        report, swept = sweep_instance(settings, programme, instance, as_of=tomorrow, look_interval=0.5)
    finally:
        writer.join()

    assert swept["waiting"] == ["名单.csv"]
    assert report.counts() == {"accepted": 0, "rejected": 0, "duplicates": 0}
    assert submissions(sweep_env) == []

    report, swept = sweep_instance(settings, programme, instance, as_of=tomorrow, look_interval=0.5)

    assert swept["waiting"] == []
    assert [o.status for o in report.accepted] == ["accepted"]
    (stored,) = submissions(sweep_env)
    assert stored.content_hash == hashlib.sha256(whole).hexdigest()
    assert stored.row_count == len(lines) - 1


def test_stable_files_takes_settled_files_at_once_and_young_ones_after_a_second_look(tmp_path: Path) -> None:
    path = tmp_path / "young.csv"
    path.write_text("b")

    started = time.monotonic()
    assert stable_files([path], settle_seconds=0.0, look_interval=2.0) == ([path], [])
    assert time.monotonic() - started < 1.0  # settled: no second look

    started = time.monotonic()
    assert stable_files([path], look_interval=0.3) == ([path], [])
    assert time.monotonic() - started >= 0.3  # young (status change just now): looked at twice


def test_file_replaced_between_reading_and_storing_is_stored_as_judged(
    sweep_env: str, tmp_path: Path
) -> None:
    settings = get_settings()
    programme, instance = contact_list_instance()
    path = a_contact_list(sweep_env, inbox_dir(settings, instance) / city_code(sweep_env) / "名单.xlsx")
    judged = digest(path)

    def replace_after_reading(n: int) -> None:
        path.write_bytes(b"not what was judged")

    ingest_files(sweep_env, settings, programme, instance, [path], move=True, progress=replace_after_reading)

    (stored,) = submissions(sweep_env)
    assert stored.content_hash == judged
    assert digest(Path(stored.stored_path)) == judged
    assert path.read_bytes() == b"not what was judged"  # changed after listing: left for the next sweep


def test_files_outside_every_instance_folder_of_the_cycle_are_reported(sweep_env: str) -> None:
    settings = get_settings()
    _, instance = contact_list_instance()
    year_dir = inbox_dir(settings, instance).parent
    a_contact_list(sweep_env, year_dir / "石家庄市联系人名单.xlsx")  # straight into the year folder
    # A folder named by the form's title, not by the obligation.
    a_contact_list(sweep_env, year_dir / "联系人名单" / "130100" / "名单.xlsx")

    result = ingest_inbox(instance.key, AS_OF)

    assert sorted(u["path"] for u in result["stray"]) == [
        "hebei_smart_cluster/2025/石家庄市联系人名单.xlsx",
        "hebei_smart_cluster/2025/联系人名单",
    ]
    assert all("不属于本年度任何报送事项的收件目录" in u["reason"] for u in result["stray"])
