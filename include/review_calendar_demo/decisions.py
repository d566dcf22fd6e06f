"""The demo's reviewers: after each cycle, the decision DAG asks, and a reviewer answers over REST.

The decision DAG runs with ``dag.test()`` (Airflow parks each Required Action);
meanwhile :class:`DecisionDesk`, in a thread, answers as the programme's
reviewer through the api-server: it approves most proposals, changes one
evaluation (first without a reason, which is asked again, then with one) and
leaves one proposal open so the Airflow UI shows it under Required Actions.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from review_calendar.domain.runs import decision_dag_id
from review_calendar_demo.reviewer import ApiServer, Reviewer

if TYPE_CHECKING:
    from collections.abc import Mapping

    from review_calendar_demo.year_run import DagRunner

DAGS = Path(__file__).resolve().parents[2] / "dags"

#: The reviewer the demo logs in as, per programme (each programme's first configured reviewer).
DEMO_REVIEWERS = {
    "hebei_smart_cluster": "hebei_reviewer",
    "miit_sme_cluster": "miit_reviewer",
    "henan_demo_base": "henan_reviewer",
    "langfang_digital": "langfang_reviewer",
}
#: The evaluation the demo's reviewer changes (first forgetting the reason), and the proposal left open.
DEMO_CHANGE = {
    "蠡县毛皮产业集群": (
        "rectify",
        "评分52分，但评价后已报送整改方案并经市局核实，给予限期整改机会，整改后复评",
    ),
}
DEMO_LEAVE_PENDING = frozenset({"botou_casting"})
#: The demo's reviewer returns the first development plan it reads, with this comment and new due date.
DEMO_RETURN = (
    "报送材料审阅",
    "规划的“保障措施”只有一句话，请补充资金、用地和人才保障的具体措施后重新报送",
    "2025-07-31",
)


@dataclass
class DecisionDesk:
    """An api-server, one logged-in reviewer per programme, and the answers the demo gives."""

    home: Path
    users: dict[str, str] = field(default_factory=dict)  # programme id -> reviewer user name
    change: dict[str, tuple[str, str]] = field(default_factory=dict)  # cluster name -> (outcome, reason)
    leave_pending: set[str] = field(default_factory=set)  # subjects nobody answers
    server: ApiServer | None = None
    passwords: dict[str, str] = field(default_factory=dict)
    answered: list[dict[str, Any]] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # Required Actions left open for a person
    returns: tuple[str, str, str] | None = (
        None  # (subject text, comment, new due date): return the first such
    )
    _returned: bool = False
    _reviewers: dict[str, Reviewer] = field(default_factory=dict)

    @classmethod
    def demo(cls, home: Path) -> DecisionDesk:
        """The main job's reviewers and answers (also the end-to-end tests')."""
        return cls(home, users=dict(DEMO_REVIEWERS), change=dict(DEMO_CHANGE),
                   leave_pending=set(DEMO_LEAVE_PENDING), returns=DEMO_RETURN)  # fmt: skip

    def start(self) -> DecisionDesk:
        """Provision the project's users (FAB) in this Airflow database and start the api-server."""
        from review_calendar_airflow.access import provision_project

        self.passwords = provision_project()
        self.server = ApiServer(self.home / "logs" / "api-server.log").start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def reviewer(self, programme_id: str) -> Reviewer:
        """The logged-in reviewer of a programme."""
        name = self.users[programme_id]
        if name not in self._reviewers:
            assert self.server is not None
            self._reviewers[name] = Reviewer(self.server.url, name, self.passwords[name])
        return self._reviewers[name]

    def _choice(self, detail: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        for name, (outcome, reason) in self.change.items():
            if name in detail["subject"]:
                # The first answer forgets the reason; the Required Action asked again says so.
                again = "再次请您审定" in (detail.get("body") or "")
                return "改变结论", {"outcome": outcome, "reason": reason if again else None}
        if self.returns and not self._returned and self.returns[0] in detail["subject"]:
            self._returned = True
            return "退回补充材料", {"reason": self.returns[1], "new_due": self.returns[2]}
        return "批准", {"reason": "同意"}

    def _waiting(self, programme_id: str, year: int) -> list[int]:
        """Proposals of the year not yet asked, except the ones left for a person."""
        from review_calendar.settings import get_settings
        from review_calendar.store.db import session_scope
        from review_calendar.store.reviews import to_ask

        with session_scope(get_settings().db_url) as session:
            waiting = to_ask(session, programme_id, cycle_years=[year])
            return [d.id for d in waiting if not any(s == d.subject for s in self.leave_pending)]

    def decide(self, run: DagRunner, programme_id: str, year: int, timeout: float = 600) -> int:
        """Run the programme's decision DAG for ``year`` and answer every Required Action it asks.

        An incomplete answer is asked again in another run, answered in turn.

        Returns:
            The number of answers given.
        """
        given = 0
        for attempt in range(3):
            ids = self._waiting(programme_id, year)
            if not ids:
                break
            given += self._one_run(
                run, programme_id, year, ids, "审定" if attempt == 0 else "再次审定", timeout
            )
        return given

    def _one_run(
        self, run: DagRunner, programme_id: str, year: int, ids: list[int], label: str, timeout: float
    ) -> int:
        """One decision run: ``dag.test()`` here (it needs the main thread), the reviewer in a thread.

        Returns:
            How many Required Actions of the run were answered (read back from the review ledger).
        """
        dag_id = decision_dag_id(programme_id)
        done = threading.Event()
        started = dt.datetime.now(dt.UTC).isoformat()  # this run's Required Actions, not older ones left open

        def play() -> None:
            reviewer = self.reviewer(programme_id)
            seen: set[str] = set()
            deadline = time.monotonic() + timeout
            while not done.wait(1) and time.monotonic() < deadline:
                try:
                    for detail in reviewer.pending(dag_id, since=started):
                        if detail["task_instance"]["id"] not in seen:
                            option, form = self._choice(detail)
                            if reviewer.answer(detail, option, **form)[0] == 200:
                                seen.add(detail["task_instance"]["id"])
                except (OSError, RuntimeError):  # the api-server is busy: try again next second
                    continue

        player = threading.Thread(target=play, name=f"reviewer-{programme_id}", daemon=True)
        player.start()
        try:
            run(dag_id, label, year=year, decision_ids=ids)
        finally:
            done.set()
            player.join(timeout=30)
        return self._record_answers(programme_id, ids)

    def _record_answers(self, programme_id: str, ids: list[int]) -> int:
        """Add the answers the ledger holds for ``ids`` (latest round each) to :attr:`answered`."""
        from review_calendar.domain.labels import DECISION_KINDS, OUTCOMES, label
        from review_calendar.domain.people import display_name
        from review_calendar.domain.programmes import load_programme
        from review_calendar.domain.verdicts import subject_label
        from review_calendar.settings import get_settings
        from review_calendar.store.db import session_scope
        from review_calendar.store.reviews import rounds
        from review_calendar.store.tables.decisions import Decision

        titles = {o.id: o.title for o in load_programme(programme_id).obligations}
        count = 0
        with session_scope(get_settings().db_url) as session:
            for decision_id in ids:
                decision = session.get(Decision, decision_id)
                last = (rounds(session, decision_id) or [None])[-1]
                if decision is None or last is None or last.answer is None:
                    continue
                count += 1
                name = subject_label(decision.subject, decision.figures, titles)
                self.answered.append({
                    "programme": programme_id, "by": f"{display_name(last.decided_by)} {last.decided_by}",
                    "answer": last.answer,
                    "what": f"{decision.cycle_year}年 {label(DECISION_KINDS, decision.kind)}：{name}",
                    "proposed": label(OUTCOMES, last.proposed_outcome),
                    "outcome": label(OUTCOMES, last.outcome) if last.outcome else "",
                    "reason": last.reason, "note": last.note,
                })  # fmt: skip
        return count

    def leave_for_ui(
        self,
        programme_id: str,
        year: int,
        log_file: Path,
        timeout: float = 300,
        env: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Ask the proposals left for a person and leave them open (the Airflow UI shows them).

        The decision DAG runs in a child process that is stopped once its Required
        Actions exist: the run stays running in the metadata database, its tasks
        awaiting input, and a real scheduler (``scripts/airflow-ui.sh``) carries on
        when someone answers.

        Args:
            programme_id: The programme whose decision DAG asks.
            year: The cycle year.
            log_file: Where the child's output goes.
            timeout: Seconds to wait for the Required Actions.
            env: The environment of the review database and the Airflow home (default: this process's).

        Returns:
            The subjects of the Required Actions left open.
        """
        from review_calendar.settings import get_settings
        from review_calendar.store.db import session_scope
        from review_calendar.store.reviews import to_ask

        with session_scope(get_settings(env).db_url) as session:
            ids = [
                d.id
                for d in to_ask(session, programme_id, cycle_years=[year])
                if d.subject in self.leave_pending
            ]
        if not ids:
            return []
        dag_id = decision_dag_id(programme_id)
        code = ("import sys; from airflow.dag_processing.dagbag import DagBag; "
                f"DagBag(dag_folder={str(DAGS)!r}).dags[{dag_id!r}].test(run_conf={{'year': {year}, 'decision_ids': {ids!r}}})")  # fmt: skip
        started = dt.datetime.now(dt.UTC).isoformat()
        with log_file.open("a", encoding="utf-8") as log:
            child = subprocess.Popen([sys.executable, "-c", code], stdout=log, stderr=subprocess.STDOUT,
                                     env=None if env is None else dict(env), start_new_session=True)  # fmt: skip
        reviewer = self.reviewer(programme_id)
        deadline = time.monotonic() + timeout
        subjects: list[str] = []
        while time.monotonic() < deadline and len(subjects) < len(ids) and child.poll() is None:
            time.sleep(2)
            subjects = [d["subject"] for d in reviewer.pending(dag_id, since=started)]
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.wait()
        return subjects
