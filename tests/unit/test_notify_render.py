"""E-mail texts rendered without SMTP or database: subjects, dates, days, reasons, safety."""

from __future__ import annotations

import datetime as dt

import pytest

from review_calendar.domain.calendar import WorkingCalendar
from review_calendar.domain.programmes import (
    ObligationInstance,
    Programme,
    find_instance,
    instances_for_year,
    load_programme_file,
)
from review_calendar.notify.recipients import ContactGap
from review_calendar.notify.render import (
    DecisionNotice,
    Problem,
    Rejection,
    Rendered,
    render_decision,
    render_gap_report,
    render_notice,
    render_rejection,
    render_reminder,
)
from review_calendar.notify.stages import Stage
from review_calendar.settings import get_settings

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def programme() -> Programme:
    return load_programme_file(get_settings().programmes_dir / "hebei_smart_cluster.yaml")


@pytest.fixture(scope="module")
def half_year(programme: Programme) -> ObligationInstance:
    return find_instance(programme, 2025, "half_year_report")


def rejection(count: int, file_name: str = "藁城区上半年进展.xlsx") -> Rejection:
    problems = tuple(
        Problem("进展情况", 3 + i, "完成投资（万元）", f"问题{i + 1}：不是数字") for i in range(count)
    )
    return Rejection(file_name, dt.date(2025, 7, 10), problems, count)


def test_reminder_subject_names_programme_obligation_days_and_region(
    programme: Programme, half_year: ObligationInstance
) -> None:
    text = render_reminder(
        programme, half_year, Stage("before_7", 7, 0, "none"), region_name="藁城区", as_of=dt.date(2025, 7, 8)
    )

    assert text.subject == "【智慧集群试点】催报提醒：上半年试点建设进展情况（距截止还有7天）— 藁城区"


def test_reminder_body_states_both_due_dates_and_days_left(
    programme: Programme, half_year: ObligationInstance
) -> None:
    body = render_reminder(
        programme, half_year, Stage("before_7", 7, 0, "none"), region_name="藁城区", as_of=dt.date(2025, 7, 8)
    ).body

    assert "法定截止日期：2025年7月15日（星期二）" in body
    assert "实际截止日期：2025年7月15日（星期二）" in body
    assert "距截止日还有 7 天" in body
    assert "尚缺材料：上半年试点建设进展情况" in body
    assert "河北省工业和信息化厅产业政策处（电子邮箱：cyzc@gxt.hebei.example.cn）" in body


def test_shifted_deadline_is_explained(programme: Programme) -> None:
    # 2024-03-31 is a Sunday: the contact list is due on Monday 2024-04-01.
    contact_list = instances_for_year(programme, 2024, WorkingCalendar())[0]

    body = render_reminder(
        programme,
        contact_list,
        Stage("before_1", 1, 0, "none"),
        region_name="唐山市",
        as_of=dt.date(2024, 3, 29),
    ).body

    assert "法定截止日期：2024年3月31日（星期日）" in body
    assert (
        "实际截止日期：2024年4月1日（星期一）（法定截止日期为周末或法定节假日，顺延至下一个工作日）" in body
    )


def test_a_configured_date_is_never_called_statutory(programme: Programme) -> None:
    """冀工信产业〔2016〕93号 五 sets no date for the yearly evaluation: Mar 15 is 配置日期."""
    evaluation = find_instance(programme, 2024, "performance_evaluation")

    body = render_notice(programme, evaluation, region_name="河北省", as_of=dt.date(2025, 2, 1)).body

    assert "配置日期：2025年3月15日（星期六）" in body
    assert "实际截止日期：2025年3月17日（星期一）（配置日期为周末或法定节假日，顺延至下一个工作日）" in body
    assert "法定截止" not in body


