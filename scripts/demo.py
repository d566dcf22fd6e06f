"""The main job: a whole demonstration year of the review calendar on the embedded defaults.

Run through ``scripts/demo.sh``. Every step goes through the real DAGs with
``dag.test()`` (Airflow's in-process runner) against the project-local
Airflow home and the SQLite review database under ``var/``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("demo")


def say(text: str) -> None:
    print(text, flush=True)


def run_dag(dagbag, dag_id: str, **conf) -> str:  # noqa: ANN001
    """Run one DAG with dag.test() and return its final state."""
    dag = dagbag.dags[dag_id]
    started = time.monotonic()
    run = dag.test(run_conf=conf or None)
    state = str(getattr(run, "state", "unknown"))
    say(f"  DAG {dag_id:<48} {state:<8} {time.monotonic() - started:5.1f} s")
    return state


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--year", type=int, default=None, help="demo cycle year (default from data/demo.yaml)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from review_calendar.cli import main as cli
    from review_calendar.config import get_settings
    from review_calendar.seed import demo_data

    settings = get_settings()
    year = args.year or int(demo_data()["default_year"])
    say(f"==> review database {settings.db_url}")
    cli(["db", "upgrade"])
    cli(["seed", "demo"])
    cli(["programmes", "check"])

    say(f"\n==> {year} 年度审查日历")
    for programme in ("hebei_smart_cluster", "miit_sme_cluster", "henan_demo_base", "langfang_digital"):
        cli(["deadlines", "--programme", programme, "--year", str(year)])
        say("")

    say("==> DAG runs (dag.test)")
    from airflow.dag_processing.dagbag import DagBag

    dagbag = DagBag(dag_folder=str(ROOT / "dags"))
    if dagbag.import_errors:
        for path, error in dagbag.import_errors.items():
            say(f"IMPORT ERROR {path}: {error}")
        return 1
    failed = 0
    for dag_id in sorted(d for d in dagbag.dags if d.startswith("programme_calendar__")):
        failed += run_dag(dagbag, dag_id, year=year) != "success"

    say("\n==> where to look")
    say(f"  review database: {settings.db_url}")
    say(f"  working folder:  {settings.home}")
    say("  Airflow UI:      scripts/airflow-ui.sh, then http://localhost:8080 (see README)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
