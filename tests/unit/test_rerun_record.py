"""A finished cycle's figures are a record: re-running it after its decisions reproduces them.

MIIT's decisions on the 2025 re-review extend one cluster by three years and
revoke another; both then no longer "expire in 2025", so a re-run that asked who
is expected today would find fewer (the demo's 3 expected / 66.7 % on time
became 0 / "—"). Who was expected is recorded at the first aggregation after
the close and a re-run uses that record.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from review_calendar.aggregate.write import aggregate_city, aggregate_province
from review_calendar.decide.proposals import record_ministry_decision
from review_calendar.domain.programmes import find_instance, load_programme_file
from review_calendar.store.db import session_scope
from review_calendar.store.models import Aggregate, Cluster, Enrolment, RecordedFact
from review_calendar.store.queries import expected_submitters, record_instances
from review_calendar_demo.seed import seed_demo
from tests.support.builders import submit

pytestmark = pytest.mark.unit
B = load_programme_file(Path(__file__).resolve().parents[2] / "programmes" / "miit_sme_cluster.yaml")
RE_REVIEW = find_instance(B, 2025, "re_review")
CLOSED = RE_REVIEW.effective_due + dt.timedelta(days=1)


@pytest.fixture
def url(migrated_url: str) -> str:
    """The demo's Programme B with its 2025 instances recorded; two expiring clusters submitted, one late."""
    seed_demo(migrated_url)
    record_instances(migrated_url, B, 2025)
    with session_scope(migrated_url) as s:
        regions = sorted({x.region_code for x in expected_submitters(s, B, RE_REVIEW)})
    submit(migrated_url, RE_REVIEW, regions[0], RE_REVIEW.effective_due - dt.timedelta(days=5))
    submit(migrated_url, RE_REVIEW, regions[1], RE_REVIEW.effective_due + dt.timedelta(days=1))
    return migrated_url


def _aggregate(url: str) -> tuple[dict, dict]:
    with session_scope(url) as s:
        totals = dict(aggregate_province(s, B, RE_REVIEW, CLOSED).totals)
        for city in sorted({x.city_code for x in expected_submitters(s, B, RE_REVIEW)}):
            aggregate_city(s, B, RE_REVIEW, CLOSED, city)
    with session_scope(url) as s:
        rows = {(r.region_code, r.metric): (r.value, r.text) for r in s.scalars(select(Aggregate))}
    return totals, rows


def _ministry_decides(url: str) -> None:
    """MIIT extends the first expiring cluster and revokes every other one."""
    with session_scope(url) as s:
        expiring = sorted(
            e.cluster_id
            for e in s.scalars(select(Enrolment).where(Enrolment.programme_id == B.id))
            if e.valid_until.year == 2025
        )
        for n, cluster_id in enumerate(expiring):
            fact = RecordedFact(
                programme_id=B.id, kind="miit_decision", natural_key=cluster_id, cycle_year=2025,
                subject=cluster_id, on_date=dt.date(2025, 12, 10), outcome="extend" if n == 0 else "revoke_recognition",
                reference=f"工信部企业函〔2025〕{n + 1}号", recorded_by="operator",
                recorded_at=dt.datetime(2025, 12, 11, tzinfo=dt.UTC), source="cli",
            )  # fmt: skip
            assert s.get(Cluster, cluster_id) is not None
            record_ministry_decision(s, B, fact)
        assert expected_submitters(s, B, RE_REVIEW) == []  # asked today, nobody expires any more


def test_a_rerun_after_the_decisions_reproduces_the_figures(url: str) -> None:
    totals, rows = _aggregate(url)
    _ministry_decides(url)

    again_totals, again_rows = _aggregate(url)

    assert totals["expected"] >= 3 and totals["on_time"] == 1
    assert again_totals == totals
    assert again_rows == rows


def test_an_aggregation_before_the_close_records_nothing(url: str) -> None:
    before_close = RE_REVIEW.effective_due - dt.timedelta(days=1)
    with session_scope(url) as s:
        early = aggregate_province(s, B, RE_REVIEW, before_close).totals["expected"]
    _ministry_decides(url)

    with session_scope(url) as s:
        later = aggregate_province(s, B, RE_REVIEW, before_close).totals["expected"]

    assert early >= 3 and later == 0  # nothing was recorded: the set is asked again
