"""Ad-hoc reports: 冀工信产业〔2016〕93号 五 (重大进展随时上报) and 工信部企业〔2022〕119号 第十七条（四）.

They have no due date: taken in whenever they arrive, under the year they arrive, never late,
never missing, never reminded.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from review_calendar.domain.programmes import find_instance, instances_for_year, load_programme
from review_calendar.intake.templates import template_for
from review_calendar.settings import get_settings
from review_calendar.store.queries import record_instances
from review_calendar.tasks import open_instances
from review_calendar.tasks.intake import ingest_files
from review_calendar_demo.seed import seed_demo
from tests.unit.intake_cases import fill_template

pytestmark = pytest.mark.unit
A = load_programme("hebei_smart_cluster")
ROW = {
    "行政区划代码": "130684",
    "产业集群名称": "白沟箱包产业集群",
    "发生日期": "2025-11-03",
    "事项类别": "重大进展",
    "情况说明": "集群工业互联网平台上线运行。",
}


@pytest.fixture
def env(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    record_instances(migrated_url, A, 2025)
    return migrated_url, get_settings()


def test_a_major_progress_report_is_accepted_on_any_day_and_never_late(env, tmp_path: Path) -> None:
    url, settings = env
    instance = find_instance(A, 2025, "major_progress")
    path = fill_template("ad_hoc_report", tmp_path / "高碑店市重大进展.xlsx", {"重大事项": [ROW]})

    report = ingest_files(url, settings, A, instance, [path], received_on=dt.date(2025, 11, 3))

    assert [(o.status, o.region_code, o.is_late) for o in report.accepted] == [("accepted", "130684", False)]
    assert report.rejected == []


def test_the_sweep_takes_in_ad_hoc_reports_but_no_cycle_lists_them() -> None:
    keys = open_instances("2025-11-03", "hebei_smart_cluster", ad_hoc=True)

    assert "hebei_smart_cluster/2025/major_progress/Y" in keys
    assert "hebei_smart_cluster/2025/major_progress/Y" not in open_instances(
        "2025-11-03", "hebei_smart_cluster"
    )
    assert "major_progress" not in {i.obligation_id for i in instances_for_year(A, 2025)}


def test_the_template_says_any_time_instead_of_a_deadline(tmp_path: Path) -> None:
    path = template_for(A, find_instance(A, 2025, "major_progress"), folder=tmp_path)

    sheet = load_workbook(path)["重大事项"]
    assert sheet["A2"].value.startswith("报送时间：随时报送（无固定截止日期）。")
