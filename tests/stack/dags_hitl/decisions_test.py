"""A decision DAG for the permission tests: one Required Action, assigned to the users named in the run's conf.

``decisions__test`` follows the project's naming (``decisions__<programme>``), so the
generic reviewer gets edit on it when provisioned with ``--extra-programme test``. The
names in ``conf["assigned"]`` become assigned users at run time, with the FAB ids that
provisioning published (``review_calendar_airflow.access.assigned_users``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import DAG


class AssignedFromConf(HITLOperator):
    """HITLOperator whose assigned users are the users named in the run's ``conf["assigned"]``."""

    def execute(self, context: Any) -> Any:
        from review_calendar_airflow.access import assigned_users

        self.assigned_users = assigned_users(context["dag_run"].conf.get("assigned") or []) or None
        return super().execute(context)


with DAG(
    dag_id="decisions__test",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    tags=["test"],
):
    AssignedFromConf(
        task_id="decide",
        subject="审定：测试提案",
        body="测试用的待审定事项。",
        options=["同意", "退回"],
    )
