"""The ``mail_intake`` DAG: every 10 minutes on Chinese working days, the fetch then the send step."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.dagbag
DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "mail_intake.py"


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert not bag.import_errors
    return bag.dags["mail_intake"]


def test_the_fetch_sends_what_it_queued_one_run_at_a_time(dag) -> None:
    assert dag.get_task("fetch").downstream_task_ids == {"send_emails"}
    assert dag.get_task("send_emails").trigger_rule == "none_failed"  # a mailbox not configured: skipped
    assert (dag.max_active_runs, dag.catchup) == (1, False)
    assert dag.timetable.summary == "工作日每 10 分钟"


def test_the_mailbox_comes_from_an_imap_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    from review_calendar_airflow.mail import imap_settings

    monkeypatch.setenv(
        "AIRFLOW_CONN_REVIEW_CALENDAR_IMAP",
        '{"conn_type": "imap", "host": "imap.example.cn", "login": "tianbao", "password": "pw",'
        ' "extra": {"use_ssl": false, "folder": "报送"}}',
    )
    imap = imap_settings()

    assert (imap.host, imap.port, imap.user, imap.ssl, imap.folder, imap.processed) == (
        "imap.example.cn", 143, "tianbao", False, "报送", "Processed",
    )  # fmt: skip
    assert "pw" not in repr(imap)
    assert imap_settings("no_such_connection") is None


def test_the_imap_connection_type_is_the_installed_providers() -> None:
    # The operator picks "IMAP" in Admin › Connections: the type the imap provider registers.
    import warnings

    from airflow.providers_manager import ProvidersManager

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hook = ProvidersManager().hooks.get("imap")

    assert hook is not None and hook.package_name == "apache-airflow-providers-imap"
    assert hook.connection_id_attribute_name == "imap_conn_id"
