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

#: Roles of Airflow users (FAB's Admin/Op/User/Viewer and the project's Reviewer), as the reviewers' pages name them.
ROLES: dict[str, str] = {
    "admin": "管理员",
    "op": "运维",
    "user": "用户",
    "viewer": "审阅（只读）",
    "reviewer": "审定人",
}

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
    "awaiting_approval": "待补批复",
    "returned": "退回修改",
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
    "awaiting_approval": "规划已收到，尚缺县（市）政府批复文号、批准日期或批复文件，补齐前不计为已报送",
    "returned": "文件已受理，审阅人退回修改，待在新的截止日期前报送修改后的文件",
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
    "article17": "第十七条情形建议",
    "recognition": "认定建议",
    "enrolment": "认定登记",
    "base_re_review": "示范基地复核",
    "rectification_report": "整改报告跟踪",
    "submission_review": "报送材料审阅",
    "extension": "延期申请",
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
    "stop_support": "不再继续支持",
    "monitored": "监测结果已记录，随年度情况报工业和信息化部",
    "recommend_pass": "建议复核通过（报工业和信息化部决定）",
    "recommend_revoke": "建议撤销认定（报工业和信息化部决定）",
    "undeterminable": "暂无法判定，待审阅人核实",
    "propose_report": "拟报工业和信息化部（第十七条情形）",
    "propose_recognition": "符合申报条件，建议提交评审",
    "not_eligible": "不符合申报条件",
    "undetermined": "无法判断，待人工核实",
    "recognised": "已认定",
    "propose_revoke_title": "建议取消示范基地称号（待审核）",
    "keep_title": "复核通过，保留示范基地称号",
    "awaiting_re_review": "尚未记录复核结果",
    "commended": "通报表彰",
    "not_commended": "照常通报（本期无表彰对象）",
    "no_report": "不报工业和信息化部",
    "revoke_title": "取消示范基地称号",
    "rectification_open": "限期报送整改报告",
    "submission_accepted": "受理并通过审阅",
    "submission_returned": "退回修改",
    "extension_granted": "同意延期",
    "extension_refused": "不同意延期",
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
    "deadline_moved": "截止日期调整通知",
    "bulletin": "季度通报",
    "escalation": "待审定事项督办",
    "returned": "退回修改通知",
    "extension": "延期申请答复",
    "inbox_alert": "收件箱未归位文件提醒",
    "receipt": "受理回执",
    "mail_reply": "邮件报送答复",
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


#: What a due date rests on: a date the source document states, or provincial configuration.
DUE_BASES: dict[str, str] = {"statutory": "法定截止日期", "configured": "配置日期"}

#: What each basis means, for tooltips and legends.
DUE_BASIS_HINTS: dict[str, str] = {
    "statutory": "依据文件规定的截止日期",
    "configured": "依据文件未规定日期，此日期为本省配置",
}

#: How often an obligation recurs (``recurrence`` of a programme file).
RECURRENCES: dict[str, str] = {
    "yearly": "每年",
    "plan_period": "试点首个年度及规划期届满后",
    "ad_hoc": "随时报送（无固定日期）",
}

#: Kinds of obligations.
OBLIGATION_KINDS: dict[str, str] = {
    "submission": "报送",
    "evaluation": "评价",
    "re_review": "复核",
    "bulletin": "通报",
    "meeting": "会议",
    "ad_hoc": "随时报送",
}


def due_basis(due_is_configured: bool) -> str:
    """``configured`` for a date the seeds do not state, else ``statutory`` (a key of :data:`DUE_BASES`)."""
    return "configured" if due_is_configured else "statutory"


def due_label(due_is_configured: bool) -> str:
    """The one label of a due date in every e-mail, report and page: 配置日期 or 法定截止日期."""
    return DUE_BASES[due_basis(due_is_configured)]


def due_hint(due_is_configured: bool) -> str:
    """What :func:`due_label` means, in a sentence (shown when a reviewer taps the label)."""
    return DUE_BASIS_HINTS[due_basis(due_is_configured)]


#: Why a yearly duty is marked 配置: the document asks for it once, the province every year.
RECURRENCE_CONFIGURED_HINT = "依据文件为一次性要求，每年报送为本省配置"


def recurrence_label(recurrence: str, is_configured: bool = False) -> str:
    """``每年`` for a document's yearly duty, ``每年（配置）`` when the recurrence is the province's choice."""
    text = RECURRENCES.get(recurrence, recurrence)
    return f"{text}（{CONFIGURED}）" if is_configured else text


#: States of a recorded decision: proposals wait for a reviewer, recommendations for the ministry.
DECISION_STATES: dict[str, str] = {
    "decided": "已决定",
    "proposed": "待审定",
    "for_report": "供报送参考",
    "approved": "已审定",
    "changed": "已改定",
    "returned": "已退回",
    "awaiting_ministry": "已报工业和信息化部，待部里决定",
    "ministry_decided": "工业和信息化部已决定",
}

