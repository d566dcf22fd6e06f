"""The one naming rule of a decision's subject: Required Actions, escalations and pages say the same."""

from __future__ import annotations

from review_calendar.domain.verdicts import subject_label

TITLES = {"development_plan": "发展规划", "progress_report": "发展情况报告"}


def test_a_cluster_is_named_by_the_store_first_then_the_rule_figures() -> None:
    assert (
        subject_label("c07", {"cluster": "旧名"}, TITLES, {"c07": "蠡县毛绒产业集群"}) == "蠡县毛绒产业集群"
    )
    assert subject_label("c07/ground", {"cluster_name": "白沟箱包产业集群"}, TITLES) == "白沟箱包产业集群"


def test_a_file_under_review_is_named_by_region_obligation_period_and_file_never_by_its_raw_subject() -> None:
    figures = {"region_name": "蠡县", "obligation_title": "发展规划", "period": "Y", "file_name": "规划.pdf"}
    assert subject_label("development_plan/Y/130635/49", figures, TITLES) == "蠡县·发展规划“规划.pdf”"
    half = {"region_name": "玉田县", "period": "H1"}
    assert subject_label("progress_report/H1/130229/7", half, TITLES) == "玉田县·发展情况报告（上半年）"


def test_without_an_obligation_the_region_and_the_request_title_name_it() -> None:
    assert subject_label("x/1", {"region_name": "玉田县", "title": "延期申请"}) == "玉田县（延期申请）"
    assert subject_label("bulletin/2025", {}) == "bulletin/2025"
