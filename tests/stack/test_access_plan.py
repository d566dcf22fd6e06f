"""The project's role table and its provisioning into a real (SQLite) Airflow metadata database.

No running stack: the plan is checked as data, and ``python -m
review_calendar_airflow.access provision`` runs twice on a migrated database,
as ``scripts/airflow-ui.sh`` runs it on every start.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from review_calendar_airflow.access import (
    REVIEWER_FORBIDDEN,
    REVIEWER_PERMISSIONS,
    PauseGuard,
    plan,
    reviewers_by_programme,
)

ROOT = Path(__file__).resolve().parents[2]
FAB = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"


def test_the_reviewer_role_reads_and_answers_but_never_runs() -> None:
    the_plan = plan({"hebei_smart_cluster": ["hebei_reviewer"]})

    assert not REVIEWER_FORBIDDEN & set(REVIEWER_PERMISSIONS)
    assert {("can_edit", "HITL Detail"), ("can_read", "DAGs"), ("can_read", "Plugins")} <= set(
        REVIEWER_PERMISSIONS
    )
    assert not [
        p for p in REVIEWER_PERMISSIONS if p[1].startswith("DAG:") or p[0] in ("can_create", "can_delete")
    ]
    assert the_plan.roles["Reviewer:hebei_smart_cluster"] == (
        ("can_read", "DAG:decisions__hebei_smart_cluster"),
        ("can_edit", "DAG:decisions__hebei_smart_cluster"),
    )


def test_each_reviewer_answers_its_programmes_and_the_generic_reviewer_all() -> None:
    the_plan = plan({"a": ["ann"], "b": ["bob", "ann"]})

    assert the_plan.users["admin"] == ("Admin",) and the_plan.users["operator"] == ("Op",)
    assert the_plan.users["ann"] == ("Reviewer", "Reviewer:a", "Reviewer:b")
    assert the_plan.users["bob"] == ("Reviewer", "Reviewer:b")
    assert the_plan.users["reviewer"] == ("Reviewer", "Reviewer:a", "Reviewer:b")


def test_an_operator_cannot_be_named_a_reviewer() -> None:
    with pytest.raises(ValueError, match="operator"):
        plan({"a": ["operator"]})


def test_reviewers_come_from_the_programme_files_review_block(tmp_path: Path) -> None:
    (tmp_path / "hebei_smart_cluster.yaml").write_text("id: hebei_smart_cluster\n", encoding="utf-8")
    (tmp_path / "x.yaml").write_text(
        "id: x\nreview:\n  configured: true\n  reviewers: [xu, li]\n", encoding="utf-8"
    )

    found = reviewers_by_programme(tmp_path)

    assert found == {"hebei_smart_cluster": ("hebei_reviewer", "reviewer"), "x": ("xu", "li", "reviewer")}
    assert set(reviewers_by_programme(ROOT / "programmes")) == {
        "hebei_smart_cluster", "miit_sme_cluster", "henan_demo_base", "langfang_digital"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "root", "target"),
    [
        ("PATCH", "/api/v2/dags/decisions__a", "", "decisions__a"),
        ("PATCH", "/api/v2/dags", "", ""),
        ("PATCH", "/airflow/api/v2/dags/decisions__a/", "/airflow", "decisions__a"),
        ("GET", "/api/v2/dags/decisions__a", "", None),
        ("PATCH", "/api/v2/dags/a/dagRuns/r", "", None),
        ("PATCH", "/api/v2/dags/a/dagRuns/r/taskInstances/t/-1/hitlDetails", "", None),
    ],
)
def test_the_pause_guard_looks_only_at_dag_patches(
    method: str, path: str, root: str, target: str | None
) -> None:
    scope = {"type": "http", "method": method, "path": path, "root_path": root}

    assert PauseGuard._target(scope) == target


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A migrated SQLite metadata database, provisioned twice (the second time after a password edit)."""
    home = tmp_path_factory.mktemp("provision")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__CORE__AUTH_MANAGER=FAB,
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        PYTHONPATH=os.pathsep.join([str(ROOT / "include"), str(ROOT / "plugins")]),
    )
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    provision = [
        sys.executable,
        "-m",
        "review_calendar_airflow.access",
        "provision",
        "--extra-programme",
        "test",
    ]
    first = subprocess.run(provision, env=env, capture_output=True, text=True, timeout=300, check=False)
    passwords = json.loads((home / "passwords.json").read_text(encoding="utf-8"))
    edited = {**passwords, "operator": "chosen-by-hand"}
    (home / "passwords.json").write_text(json.dumps(edited), encoding="utf-8")
    second = subprocess.run(provision, env=env, capture_output=True, text=True, timeout=300, check=False)
    return {
        "home": home,
        "env": env,
        "first": first,
        "second": second,
        "passwords": passwords,
        "edited": edited,
    }


