"""Programme files: the shipped ones load, invalid ones name file, key and problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from review_calendar.domain.calendar import WorkingCalendar
from review_calendar.domain.programmes import (
    ProgrammeError,
    check_programmes,
    instances_for_year,
    load_programme,
    load_programme_file,
    load_programmes,
)

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
PROGRAMMES = ROOT / "programmes"


def test_shipped_programmes_are_valid() -> None:
    assert check_programmes(PROGRAMMES) == []
    assert sorted(load_programmes(PROGRAMMES)) == [
        "hebei_smart_cluster",
        "henan_demo_base",
        "langfang_digital",
        "miit_sme_cluster",
    ]


def test_programme_a_2024_deadlines() -> None:
    programme = load_programme_file(PROGRAMMES / "hebei_smart_cluster.yaml")

    dates = {
        i.obligation_id: (i.statutory_due.isoformat(), i.effective_due.isoformat())
        for i in instances_for_year(programme, 2024, WorkingCalendar())
    }

    assert dates["contact_list"] == ("2024-03-31", "2024-04-01")
    assert dates["development_plan"] == ("2024-06-30", "2024-07-01")
    assert dates["half_year_report"] == ("2024-07-15", "2024-07-15")
    assert dates["full_year_report"] == ("2025-01-15", "2025-01-15")


def test_programme_b_annual_table_2023_moves_past_labour_day() -> None:
    programme = load_programme_file(PROGRAMMES / "miit_sme_cluster.yaml")

    instance = next(
        i
        for i in instances_for_year(programme, 2023, WorkingCalendar())
        if i.obligation_id == "annual_info_table"
    )

    assert instance.effective_due.isoformat() == "2023-05-04"


def test_quarterly_obligation_has_four_instances() -> None:
    programme = load_programme_file(PROGRAMMES / "henan_demo_base.yaml")

    periods = [
        i.period
        for i in instances_for_year(programme, 2025, WorkingCalendar())
        if i.obligation_id == "quarterly_figures"
    ]

    assert periods == ["Q1", "Q2", "Q3", "Q4"]


def _write_variant(tmp_path: Path, mutate, name: str = "hebei_smart_cluster") -> Path:
    data = yaml.safe_load((PROGRAMMES / "hebei_smart_cluster.yaml").read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        pytest.param(
            lambda d: d["obligations"][0]["due"].update(month=13),
            "obligations[0].due[0].month",
            id="month-13",
        ),
        pytest.param(
            lambda d: d["obligations"][1]["due"].update(month=2, day=30),
            "2-30 is not a calendar date",
            id="feb-30",
        ),
        pytest.param(
            lambda d: d["obligations"][0].pop("clause"),
            "obligations[0].clause：缺少必填项",
            id="missing-clause",
        ),
        pytest.param(
            lambda d: d["obligations"][0].update(submitter="village"),
            "obligations[0].submitter",
            id="unknown-level",
        ),
        pytest.param(
            lambda d: d["obligations"].append(dict(d["obligations"][0])),
            "obligation ids repeat",
            id="duplicate-obligation",
        ),
        pytest.param(
            lambda d: d["obligations"][4].update(after="nope"), "unknown obligation 'nope'", id="bad-after"
        ),
        pytest.param(lambda d: d.update(colour="red"), "colour：不认识的键", id="unknown-key"),
        pytest.param(
            lambda d: d["reminders"].update(escalate_province_after_days=1),
            "escalate_province_after_days",
            id="escalation-order",
        ),
        pytest.param(
            lambda d: d["evaluation"].update(rectify_min_score=90), "rectify_min_score", id="score-bands"
        ),
        pytest.param(
            lambda d: d["office"].update(email="not-an-address"), "office.email", id="bad-office-email"
        ),
        pytest.param(
            lambda d: d["evaluation"].update(decides="monitor"),
            "a monitoring evaluation decides nothing",
            id="monitoring-with-score-bands",
        ),
        pytest.param(
            lambda d: d["evaluation"].pop("violation_clause"),
            "revoke_on_violation needs the violation_clause",
            id="revocation-without-its-clause",
        ),
        pytest.param(
            lambda d: d.update(re_review={"annual_table": "nope", "clause": "x"}),
            "re_review.annual_table names unknown obligation 'nope'",
            id="annual-table-unknown",
        ),
        pytest.param(
            lambda d: d.update(
                criteria=[{"id": "firms", "title": "t", "kind": "any_of", "alternatives": []}]
            ),
            "any_of needs at least two alternatives",
            id="any-of-without-alternatives",
        ),
    ],
)
def test_invalid_programme_error_names_file_and_key(tmp_path: Path, mutate, fragment: str) -> None:
    path = _write_variant(tmp_path, mutate)

    with pytest.raises(ProgrammeError) as err:
        load_programme_file(path)

    assert str(err.value).startswith("hebei_smart_cluster.yaml：")
    assert fragment in str(err.value)


def test_id_must_match_file_name(tmp_path: Path) -> None:
    path = _write_variant(tmp_path, lambda d: None, name="renamed")

    with pytest.raises(
        ProgrammeError, match=r"renamed.yaml：id “hebei_smart_cluster”须与文件名“renamed”一致"
    ):
        load_programme_file(path)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: broken\nobligations: [\n", encoding="utf-8")

    with pytest.raises(ProgrammeError, match=r"broken.yaml：第\d+行不是有效的 YAML"):
        load_programme_file(path)


def test_check_programmes_lists_every_invalid_file(tmp_path: Path) -> None:
    _write_variant(tmp_path, lambda d: d.pop("name"), name="hebei_smart_cluster")
    (tmp_path / "other.yaml").write_text("just text", encoding="utf-8")
    (tmp_path / "_draft.yaml").write_text("ignored: [", encoding="utf-8")

    problems = check_programmes(tmp_path)

    assert len(problems) == 2
    assert problems[0].startswith("hebei_smart_cluster.yaml：name：缺少必填项")
    assert problems[1].startswith("other.yaml：顶层应为键值映射")


def test_an_unknown_programme_names_the_known_ones() -> None:
    from review_calendar.domain.programmes import UnknownProgramme, load_programme

    with pytest.raises(UnknownProgramme, match="已有：.*hebei_smart_cluster"):
        load_programme("no_such_programme", ROOT / "programmes")


def test_one_way_to_load_a_programme_by_id() -> None:
    from review_calendar.domain.programmes import load_programme

    assert load_programme("miit_sme_cluster", ROOT / "programmes").id == "miit_sme_cluster"


# 工信部企业〔2022〕119号 numbers its articles: 第十四条 MIIT's second review and publication;
# 第十五条 the three-year validity and the re-review at expiry; 第十六条 the Apr 30 table and
# MIIT's monitoring; 第十七条 the grounds for revoking a recognition.
@pytest.mark.parametrize(
    ("where", "article"),
    [
        pytest.param(lambda p: p.obligation("annual_info_table").clause, "第十六条", id="annual-table"),
        pytest.param(lambda p: p.obligation("re_review").clause, "第十五条", id="re-review-obligation"),
        pytest.param(lambda p: p.validity.clause, "第十五条", id="validity"),
        pytest.param(lambda p: p.re_review.clause, "第十五条", id="re-review-rules"),
        pytest.param(lambda p: p.re_review.grounds_clause, "第十七条", id="revocation-grounds"),
        pytest.param(lambda p: p.evaluation.clause, "第十六条", id="monitoring-evaluation"),
    ],
)
def test_programme_b_cites_the_article_that_says_it(where, article: str) -> None:
    programme = load_programme_file(ROOT / "programmes" / "miit_sme_cluster.yaml")

    clause = where(programme)

    assert article in clause
    assert "第十四条" not in clause


def test_ad_hoc_reports_have_no_instance_so_are_never_due_missing_or_reminded() -> None:
    """93号 五 重大进展随时上报 and 119号 第十七条（四） major changes: obligations without a date."""
    hebei, miit = load_programme("hebei_smart_cluster"), load_programme("miit_sme_cluster")

    # rectification_report: no date of its own; each rectification decision opens a dated follow-up.
    assert [o.id for o in hebei.ad_hoc_obligations] == ["major_progress", "rectification_report"]
    assert [o.id for o in miit.ad_hoc_obligations] == ["major_change_report"]
    assert "第十七条（四）" in miit.obligation("major_change_report").clause
    for programme in (hebei, miit):
        ids = {
            i.obligation_id for y in (2024, 2025) for i in instances_for_year(programme, y, WorkingCalendar())
        }
        assert not ids & {o.id for o in programme.ad_hoc_obligations}
        assert all(o.kind != "ad_hoc" for o in programme.dated_obligations)


@pytest.mark.parametrize(
    ("obligation", "fragment"),
    [
        pytest.param(
            {"kind": "ad_hoc", "recurrence": "ad_hoc", "due": {"month": 5, "day": 1}},
            "no due dates",
            id="ad-hoc-with-a-date",
        ),
        pytest.param({"kind": "ad_hoc"}, "kind ad_hoc and recurrence ad_hoc go together", id="kind-only"),
        pytest.param(
            {"recurrence": "ad_hoc"}, "kind ad_hoc and recurrence ad_hoc go together", id="recurrence-only"
        ),
        pytest.param({}, "due must list at least one date", id="dated-without-a-date"),
    ],
)
def test_ad_hoc_and_dates_are_exclusive(tmp_path: Path, obligation: dict, fragment: str) -> None:
    base = {
        "id": "x_report",
        "title": "测试报告",
        "submitter": "county",
        "recipient": "province",
        "clause": "测试条款",
    }
    path = _write_variant(tmp_path, lambda d: d["obligations"].append(base | obligation))

    with pytest.raises(ProgrammeError) as err:
        load_programme_file(path)

    assert fragment in str(err.value)


def test_the_yearly_contact_list_is_provincial_configuration() -> None:
    """93号 七 asks the 2016 batch for the list by Mar 31, once: yearly recurrence is configured."""
    contact = load_programme("hebei_smart_cluster").obligation("contact_list")

    assert (contact.recurrence, contact.recurrence_is_configured, contact.due_is_configured) == (
        "yearly",
        True,
        False,
    )
