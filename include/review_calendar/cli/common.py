"""What every sub-command of ``review-calendar`` shares: exit codes, usage errors, lookups.

Exit codes: 0 success, 1 a domain failure (invalid programme or region file,
rejected submission, failed gate, SMTP unreachable), 2 a usage error (unknown
programme, obligation or file, bad argument).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from review_calendar.domain.programmes import ObligationInstance, Programme

EXIT_OK, EXIT_DOMAIN, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """The operator asked for something that does not exist (exit code 2)."""


#: How every error line of the command line begins (usage errors say 用法错误 instead).
ERROR_PREFIX = "review-calendar：错误："


def print_error(message: str) -> None:
    """Print one error for the operator on stderr: ``review-calendar：错误：<message>``."""
    print(f"{ERROR_PREFIX}{message}", file=sys.stderr)


#: argparse's own messages (Python 3.11), in the operators' language; applied in order.
_MESSAGES = (
    (r"^the following arguments are required: (.*)$", r"缺少必需参数：\1"),
    (r"^unrecognized arguments: (.*)$", r"无法识别的参数：\1"),
    (r"^one of the arguments (.*) is required$", r"参数 \1 须给出其中之一"),
    (r"^ambiguous option: (\S+) could match (.*)$", r"选项 \1 有歧义，可能是：\2"),
    (r"^argument (.+?): ", r"参数 \1："),
    (r"invalid choice: (.*) \(choose from (.*)\)$", r"无效的选择 \1（可选：\2）"),
    (r"invalid int value: (.*)$", r"取值无效（应为整数）：\1"),
    (r"invalid float value: (.*)$", r"取值无效（应为数字）：\1"),
    (r"invalid \S+ value: (.*)$", r"取值无效：\1"),
    (r"expected one argument$", "需要一个取值"),
    (r"expected at most one argument$", "至多需要一个取值"),
    (r"expected at least one argument$", "至少需要一个取值"),
    (r"expected (\d+) arguments?$", r"需要 \1 个取值"),
    (r"not allowed with argument (.*)$", r"不能与参数 \1 同时使用"),
    (r"ignored explicit argument (.*)$", r"多余的取值 \1"),
)


class ChineseParser(argparse.ArgumentParser):
    """An ``argparse`` parser that answers the operators in Chinese (every sub-command's parser is one).

    A usage error is the usage and one line naming the wrong argument and ``--help``
    (exit code 2); the usage and the help's headings read in Chinese too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._positionals.title, self._optionals.title = "位置参数", "选项"
        for action in self._actions:
            if isinstance(action, argparse._HelpAction):
                action.help = "显示本帮助并退出"

    def format_usage(self) -> str:
        return _chinese_usage(super().format_usage())

    def format_help(self) -> str:
        return _chinese_usage(super().format_help())

    def error(self, message: str) -> NoReturn:
        for english, chinese in _MESSAGES:
            message = re.sub(english, chinese, message)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：用法错误：{message}（用法见 {self.prog} --help）\n")


def _chinese_usage(text: str) -> str:
    return "用法：" + text.removeprefix("usage: ") if text.startswith("usage: ") else text


def iso_date(text: str) -> dt.date:
    """An ``argparse`` type for dates written ``YYYY-MM-DD``.

    Raises:
        argparse.ArgumentTypeError: ``text`` is not such a date (argparse exits with code 2).
    """
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为日期 YYYY-MM-DD，收到 {text!r}") from None


def programme_named(programme_id: str) -> Programme:
    """Load a programme of the configured folder by its id.

    Args:
        programme_id: The file stem in the programmes folder, e.g. ``"hebei_smart_cluster"``.

    Returns:
        The validated programme.

    Raises:
        UsageError: No such programme file (the message lists the known ids), or the
            file is invalid.
    """
    from review_calendar.domain.programmes import ProgrammeError, load_programme

    try:
        return load_programme(programme_id)
    except ProgrammeError as exc:
        raise UsageError(str(exc)) from None


def instance_named(
    programme_id: str, year: int, obligation_id: str, period: str | None
) -> tuple[Programme, ObligationInstance]:
    """Find one obligation instance of a programme's cycle.

    Args:
        programme_id: Programme id (file stem).
        year: Cycle year.
        obligation_id: Obligation id within the programme.
        period: ``Q1``..``Q4``, ``H1``, ``H2`` or ``Y``; None for the obligation's first period.

    Returns:
        The programme and the instance.

    Raises:
        UsageError: Unknown programme, obligation or period (the message lists the known ones).
    """
    from review_calendar.domain.programmes import find_instance

    programme = programme_named(programme_id)
    try:
        obligation = programme.obligation(obligation_id)
    except KeyError:
        known = ", ".join(o.id for o in programme.obligations)
        raise UsageError(f"项目 {programme.id} 没有报送事项“{obligation_id}”；已有：{known}") from None
    try:
        first = obligation.due[0].period if obligation.due else "Y"
        return programme, find_instance(programme, year, obligation_id, period or first)
    except KeyError as exc:
        raise UsageError(str(exc).strip("'\"")) from None
