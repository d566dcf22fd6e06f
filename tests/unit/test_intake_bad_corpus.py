"""The corpus of malformed submissions: each is rejected with its code, never a crash.

``tests/data/bad/EXPECTED.csv`` lists every file with the dataset it is
submitted as, the error code intake must report and, where the problem sits
in a cell or header, the row and column the issue must name. Rebuild the
corpus with ``tests/data/make_bad_corpus.py``.
"""

from __future__ import annotations

import csv
import hashlib
from typing import TYPE_CHECKING

import pytest

from review_calendar.domain.programmes import load_programme
from review_calendar.intake import CODES, IntakeRejected, RowContext, read_submission
from tests.data.make_bad_corpus import BAD_DIR, EXPECTED_CSV, EXPECTED_YEAR, KNOWN_REGIONS, build_generated

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit


def load_expected() -> list[dict[str, str]]:
    with EXPECTED_CSV.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


EXPECTED = load_expected()
#: The corpus's development plans are Programme A's (its validity.max_pilot_years).
PILOT_YEARS = load_programme("hebei_smart_cluster").validity.max_pilot_years


@pytest.mark.parametrize("case", [pytest.param(c, id=c["file"]) for c in EXPECTED])
def test_bad_submission_is_rejected_with_its_code(case: dict[str, str], tmp_path: Path) -> None:
    # Arrange
    if case["source"] == "generated":
        path = build_generated(case["file"], tmp_path)
    else:
        path = BAD_DIR / case["file"]
    before = hashlib.sha256(path.read_bytes()).hexdigest() if path.stat().st_size < 2**20 else None
    # Act
    with pytest.raises(IntakeRejected) as caught:
        read_submission(
            path,
            case["dataset"],
            name=case["submitted_name"] or None,
            context=RowContext(
                known_region_codes=KNOWN_REGIONS,
                expected_year=EXPECTED_YEAR,
                expected_period=case["expected_period"] or None,
                max_pilot_years=PILOT_YEARS,
            ),
        )
    # Assert
    issues = caught.value.issues
    matching = [i for i in issues if i.code == case["code"]]
    assert matching, f"expected {case['code']}, got {[i.code for i in issues]}"
    if case["row"]:
        assert int(case["row"]) in {i.row for i in matching}
    if case["column"]:
        assert case["column"] in {i.column for i in matching if not case["row"] or i.row == int(case["row"])}
    assert all(i.code in CODES and i.message and i.file for i in issues)
    assert all("/" not in i.file and "\\" not in i.file for i in issues)
    if before is not None:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before, (
            "intake must never modify a submission"
        )


def test_corpus_has_at_least_30_cases() -> None:
    assert len(EXPECTED) >= 30


def test_corpus_covers_many_distinct_codes() -> None:
    assert len({c["code"] for c in EXPECTED}) >= 25


def test_every_corpus_file_is_listed_and_every_listed_file_exists() -> None:
    on_disk = {p.name for p in BAD_DIR.iterdir() if p.name != "EXPECTED.csv"}
    listed = {c["file"] for c in EXPECTED if c["source"] == "file"}

    assert on_disk == listed


def test_committed_corpus_files_are_small() -> None:
    assert max(p.stat().st_size for p in BAD_DIR.iterdir()) < 64 * 1024