#: The basis of a rule no source document states: the province configured it.
CONFIGURED_RULE = "省级配置规则"


#: Kinds of facts the province records (``domain.facts``).
FACT_KINDS: dict[str, str] = {
    "visit": "专家辅导",
    "meeting": "观摩会",
    "miit_decision": "工业和信息化部决定",
    "recognition": "认定",
    "re_review": "示范基地复核",
    "extension_request": "延期申请",
}

#: Whether a half-year observation meeting was held (``not_recorded``: nobody has said yet).
MEETING_STATES: dict[str, str] = {"held": "已召开", "not_held": "未召开", "not_recorded": "尚未记录"}

#: MIIT's decisions on a cluster, as its documents name them.
MIIT_DECISIONS: dict[str, str] = {
    "recognise": "认定",
    "extend": "复核通过，有效期延长3年",
    "revoke_recognition": "撤销认定",
    "keep": "维持认定",
}


#: Kinds of documents sent with a submission.
ATTACHMENT_KINDS: dict[str, str] = {"approval": "批复文件", "plan": "规划文本"}

#: What became of a document sent with a submission.
ATTACHMENT_STATUSES: dict[str, str] = {"kept": "已保存", "rejected": "未保存（已隔离）"}


#: The figures a proposal shows its reviewer (Required Action body), in Chinese; other keys are shown as they are.
FIGURE_LABELS: dict[str, str] = {
    "score": "评价得分",
    "violation": "项目建设或资金使用存在违规",
    "clawback_wan_yuan": "拟追回补贴资金（万元）",
    "granted_wan_yuan": "已拨付补贴（万元）",
    "applied": "已申请复核",
    "min_target_completion": "目标任务完成率要求",
    "targets_total": "目标任务数",
    "targets_completed": "已完成目标任务数",
    "criteria": "各项条件是否达到",
    "criteria_values": "各项指标数值",
    "annual_table_on_time": "年度信息表按时报送",
    "valid_until": "认定有效期至",
    "new_valid_until": "延长后有效期至",
    "conditions": "第十七条情形",
    "evidence": "依据的记录",
    "eligible_wan_yuan": "可奖补的设备和软件投资（万元）",
    "claimed_wan_yuan": "申请奖补（万元）",
    "amount_wan_yuan": "核定奖补（万元）",
    "category": "类别",
    "commended_names": "拟通报表彰",
    "title": "标题",
    "cluster_name": "集群名称",
    "new_due": "新的截止日期",
    "continue_min_score": "继续支持最低分",
    "rectify_min_score": "限期整改最低分",
    "rectify_days": "整改期限（天）",
    "result": "复核结果",
    "reference": "文号",
    "opened_on": "起算日期",
    "statutory_due": "规定期限届满日",
    "effective_due": "实际截止日",
    "received_on": "收到日期",
    "errors": "问题数",
    "is_late": "逾期",
    "file_name": "文件名",
    "current_due": "原截止日期",
    "requested_due": "申请延至",
    "request_reason": "申请理由",
    "due": "截止日期",
}

#: A decision's rule in words, by the programme-file setting it applies (``Decision.rule`` after ``.yaml: ``);
#: the longest matching setting wins.
RULE_WORDS: dict[str, str] = {
    "evaluation": "年度绩效评价评分规则",
    "evaluation.continue_min_score": "按评分分档：达到继续支持分数线的继续支持，达到整改分数线的限期整改，低于整改分数线的按配置处理",
    "evaluation.revoke_on_violation": "项目建设或资金使用存在违规的，取消资格并追回已拨付补贴",
    "evaluation.rectify_days": "限期整改的，在整改期限内报送整改报告",
    "re_review": "期满复核：按复核材料和复核结果确定",
    "re_review.annual_table": "第十七条情形：年度信息表未按时报送或核实存在的情形，报工业和信息化部",
    "recognition.criteria": "认定条件：各项申报指标均达到要求的，建议提交评审",
    "subsidy_rules": "补贴规则：按可奖补的设备和软件投资的比例核定，不超过上限",
    "bulletin_indicators": "季度通报：按通报指标排序，名次靠前的通报表彰",
    "review-calendar enrol": "登记已作出的认定决定",
    "obligations": "需审阅内容的报送材料：审阅人审阅后通过，或写明意见和新的截止日期退回修改",
    "recorded_facts.extension_request": "县（市）申请延期：审阅人同意的，该县（市）的截止日期延至同意的日期",
}

