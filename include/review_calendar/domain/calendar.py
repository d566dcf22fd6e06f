"""Working days and due dates in Chinese administrative practice.

A statutory deadline that falls on a weekend or public holiday moves to the
next working day; make-up working days (调休) on weekends count as working
days. Holidays come from chinese-calendar, extended by a configuration table
(``config/holidays.yaml``) because the State Council publishes each year's
arrangement late in the previous year. A year known to neither falls back to
weekends plus the fixed-date holidays of the national holiday rules (元旦 Jan 1,
劳动节 May 1-2, 国庆节 Oct 1-3), with one logged warning per year, and never fails:
2028-04-30, a Sunday, then moves to 2028-05-03.

All dates are calendar dates in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

import chinese_calendar
import yaml

from review_calendar.domain import TIMEZONE
from review_calendar.domain.yaml_text import load_yaml

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

log = logging.getLogger(__name__)

#: The one time zone of every date and time the project shows or computes (Beijing time).
TZ = ZoneInfo(TIMEZONE)

YearSource = Literal["configured", "chinese-calendar", "weekends-only"]

#: Holidays on fixed Gregorian dates (《全国年节及纪念日放假办法》: 元旦, 劳动节, 国庆节), kept in
#: years without a published arrangement. Lunar holidays and 调休 cannot be guessed.
FIXED_HOLIDAYS: tuple[tuple[int, int], ...] = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))


def is_fixed_holiday(day: dt.date) -> bool:
    """Tell whether ``day`` is one of the fixed-date public holidays (Jan 1, May 1-2, Oct 1-3)."""
    return (day.month, day.day) in FIXED_HOLIDAYS


ShiftRule = Literal["next_working_day", "none"]


class HolidayTableError(ValueError):
    """The holiday configuration file is malformed (names file, year and key)."""


@dataclass(frozen=True, slots=True)
class YearArrangement:
    """One year's holidays and make-up working days as published by the State Council."""

    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date] = frozenset()


@dataclass(slots=True)
class WorkingCalendar:
    """Decides working days from a configured table, chinese-calendar, or weekends.

    Attributes:
        configured: Year arrangements from configuration; they take precedence
            over chinese-calendar for their year.
        announced: Effective due dates already announced, by instance key
            (``programme/year/obligation/period``). An arrangement published later
            never brings them earlier (see :meth:`announced_due`).
    """

    configured: Mapping[int, YearArrangement] = field(default_factory=dict)
    announced: dict[str, dt.date] = field(default_factory=dict)
    _warned: set[int] = field(default_factory=set)

    def announce(self, dues: Mapping[str, dt.date]) -> None:
        """Remember announced effective due dates (the later one wins for a key)."""
        for key, day in dues.items():
            self.announced[key] = max(day, self.announced.get(key, day))

    def announced_due(self, key: str, computed: dt.date) -> dt.date:
        """The effective due date of instance ``key``: never earlier than the one announced.

        A make-up working day (调休) published after a deadline was announced does
        not shorten it: 2028-04-30 announced as 2028-05-03 stays 2028-05-03 even if
        the later arrangement makes an earlier day a working day.
        """
        return max(computed, self.announced.get(key, computed))

    @classmethod
    def from_file(cls, path: Path | None) -> WorkingCalendar:
        """Load the extra holiday table; a missing file means no extra years.

        Args:
            path: YAML file ``{year: {holidays: [dates...], workdays: [dates...]}}``.

        Returns:
            A calendar using that table.

        Raises:
            HolidayTableError: The file is not in that shape.
        """
        if path is None or not path.exists():
            return cls()
        return cls(configured=parse_holiday_table(path.read_text(encoding="utf-8"), source=str(path)))

    def source_for(self, year: int) -> YearSource:
        """Say where the working days of ``year`` come from."""
        if year in self.configured:
            return "configured"
        try:
            chinese_calendar.is_workday(dt.date(year, 6, 1))
        except NotImplementedError:
            return "weekends-only"
        return "chinese-calendar"

    def warnings(self, years: Iterable[int]) -> list[str]:
        """Human-readable warnings for years that fall back to weekends and fixed-date holidays.

        Pass only the years a cycle's dates actually fall in (see :func:`years_touched`).
        """
        return [
            f"{y} 年的节假日安排尚未发布或未配置，暂按周末及元旦、劳动节（5月1日至2日）、"
            "国庆节（10月1日至3日）计算，发布后请在 config/holidays.yaml 中补充并重新计算截止日期"
            for y in sorted(set(years))
            if self.source_for(y) == "weekends-only"
        ]

    def is_working_day(self, day: dt.date) -> bool:
        """Tell whether ``day`` is a working day (make-up weekend days included)."""
        arrangement = self.configured.get(day.year)
        if arrangement is not None:
            if day in arrangement.workdays:
                return True
            if day in arrangement.holidays:
                return False
            return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning(
                    "No holiday data for %s: counting weekends and the fixed-date holidays"
                    " (Jan 1, May 1-2, Oct 1-3). Add the year to the holiday table.",
                    day.year,
                )
            return day.weekday() < 5 and not is_fixed_holiday(day)

    def next_working_day(self, day: dt.date) -> dt.date:
        """Return ``day`` if it is a working day, else the first working day after it."""
        current = day
        # The longest Chinese holiday run is 8 days; 31 is a generous bound that
        # turns a corrupt table (every day a holiday) into an error, not a hang.
        for _ in range(31):
            if self.is_working_day(current):
                return current
            current += dt.timedelta(days=1)
        raise HolidayTableError(f"no working day within 31 days after {day.isoformat()}")

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """Move ``count`` working days forward from ``day`` (``count >= 0``)."""
        current = day
        remaining = count
        while remaining > 0:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Count working days in the half-open range (start, end]; negative if end < start."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            1 for i in range(1, (end - start).days + 1) if self.is_working_day(start + dt.timedelta(days=i))
        )


