"""What a DAG run works on: the cycle it serves, the day it computes as of, the slot it takes.

Airflow gives a run different facts depending on how it started. A run that
the deadline timetable scheduled has a data interval: the submission window
of one instance. A run that an upstream cycle's Asset started has the Asset
events (their ``extra`` names the upstream cycle) and no data interval. A
manual run triggered without a logical date (the REST API's default and the
reviewers' re-run button) has neither: only its params and its own time,
``run_after``. These pure functions decide from whatever the run has; the DAG
tasks only collect the facts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from review_calendar.domain.calendar import TZ, WorkingCalendar, default_calendar
from review_calendar.domain.programmes import ObligationInstance, Programme, instances_for_year
from review_calendar.domain.schedule import DeadlineRun, deadline_run, resolve_instance

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

CycleSource = Literal["params", "asset", "interval"]


class CycleUnknown(ValueError):
    """A run cannot tell which cycle (or day) it serves; the message says, in Chinese, what to fill in."""


@dataclass(frozen=True, slots=True)
class RunCycle:
    """The instance a cycle run works on and the day it computes as of.

    Attributes:
        instance: The obligation instance (cycle year and period).
        as_of: The day the run takes files in and computes states as of.
        source: Where the cycle came from: the run's params, the triggering
            Asset event, or the data interval of a scheduled run.
    """

    instance: ObligationInstance
    as_of: dt.date
    source: CycleSource


def run_day(run_after: dt.datetime) -> dt.date:
    """The Beijing-time calendar day of a run's own time (an aware ``run_after``)."""
    return run_after.astimezone(TZ).date()


def calendar_year(year: int | None, run_after: dt.datetime) -> int:
    """The cycle year a calendar run records: the ``year`` param, else the year after the run's day.

    The calendar DAG runs on December 1 for the coming cycle.
    """
    return int(year) if year is not None else run_day(run_after).year + 1


def reminder_day(as_of: str | None, run_after: dt.datetime) -> dt.date:
    """The day a reminders run computes for: the ``as_of`` param (``YYYY-MM-DD``), else the run's day.

    Raises:
        CycleUnknown: ``as_of`` is not a date.
    """
    return _as_of_date(as_of) or run_day(run_after)


def sweep_moment(as_of: str | None, run_after: dt.datetime) -> dt.date | dt.datetime:
    """The moment an inbox sweep stands for: the ``as_of`` param, else the run's own time.

    ``as_of`` is a day (``YYYY-MM-DD``: the sweep stands for that day, its end when past)
    or a moment (``2025-03-20T10:00:00+08:00``: files first seen by this sweep were
    received then). A scheduled or manual run without it sweeps at ``run_after``, in
    Beijing time.

    Raises:
        CycleUnknown: ``as_of`` is neither a date nor an ISO moment with its offset.
    """
    if as_of and "T" in str(as_of):
        try:
            moment = dt.datetime.fromisoformat(str(as_of))
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise CycleUnknown(
                f"运行参数 as_of 应为日期 YYYY-MM-DD 或带时区的时刻 YYYY-MM-DDTHH:MM+08:00，收到 {as_of!r}"
            )
        return moment.astimezone(TZ)
    return _as_of_date(as_of) or run_after.astimezone(TZ)