def _db(home: object, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(Path(str(home)) / "airflow.db") as conn:
        return conn.execute(query).fetchall()


def test_provisioning_twice_creates_each_user_once_and_prints_no_password(provisioned: dict) -> None:
    first, second = provisioned["first"], provisioned["second"]
    users = _db(provisioned["home"], "SELECT username FROM ab_user ORDER BY id")

    assert first.returncode == 0 and second.returncode == 0, (first.stderr[-2000:], second.stderr[-2000:])
    assert [u for (u,) in users][:3] == ["admin", "operator", "reviewer"]
    assert {"hebei_reviewer", "miit_reviewer", "henan_reviewer", "langfang_reviewer"} <= {u for (u,) in users}
    assert "created:" in first.stdout and "created:" not in second.stdout
    assert not [p for p in provisioned["passwords"].values() if p in first.stdout + first.stderr]


def test_passwords_stay_private_and_a_password_set_in_the_file_is_applied(provisioned: dict) -> None:
    from werkzeug.security import check_password_hash

    path = Path(str(provisioned["home"])) / "passwords.json"
    hashes = dict(_db(provisioned["home"], "SELECT username, password FROM ab_user"))

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text(encoding="utf-8")) == provisioned["edited"]
    assert all(check_password_hash(hashes[u], p) for u, p in provisioned["edited"].items())


def test_the_roles_in_the_database_are_the_table(provisioned: dict) -> None:
    rows = _db(
        provisioned["home"],
        """SELECT r.name, a.name, v.name FROM ab_permission_view_role pr
           JOIN ab_role r ON r.id = pr.role_id JOIN ab_permission_view pv ON pv.id = pr.permission_view_id
           JOIN ab_permission a ON a.id = pv.permission_id JOIN ab_view_menu v ON v.id = pv.view_menu_id""",
    )
    by_role: dict[str, set[tuple[str, str]]] = {}
    for role, action, resource in rows:
        by_role.setdefault(str(role), set()).add((str(action), str(resource)))

    assert by_role["Reviewer"] == set(REVIEWER_PERMISSIONS)
    assert by_role["Reviewer:test"] == {
        ("can_read", "DAG:decisions__test"),
        ("can_edit", "DAG:decisions__test"),
    }
    assert ("can_create", "DAG Runs") in by_role["Op"]


def test_provisioning_publishes_the_user_ids_for_tasks(provisioned: dict) -> None:
    airflow = str(Path(sys.executable).with_name("airflow"))
    get = [airflow, "variables", "get", "review_calendar_user_ids"]
    value = subprocess.run(
        get, env=provisioned["env"], capture_output=True, text=True, timeout=120, check=True
    )
    ids = dict(_db(provisioned["home"], "SELECT username, id FROM ab_user"))

    assert json.loads(value.stdout) == {name: str(i) for name, i in ids.items()}


def test_reviewers_accounts_carry_the_roster_names_and_tasks_get_them(provisioned: dict) -> None:
    names = dict(
        (
            (u, (f, la))
            for u, f, la in _db(provisioned["home"], "SELECT username, first_name, last_name FROM ab_user")
        )
    )
    airflow = str(Path(sys.executable).with_name("airflow"))
    get = [airflow, "variables", "get", "review_calendar_user_names"]
    value = subprocess.run(
        get, env=provisioned["env"], capture_output=True, text=True, timeout=120, check=True
    )

    assert names["hebei_reviewer"] == ("张伟", "河北省工业和信息化厅产业集群处")  # config/reviewers.yaml
    assert names["operator"] == ("operator", "operator")  # not in the roster: the login, no name
    assert json.loads(value.stdout)["hebei_reviewer"] == "张伟 河北省工业和信息化厅产业集群处"
    assert "operator" not in json.loads(value.stdout)
