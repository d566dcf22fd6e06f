"""Facts only the province or MIIT knows, as a person records them.

A county cannot report that the provincial expert group visited it, that the
province held its half-year observation meeting, or what MIIT decided on the
province's recommendation: someone who knows records it, once, with who and
when. This module checks one such fact and names it by a natural key, so
recording it again updates it instead of adding a second one. Kinds:

- ``visit``: the expert group counselled a base or cultivation target on a day
  (豫工信办〔2012〕7号 三（二）: 至少每季度一次);
- ``meeting``: the half-year observation meeting of a half-year was held (on a
  day within that half-year) or not held (三（二）: 每半年组织一次观摩会);
- ``miit_decision``: MIIT's decision on a cluster for a year, with its 文号;
- ``recognition``: a recognition decided outside our records (a firm recognised
  as a pilot, demonstration firm or platform; a base recognised);
- ``re_review``: the province's re-review result of a recognised base
  (三（一）: 复核, passed or failed);
- ``extension_request``: a county's request for more time (延期申请) for one
  obligation instance: the region (subject), the obligation and period, the date
  asked for and the reason. It becomes a proposal for a reviewer
  (:mod:`review_calendar.decide.extensions`); another date is another request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

KINDS = ("visit", "meeting", "miit_decision", "recognition", "re_review", "extension_request")
MEETING_OUTCOMES = ("held", "not_held")
MIIT_DECISIONS = ("recognise", "extend", "revoke_recognition", "keep")
RE_REVIEW_RESULTS = ("passed", "failed")
HALF_YEARS = {"H1": (1, 6), "H2": (7, 12)}


class FactError(ValueError):
    """A recorded fact is incomplete or contradicts itself; the message says what to correct, in Chinese."""


@dataclass(frozen=True, slots=True)
class Fact:
    """One fact to record (see the module docstring for the kinds)."""

    programme_id: str
    kind: str
    cycle_year: int | None = None
    period: str = ""
    subject: str = ""
    on_date: dt.date | None = None
    outcome: str = ""
    reference: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def quarter_of(day: dt.date) -> str:
    """The quarter (``Q1``..``Q4``) a day falls in."""
    return f"Q{(day.month - 1) // 3 + 1}"


def quarter_bounds(year: int, period: str) -> tuple[dt.date, dt.date]:
    """First and last day of quarter ``period`` (``Q1``..``Q4``) of ``year``."""
    q = int(period[1])
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return start, end - dt.timedelta(days=1)


def _need(value: Any, what: str) -> None:
    if value in (None, ""):
        raise FactError(f"请填写{what}")


def _choice(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise FactError(f"{what}“{value}”无效，可选：{'、'.join(allowed)}")


def checked(fact: Fact) -> Fact:
    """The fact completed (year and period from its date where they follow) and checked.

    Raises:
        FactError: A required value is missing, a choice is unknown, or a meeting's
            date is outside its half-year (a meeting is never moved into the next one).
    """
    _choice(fact.kind, KINDS, "事实类型")
    year, period = fact.cycle_year, fact.period
    if fact.kind == "visit":
        _need(fact.subject, "被辅导的基地或培育对象")
        _need(fact.on_date, "辅导日期")
        _need(fact.details.get("expert"), "辅导专家")
        year, period = fact.on_date.year, quarter_of(fact.on_date)
    elif fact.kind == "meeting":
        _need(year, "年度")
        _choice(period, tuple(HALF_YEARS), "半年")
        _choice(fact.outcome, MEETING_OUTCOMES, "是否召开")
        if fact.outcome == "held":
            _need(fact.on_date, "观摩会召开日期")
            first, last = HALF_YEARS[period]
            if not (fact.on_date.year == year and first <= fact.on_date.month <= last):
                raise FactError(
                    f"观摩会日期 {fact.on_date} 不在 {year} 年{'上' if period == 'H1' else '下'}半年内"
                )
    elif fact.kind == "miit_decision":
        _need(fact.subject, "集群")
        _need(year, "年度")
        _choice(fact.outcome, MIIT_DECISIONS, "工业和信息化部决定")
        _need(fact.reference, "决定文号")
    elif fact.kind == "recognition":
        _need(fact.subject, "被认定的企业、平台或基地")
        _need(fact.outcome, "认定类别")
        _need(fact.on_date, "认定日期")
        year = year or fact.on_date.year
    elif fact.kind == "re_review":
        _need(fact.subject, "复核的示范基地")
        _need(year, "年度")
        _choice(fact.outcome, RE_REVIEW_RESULTS, "复核结果")
    elif fact.kind == "extension_request":
        _need(fact.subject, "申请延期的地区（行政区划代码）")
        _need(year, "年度")
        _need(fact.details.get("obligation"), "申请延期的报送事项")
        _need(fact.on_date, "申请延至的日期")
        _need(fact.details.get("reason"), "延期理由")
        period = period or "Y"
    return Fact(fact.programme_id, fact.kind, year, period, fact.subject, fact.on_date, fact.outcome,
                fact.reference, dict(fact.details))  # fmt: skip


def natural_key(fact: Fact) -> str:
    """What makes two records the same fact: a base's visit on a day, a half-year's meeting,
    MIIT's decision on a cluster in a year, a subject's recognition in a category, a base's re-review in a year.
    """
    if fact.kind == "visit":
        return f"{fact.subject}/{fact.on_date}"
    if fact.kind == "meeting":
        return f"{fact.cycle_year}/{fact.period}"
    if fact.kind == "recognition":
        return f"{fact.subject}/{fact.outcome}"
    if fact.kind == "extension_request":
        return (
            f"{fact.details.get('obligation')}/{fact.period}/{fact.subject}/{fact.cycle_year}/{fact.on_date}"
        )
    return f"{fact.subject}/{fact.cycle_year}"