def resolve_cycle(
    programme: Programme,
    obligation_id: str,
    *,
    params: Mapping[str, Any],
    asset_extras: Sequence[Mapping[str, Any]],
    interval_end: dt.datetime | None,
    run_after: dt.datetime,
    calendar: WorkingCalendar | None = None,
) -> RunCycle:
    """Which instance a cycle run serves, and the day it computes as of.

    The cycle comes from, in this order: the ``year`` (and ``period``) params;
    the ``extra`` of the triggering Asset events (``programme``, ``obligation``,
    ``cycle_year``, ``period`` of the upstream cycle); the window that ends at
    ``interval_end`` (a run of the deadline timetable). The day is the
    ``as_of`` param, else the later of the run's own day and the day the
    window closes: a run started before the deadline waits for it, and a
    re-run after it takes in what has arrived since.

    Args:
        programme: The programme of the DAG.
        obligation_id: The obligation of the DAG.
        params: The run's params (``year``, ``period``, ``as_of``; None when left empty).
        asset_extras: The ``extra`` of each triggering Asset event, oldest first (empty
            when the run was not started by an Asset).
        interval_end: End of the run's data interval; None when the run has none.
        run_after: The run's own time (aware).
        calendar: Working calendar (default: the configured one).

    Returns:
        The instance, the as-of day and where the cycle came from.

    Raises:
        CycleUnknown: The run names no cycle, names several, or names one that the
            obligation does not have; the message says which param to fill in.
    """
    calendar = calendar or default_calendar()
    year, period = params.get("year"), params.get("period") or None
    source: CycleSource
    if year is not None:
        source = "params"
    elif period is not None:
        raise _unknown(programme, obligation_id, run_after, f"填写了期次 {period}，但没有填写年度", calendar)
    elif asset_extras:
        source = "asset"
        year, period = _cycle_from_assets(programme, obligation_id, asset_extras, run_after, calendar)
    elif interval_end is not None:
        source = "interval"
    else:
        reason = "本次运行是手动触发的，没有填写年度，也没有逻辑日期（数据区间）"
        raise _unknown(programme, obligation_id, run_after, reason, calendar)
    try:
        instance = resolve_instance(
            programme,
            obligation_id,
            year=int(year) if year is not None else None,
            period=period,
            interval_end=interval_end if source == "interval" else None,
            calendar=calendar,
        )
    except ValueError as error:
        reason = (
            f"数据区间结束于 {interval_end.astimezone(TZ):%Y-%m-%d %H:%M}，不是本事项任何一期报送窗口的关闭时间"
            if source == "interval" and interval_end is not None
            else f"{year} 年度没有期次 {period}"
        )
        raise _unknown(programme, obligation_id, run_after, reason, calendar) from error
    closes = deadline_run(instance).end.astimezone(TZ).date()
    as_of = _as_of_date(params.get("as_of")) or max(run_day(run_after), closes)
    return RunCycle(instance=instance, as_of=as_of, source=source)


def _cycle_from_assets(
    programme: Programme,
    obligation_id: str,
    extras: Sequence[Mapping[str, Any]],
    run_after: dt.datetime,
    calendar: WorkingCalendar,
) -> tuple[int, str | None]:
    """The one upstream cycle the Asset events name, mapped onto this obligation's periods."""
    cycles = {
        (int(e["cycle_year"]), str(e.get("period") or ""))
        for e in extras
        if e.get("cycle_year") is not None and e.get("programme") in (None, programme.id)
    }
    if not cycles:
        reason = "触发本次运行的数据资产事件没有携带年度（cycle_year）"
        raise _unknown(programme, obligation_id, run_after, reason, calendar)
    if len({year for year, _ in cycles}) > 1:
        years = "、".join(str(y) for y in sorted({year for year, _ in cycles}))
        reason = f"触发本次运行的数据资产事件涉及多个年度（{years}），请按年度分别触发"
        raise _unknown(programme, obligation_id, run_after, reason, calendar)
    periods = [d.period for d in programme.obligation(obligation_id).due]
    year = next(iter(cycles))[0]
    upstream = {p for _, p in cycles}
    matching = [p for p in periods if p in upstream]
    if len(matching) == 1:
        return year, matching[0]
    if len(periods) == 1:
        return year, periods[0]
    reason = f"上游期次（{'、'.join(sorted(upstream))}）对应不到本事项唯一的期次"
    raise _unknown(programme, obligation_id, run_after, reason, calendar)


def _as_of_date(as_of: str | None) -> dt.date | None:
    if not as_of:
        return None
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError as error:
        raise CycleUnknown(
            f"运行参数 as_of 应为日期 YYYY-MM-DD（例如 2025-07-15），收到 {as_of!r}"
        ) from error


def _unknown(
    programme: Programme, obligation_id: str, run_after: dt.datetime, reason: str, calendar: WorkingCalendar
) -> CycleUnknown:
    """The Chinese message of a run that cannot tell its cycle: why, and what to fill in."""
    obligation = programme.obligation(obligation_id)
    periods = [d.period for d in obligation.due]
    latest = latest_deadline_run(programme, obligation_id, run_after, calendar)
    example_year = latest.instance.cycle_year if latest else run_day(run_after).year
    example = f'{{"year": {example_year}'
    if len(periods) > 1:
        example += f', "period": "{periods[0]}"'
    example += "}"
    what = "year（年度）" + (f"和 period（期次：{'、'.join(periods)}）" if len(periods) > 1 else "")
    return CycleUnknown(
        f"{programme.short_name}“{obligation.title}”：无法确定本次运行处理哪一期——{reason}。"
        f"请在触发表单（运行参数 conf）中填写 {what}后重新触发，例如 {example}；"
        "as_of（按此日期计算，YYYY-MM-DD）可留空。"
    )


