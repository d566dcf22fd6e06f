"""Intake never needs Great Expectations: an inbox batch is judged by the dataset spec alone.

Great Expectations is the provincial gate before aggregation
(``review_calendar.gate``); a batch taken in, with an accepted and a rejected
file, must not import it.
"""

from __future__ import annotations

import os
import textwrap
from typing import TYPE_CHECKING

import pytest

from tests.support.fresh import run_fresh

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

SCRIPT = textwrap.dedent(
    """
    import datetime as dt, json, sys
    from pathlib import Path

    from review_calendar.domain.programmes import find_instance, load_programme
    from review_calendar.settings import get_settings
    from review_calendar.store.db import session_scope, upgrade
    from review_calendar.store.queries import expected_submitters
    from review_calendar.tasks.intake import ingest_files
    from review_calendar_demo.seed import seed_demo
    from review_calendar_demo.synthetic import break_records, records_for, write_xlsx

    settings = get_settings()
    upgrade(settings.db_url)
    seed_demo(settings.db_url)
    programme = load_programme("hebei_smart_cluster")
    instance = find_instance(programme, 2025, "contact_list")
    with session_scope(settings.db_url) as session:
        first, second = expected_submitters(session, programme, instance)[:2]
    folder = Path(sys.argv[1])
    good = write_xlsx(folder / "good.xlsx", records_for(programme, instance, first, seed=1), "联系人")
    bad = write_xlsx(
        folder / "bad.xlsx", break_records(records_for(programme, instance, second, seed=2), "bad_mobile", 2025), "联系人"
    )
    report = ingest_files(settings.db_url, settings, programme, instance, [good, bad], received_on=dt.date(2025, 3, 20))
    print(json.dumps({**report.counts(), "gx": "great_expectations" in sys.modules}))
    """
)


def test_a_batch_is_taken_in_without_importing_great_expectations(tmp_path: Path) -> None:
    env = {**os.environ, "REVIEW_CALENDAR_HOME": str(tmp_path / "home")}
    env.pop("REVIEW_CALENDAR_DB_URL", None)
    (tmp_path / "files").mkdir()

    result, _ = run_fresh(SCRIPT, str(tmp_path / "files"), env=env)

    assert result == {"accepted": 1, "rejected": 1, "duplicates": 0, "gx": False}
