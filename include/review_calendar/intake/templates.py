"""The official Excel template of each dataset, written with openpyxl.

A template is the contract with the counties: a data sheet with a title row,
a line with the deadline, one bold header row (required columns marked
``*``), column formats that keep codes and phone numbers as text, drop-down
lists for choices, and a 填表说明 sheet that explains every column. A filled
template reads back through ``read_table``/``validate_rows`` without issues
(``tests/unit/test_intake_templates.py``). :func:`template_for` gives the one
template file of an obligation instance that notices and reminders attach.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from review_calendar.domain.labels import CONFIGURED, period_label
from review_calendar.intake.columns import NUMBER_CEILING, show_value
from review_calendar.intake.datasets import TEMPLATE_DATASETS, template_datasets
from review_calendar.intake.identity import template_properties
from review_calendar.intake.table import INSTRUCTION_SHEET

if TYPE_CHECKING:
    from pathlib import Path

    from openpyxl.worksheet.worksheet import Worksheet

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.intake.columns import Column
    from review_calendar.intake.spec import Dataset

__all__ = [
    "DATA_FIRST_ROW",
    "HEADER_ROW",
    "KIND_HELP",
    "TEMPLATE_DATASETS",
    "bounds_text",
    "example_value",
    "header_label",
    "template_datasets",
    "template_for",
    "template_name",
    "write_template",
]

log = logging.getLogger(__name__)

HEADER_ROW = 3
DATA_FIRST_ROW = HEADER_ROW + 1
# Drop-downs and formats cover this many rows; officials rarely need more,
# and Excel extends them when rows are inserted inside the range.
_FORMATTED_ROWS = 1000

# Kind → (what it is, format rule, generic example, Excel number format).
KIND_HELP: dict[str, tuple[str, str, str, str]] = {
    "text": ("文字", "直接填写文字，不要使用公式。", "（按实际填写）", "@"),
    "code": ("编号", "字母、数字和“-”，不含空格和汉字。", "HB-001", "@"),
    "region_code": ("行政区划代码", "6位数字，如石家庄市130100、安平县131125。", "130100", "@"),
    "date": ("日期", "年-月-日，如2025-03-31，也可写2025年3月31日。", "2025-03-31", "yyyy-mm-dd"),
    "number": (
        "数字",
        "只填阿拉伯数字，可带小数和千分位逗号，不带单位（单位见表头）。",
        "1,234.5",
        "#,##0.00",
    ),
    "percent": ("百分比", "带百分号填写，如75%；也可填0.75。", "75%", "0.00%"),
    "phone": (
        "办公电话",
        "区号-号码，可带分机号，如0311-87803218或0311-87803218-123。",
        "0311-87803218",
        "@",
    ),
    "mobile": ("手机号码", "11位数字，以1开头。", "13812345678", "@"),
    "email": ("电子邮箱", "如name@example.gov.cn。", "name@example.gov.cn", "@"),
    "choice": ("下拉选择", "从下拉列表中选择。", "", "@"),
    "year": ("年份", "4位数字年份，如2025。", "2025", "0"),
    "int": ("整数", "只填整数，不带单位。", "12", "0"),
}

_WIDTHS = {
    "text": 28,
    "code": 16,
    "region_code": 14,
    "date": 14,
    "number": 16,
    "percent": 14,
    "phone": 20,
    "mobile": 16,
    "email": 28,
    "choice": 16,
    "year": 10,
    "int": 12,
}
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQUIRED_FONT = Font(bold=True, color="C00000")


def header_label(column: Column) -> str:
    """The header text in the template: the Chinese header, ``*`` when required.

    The reader strips the marker again, so either form is accepted back.
    """
    return f"{column.header}*" if column.required else column.header


def example_value(column: Column) -> str:
    """A valid example value of a column, as shown in the 填表说明 sheet.

    Args:
        column: A dataset column.

    Returns:
        The column's own example, else the first choice, else the kind's example.
    """
    if column.example:
        return column.example
    if column.kind == "choice" and column.choices:
        return column.choices[0]
    return KIND_HELP[column.kind][2]


def bounds_text(column: Column) -> str:
    """The bounds of a numeric column as the 填表说明 states them ("" for other kinds).

    Hard bounds reject a value; the usual range only asks for a check. Both
    are the province's configuration (labelled 配置), except a share's
    0%～100%, which is what a share is.
    """
    if column.kind not in ("number", "int", "percent"):
        return ""
    low, high = column.bounds
    if column.kind in ("number", "int") and high is None:
        high = NUMBER_CEILING
    share = column.kind == "percent" and (low, high) == (0.0, 1.0)
    label = "取值范围" if share else f"取值范围（{CONFIGURED}）"
    text = f"{label}：{show_value(column, low or 0.0)}～{show_value(column, high or 0.0)}"
    if column.usual is not None:
        usual_low, usual_high = column.usual
        parts = []
        if usual_low is not None:
            parts.append(f"低于{show_value(column, usual_low)}")
        if usual_high is not None:
            parts.append(f"超过{show_value(column, usual_high)}")
        text += f"；{'或'.join(parts)}时提示审核人员核对（{CONFIGURED}）"
    return text + "。"


# Templates that carry more than one dataset: the implementation plan's
# project list travels with the development plan in one workbook
# (冀工信产业〔2016〕93号 二、三: 规划 + 实施方案).
#: What a template of an ad-hoc report says instead of a deadline.
AD_HOC_DUE = "随时报送（无固定截止日期）"


def due_text(instance: ObligationInstance) -> str:
    """What a template says of the instance's deadline: the date, its basis and whether it moved.

    An ad-hoc obligation has none (:data:`AD_HOC_DUE`); a dated one says 法定截止日期 or
    配置日期 (``domain.labels.due_label``), and that the date already moved past a
    weekend or holiday, or that it would.
    """
    if instance.kind == "ad_hoc":
        return AD_HOC_DUE
    due = instance.effective_due
    moved = (
        "已按周末和法定节假日顺延"
        if due != instance.statutory_due
        else "遇周末或法定节假日顺延至下一个工作日"
    )
    return f"{due.year}年{due.month}月{due.day}日（{instance.due_label}，{moved}）"


def write_template(
    dataset_id: str,
    out: Path,
    *,
    programme_title: str,
    obligation_title: str,
    due: str,
    instance: ObligationInstance | None = None,
) -> Path:
    """Write the official .xlsx template of one dataset (with its companion sheets).

    Args:
        dataset_id: A key of ``DATASETS``.
        out: Where to write; parent folders are created.
        programme_title: Programme name for the title row (e.g. 河北省智慧集群建设试点).
        obligation_title: The obligation (e.g. 上半年试点建设进展情况).
        due: The deadline as officials should read it (e.g. ``2025年7月15日``).
        instance: The obligation instance the template is for: its programme,
            obligation, cycle year and period go into the workbook's custom
            document properties (:mod:`~review_calendar.intake.identity`), so
            the filled file still says what it is when forwarded or renamed.

    Returns:
        ``out``.

    Raises:
        KeyError: Unknown dataset.
    """
    datasets = template_datasets(dataset_id)
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    for index, dataset in enumerate(datasets):
        sheet = first if index == 0 else workbook.create_sheet(dataset.sheet)
        sheet.title = dataset.sheet
        _data_sheet(sheet, dataset, programme_title, obligation_title, due)
    _instructions(workbook.create_sheet(INSTRUCTION_SHEET), datasets, programme_title, obligation_title, due)
    if instance is not None:
        for name, value in template_properties(instance).items():
            workbook.custom_doc_props.append(StringProperty(name=name, value=value))
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(out)
    log.info("templates: wrote %s template to %s", dataset_id, out.name)
    return out


def template_name(instance: ObligationInstance) -> str:
    """The file name of an instance's template, as officials receive it attached to notices.

    Args:
        instance: The obligation instance.

    Returns:
        ``<obligation title>报送模板.xlsx``, with the period in Chinese for
        periodic obligations: ``河南季度报送（第一季度）报送模板.xlsx``.
    """
    period = period_label(instance.period)
    return f"{instance.title}（{period}）报送模板.xlsx" if period else f"{instance.title}报送模板.xlsx"


def template_for(programme: Programme, instance: ObligationInstance, folder: Path) -> Path | None:
    """The official template of an instance, written once under ``folder`` and reused.

    The one attachment of notices and reminders, whether the DAG or the CLI
    plans them.

    Args:
        programme: The programme.
        instance: The obligation instance.
        folder: Where templates are kept (``<home>/templates``).

    Returns:
        ``folder/<programme>/<year>/<template_name(instance)>``, or None when
        the obligation has no template (nothing is submitted) or its dataset
        is unknown (logged; notices then go without attachment).
    """
    template = programme.obligation(instance.obligation_id).template
    if not template:
        return None
    path = folder / programme.id / str(instance.cycle_year) / template_name(instance)
    if path.exists():
        return path
    try:
        return write_template(
            template,
            path,
            programme_title=programme.name,
            obligation_title=instance.title,
            due=due_text(instance),
            instance=instance,
        )
    except KeyError:
        log.warning("No template for dataset %s: %s notices go without attachment", template, instance.key)
        return None


def _data_sheet(
    sheet: Worksheet, dataset: Dataset, programme_title: str, obligation_title: str, due: str
) -> None:
    """The data sheet: title, deadline line, header, column formats and drop-downs."""
    width = len(dataset.columns)
    last = get_column_letter(width)
    sheet["A1"] = f"{programme_title}——{obligation_title}（{dataset.title}）"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center")
    sheet.merge_cells(f"A1:{last}1")
    sheet.row_dimensions[1].height = 28
    sheet["A2"] = (
        f"{'报送时间' if due == AD_HOC_DUE else '报送截止时间'}：{due}。带“*”的列为必填项；请勿修改工作表名称、表头和列顺序，不要合并单元格，不要使用公式；"
        f"从第{DATA_FIRST_ROW}行起每行填写一条。填写要求见“{INSTRUCTION_SHEET}”工作表。"
    )
    sheet["A2"].alignment = Alignment(wrap_text=True, vertical="center")
    sheet.merge_cells(f"A2:{last}2")
    sheet.row_dimensions[2].height = 36
    for index, column in enumerate(dataset.columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=HEADER_ROW, column=index, value=header_label(column))
        cell.font = _REQUIRED_FONT if column.required else Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[letter].width = max(_WIDTHS[column.kind], min(len(column.header) * 2 + 4, 40))
        # Column style, not per-cell styles: keeps the file small and makes
        # Excel keep 0311-… phones and 130100 codes as text as they are typed.
        sheet.column_dimensions[letter].number_format = KIND_HELP[column.kind][3]
        if column.kind == "choice":
            validation = DataValidation(
                type="list",
                formula1='"' + ",".join(column.choices) + '"',
                allow_blank=not column.required,
                showErrorMessage=True,
                errorTitle="输入有误",
                error=f"请从下拉列表中选择：{'、'.join(column.choices)}",
                promptTitle=column.header,
                prompt=f"请选择：{'、'.join(column.choices)}",
                showInputMessage=True,
            )
            validation.add(f"{letter}{DATA_FIRST_ROW}:{letter}{DATA_FIRST_ROW + _FORMATTED_ROWS - 1}")
            sheet.add_data_validation(validation)
    sheet.row_dimensions[HEADER_ROW].height = 32
    sheet.freeze_panes = f"A{DATA_FIRST_ROW}"


def _instructions(
    sheet: Worksheet, datasets: tuple[Dataset, ...], programme_title: str, obligation_title: str, due: str
) -> None:
    """The 填表说明 sheet: general rules, then every column of every data sheet."""
    sheet["A1"] = f"{INSTRUCTION_SHEET}：{programme_title}——{obligation_title}"
    sheet["A1"].font = Font(bold=True, size=14)
    sheets = "、".join(f"“{d.sheet}”" for d in datasets)
    lines = [
        f"1. 报送截止时间：{due}。" if due != AD_HOC_DUE else f"1. 报送时间：{due}，事项发生后及时报送。",
        f"2. 请在{sheets}工作表中从第{DATA_FIRST_ROW}行起逐行填写，每行一条；"
        "不要修改工作表名称、表头文字和列顺序，不要插入列、合并单元格或使用公式。",
        "3. 带“*”的列为必填项；数字列只填数字，计量单位以表头括号内为准；百分比请带“%”填写。",
        "4. 请保存为.xlsx格式提交（.xls、.ods也可接收），不要设置打开密码；"
        "只有一个数据工作表的，也可另存为“CSV UTF-8（逗号分隔）”。",
        "5. 表格下方可注明填表人，但请勿在数据行之间插入说明文字。",
        "6. 本模板的文件属性中记有所属专项、报送事项、年度和期次，请在本模板上填写，不要复制到其他文件；"
        "另存为CSV会丢失这些信息，须放在对应的报送目录中报送。",
    ]
    for offset, line in enumerate(lines, start=2):
        sheet.cell(row=offset, column=1, value=line)
    top = len(lines) + 3
    for dataset in datasets:
        sheet.cell(row=top, column=1, value=f"“{dataset.sheet}”工作表：{dataset.title}").font = Font(
            bold=True
        )
        top += 1
        for index, title in enumerate(("列名", "是否必填", "填写内容", "格式要求", "示例"), start=1):
            cell = sheet.cell(row=top, column=index, value=title)
            cell.font = Font(bold=True)
            cell.fill = _HEADER_FILL
            cell.border = _BORDER
        for column in dataset.columns:
            top += 1
            kind_name, rule, _, _ = KIND_HELP[column.kind]
            if column.kind == "choice":
                rule = f"从下拉列表中选择：{'、'.join(column.choices)}。"
            rule += bounds_text(column)
            values = (
                column.header,
                "必填" if column.required else "选填",
                column.note or kind_name,
                rule,
                example_value(column),
            )
            for index, value in enumerate(values, start=1):
                cell = sheet.cell(row=top, column=index, value=value)
                cell.border = _BORDER
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                # Examples are text: "0311-87803218" or "75%" must not become numbers.
                cell.number_format = "@"
        top += 2
    for letter, width in zip("ABCDE", (30, 10, 40, 44, 24), strict=True):
        sheet.column_dimensions[letter].width = width