def latest_deadline_run(
    programme: Programme,
    obligation_id: str,
    moment: dt.datetime,
    calendar: WorkingCalendar | None = None,
    horizon_years: int = 3,
) -> DeadlineRun | None:
    """The run of the obligation's window that closed last at or before ``moment``.

    What the deadline timetable runs at once when catch-up is off (as Airflow's
    own timetables do), and what a manual run with a logical date covers.

    Returns:
        The run, or None if no window of the obligation closed in the horizon.
    """
    calendar = calendar or default_calendar()
    year = run_day(moment).year
    closed = [
        deadline_run(i)
        for y in range(max(programme.first_year, year - horizon_years), year + 1)
        for i in instances_for_year(programme, y, calendar)
        if i.obligation_id == obligation_id
    ]
    closed = [r for r in closed if r.end <= moment]
    return max(closed, key=lambda r: r.end, default=None)


def previous_working_day_run(
    moment: dt.datetime, hour: int, minute: int, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """The last working day at ``hour:minute`` Beijing time at or before ``moment``.

    What the working-day timetable runs at once when catch-up is off.
    """
    calendar = calendar or default_calendar()
    local = moment.astimezone(TZ)
    day = local.date()
    if dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ) > local:
        day -= dt.timedelta(days=1)
    # The longest Chinese holiday run is 8 days; 31 keeps a corrupt table from hanging.
    for _ in range(31):
        if calendar.is_working_day(day):
            return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)
        day -= dt.timedelta(days=1)
    raise ValueError(f"no working day within 31 days before {local.date().isoformat()}")


def decision_dag_id(programme_id: str) -> str:
    """The decision DAG of a programme (its Required Actions), ``decisions__<programme>``."""
    return f"decisions__{programme_id}"


def ask_again_run_id(
    cycle_year: int, period: str, decision_id: int, round_: int, answered_at: dt.datetime
) -> str:
    """The run that asks a proposal again, named by its cycle and round.

    ``ask_again__2025_H1__decision17_round1__2026-03-02T02:00:00+00:00``: ``round_`` is the
    round whose answer was incomplete and ``answered_at`` when it was given (UTC), so a retry
    of that answer's task names the same run (started once) and a new review database never
    meets an old run's id. ASCII only (``[scheduler] allowed_run_id_pattern``). Runs that an
    Asset event starts keep Airflow's own ``asset_triggered__<moment>``: Airflow 3.3's
    scheduler names them with ``DagRun.generate_run_id`` without asking the DAG's timetable.
    """
    import re

    cycle = f"{int(cycle_year)}" + (f"_{p}" if (p := re.sub(r"[^A-Za-z0-9]", "", period or "")) else "")
    moment = answered_at.astimezone(dt.UTC).isoformat(timespec="seconds")
    return f"ask_again__{cycle}__decision{int(decision_id)}_round{int(round_)}__{moment}"


def _plain(moment: dt.datetime) -> dt.datetime:
    """``moment`` in Beijing time as a plain ``datetime``, to the microsecond (pendulum's arithmetic differs)."""
    local = moment.astimezone(TZ)
    return dt.datetime(local.year, local.month, local.day, local.hour, local.minute, local.second,
                       local.microsecond, tzinfo=TZ)  # fmt: skip


def next_working_slot(
    after: dt.datetime, every_minutes: int, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """The first slot strictly after ``after``: every ``every_minutes`` from 00:00 Beijing time, working days only.

    What the inbox sweep's timetable runs at (a file sent at 16:03 on a due day
    is judged at 16:10, a Saturday file on Monday at 00:00).
    """
    calendar = calendar or default_calendar()
    step = dt.timedelta(minutes=every_minutes)
    local = _plain(after)
    day = local.date()
    if calendar.is_working_day(day):
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=TZ)
        slot = midnight + step * ((local - midnight) // step + 1)
        if slot.date() == day:
            return slot
    day = calendar.next_working_day(day + dt.timedelta(days=1))
    return dt.datetime.combine(day, dt.time(0), tzinfo=TZ)


def previous_working_slot(
    moment: dt.datetime, every_minutes: int, calendar: WorkingCalendar | None = None
) -> dt.datetime:
    """The last slot of :func:`next_working_slot` at or before ``moment`` (run at once without catch-up)."""
    calendar = calendar or default_calendar()
    step = dt.timedelta(minutes=every_minutes)
    local = _plain(moment)
    day = local.date()
    if calendar.is_working_day(day):
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=TZ)
        return midnight + step * ((local - midnight) // step)
    for _ in range(31):
        day -= dt.timedelta(days=1)
        if calendar.is_working_day(day):
            midnight = dt.datetime.combine(day, dt.time(0), tzinfo=TZ)
            return midnight + step * (-(-dt.timedelta(days=1) // step) - 1)  # the day's last slot
    raise ValueError(f"no working day within 31 days before {local.date().isoformat()}")
