"""``review-calendar decisions list``: the audit of what was proposed and who decided it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from review_calendar.cli.common import EXIT_OK, programme_named
from review_calendar.settings import get_settings

if TYPE_CHECKING:
    import argparse

#: The states the audit shows: a proposal, or a reviewer's answer to it.
AUDIT_STATES = ("proposed", "approved", "changed", "returned")


#: The sub-commands :func:`register` adds (``review-calendar`` builds only the one asked for).
COMMANDS = ("decisions",)


def register(subparsers: Any) -> None:
    """Add ``decisions list`` to the ``review-calendar`` parser.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers()`` returned.
    """
    p = subparsers.add_parser("decisions", help="the audit of proposals and reviewers' decisions")
    dsub = p.add_subparsers(dest="action", required=True)
    d = dsub.add_parser("list", help="list a programme year's decisions with who decided, when and why")
    d.add_argument("--programme", required=True)
    d.add_argument("--year", required=True, type=int)
    d.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    d.set_defaults(func=cmd_decisions_list)


def audit_rows(programme_id: str, year: int) -> list[dict[str, Any]]:
    """Every decision of a programme year except file acceptances and gate runs, with its answer.

    Returns:
        One dict per decision: ``kind``, ``subject``, ``outcome``, ``proposed_outcome``, ``basis``
        (the clause), ``rule``, ``state`` (``proposed``, ``approved``, ``changed``, ``returned``,
        or a later state such as ``awaiting_ministry``), ``decided_by`` (the Airflow login),
        ``decided_by_name`` (姓名（处室） from the reviewers' roster), ``decided_at`` (ISO, UTC),
        ``reason`` (the reviewer's), ``rounds`` (Required Actions asked).
    """
    from sqlalchemy import select

    from review_calendar.domain.verdicts import decision_state
    from review_calendar.reviewer_pages.deciders import decided_by_name
    from review_calendar.store.db import session_scope, upgrade
    from review_calendar.store.reviews import rounds
    from review_calendar.store.tables.decisions import Decision

    settings = get_settings()
    upgrade(settings.db_url)
    out = []
    with session_scope(settings.db_url) as session:
        stmt = (
            select(Decision)
            .where(Decision.programme_id == programme_id, Decision.cycle_year == year,
                   Decision.kind.not_in(("acceptance", "gate")))
            .order_by(Decision.kind, Decision.subject)
        )  # fmt: skip
        for d in session.scalars(stmt):
            f = d.figures or {}
            out.append({
                "kind": d.kind,
                "subject": d.subject,
                "outcome": d.outcome,
                "proposed_outcome": f.get("proposed_outcome", d.outcome),
                "basis": d.clause,
                "rule": d.rule,
                "state": decision_state(f),
                "decided_by": f.get("decided_by"),
                "decided_by_name": decided_by_name(f.get("decided_by") or "", f.get("decided_by_name") or "") or None,
                "decided_at": f.get("decided_at"),
                "reason": f.get("answer_reason", ""),
                "rounds": len(rounds(session, d.id)),
            })  # fmt: skip
    return out


def cmd_decisions_list(args: argparse.Namespace) -> int:
    """Print the audit of a programme year (``--json``: machine-readable).

    Returns:
        0.

    Raises:
        UsageError: Unknown programme (exit code 2).
    """
    from review_calendar.domain.labels import DECISION_KINDS, OUTCOMES, label
    from review_calendar.domain.verdicts import state_label

    programme = programme_named(args.programme)
    rows = audit_rows(programme.id, args.year)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return EXIT_OK
    if not rows:
        print(f"{programme.name} {args.year} 年度没有决定记录")
        return EXIT_OK
    for r in rows:
        at = (r["decided_at"] or "")[:16].replace("T", " ")
        name = r["decided_by_name"] or r["decided_by"]
        login = f" {r['decided_by']}" if name != r["decided_by"] else ""
        who = f"{name}{login} {at}（UTC）" if r["decided_by"] else "—"
        changed = (
            f"（拟定：{label(OUTCOMES, r['proposed_outcome'])}）"
            if r["proposed_outcome"] != r["outcome"]
            else ""
        )
        print(f"{label(DECISION_KINDS, r['kind'])}\t{r['subject']}\t{label(OUTCOMES, r['outcome'])}{changed}\t"
              f"{state_label({'state': r['state']})}\t{who}\t{r['reason'] or ''}\t依据：{r['basis']}")  # fmt: skip
    return EXIT_OK
