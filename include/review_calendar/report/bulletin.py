"""Publishing Programme C's quarterly bulletin (通报): an HTML page and an Excel workbook.

The bulletin commends the best bases and cultivation targets of the quarter
(豫工信办〔2012〕7号 三（五）三), lists the ranking by the configured
indicators, the bases and targets without a counselling visit recorded by the
province in the quarter, and whether the half-year's observation meeting was
held. Both files go to the reports folder beside the quarter's other reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.styles import Font

from review_calendar.decide.henan import CLAUSE_BULLETIN, CLAUSE_MEETING, CLAUSE_RE_REVIEW, CLAUSE_VISITS
from review_calendar.domain.labels import CONFIGURED, MEETING_STATES, PERIODS
from review_calendar.report.pages import page_environment
from review_calendar.report.workbook import neutralise

if TYPE_CHECKING:
    from pathlib import Path

    from review_calendar.decide.bulletin import Bulletin
    from review_calendar.domain.programmes import ObligationInstance, Programme

#: Column headers of the indicators a bulletin may rank by.
INDICATOR_HEADERS = {"output_yi": "季度产值(亿元)", "investment_wan": "完成投资(万元)"}


def bulletin_paths(out_dir: Path, instance: ObligationInstance) -> dict[str, Path]:
    """Where the bulletin of ``instance`` goes: ``{"html": ..., "xlsx": ...}``."""
    folder = out_dir / instance.programme_id / str(instance.cycle_year)
    stem = f"bulletin_{instance.period}"
    return {"html": folder / f"{stem}.html", "xlsx": folder / f"{stem}.xlsx"}


def bulletin_title(programme: Programme, instance: ObligationInstance) -> str:
    """``河南省新型工业化产业示范基地2025年第三季度创建工作通报``."""
    return f"{programme.name}{instance.cycle_year}年{PERIODS[instance.period]}创建工作通报"


def _context(programme: Programme, instance: ObligationInstance, bulletin: Bulletin) -> dict[str, Any]:
    indicators = [(k, INDICATOR_HEADERS.get(k, k)) for k in programme.bulletin_indicators]
    return {
        "title": bulletin_title(programme, instance),
        "programme": programme,
        "indicators": indicators,
        "ranking": bulletin.ranking,
        "commended": [r for r in bulletin.ranking if r["commended"]],
        "commend_top": programme.bulletin_commend_top,
        "configured": CONFIGURED,
        "without_visit": bulletin.without_visit,
        "visits": bulletin.visits,
        "meeting": bulletin.meeting,
        "meeting_state": MEETING_STATES[bulletin.meeting["state"]],
        "half": PERIODS[bulletin.meeting["period"]],
        "re_reviews": bulletin.re_reviews,
        "clauses": {
            "bulletin": CLAUSE_BULLETIN,
            "visits": CLAUSE_VISITS,
            "meeting": CLAUSE_MEETING,
            "re_review": CLAUSE_RE_REVIEW,
        },
    }


def _sheet(wb: Workbook, title: str, headers: list[str], rows: list[list[Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([neutralise(v) for v in row])


def write_bulletin(
    out_dir: Path, programme: Programme, instance: ObligationInstance, bulletin: Bulletin
) -> dict[str, str]:
    """Write the quarter's bulletin as HTML and Excel.

    Returns:
        ``{"html": path, "xlsx": path}``.
    """
    paths = bulletin_paths(out_dir, instance)
    paths["html"].parent.mkdir(parents=True, exist_ok=True)
    context = _context(programme, instance, bulletin)
    html = page_environment().get_template("bulletin.html.j2").render(**context)
    paths["html"].write_text(html, encoding="utf-8")
    wb = Workbook()
    wb.remove(wb.active)
    keys = [k for k, _ in context["indicators"]]
    _sheet(wb, "通报排名", ["名次", "基地", "所在地区", *[h for _, h in context["indicators"]], "通报表彰", "本季度专家辅导"],
           [[r["rank"], r.get("base_name") or r["base"], r["region_code"], *[r.get(k) for k in keys],
             "是" if r["commended"] else "", "无记录" if r["no_counselling_visit"] else "有"] for r in bulletin.ranking])  # fmt: skip
    _sheet(wb, "专家辅导", ["基地或培育对象", "辅导日期", "专家", "记录人"],
           [[v["name"], v["on_date"], v["expert"], v["recorded_by"]] for v in bulletin.visits]
           + [[w["name"], "", "", "本季度无辅导记录"] for w in bulletin.without_visit])  # fmt: skip
    _sheet(
        wb,
        "观摩会",
        ["半年", "状态", "召开日期", "记录人"],
        [
            [
                context["half"],
                context["meeting_state"],
                bulletin.meeting["on_date"],
                bulletin.meeting["recorded_by"],
            ]
        ],
    )
    wb.save(paths["xlsx"])
    return {k: str(v) for k, v in paths.items()}
