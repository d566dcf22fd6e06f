"""One county file judged from a cold command line, side by side with a bare ``import pandas``.

Set-up (not measured): a review database with the demo's regions and
contacts in a temporary home, and one valid contact list per round (each with
other values, so that no round is a duplicate of another). Then, alternated
so that drift in the machine's load hits both alike, each in a fresh
interpreter: ``python -c "import pandas"`` and ``review-calendar ingest FILE
--programme hebei_smart_cluster --year 2025 --obligation contact_list``.
The first pair is a warm-up (bytecode and file system caches). Prints one
JSON object: the medians, their ratio and whether the ingest command
imported Great Expectations (it must not: row checks at intake are the
dataset spec's own; Great Expectations is the provincial gate). Where
valgrind is installed, each command is also counted once in CPU instructions
(callgrind), a figure the machine's load does not move; it is reported, the
goal is on wall time.

Run: ``python scripts/bench_ingest.py OUT_DIR [ROUNDS]`` with ``scripts/env.sh``
sourced (``scripts/bench.py`` runs it as its step 5).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROGRAMME, YEAR, OBLIGATION, CITY = "hebei_smart_cluster", 2025, "contact_list", "130100"
#: The yardstick: a bare ``import pandas`` in a fresh interpreter.
PANDAS = [sys.executable, "-c", "import pandas"]


def _setup(work: Path, rounds: int) -> tuple[dict[str, str], list[Path]]:
    """The children's environment and one valid file per round (written by this process)."""
    home = work / "home"
    env = {
        **os.environ,
        "REVIEW_CALENDAR_HOME": str(home),
        "REVIEW_CALENDAR_DB_URL": f"sqlite:///{home / 'review.db'}",
    }
    os.environ.update(env)
    from review_calendar.domain.programmes import find_instance, load_programme
    from review_calendar.store.db import upgrade
    from review_calendar.store.queries import Submitter, record_instances
    from review_calendar_demo.seed import seed_demo
    from review_calendar_demo.synthetic import records_for, set_received, write_xlsx

    home.mkdir(parents=True, exist_ok=True)
    url = env["REVIEW_CALENDAR_DB_URL"]
    upgrade(url)
    seed_demo(url)
    programme = load_programme(PROGRAMME)
    record_instances(url, programme, YEAR)
    instance = find_instance(programme, YEAR, OBLIGATION)
    city = Submitter(CITY, "石家庄市", CITY)
    files = []
    for n in range(rounds + 3):  # a warm-up, the rounds, one for the import probe, one for valgrind
        path = write_xlsx(
            work / "files" / f"{n}" / "石家庄市联系人名单.xlsx",
            records_for(programme, instance, city, seed=n),
            "联系人名单",
        )
        set_received(path, instance.effective_due)
        files.append(path)
    return env, files


def _instructions(argv: list[str], env: dict[str, str]) -> int | None:
    """CPU instructions the command executes, counted by valgrind's callgrind (None: no valgrind)."""
    if shutil.which("valgrind") is None:
        return None
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    return int(found.group(1).replace(",", "")) if done.returncode == 0 and found else None


def _ingest_argv(cli: str, path: Path) -> list[str]:
    """The county's command: ``review-calendar ingest`` of ``path`` for the benchmark's instance."""
    return [
        cli,
        "ingest",
        str(path),
        "--programme",
        PROGRAMME,
        "--year",
        str(YEAR),
        "--obligation",
        OBLIGATION,
    ]


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done


def main(out_dir: str, rounds: int = 5) -> int:
    """Measure and print the figures as JSON; exit 1 when a file was not accepted."""
    work = Path(out_dir)
    env, files = _setup(work, rounds)
    cli = str(Path(sys.executable).with_name("review-calendar"))
    pandas_s: list[float] = []
    ingest_s: list[float] = []
    failed: list[str] = []
    for n, path in enumerate(files[:-2]):
        ingest = _ingest_argv(cli, path)
        order = ("pandas", "ingest") if n % 2 else ("ingest", "pandas")
        for kind in order:
            if kind == "pandas":
                seconds, _ = _timed(PANDAS, env)
                pandas_s.append(seconds)
            else:
                seconds, done = _timed(ingest, env)
                ingest_s.append(seconds)
                if done.returncode != 0:
                    failed.append(done.stdout.strip() or done.stderr.strip()[-300:])
    # The same command in-process, once more: which modules did judging a file import?
    probe = (
        "import sys; from review_calendar.cli import main; main(sys.argv[1:]);"
        "print('GX', 'great_expectations' in sys.modules)"
    )
    imported = subprocess.run(
        [sys.executable, "-c", probe, *_ingest_argv(cli, files[-2])[1:]],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    pandas_ir = _instructions(PANDAS, env)
    ingest_ir = _instructions(_ingest_argv(cli, files[-1]), env)
    pandas, ingest = statistics.median(pandas_s[1:]), statistics.median(ingest_s[1:])
    print(json.dumps({
        "rounds": rounds,
        "pandas_s": round(pandas, 3),
        "ingest_s": round(ingest, 3),
        "ratio": round(ingest / pandas, 2),
        "gx_imported": "GX True" in imported.stdout,
        "instructions": None if not (pandas_ir and ingest_ir) else {
            "pandas": pandas_ir, "ingest": ingest_ir, "ratio": round(ingest_ir / pandas_ir, 2)},
        "failed": failed,
    }, ensure_ascii=False))  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5))
