"""``review-calendar db upgrade`` and ``review-calendar regions load``: the review database and its regions."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from review_calendar.cli.common import EXIT_DOMAIN, EXIT_OK, UsageError, print_error
from review_calendar.settings import get_settings


def _province_code(text: str) -> str:
    if not (len(text) == 6 and text.isascii() and text.isdigit() and text.endswith("0000")):
        raise argparse.ArgumentTypeError(f"应为6位省级行政区划代码（如 130000），收到 {text!r}")
    return text


#: The sub-commands :func:`register` adds (``review-calendar`` builds only the one asked for).
COMMANDS = ("db", "regions")


def register(subparsers: Any) -> None:
    """Add ``db upgrade`` and ``regions load`` to the ``review-calendar`` parser.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers()`` returned.
    """
    p = subparsers.add_parser("db", help="the review database")
    dsub = p.add_subparsers(dest="action", required=True)
    dsub.add_parser("upgrade", help="create or migrate the schema").set_defaults(func=cmd_db_upgrade)

    p = subparsers.add_parser("regions", help="the official region table of a province")
    rsub = p.add_subparsers(dest="action", required=True)
    r = rsub.add_parser(
        "load", help="load a region table (CSV: code,name,level,parent_code) into the review database"
    )
    r.add_argument(
        "file", metavar="FILE", help="UTF-8 CSV, e.g. include/review_calendar/data/regions/hebei.csv"
    )
    r.add_argument(
        "--province",
        type=_province_code,
        help="provincial code, e.g. 130000 (default: from the file's codes)",
    )
    r.set_defaults(func=cmd_regions_load)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Create or migrate the review database.

    Args:
        args: No options.

    Returns:
        0.
    """
    from review_calendar.store.db import current_revision, redact, upgrade

    url = get_settings().db_url
    upgrade(url)
    print(f"review database {redact(url)} at revision {current_revision(url)}")
    return EXIT_OK


def cmd_regions_load(args: argparse.Namespace) -> int:
    """Load a province's official region table into the review database (idempotent).

    The file is checked whole before anything is written: a malformed row stops
    the load with a message naming file, row and field, and the database is left
    as it was. Regions already stored are updated when their name, level or
    parent changed; regions the file does not list are kept.

    Args:
        args: ``file`` (path of the CSV), ``province`` (None: from the file's codes).

    Returns:
        0 when the table was loaded, 1 when the file is malformed.

    Raises:
        UsageError: The file does not exist or cannot be read (exit code 2).
    """
    from review_calendar.domain.regions import RegionDataError, load_regions_file
    from review_calendar.store.db import session_scope, upgrade
    from review_calendar.store.regions import save_regions

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"文件不存在：{path}")
    try:
        regions = load_regions_file(path, args.province)
    except RegionDataError as exc:
        print_error(f"行政区划文件有误，未载入：{exc}")
        return EXIT_DOMAIN
    except OSError as exc:
        raise UsageError(f"无法读取 {path}：{exc.strerror}") from None
    url = get_settings().db_url
    upgrade(url)
    with session_scope(url) as session:
        saved = save_regions(session, regions)
    province = next(r for r in regions if r.level == "province")
    kept = f"；库中另有本省区划 {saved.kept} 条不在文件中，保留未动" if saved.kept else ""
    print(
        f"行政区划已载入 {path.name}：{province.name}（{province.code}）{len(regions)} 条，"
        f"新增 {saved.added}，更新 {saved.changed}，未变 {saved.unchanged}{kept}"
    )
    return EXIT_OK
