"""Decision notices of a cycle: queued once for a real run, never for a dry run (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from review_calendar.domain.programmes import find_instance, load_programme
from review_calendar.store.db import session_scope
from review_calendar.store.models import Decision, OutboxMessage
from review_calendar.tasks import queue_instance_notices
from review_calendar_demo.seed import seed_demo
from tests.support.builders import contact_values, set_contacts

pytestmark = pytest.mark.unit


@pytest.fixture
def evaluated(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo province with one recorded 2025 evaluation of a Hebei pilot; the instance key."""
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    programme = load_programme("hebei_smart_cluster")
    instance = find_instance(programme, 2025, "performance_evaluation")
    with session_scope(migrated_url) as session:
        session.add(
            Decision(
                programme_id=programme.id, cycle_year=2025, kind="evaluation", subject="anguo_tcm",
                outcome="continue", rule="provincial configuration", clause="冀工信产业〔2016〕93号 五",
                figures={"region_code": "130683", "cluster": "安国中药产业集群", "reason": "评价得分 85"},
            )
        )  # fmt: skip
    set_contacts(migrated_url, [contact_values(programme.id, 2025, "130683", "责任处室负责同志")])
    return instance.key


def _outbox_count(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage))


def test_a_dry_run_queues_no_decision_notice(evaluated: str, migrated_url: str) -> None:
    summary = queue_instance_notices(evaluated, "2026-03-02", dry_run=True)

    assert summary["decision_notices"] == 0
    assert _outbox_count(migrated_url) == 0


def test_a_real_run_queues_the_notice_once(evaluated: str, migrated_url: str) -> None:
    first = queue_instance_notices(evaluated, "2026-03-02")
    again = queue_instance_notices(evaluated, "2026-03-02")

    assert (first["decision_notices"], again["decision_notices"]) == (1, 0)
    assert _outbox_count(migrated_url) == 1


@pytest.mark.parametrize(
    ("outcome", "state"),
    [
        pytest.param("recommend_revoke", "proposed", id="recommendation-to-miit-article-17"),
        pytest.param("recommend_pass", "proposed", id="recommendation-to-miit-article-15"),
        pytest.param("undeterminable", "proposed", id="cannot-judge-yet"),
        pytest.param("recommend_revoke", "awaiting_ministry", id="awaiting-miit"),
    ],
)
def test_a_recommendation_or_proposal_is_never_mailed(
    migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch, outcome: str, state: str
) -> None:
    """工信部企业〔2022〕119号 第十五条, 第十七条: MIIT decides; the province's recommendation waits for a reviewer."""
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    programme = load_programme("miit_sme_cluster")
    instance = find_instance(programme, 2025, "re_review")
    with session_scope(migrated_url) as session:
        session.add(
            Decision(
                programme_id=programme.id, cycle_year=2025, kind="re_review", subject="pingxiang_bicycle",
                outcome=outcome, rule="programmes/miit_sme_cluster.yaml: re_review", clause="第十五条",
                figures={"region_code": "130532", "cluster": "平乡自行车产业集群", "reason": "建议", "state": state},
            )
        )  # fmt: skip
    set_contacts(migrated_url, [contact_values(programme.id, 2025, "130532", "责任处室负责同志")])

    assert queue_instance_notices(instance.key, "2025-12-01")["decision_notices"] == 0
    assert _outbox_count(migrated_url) == 0