def test_overdue_reminder_states_days_overdue_and_who_is_copied(
    programme: Programme, half_year: ObligationInstance
) -> None:
    text = render_reminder(
        programme,
        half_year,
        Stage("overdue_12", -16, 12, "province"),
        region_name="藁城区",
        as_of=dt.date(2025, 7, 31),
        city_name="石家庄市",
    )

    assert "已逾期16天" in text.subject
    assert "现已逾期 16 天（12 个工作日）" in text.body
    assert "本提醒已抄送石家庄市工业和信息化局主管领导和河北省工业和信息化厅产业政策处。" in text.body


def test_reminder_lists_at_most_ten_rejection_reasons(
    programme: Programme, half_year: ObligationInstance
) -> None:
    body = render_reminder(
        programme,
        half_year,
        Stage("before_3", 4, 0, "none"),
        region_name="藁城区",
        as_of=dt.date(2025, 7, 11),
        rejection=rejection(12),
    ).body

    assert (
        "“藁城区上半年进展.xlsx”（2025年7月10日（星期四）收到）未通过审核，共发现 12 个问题，以下列出前 10 个"
        in body
    )
    assert "  1. 工作表“进展情况”第3行“完成投资（万元）”列：问题1：不是数字" in body
    assert "问题10：" in body and "问题11：" not in body
    assert "尚缺材料" not in body


def test_rejection_notice_lists_the_problems(programme: Programme, half_year: ObligationInstance) -> None:
    text = render_rejection(
        programme, half_year, rejection(2), region_name="藁城区", as_of=dt.date(2025, 7, 10)
    )

    assert text.subject == "【智慧集群试点】上半年试点建设进展情况：报送文件未通过审核 — 藁城区"
    assert "问题如下" in text.body and "  2. 工作表“进展情况”第4行" in text.body
    assert "截止日期为2025年7月15日（星期二）" in text.body


def test_notice_mentions_the_attached_template(programme: Programme, half_year: ObligationInstance) -> None:
    text = render_notice(
        programme,
        half_year,
        region_name="藁城区",
        as_of=dt.date(2025, 6, 25),
        clusters=["藁城宫灯产业集群"],
        attachment_name="上半年试点建设进展情况报送模板.xlsx",
    )

    assert text.subject == "【智慧集群试点】上半年试点建设进展情况报送通知（截止2025年7月15日）— 藁城区"
    assert "报送单位：藁城区（藁城宫灯产业集群）" in text.body
    assert "附件“上半年试点建设进展情况报送模板.xlsx”为报送模板" in text.body
    assert "距截止日还有 20 天" in text.body


def test_message_to_the_city_says_why(programme: Programme, half_year: ObligationInstance) -> None:
    body = render_notice(
        programme, half_year, region_name="高碑店市", as_of=dt.date(2025, 6, 25), via_city="保定市"
    ).body

    assert body.startswith("保定市工业和信息化局：")
    assert "因高碑店市尚未报送有效的联系人信息，本通知发送至保定市工业和信息化局" in body


def test_decision_notice_gives_outcome_reason_and_clause(programme: Programme) -> None:
    decision = DecisionNotice(
        "evaluation",
        2025,
        "gaocheng_lanterns",
        "藁城宫灯产业集群",
        "rectify",
        "评分 72 分，限期 30 天整改",
        "冀工信产业〔2016〕93号 五",
    )

    text = render_decision(programme, decision, region_name="藁城区")

    assert text.subject == "【智慧集群试点】2025年度绩效评价结果：藁城宫灯产业集群"
    assert "结果：限期整改" in text.body
    assert "理由：评分 72 分，限期 30 天整改" in text.body
    assert "依据：冀工信产业〔2016〕93号 五" in text.body