#: A decision kind's group on the reviewers' pages, in the order the groups are shown.
DECISION_GROUPS: dict[str, str] = {
    "evaluation": "年度绩效评价",
    "rectification_report": "整改报告跟踪",
    "clawback": "撤销资格与追回补贴",
    "re_review": "期满复核",
    "article17": "第十七条情形建议及工业和信息化部决定",
    "recognition": "认定建议",
    "enrolment": "认定登记",
    "subsidy": "补贴",
    "bulletin": "季度通报",
    "base_re_review": "示范基地复核",
    "extension": "延期申请",
    "submission_review": "报送材料审阅",
}

#: The options of a Required Action, in the words reviewers see, and the answer code each one is
#: (approve the proposal, change its outcome with a reason, return it for more material).
REVIEW_OPTIONS: dict[str, str] = {"批准": "approve", "改变结论": "change", "退回补充材料": "return"}

#: How far a lagging region's reminders have escalated (``notify.stages``): who was copied.
ESCALATIONS: dict[str, str] = {"none": "未升级", "city": "已抄送市局", "province": "已抄送省级处室"}

#: What became of a stored file (``submissions.status``), on a region's page.
FILE_STATUSES: dict[str, str] = {
    "accepted": "已受理",
    "rejected": "未通过校验（已退回）",
    "superseded": "已被更正文件取代",
}

#: Delivery outcome of an outgoing message (``outbox.status``).
DELIVERY_STATUSES: dict[str, str] = {"queued": "待发送", "sent": "已发送", "failed": "发送失败"}

#: Kinds of a region's own due date (``due_changes.kind``).
DUE_CHANGE_KINDS: dict[str, str] = {"extension": "同意延期", "return": "退回修改"}


def stage_label(stage: str) -> str:
    """A message's stage in words: ``before_7`` → 截止前 7 天，``overdue_3`` → 逾期 3 个工作日."""
    head, _, days = stage.rpartition("_")
    if days.isdecimal() and head == "before":
        return f"截止前 {days} 天"
    if days.isdecimal() and head == "overdue":
        return f"逾期 {days} 个工作日"
    return {"due_day": "截止当日", "": ""}.get(stage, "")


#: Names of the data-quality gates (a gate named after an obligation is that obligation's own).
GATES: dict[str, str] = {"provincial": "省级数据质量闸门"}

#: States of an Airflow DAG run, as the re-run panel names them.
RUN_STATES: dict[str, str] = {
    "queued": "排队中",
    "running": "运行中",
    "success": "已成功",
    "failed": "已失败",
}


#: What waits for an operator in the submissions mailbox (``mail_items.status``, ``mail_failures``).
MAIL_WAITING_STATES: dict[str, str] = {
    "held": "待人工核对",
    "quarantined": "已隔离",
    "failed": "连续处理失败",
}

#: What an operator does next about each of them (the command, when there is one, is shown beside).
MAIL_WAITING_ACTIONS: dict[str, str] = {
    "held": "核对附件所属的报送事项和地区后，运行下列命令接收（收到时间仍为邮件到达时间，回执发往发件人的邮件会话）",
    "quarantined": "隔离文件不会被接收：请核对后联系发件人，改用本期下发的模板重新发送",
    "failed": "邮件仍在提交邮箱中，已停止重试并已邮件提醒运维人员；排除原因后运行下列命令，下次接收时重新处理",
}

#: What an SMTP reply code means to a reviewer reading the communication log (the server's own text follows).
SMTP_REPLIES: dict[str, str] = {
    "421": "对方邮件服务器暂时不可用，系统会稍后重试",
    "450": "对方邮箱暂时不可用（可能已满或繁忙），系统会稍后重试",
    "451": "对方邮件服务器处理出错，系统会稍后重试",
    "452": "对方邮件服务器存储空间不足，系统会稍后重试",
    "550": "对方邮箱不存在或拒收",
    "551": "对方邮箱不在该服务器上，请核实邮箱地址",
    "552": "邮件超过对方邮箱的大小限制",
    "553": "邮箱地址格式不被对方服务器接受，请核实邮箱地址",
    "554": "对方服务器拒绝了这封邮件（可能被判为垃圾邮件）",
    "535": "发件邮箱登录失败，请联系运维人员",
}
#: What a sending error without a reply code means (by the error's name).
SMTP_FAILURES: dict[str, str] = {
    "ConnectionRefusedError": "无法连接发件服务器，系统会稍后重试",
    "SMTPServerDisconnected": "发件服务器断开了连接，系统会稍后重试",
    "TimeoutError": "连接发件服务器超时，系统会稍后重试",
    "SMTPAuthenticationError": "发件邮箱登录失败，请联系运维人员",
}

#: Column titles of the aggregate tables for metrics that are not figures of a dataset (a region's
#: name and state, counts stored by earlier versions); a figure's own title comes first.
AGGREGATE_COLUMNS: dict[str, str] = {
    "name": "名称",
    "state": "报送状态",
    "accepted": "已受理（个）",
    "investment_wan_yuan": "投资额（万元）",
}


