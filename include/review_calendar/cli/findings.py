"""``review-calendar findings add``: a reviewer's finding for the re-review."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_calendar.cli.common import EXIT_OK, UsageError, programme_named
from review_calendar.settings import get_settings

if TYPE_CHECKING:
    import argparse

#: The conditions of 工信部企业〔2022〕119号 第十七条 that only a reviewer can establish: (2), (4) and (5).
FINDING_CHOICES = ("false_declaration", "unreported_change", "major_incident")


#: The sub-commands :func:`register` adds (``review-calendar`` builds only the one asked for).
COMMANDS = ("findings",)


def register(subparsers: Any) -> None:
    """Add ``findings add`` to the ``review-calendar`` parser.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers()`` returned.
    """
    p = subparsers.add_parser(
        "findings", help="reviewers' findings for the re-review (article 17 (2), (4), (5))"
    )
    fsub = p.add_subparsers(dest="action", required=True)
    f = fsub.add_parser("add", help="record a finding")
    f.add_argument("--programme", required=True)
    f.add_argument("--cluster", required=True)
    f.add_argument("--year", required=True, type=int)
    f.add_argument("--condition", required=True, choices=FINDING_CHOICES)
    f.add_argument("--note", default="")
    f.add_argument("--by", default="", help="reviewer recording it")
    f.set_defaults(func=cmd_findings_add)


def cmd_findings_add(args: argparse.Namespace) -> int:
    """Record a reviewer's finding (工信部企业〔2022〕119号 第十七条 conditions 2, 4, 5) for the re-review.

    Recording the same finding again updates its note and reviewer.

    Args:
        args: ``programme``, ``cluster``, ``year``, ``condition``, ``note``, ``by``.

    Returns:
        0.

    Raises:
        UsageError: Unknown programme or cluster (exit code 2).
    """
    from sqlalchemy import select

    from review_calendar.decide.proposals import propose_for_finding
    from review_calendar.store.db import session_scope, upgrade, upsert
    from review_calendar.store.tables.registry import Cluster, Enrolment
    from review_calendar.store.tables.review import Finding

    programme = programme_named(args.programme)
    settings = get_settings()
    upgrade(settings.db_url)
    with session_scope(settings.db_url) as session:
        if programme.re_review is None or programme.re_review.decided_by != "ministry":
            raise UsageError(f"{programme.name}不适用第十七条情形（仅工业和信息化部认定的集群）")
        if session.get(Cluster, args.cluster) is None:
            raise UsageError(f"审查库中没有集群“{args.cluster}”")
        if session.get(Enrolment, (programme.id, args.cluster)) is None:
            raise UsageError(f"“{args.cluster}”不是{programme.name}的认定集群")
        upsert(session, Finding, [{"programme_id": programme.id, "cluster_id": args.cluster, "cycle_year": args.year,
                                   "condition": args.condition, "note": args.note, "recorded_by": args.by}],
               ["programme_id", "cluster_id", "cycle_year", "condition"])  # fmt: skip
        finding = session.scalars(select(Finding).where(
            Finding.programme_id == programme.id, Finding.cluster_id == args.cluster,
            Finding.cycle_year == args.year, Finding.condition == args.condition)).one()  # fmt: skip
        if propose_for_finding(session, programme, finding):
            print("已记录第十七条情形建议（待审定），等待审核人员决定")
    print(f"已记录发现：{programme.id} {args.cluster} {args.year} {args.condition}")
    return EXIT_OK