def parse_holiday_table(text: str, *, source: str = "holidays.yaml") -> dict[int, YearArrangement]:
    """Parse the YAML holiday table.

    Args:
        text: YAML text ``{2027: {holidays: [...], workdays: [...]}}``.
        source: File name used in error messages.

    Returns:
        Year arrangements by year.

    Raises:
        HolidayTableError: A year, key or date is malformed, or a date is in another year.
    """
    try:
        data = load_yaml(text) or {}
    except (yaml.YAMLError, ValueError) as exc:
        # PyYAML turns 2031-13-01 into a date itself and fails with ValueError.
        raise HolidayTableError(f"{source}: not a valid holiday table: {exc}") from None
    if not isinstance(data, dict):
        raise HolidayTableError(f"{source}: expected a mapping of years, got {type(data).__name__}")
    table: dict[int, YearArrangement] = {}
    for raw_year, entry in data.items():
        try:
            year = int(raw_year)
        except (TypeError, ValueError):
            raise HolidayTableError(f"{source}: year key {raw_year!r} is not a year") from None
        if not isinstance(entry, dict) or set(entry) - {"holidays", "workdays", "note"}:
            raise HolidayTableError(f"{source}: year {year} must have only 'holidays', 'workdays', 'note'")
        days: dict[str, frozenset[dt.date]] = {}
        for key in ("holidays", "workdays"):
            parsed = set()
            for value in entry.get(key) or []:
                try:
                    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
                except ValueError:
                    raise HolidayTableError(f"{source}: {year}.{key}: {value!r} is not a date") from None
                if day.year != year:
                    raise HolidayTableError(f"{source}: {year}.{key}: {day} is not in {year}")
                parsed.add(day)
            days[key] = frozenset(parsed)
        table[year] = YearArrangement(holidays=days["holidays"], workdays=days["workdays"])
    return table


_default: WorkingCalendar | None = None


def default_calendar() -> WorkingCalendar:
    """The process-wide calendar: chinese-calendar plus the configured holiday table."""
    global _default
    if _default is None:
        from review_calendar.settings import get_settings

        _default = WorkingCalendar.from_file(get_settings().holidays_file)
    return _default


def is_working_day(day: dt.date, calendar: WorkingCalendar | None = None) -> bool:
    """Tell whether ``day`` is a working day in mainland China."""
    return (calendar or default_calendar()).is_working_day(day)


def due_date(
    statutory: dt.date, rule: ShiftRule = "next_working_day", calendar: WorkingCalendar | None = None
) -> dt.date:
    """Effective due date: the statutory date, moved to the next working day if the rule says so.

    Args:
        statutory: The date written in the source document.
        rule: ``next_working_day`` (Chinese practice for time limits) or ``none``.
        calendar: The working calendar; the default one when omitted.

    Returns:
        The date by which a submission is on time.
    """
    if rule == "none":
        return statutory
    return (calendar or default_calendar()).next_working_day(statutory)


def statutory_date(cycle_year: int, month: int, day: int, year_offset: int = 0) -> dt.date:
    """The statutory due date of an obligation in the cycle of ``cycle_year``.

    The full-year progress report of cycle 2024 is due on 2025-01-15:
    ``statutory_date(2024, 1, 15, year_offset=1)``.
    """
    return dt.date(cycle_year + year_offset, month, day)


def cycle_year_of(report_date: dt.date, year_offset: int) -> int:
    """The cycle a dated report belongs to: a Jan 15 report (offset 1) is the previous year's."""
    return report_date.year - year_offset


#: ``valid_until`` of a status whose document sets no validity (``validity: {years: null}``): it never expires.
OPEN_ENDED = dt.date(9999, 12, 31)


def valid_until(recognised_on: dt.date, years: int | None) -> dt.date:
    """Last day of validity of a status recognised on ``recognised_on`` for ``years`` years.

    ``years`` None (the document sets no validity, e.g. 廊坊市推进方案（试行）): :data:`OPEN_ENDED`.

    工信部企业〔2022〕119号 第十五条: recognition is valid for three years; the last valid day
    is the day before the same date ``years`` later.
    """
    if years is None:
        return OPEN_ENDED
    try:
        end = recognised_on.replace(year=recognised_on.year + years)
    except ValueError:  # Feb 29 recognised, non-leap end year
        end = recognised_on.replace(year=recognised_on.year + years, day=28) + dt.timedelta(days=1)
    return end - dt.timedelta(days=1)


def extend_validity(current_end: dt.date, years: int) -> dt.date:
    """New last valid day after a passed re-review extends the status by ``years`` years."""
    return valid_until(current_end + dt.timedelta(days=1), years)


def expires_in_year(end: dt.date, year: int) -> bool:
    """Tell whether a validity ending on ``end`` expires within ``year`` (re-review due that year)."""
    return end.year == year


def pilot_period_ok(start_year: int, end_year: int, max_years: int) -> bool:
    """冀工信产业〔2016〕93号 第三条: a pilot's implementation period is in principle at most ``max_years`` years."""
    return 0 < end_year - start_year + 1 <= max_years
