"""Who decided, by name: the roster, the display-name rule, and where it is recorded and shown.

Airflow records a Required Action's responder by login (``responded_by_user`` is the
auth manager's ``{"id": user id, "name": get_name()}``; FAB's ``get_name()`` is the
username). A provincial record names the person: 姓名（处室）, with the login beside it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from review_calendar.decide.answers import answer_from_hitl
from review_calendar.domain.people import Person, account_name, display_name, load_roster, parse_roster
from review_calendar.domain.runs import ask_again_run_id
from review_calendar.reviewer_pages.deciders import cycle_run_words, decided_by_name, review_run_words

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
ROSTER = {"hebei_reviewer": Person("hebei_reviewer", "张伟", "河北省工业和信息化厅产业集群处")}


def test_the_roster_names_the_person_with_the_office() -> None:
    assert display_name("hebei_reviewer", ROSTER) == "张伟（河北省工业和信息化厅产业集群处）"
    assert display_name("hebei_reviewer", {"hebei_reviewer": Person("hebei_reviewer", "张伟")}) == "张伟"


def test_the_roster_wins_over_the_account_name() -> None:
    assert (
        display_name("hebei_reviewer", ROSTER, account="Zhang Wei")
        == "张伟（河北省工业和信息化厅产业集群处）"
    )


def test_without_a_roster_entry_the_account_name_then_the_login() -> None:
    assert display_name("li_jing", ROSTER, account="李静 中小企业处") == "李静 中小企业处"
    assert display_name("li_jing", ROSTER, account="li_jing") == "li_jing"
    assert display_name("li_jing", ROSTER) == "li_jing"
    assert display_name("", ROSTER) == ""


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("reviewer1", "reviewer1", ""),  # the demo's and tests' accounts: first/last name = login
        ("reviewer1", "Reviewer", ""),  # the role name as last name (accounts provisioned before the roster)
        ("", "", ""),
        ("张伟", "河北省工业和信息化厅产业集群处", "张伟 河北省工业和信息化厅产业集群处"),
        ("Wei", "Zhang", "Wei Zhang"),
        ("Wei", "reviewer1", "Wei"),
    ],
)
def test_an_account_name_counts_only_when_it_is_not_the_login(first: str, last: str, expected: str) -> None:
    assert account_name("reviewer1", first, last) == expected


def test_a_roster_entry_needs_a_name() -> None:
    with pytest.raises(ValueError, match="reviewers.x"):
        parse_roster({"reviewers": {"x": {"office": "产业集群处"}}})
    assert parse_roster(None) == {} and parse_roster({"reviewers": None}) == {}


def test_the_shipped_roster_names_every_reviewer_of_the_programme_files() -> None:
    roster = load_roster(ROOT / "config" / "reviewers.yaml")
    logins = {"reviewer"}
    for path in (ROOT / "programmes").glob("*.yaml"):
        logins |= set(
            (yaml.safe_load(path.read_text(encoding="utf-8")).get("review") or {}).get("reviewers") or []
        )

    assert logins <= set(roster)
    for login in logins:
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", roster[login].name), login
        assert roster[login].office, login


def test_a_missing_roster_file_is_empty_and_an_edited_one_is_re_read(tmp_path: Path) -> None:
    path = tmp_path / "reviewers.yaml"
    assert load_roster(path) == {}
    path.write_text("reviewers:\n  a: {name: 王磊}\n", encoding="utf-8")
    assert load_roster(path)["a"].display == "王磊"
    path.write_text("reviewers:\n  a: {name: 王磊, office: 产业集群处}\n", encoding="utf-8")
    import os

    os.utime(path, ns=(1, 10**18))  # a later modification time, whatever the file system's resolution
    assert load_roster(path)["a"].display == "王磊（产业集群处）"


def _payload(login: str) -> dict:
    return {"chosen_options": ["批准"], "params_input": {}, "responded_by_user": {"id": "7", "name": login},
            "responded_at": dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)}  # fmt: skip


def test_an_answer_keeps_the_login_and_names_the_person(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roster = tmp_path / "reviewers.yaml"
    roster.write_text("reviewers:\n  hebei_reviewer: {name: 张伟, office: 产业集群处}\n", encoding="utf-8")
    monkeypatch.setenv("REVIEW_CALENDAR_REVIEWERS", str(roster))

    named = answer_from_hitl(_payload("hebei_reviewer"))
    by_account = answer_from_hitl(_payload("li"), accounts={"li": "李静 中小企业处"})
    unknown = answer_from_hitl(_payload("reviewer9"))

    assert (named.by, named.by_name) == ("hebei_reviewer", "张伟（产业集群处）")
    assert (by_account.by, by_account.by_name) == ("li", "李静 中小企业处")
    assert (unknown.by, unknown.by_name) == ("reviewer9", "reviewer9")


def test_a_recorded_name_is_kept_when_the_roster_changes() -> None:
    assert decided_by_name("hebei_reviewer", "赵敏（产业集群处）", ROSTER) == "赵敏（产业集群处）"
    assert (
        decided_by_name("hebei_reviewer", "hebei_reviewer", ROSTER)
        == "张伟（河北省工业和信息化厅产业集群处）"
    )
    assert decided_by_name("", "", ROSTER) == ""


def test_runs_in_words() -> None:
    assert cycle_run_words(2025) == "2025 年度审查运行"
    assert cycle_run_words(2025, "H1") == "2025 年度上半年审查运行"
    assert review_run_words(2025, "", 2) == "2025 年度审定 · 第 2 次询问"


def test_a_run_that_asks_again_is_named_by_cycle_decision_and_round() -> None:
    at = dt.datetime(2026, 3, 2, 10, 0, 1, 500, tzinfo=dt.timezone(dt.timedelta(hours=8)))

    assert (
        ask_again_run_id(2025, "", 17, 1, at)
        == "ask_again__2025__decision17_round1__2026-03-02T02:00:01+00:00"
    )
    assert ask_again_run_id(2025, "H1", 17, 2, at).startswith("ask_again__2025_H1__decision17_round2__")
    assert ask_again_run_id(2025, "H1", 17, 2, at) == ask_again_run_id(2025, "H1", 17, 2, at)  # a retry: once
    assert re.fullmatch(r"^[A-Za-z0-9_.~:+-]+$", ask_again_run_id(2025, "第一季度", 3, 1, at))


def test_an_answer_records_who_decided_by_name_and_pages_show_both(
    db_url: str, review_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from review_calendar.decide.apply import decide_evaluations
    from review_calendar.domain.programmes import find_instance, load_programme_file
    from review_calendar.reviewer_pages.decisions import decisions_view, pending_view
    from review_calendar.store.db import session_scope, upgrade
    from review_calendar.store.models import Decision, Evaluation
    from review_calendar_demo.seed import seed_demo
    from tests.support.reviews import answer

    programme = load_programme_file(ROOT / "programmes" / "hebei_smart_cluster.yaml")
    roster = tmp_path / "reviewers.yaml"
    roster.write_text("reviewers:\n  hebei_reviewer: {name: 张伟, office: 产业集群处}\n", encoding="utf-8")
    monkeypatch.setenv("REVIEW_CALENDAR_REVIEWERS", str(roster))
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", db_url)
    upgrade(db_url)
    seed_demo(db_url)
    with session_scope(db_url) as s:
        s.add_all([
            Evaluation(programme_id=programme.id, cycle_year=2025, cluster_id=c, evaluator="x", score=80.0, violation=True)
            for c in ("baigou_luggage", "lixian_fur")
        ])  # fmt: skip
    with session_scope(db_url) as s:
        instance = find_instance(programme, 2025, "performance_evaluation")
        decide_evaluations(s, programme, instance, "scheduled__2025_Y__x", dry_run=False)

    answer(db_url, programme.id, "evaluation", "baigou_luggage", "批准")
    roster.write_text("reviewers:\n  hebei_reviewer: {name: 赵敏, office: 产业集群处}\n", encoding="utf-8")
    import os

    os.utime(roster, ns=(1, 10**18))

    with session_scope(db_url) as s:
        d = s.scalars(
            select(Decision).where(Decision.subject == "baigou_luggage", Decision.kind == "evaluation")
        ).one()
        assert (d.figures["decided_by"], d.figures["decided_by_name"]) == (
            "hebei_reviewer",
            "张伟（产业集群处）",
        )
        items = {i.subject: i for i in decisions_view(s, programme, 2025, kind="evaluation")}
        pending = pending_view(s, [programme], dt.date(2026, 3, 2))
    decided = items["baigou_luggage"]
    assert (decided.decided_by_name, decided.decided_by) == ("张伟（产业集群处）", "hebei_reviewer")
    assert decided.run_words == "2025 年度审查运行"
    assert [r.words for r in decided.review_runs] == ["2025 年度审定 · 第 1 次询问"]
    assert decided.review_runs[0].path.startswith("dags/decisions__hebei_smart_cluster/runs/test__")
    assert decided.review_runs[0].path.endswith("/tasks/review/mapped/0/required_actions")
    assert items["lixian_fur"].decided_by_name == "" and items["lixian_fur"].review_runs == ()
    assert [p.review for p in pending if p.subject_label == items["lixian_fur"].subject_label] == [None]
