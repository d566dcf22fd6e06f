"""The one Chinese vocabulary shown to people: levels, periods, states, kinds and outcomes.

Every page, report, e-mail and DAG document takes its labels from here, so one
thing is never called two names. Only the standard library is imported: DAG files
may import this module at parse time.

Outcome labels use the documents' own words:
- Programme A (冀工信产业〔2016〕93号 五): 取消建设试点资格 and 追回补贴资金;
- Programme B (工信部企业〔2022〕119号 第十七条): 撤销认定, which is MIIT's decision.
"""

from __future__ import annotations

#: Administrative levels and roles in the submission route.
LEVELS: dict[str, str] = {
    "county": "县（市、区）",
    "city": "市工业和信息化局",
    "province": "省级主管部门",
    "evaluator": "第三方评估机构",
    "ministry": "工业和信息化部",
    "firm": "企业",
}

#: Roles of Airflow users (SimpleAuthManager), as the reviewers' pages name them.
ROLES: dict[str, str] = {"admin": "管理员", "op": "运维", "user": "用户", "viewer": "审阅（只读）"}

#: Reporting periods of an obligation instance (``Y`` is the whole cycle year).
PERIODS: dict[str, str] = {
    "Y": "全年",
    "H1": "上半年",
    "H2": "下半年",
    "Q1": "第一季度",
    "Q2": "第二季度",
    "Q3": "第三季度",
    "Q4": "第四季度",
}

#: Submission states of a region for an obligation instance (see ``aggregate.states``).
SUBMISSION_STATES: dict[str, str] = {
    "on_time": "按时提交",
    "on_time_corrected": "按时提交（已更正）",
    "late": "逾期提交",
    "rejected": "已退回",
    "missing": "未提交",
    "open": "待提交",
    "not_due": "未到期",
    "not_applicable": "无需报送",
}

#: What each state means, for legends.
SUBMISSION_STATE_HINTS: dict[str, str] = {
    "on_time": "截止日（含顺延）前收到可受理的文件",
    "on_time_corrected": "截止日前已按时提交，之后按要求报送了更正文件",
    "late": "截止日之后才收到可受理的文件",
    "rejected": "报送的文件未通过校验被退回，尚无受理的文件",
    "missing": "报送窗口已关闭，截止日前未收到可受理的文件",
    "open": "报送窗口已开启，尚未收到可受理的文件",
    "not_due": "报送窗口尚未开启",
    "not_applicable": "该地区本期无需报送",
}

#: Window phases of an obligation instance.
PHASES: dict[str, str] = {"closed": "已截止", "open": "报送中", "upcoming": "未开始"}

#: Kinds of recorded decisions.
DECISION_KINDS: dict[str, str] = {
    "acceptance": "受理",
    "gate": "数据质量闸门",
    "evaluation": "年度绩效评价",
    "re_review": "期满复核",
    "clawback": "追回补贴资金",
    "subsidy": "补贴",
    "bulletin": "季度通报",
}

#: Outcomes of decisions, in the documents' words where the documents name them.
OUTCOMES: dict[str, str] = {
    "continue": "继续支持",
    "rectify": "限期整改",
    "revoke": "取消建设试点资格",
    "revoke_recognition": "撤销认定",
    "extend": "复核通过，有效期延长3年",
    "missing": "未收到材料",
    "pass": "通过",
    "fail": "未通过",
    "passed": "通过",
    "failed": "未通过",
    "accepted": "受理",
    "rejected": "退回",
    "granted": "给予补贴",
    "refused": "不予补贴",
    "clawback": "追回补贴资金",
}

#: Whether a recognition criterion or a stage target is met (``unknown``: not reported).
CRITERION_RESULTS: dict[str, str] = {
    "met": "达标",
    "not_met": "未达标",
    "unknown": "无法判断",
    "not_reported": "未报送",
}

#: Kinds of outgoing messages.
MESSAGE_KINDS: dict[str, str] = {
    "notice": "报送通知",
    "reminder": "催报提醒",
    "rejection": "退回通知",
    "decision": "结果通知",
    "gap_report": "联系人缺失报告",
}


#: Severities of a data-quality finding.
SEVERITIES: dict[str, str] = {"critical": "严重", "warning": "警告"}

#: Kinds of numeric values a template column takes, as messages name them.
VALUE_KINDS: dict[str, str] = {"number": "数值", "int": "整数", "percent": "百分比", "year": "年份"}

#: Marks a value that no document sets but the province configures (e.g. the bounds of a numeric column).
CONFIGURED = "配置"


def label(vocabulary: dict[str, str], code: str | None) -> str:
    """The Chinese label of ``code`` in ``vocabulary``; an unknown code is returned as it is.

    Args:
        vocabulary: One of the dictionaries of this module.
        code: The code (``on_time``, ``Q1``...); None gives an empty string.
    """
    if code is None:
        return ""
    return vocabulary.get(code, code)


def period_label(period: str) -> str:
    """``Q1`` → 第一季度; the whole year (``Y``) gives an empty string, as titles omit it."""
    return "" if period == "Y" else PERIODS.get(period, period)
