"""The corpus of malformed submissions through the whole intake path: quarantine and review database.

``tests/unit/test_intake_bad_corpus.py`` checks that the reader rejects each
file of ``tests/data/bad/`` with its code. Here the same files (and a few more
hostile names given by submitters) go through ``ingest_files`` as an inbox
sweep does (``move=True``), one batch per obligation, on SQLite and
PostgreSQL: the run must not crash, every file must get its code in
``submission_errors``, and every file must be kept, byte for byte, in the
quarantine folder (never anywhere else, whatever name it was given).

Five corpus files have the same bytes (a valid workbook under five unsafe
names); identical bytes are one submission per obligation instance by
design, so each repeat goes to the next cycle year's instance.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from review_calendar.domain.programmes import find_instance, load_programme
from review_calendar.intake.ingest import FileOutcome
from review_calendar.settings import Settings, get_settings
from review_calendar.store.db import session_scope, upgrade
from review_calendar.store.models import Submission, SubmissionError
from review_calendar.store.queries import expected_submitters
from review_calendar.tasks.intake import ingest_files
from review_calendar_demo.seed import seed_demo
from review_calendar_demo.synthetic import records_for, write_xlsx
from tests.data.make_bad_corpus import BAD_DIR, EXPECTED_CSV, build_generated

pytestmark = pytest.mark.security

RECEIVED = dt.date(2025, 3, 20)
with EXPECTED_CSV.open(encoding="utf-8", newline="") as fh:
    CASES: list[dict[str, str]] = list(csv.DictReader(fh))
#: Unsafe names a submitter (or an upload portal) may hand over, each on its own valid contact list.
HOSTILE_NAMES = {
    "deep-traversal": "../../../../tmp/联系人名单.xlsx",
    "windows-traversal": "..\\..\\..\\联系人名单.xlsx",
    "absolute": "/etc/cron.d/联系人名单.xlsx",
    "drive-path": "C:\\Windows\\System32\\联系人名单.xlsx",
    "dot-dot-only": "..",
    "traversal-inside": "石家庄/../../联系人名单.xlsx",
    "nul-byte": "联系人名单.xlsx\x00.exe",
    "right-to-left-override": "联系人名单\u202exslx.exe",
    "reserved-device": "NUL.xlsx",
}
NAME_CASES = [c["file"] for c in CASES if c["code"] == "FILE_NAME_UNSAFE"] + [
    f"hostile:{k}" for k in HOSTILE_NAMES
]
ALL_CASES = [c["file"] for c in CASES] + [f"hostile:{k}" for k in HOSTILE_NAMES]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def target(case: dict[str, str]) -> tuple[str, str, int]:
    """(programme, obligation, cycle year) a corpus file is submitted to; the data year is 2025."""
    dataset = case["dataset"]
    if dataset == "progress_report":
        obligation = "half_year_report" if case["expected_period"] == "上半年" else "full_year_report"
        return "hebei_smart_cluster", obligation, 2025
    if dataset == "annual_info_table":
        return "miit_sme_cluster", "annual_info_table", 2026  # reports the previous year's data
    if dataset == "plan_projects":
        return "hebei_smart_cluster", "development_plan", 2025  # a companion sheet of the plan's template
    return "hebei_smart_cluster", dataset, 2025


@dataclass
class CorpusRun:
    settings: Settings
    url: str
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    outcomes: dict[str, FileOutcome] = field(default_factory=dict)
    original_sha: dict[str, str] = field(default_factory=dict)
    codes: dict[str, set[str]] = field(default_factory=dict)
    quarantine_folder: dict[str, Path] = field(default_factory=dict)


def _hostile_files(url: str, uploads: Path) -> dict[str, Path]:
    programme = load_programme("hebei_smart_cluster")
    instance = find_instance(programme, 2025, "contact_list")
    with session_scope(url) as session:
        city = expected_submitters(session, programme, instance)[0]
    return {
        f"hostile:{key}": write_xlsx(
            uploads / f"hostile_{n}.xlsx", records_for(programme, instance, city, seed=n), "联系人"
        )
        for n, key in enumerate(HOSTILE_NAMES)
    }


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def corpus_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    home = tmp_path_factory.mktemp(f"corpus-{request.param}")
    uploads = home / "inbox" / "uploads"  # inside the inbox: a sweep removes only what is there
    uploads.mkdir(parents=True)
    url = (
        f"sqlite:///{home / 'review.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_server").create_database()
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REVIEW_CALENDAR_HOME", str(home))
        run = CorpusRun(get_settings(), url)
        upgrade(url)
        seed_demo(url)
        batches: dict[tuple[str, str, int], list[tuple[str, Path, str]]] = defaultdict(list)
        seen: dict[tuple[str, str, int], set[str]] = defaultdict(set)
        for case in CASES:
            # A copy: the sweep removes what it took in, the corpus must stay.
            path = (
                build_generated(case["file"], uploads)
                if case["source"] == "generated"
                else Path(shutil.copyfile(BAD_DIR / case["file"], uploads / case["file"]))
            )
            programme_id, obligation, year = target(case)
            run.original_sha[case["file"]] = digest = sha256(path)
            while digest in seen[(programme_id, obligation, year)]:
                year += 1
            seen[(programme_id, obligation, year)].add(digest)
            batches[(programme_id, obligation, year)].append(
                (case["file"], path, case["submitted_name"] or case["file"])
            )
        for case_id, path in _hostile_files(url, uploads).items():
            run.original_sha[case_id] = sha256(path)
            batches[("hebei_smart_cluster", "contact_list", 2025)].append(
                (case_id, path, HOSTILE_NAMES[case_id[8:]])
            )
        for (programme_id, obligation, year), batch in batches.items():
            programme = load_programme(programme_id)
            instance = find_instance(programme, year, obligation)
            report = ingest_files(
                url, run.settings, programme, instance, [p for _, p, _ in batch], names=[n for _, _, n in batch],
                received_on=RECEIVED, move=True,
            )  # fmt: skip
            for kind, n in report.counts().items():
                run.counts[kind] += n
            by_sha = {o.sha256: o for o in (*report.accepted, *report.rejected, *report.duplicates)}
            folder = f"{programme_id}/{year}/{obligation}_{instance.period}"
            for case_id, _, _ in batch:
                run.outcomes[case_id] = by_sha[run.original_sha[case_id]]
                run.quarantine_folder[case_id] = run.settings.quarantine_dir / folder
    with session_scope(url) as session:
        for case_id, outcome in run.outcomes.items():
            run.codes[case_id] = set(
                session.scalars(
                    select(SubmissionError.code).where(SubmissionError.submission_id == outcome.submission_id)
                )
            )
    return run


def expected_code(case_id: str) -> str:
    return next((c["code"] for c in CASES if c["file"] == case_id), "FILE_NAME_UNSAFE")


def test_corpus_run_rejects_every_file_without_crashing(corpus_run: CorpusRun) -> None:
    assert dict(corpus_run.counts) == {"accepted": 0, "rejected": len(ALL_CASES), "duplicates": 0}


@pytest.mark.parametrize("case_id", [pytest.param(c, id=c) for c in ALL_CASES])
def test_bad_file_is_recorded_with_its_error_code(corpus_run: CorpusRun, case_id: str) -> None:
    assert expected_code(case_id) in corpus_run.codes[case_id]


@pytest.mark.parametrize("case_id", [pytest.param(c, id=c) for c in ALL_CASES])
def test_bad_file_is_kept_byte_for_byte_in_quarantine(corpus_run: CorpusRun, case_id: str) -> None:
    stored = Path(corpus_run.outcomes[case_id].stored_path)

    with session_scope(corpus_run.url) as session:
        row = session.get(Submission, corpus_run.outcomes[case_id].submission_id)
    assert row is not None and (row.status, row.stored_path) == ("rejected", str(stored))
    assert sha256(stored) == corpus_run.original_sha[case_id] == row.content_hash
    if expected_code(case_id) == "FILE_TOO_LARGE":
        # Over the size limit: never read nor copied, left where it arrived (never deleted).
        assert stored.parent == corpus_run.settings.inbox_dir / "uploads"
        assert not list(corpus_run.quarantine_folder[case_id].glob(f"{row.content_hash[:12]}_*.xlsx"))
    else:
        assert stored.parent == corpus_run.quarantine_folder[case_id]


@pytest.mark.parametrize("case_id", [pytest.param(c, id=c) for c in ALL_CASES])
def test_quarantined_file_has_its_errors_beside_it(corpus_run: CorpusRun, case_id: str) -> None:
    stored = Path(corpus_run.outcomes[case_id].stored_path)
    beside = stored.with_name(stored.name + ".errors.json")
    if (
        expected_code(case_id) == "FILE_TOO_LARGE"
    ):  # the file stays where it arrived, its errors go to quarantine
        sha = corpus_run.original_sha[case_id]
        (beside,) = corpus_run.quarantine_folder[case_id].glob(f"{sha[:12]}_*.errors.json")

    sidecar = json.loads(beside.read_text(encoding="utf-8"))

    assert sidecar["sha256"] == corpus_run.original_sha[case_id]
    assert expected_code(case_id) in {e["code"] for e in sidecar["errors"]}


@pytest.mark.parametrize("case_id", [pytest.param(c, id=c) for c in NAME_CASES])
def test_submitted_name_is_reduced_to_one_safe_component(corpus_run: CorpusRun, case_id: str) -> None:
    stored = Path(corpus_run.outcomes[case_id].stored_path)
    name = corpus_run.outcomes[case_id].file

    assert stored.resolve().parent == corpus_run.quarantine_folder[case_id].resolve()
    assert "/" not in name and "\\" not in name and ".." not in name
    assert name.isprintable() and "\u202e" not in name


def test_corpus_run_writes_only_into_the_quarantine(corpus_run: CorpusRun) -> None:
    home = corpus_run.settings.home
    written = {
        p for p in home.rglob("*")
        if p.is_file() and not p.name.startswith("review.db") and not p.is_relative_to(home / "inbox")
    }  # fmt: skip

    assert written and all(p.is_relative_to(corpus_run.settings.quarantine_dir) for p in written)
    left = [p.name for p in (home / "inbox" / "uploads").iterdir()]
    assert left == ["generated_50mb.xlsx"], (
        "every file was taken out of the inbox but the one over the size limit"
    )
    assert not Path("/tmp/联系人名单.xlsx").exists() and not Path("/etc/cron.d/联系人名单.xlsx").exists()


# Known failures.


@pytest.fixture
def contact_list(migrated_url: str, review_env: Path) -> tuple[str, Any, Any, Path]:
    seed_demo(migrated_url)
    programme = load_programme("hebei_smart_cluster")
    instance = find_instance(programme, 2025, "contact_list")
    with session_scope(migrated_url) as session:
        city = expected_submitters(session, programme, instance)[0]
    path = write_xlsx(review_env / "upload.xlsx", records_for(programme, instance, city), "联系人")
    return migrated_url, programme, instance, path


@pytest.mark.parametrize(
    ("name", "status"),
    [
        pytest.param("联" * 78 + ".xlsx", "accepted", id="239-byte-name-accepted"),
        pytest.param("联" * 100 + ".xlsx", "rejected", id="305-byte-name-rejected-as-unsafe"),
    ],
)
def test_file_with_a_long_name_is_stored_not_a_crash(
    contact_list: tuple[str, Any, Any, Path], name: str, status: str
) -> None:
    url, programme, instance, path = contact_list

    report = ingest_files(url, get_settings(), programme, instance, [path], names=[name])

    (outcome,) = (*report.accepted, *report.rejected)
    assert outcome.status == status
    assert sha256(Path(outcome.stored_path)) == sha256(path)


def test_file_resubmitted_under_a_safe_name_is_accepted(contact_list: tuple[str, Any, Any, Path]) -> None:
    url, programme, instance, path = contact_list
    settings = get_settings()
    ingest_files(url, settings, programme, instance, [path], names=["../../联系人名单.xlsx"])

    report = ingest_files(url, settings, programme, instance, [path], names=["石家庄市联系人名单.xlsx"])

    assert report.counts() == {"accepted": 1, "rejected": 0, "duplicates": 0}