@pytest.mark.parametrize(
    ("kind", "outcome", "subject", "label"),
    [
        pytest.param(
            "evaluation",
            "revoke",
            "2025年度绩效评价结果：藁城宫灯产业集群",
            "取消建设试点资格",
            id="revoke",
        ),
        pytest.param(
            "evaluation", "continue", "2025年度绩效评价结果：藁城宫灯产业集群", "继续支持", id="continue"
        ),
        pytest.param(
            "re_review",
            "extend",
            "2025年度期满复核结果：藁城宫灯产业集群",
            "复核通过，有效期延长3年",
            id="extend",
        ),
        pytest.param(
            "re_review",
            "revoke_recognition",
            "2025年度期满复核结果：藁城宫灯产业集群",
            "撤销认定",
            id="revoke-recognition",
        ),
    ],
)
def test_decision_notice_speaks_the_one_vocabulary(
    programme: Programme, kind: str, outcome: str, subject: str, label: str
) -> None:
    decision = DecisionNotice(kind, 2025, "gaocheng_lanterns", "藁城宫灯产业集群", outcome, "理由", "条款")

    text = render_decision(programme, decision, region_name="藁城区")

    assert text.subject == f"【智慧集群试点】{subject}"
    assert f"结果：{label}\n" in text.body


def test_revocation_notice_says_whom_to_contact(programme: Programme) -> None:
    decision = DecisionNotice(
        "re_review", 2025, "x", "藁城宫灯产业集群", "revoke_recognition", "理由", "条款"
    )

    body = render_decision(programme, decision, region_name="藁城区").body

    assert "如对结果有异议，请与" in body


def test_gap_report_lists_regions_without_contact_data(
    programme: Programme, half_year: ObligationInstance
) -> None:
    gaps = [
        ContactGap("130684", "高碑店市", "未报送主管领导及责任处室负责同志名单", "已改发保定市联系人"),
        ContactGap("130200", "唐山市", "联系人名单中的电子邮箱缺失或格式无效", "无可用联系人，未能发送"),
    ]

    text = render_gap_report(programme, half_year, gaps, as_of=dt.date(2025, 7, 18))

    assert text.subject == "【智慧集群试点】上半年试点建设进展情况：2个地区缺少有效联系人（2025年7月18日）"
    assert "  1. 唐山市（130200）：联系人名单中的电子邮箱缺失或格式无效；无可用联系人，未能发送" in text.body
    assert "  2. 高碑店市（130684）" in text.body


def test_values_cannot_add_lines_to_subject_or_body(
    programme: Programme, half_year: ObligationInstance
) -> None:
    text = render_reminder(
        programme,
        half_year,
        Stage("before_7", 7, 0, "none"),
        region_name="藁城区\r\nBcc: x@evil.example",
        as_of=dt.date(2025, 7, 8),
        rejection=rejection(1, file_name="a.xlsx\r\nBcc: y@evil.example"),
    )

    assert "\n" not in text.subject and "\r" not in text.subject
    assert not any(line.startswith("Bcc:") for line in text.body.splitlines())
    assert "“a.xlsx Bcc: y@evil.example”" in text.body


def test_rendered_refuses_a_multi_line_subject() -> None:
    with pytest.raises(ValueError, match="single line"):
        Rendered("a\r\nBcc: x@evil.example", "")


def test_rejection_does_not_repeat_a_location_the_message_already_names() -> None:
    import datetime as dt

    from review_calendar.domain.programmes import find_instance, load_programme
    from review_calendar.notify.render import Problem, Rejection, render_rejection

    programme = load_programme("hebei_smart_cluster")
    instance = find_instance(programme, 2025, "contact_list")
    problem = Problem(
        "联系人名单", 3, "手机", "第3行“手机”列的值“1381234567”不是11位手机号码，请填写以1开头的11位数字。"
    )
    rejection = Rejection(file_name="a.xlsx", received_on=dt.date(2025, 3, 20), problems=(problem,), total=1)

    body = render_rejection(
        programme, instance, rejection, region_name="保定市", as_of=dt.date(2025, 3, 21)
    ).body

    assert "1. 工作表“联系人名单”：第3行“手机”列的值" in body
    assert body.count("第3行") == 1