#: What a provincial gate finding is (``GateFinding.code``, stored as it is in ``gate_runs``), in Chinese.
GATE_FINDINGS: dict[str, str] = {
    "GATE_VALUE_MISSING": "关键字段为空",
    "GATE_FORMAT_INVALID": "格式错误",
    "GATE_CHOICE_INVALID": "不在可选范围内",
    "GATE_TYPE_INVALID": "数据类型错误",
    "GATE_VALUE_OUT_OF_RANGE": "数值超出范围",
    "GATE_SHARE_OUT_OF_RANGE": "比例不在0%～100%之间",
    "GATE_VALUE_IMPLAUSIBLE": "数值明显异常",
    "GATE_VALUE_INCONSISTENT": "同一行数据互相矛盾",
    "GATE_DUPLICATE_ROW": "不同报送之间行重复",
    "GATE_DUPLICATE_SUBMISSION": "同一地区有多份有效报送",
    "GATE_REGION_UNKNOWN": "行政区划代码不存在",
    "GATE_UNEXPECTED_SUBMITTER": "不在应报送名单内",
    "GATE_TOTAL_MISMATCH": "合计数不符",
    "GATE_PROJECTS_MISSING": "缺少项目清单",
    "GATE_PROJECT_OUTSIDE_PERIOD": "项目年度不在规划期内",
    "GATE_CLAIM_EXCEEDS_INVESTMENT": "申请金额超过投资额",
    "GATE_ROLE_MISSING": "缺少联系人角色",
    "GATE_NOT_APPROVED": "规划未经批准",
    "GATE_BELOW_REQUIREMENT": "低于工作要求",
    "GATE_VIOLATION_REPORTED": "报告存在违规",
    "GATE_INCOMPLETE": "报送不完整",
    "GATE_CHECK_ERROR": "检查无法执行",
}

#: What each gate finding means for a reviewer, for the legend of the gate page.
GATE_FINDING_HINTS: dict[str, str] = {
    "GATE_VALUE_MISSING": "汇总必需的字段没有填写，该行无法计入全省汇总",
    "GATE_FORMAT_INVALID": "文号、日期、代码等填写格式不符合要求",
    "GATE_CHOICE_INVALID": "所填内容不是模板列出的选项之一",
    "GATE_TYPE_INVALID": "应填数字的单元格填写了文字或其他内容，无法参与计算",
    "GATE_VALUE_OUT_OF_RANGE": "数值超出本项目规定或本省配置的上下限",
    "GATE_SHARE_OUT_OF_RANGE": "百分比应在0%到100%之间",
    "GATE_VALUE_IMPLAUSIBLE": "数值可能填错（例如单位或小数点），请向报送地区核实",
    "GATE_VALUE_INCONSISTENT": "同一行的几个数值不能同时成立（例如完成数大于计划数、起止年份颠倒）",
    "GATE_DUPLICATE_ROW": "同一条记录出现在多份报送中，汇总会重复计算",
    "GATE_DUPLICATE_SUBMISSION": "同一地区同一期有多份已受理的文件，无法确定以哪一份为准",
    "GATE_REGION_UNKNOWN": "行政区划代码不在本省地区名录中",
    "GATE_UNEXPECTED_SUBMITTER": "报送地区不在本期应报送名单内，请核实是否报错事项或地区",
    "GATE_TOTAL_MISMATCH": "各项目之和与填报的合计数不一致",
    "GATE_PROJECTS_MISSING": "规划填报了总投资，但没有附项目清单",
    "GATE_PROJECT_OUTSIDE_PERIOD": "项目建设年度超出规划期",
    "GATE_CLAIM_EXCEEDS_INVESTMENT": "申请的补贴金额超过了项目投资额",
    "GATE_ROLE_MISSING": "联系人名单缺少主管领导或责任处室负责同志",
    "GATE_NOT_APPROVED": "规划尚未经县（市）政府批准",
    "GATE_BELOW_REQUIREMENT": "指标低于依据文件的工作要求，请审阅人核实",
    "GATE_VIOLATION_REPORTED": "评估机构报告存在违规情况，请审阅人核实后依规处理",
    "GATE_INCOMPLETE": "已受理的报送少于应报送地区，缺报地区见说明",
    "GATE_CHECK_ERROR": "该项检查因数据或配置问题未能执行，需运维人员处理后重新运行",
}

#: How an Airflow run started (the prefix of its run id), as the gate page says it.
RUN_KINDS: dict[str, str] = {
    "scheduled": "按计划运行",
    "manual": "手动运行",
    "asset_triggered": "由上游数据更新触发",
    "backfill": "补跑",
}
