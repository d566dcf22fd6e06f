"""The Required Action of one proposal: Airflow's HITL operator, answered by a named reviewer.

``ProposalReview`` is the standard provider's :class:`HITLOperator` with the
project's three options (批准 / 改变结论 / 退回补充材料) and a form built per
proposal (the outcomes it may change to, the reason, a new due date). On 3.3 the
task waits in the awaiting-input state without a worker slot; when the reviewer
answers, ``execute_complete`` takes the answer (record, apply once, queue the
notice) and sends the mail. An answer that lacks what its option needs (a
change without a reason...) applies nothing: a new run of the decision DAG asks
again, and its Required Action says why. No timeout decides: there is no
``response_timeout``; escalation by working days is the reminders DAG's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import Param

from review_calendar.domain.labels import REVIEW_OPTIONS

if TYPE_CHECKING:
    from airflow.sdk import Context

#: The options, in the order reviewers see them (words and answer codes: domain.labels.REVIEW_OPTIONS).
OPTIONS = list(REVIEW_OPTIONS)


def answer_form(outcomes: list[str], labels: dict[str, str]) -> dict[str, Param]:
    """The Required Action's form: the outcome to change to, the reason or comment, a new due date."""
    return {
        # Proposed values (not an enum): the field stays empty, not "null", until a reviewer changes
        # the outcome; the choice is checked against the kind's outcomes when the answer is taken.
        "outcome": Param(
            None,
            type=["null", "string"],
            examples=list(outcomes),
            values_display={o: labels.get(o, o) for o in outcomes},
            title="改为（选择“改变结论”时必选）",
        ),
        "reason": Param(
            None, type=["null", "string"], maxLength=2000, title="理由或意见（改变结论、退回补充材料时必填）"
        ),
        "new_due": Param(
            None, type=["null", "string"], format="date", title="新的截止日期（退回或延期时可填）"
        ),
    }


class ProposalReview(HITLOperator):
    """One proposal's Required Action (mapped: one task instance per proposal)."""

    def __init__(self, *, programme_id: str, decision_id: int, outcomes: list[str], **kwargs: Any) -> None:
        from review_calendar.domain.labels import OUTCOMES

        self.programme_id = programme_id
        self.decision_id = decision_id
        kwargs.pop("params", None)  # unmapping passes the DAG's params: the form is this operator's own
        super().__init__(options=OPTIONS, params=answer_form(list(outcomes), OUTCOMES), **kwargs)

    def execute(self, context: Context) -> Any:
        """Ask, assigned to the programme's reviewers by their FAB user ids (published when provisioned)."""
        from review_calendar_airflow.access import assigned_users

        names = [u["name"] for u in self.assigned_users or []]
        self.assigned_users = assigned_users(names) if names else None
        return super().execute(context)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Take the answer; send the mail it queued; start a new run to ask again if it was incomplete."""
        from airflow.sdk.exceptions import DagRunTriggerException

        from review_calendar.domain.runs import ask_again_run_id
        from review_calendar.tasks.reviews import take_review_answer
        from review_calendar_airflow.access import account_names
        from review_calendar_airflow.mail import deliver_outbox

        payload = super().execute_complete(context, event)
        ti = context["ti"]
        result = take_review_answer(self.programme_id, ti.dag_id, ti.run_id, ti.map_index, dict(payload),
                                    accounts=account_names())  # fmt: skip
        result["mail"] = deliver_outbox()  # the notice or return this answer queued (each e-mail once)
        if result["ask_again"]:
            # A new Required Action (a new run, named by the proposal's cycle and round: the run of
            # this task keeps the answer given).
            year = result["cycle_year"]
            raise DagRunTriggerException(
                trigger_dag_id=ti.dag_id,
                dag_run_id=ask_again_run_id(
                    year, result["period"], result["decision_id"], result["round"], result["answered_at"]
                ),
                conf={"year": year, "decision_ids": [result["decision_id"]]},
                reset_dag_run=False,
                skip_when_already_exists=True,
                wait_for_completion=False,
                allowed_states=["success"],
                failed_states=["failed"],
                poke_interval=60,
                deferrable=False,
                note=f"{year}年度拟定决定第{result['round'] + 1}次请审定：{result['ask_again']}",
            )
        return result
