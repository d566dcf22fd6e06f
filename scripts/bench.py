"""Benchmark of the review calendar on the synthetic national set; prints a Markdown table.

The performance goals of intake, gates, aggregation and reminders
(docs/benchmarks.md). Every measured step runs in a fresh child process; its wall time and peak memory
(the largest resident set of the step's process tree, from ``os.wait4``) are
taken by this process. Figures are printed; nothing is asserted, and the exit
code is 0 unless a step crashed.

1. DAG parse: a bare ``import airflow.sdk`` in one fresh interpreter, and
   ``import airflow.sdk`` + ``DagBag(dag_folder=<file>)`` for every file of
   ``dags/`` in another (alternated, median of ``--rounds``); then
   ``airflow dags report -o plain`` once.
2. National intake + provincial gate + aggregation of Programme A's half-year
   progress report: one .xlsx per county of ``review_calendar_demo.regions.synthetic_national``
   (generating them is set-up, not measured), taken in as one batch (rows
   checked by the dataset spec as each file is read, no Great Expectations;
   stored 250 files to a transaction), gated (Great Expectations), aggregated,
   reports written. Storing and reading are timed apart, and the step is
   reported as a ratio to simply reading the same files (bytes and first sheet,
   python-calamine) in the same process.
3. Programme B's national roll-up: the annual information tables of about 200
   clusters spread over the 31 provinces, taken in, gated, aggregated and
   rolled up per province (``aggregate.national.national_rollup``).
4. One national reminder day: ``scripts/bench_reminders.py`` (≈3,000 e-mails to
   a local SMTP server in a child process, then the same day again).
5. One county file from a cold command line: ``scripts/bench_ingest.py``
   (``review-calendar ingest`` of one valid file beside a bare
   ``python -c "import pandas"``, alternated, median; goal ≤ 2×, and no
   Great Expectations import on that path).

National scope: the national programme variants (``scope: national``) draw
their submitters from every province (``Programme.region_prefix`` is empty).

Everything happens in a temporary folder (review database, inboxes, reports,
a throw-away ``AIRFLOW_HOME``); ``var/`` and ``.airflow/`` are never touched.

Run: ``scripts/bench.sh [--quick]`` (or ``.venv/bin/python scripts/bench.py`` with
``scripts/env.sh`` sourced). ``--quick`` runs a small set (300 counties, 300
reminders) to smoke-test the script.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GIB = 1024.0
PROGRAMME_A = "bench_national_a"  # from hebei_smart_cluster: half-year progress report
PROGRAMME_B = "bench_national_b"  # from miit_sme_cluster: annual information table
CYCLE_YEAR = 2025
RUN_ID = "bench"
# Where the programme variants get their obligations and rules from.
SOURCES = {PROGRAMME_A: "hebei_smart_cluster", PROGRAMME_B: "miit_sme_cluster"}
OBLIGATIONS = {PROGRAMME_A: "half_year_report", PROGRAMME_B: "annual_info_table"}
# Share of submitters that send nothing, a broken file, or a late one (every n-th).
EVERY_MISSING, EVERY_BROKEN, EVERY_LATE = 97, 53, 13
VERSIONS = (
    "apache-airflow",
    "apache-airflow-task-sdk",
    "great-expectations",
    "pandas",
    "SQLAlchemy",
    "openpyxl",
    "aiosmtpd",
)


# Measuring a child process


@dataclass
class Measured:
    """Wall time, peak memory and output of one child process."""

    argv: list[str]
    seconds: float
    max_rss_mib: float
    returncode: int
    stdout: str
    stderr: str
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def measure(argv: list[str], env: dict[str, str], cwd: Path, result_file: Path | None = None) -> Measured:
    """Run ``argv`` to completion; wall time and peak RSS of its process tree.

    ``os.wait4`` returns the child's resource usage, whose ``ru_maxrss`` is the
    largest resident set of the child and of the descendants it waited for
    (KiB on Linux): the step's own figure, whatever ran before it.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        measured = Measured(
            argv,
            seconds,
            usage.ru_maxrss / 1024.0,
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )
    if result_file is not None and result_file.exists():
        measured.result = json.loads(result_file.read_text(encoding="utf-8"))
    return measured


# Child steps (run as ``bench.py _child STEP ...``)


def _setup_logging() -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)


def _settings() -> Any:
    from review_calendar.settings import get_settings

    return get_settings()


def _programme(programme_id: str) -> tuple[Any, Any]:
    """The national programme variant and its instance."""
    from review_calendar.domain.programmes import find_instance, load_programme_file

    programme = load_programme_file(_settings().programmes_dir / f"{programme_id}.yaml")
    return programme, find_instance(programme, CYCLE_YEAR, OBLIGATIONS[programme_id])


def child_parse_bare(out: Path) -> None:
    """Time a bare ``import airflow.sdk``."""
    started = time.perf_counter()
    import airflow.sdk  # noqa: F401

    out.write_text(json.dumps({"import_s": time.perf_counter() - started}))


def child_parse_dags(out: Path, only: str | None = None) -> None:
    """Time ``import airflow.sdk``, then a DagBag of every DAG file (or only ``only``), one file at a time."""
    started = time.perf_counter()
    import airflow.sdk  # noqa: F401

    sdk = time.perf_counter() - started
    started = time.perf_counter()
    from airflow.dag_processing.dagbag import DagBag

    dagbag_import = time.perf_counter() - started
    files: dict[str, float] = {}
    dags, errors = 0, {}
    for path in sorted((ROOT / "dags").glob("*.py")):
        if only and path.name != only:
            continue
        started = time.perf_counter()
        bag = DagBag(dag_folder=str(path))
        files[path.name] = time.perf_counter() - started
        dags += len(bag.dags)
        errors.update({str(k): str(v)[-300:] for k, v in bag.import_errors.items()})
    out.write_text(
        json.dumps(
            {"sdk_s": sdk, "dagbag_import_s": dagbag_import, "files": files, "dags": dags, "errors": errors}
        )
    )


def _write_programmes(folder: Path) -> None:
    """National variants of two real programmes (scope national, region 100000), validated on load."""
    import yaml

    from review_calendar.domain.programmes import load_programme_file

    folder.mkdir(parents=True, exist_ok=True)
    for programme_id, source in SOURCES.items():
        data = yaml.safe_load((ROOT / "programmes" / f"{source}.yaml").read_text(encoding="utf-8"))
        data.update(
            id=programme_id, scope="national", region_code="100000", name=f"{data['name']}（全国基准）"
        )
        path = folder / f"{programme_id}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        load_programme_file(path)


# Programmes loaded by a set-up worker process, by id.
_PROGRAMMES: dict[str, Any] = {}


def _write_one(task: tuple[str, list[Any], str, str | None, str]) -> None:
    """Write one synthetic submission (a worker of the set-up pool)."""
    from review_calendar.domain.programmes import find_instance, load_programme_file
    from review_calendar.store.queries import Submitter
    from review_calendar_demo.synthetic import break_records, records_for, set_received, write_xlsx

    programme_id, submitter, path, mistake, received = task
    programme = _PROGRAMMES.get(programme_id)
    if programme is None:
        programme = _PROGRAMMES[programme_id] = load_programme_file(
            _settings().programmes_dir / f"{programme_id}.yaml"
        )
    instance = find_instance(programme, CYCLE_YEAR, OBLIGATIONS[programme_id])
    who = Submitter(*submitter)
    records = records_for(programme, instance, who, seed=7)
    for row in records.get("progress_report", []):
        # records_for draws started and completed projects independently, so about one row in
        # nine breaks the suite's "completed <= started" rule; the broken files are chosen below.
        row["projects_completed"] = min(row["projects_completed"], row["projects_started"])
    if mistake:
        data_year = CYCLE_YEAR + programme.obligation(instance.obligation_id).data_year_offset
        records = break_records(records, mistake, data_year)
    write_xlsx(Path(path), records, f"{who.region_name}{instance.title}")
    set_received(Path(path), dt.date.fromisoformat(received))


def child_setup(out: Path, counties: int, clusters: int, workers: int) -> None:
    """Seed the review database with the national set and write every submission file (not measured)."""
    import random
    from concurrent.futures import ProcessPoolExecutor

    from review_calendar.domain.programmes import find_instance, load_programme_file
    from review_calendar.intake.inbox import inbox_dir
    from review_calendar.store.db import session_scope, upgrade, upsert
    from review_calendar.store.queries import record_instances
    from review_calendar.store.tables.registry import Cluster, Enrolment, Region
    from review_calendar_demo.regions import synthetic_national

    _setup_logging()
    settings = _settings()
    _write_programmes(settings.programmes_dir)
    upgrade(settings.db_url)
    regions = synthetic_national(counties_total=counties)
    county_regions = [r for r in regions if r.level == "county"]
    # Programme A: one pilot cluster per county; Programme B: ~200 clusters drawn from every province.
    drawn = random.Random(CYCLE_YEAR).sample(county_regions, min(clusters, len(county_regions)))
    members = {PROGRAMME_A: county_regions, PROGRAMME_B: sorted(drawn, key=lambda r: r.code)}
    suffix = {PROGRAMME_A: "智慧集群", PROGRAMME_B: "特色产业集群"}
    cluster_rows, enrolments = [], []
    for programme_id, rows in members.items():
        for r in rows:
            cluster_id = f"{programme_id}_{r.code}"
            cluster_rows.append(
                {
                    "id": cluster_id,
                    "name": f"{r.name}{suffix[programme_id]}",
                    "region_code": r.code,
                    "synthetic": True,
                }
            )
            enrolments.append(
                {"programme_id": programme_id, "cluster_id": cluster_id, "recognised_on": dt.date(2024, 1, 2),
                 "valid_until": dt.date(2027, 1, 1), "status": "active"}
            )  # fmt: skip
    with session_scope(settings.db_url) as session:
        upsert(
            session,
            Region,
            [
                {
                    "code": r.code,
                    "name": r.name,
                    "level": r.level,
                    "parent_code": r.parent_code,
                    "province_code": r.province_code,
                }
                for r in regions
            ],  # fmt: skip
            ["code"],
        )
        upsert(session, Cluster, cluster_rows, ["id"])
        upsert(session, Enrolment, enrolments, ["programme_id", "cluster_id"])
    tasks: list[tuple[str, list[Any], str, str | None, str]] = []
    summary: dict[str, Any] = {}
    for programme_id, rows in members.items():
        programme = load_programme_file(settings.programmes_dir / f"{programme_id}.yaml")
        record_instances(settings.db_url, programme, CYCLE_YEAR)
        instance = find_instance(programme, CYCLE_YEAR, OBLIGATIONS[programme_id])
        folder, due = inbox_dir(settings, instance), instance.effective_due
        counts = {"submitters": len(rows), "files": 0, "broken": 0, "late": 0, "missing": 0}
        for n, r in enumerate(rows, start=1):
            if n % EVERY_MISSING == 0:
                counts["missing"] += 1
                continue
            mistake = (
                ("wrong_year", "missing_column")[(n // EVERY_BROKEN) % 2] if n % EVERY_BROKEN == 0 else None
            )
            late = n % EVERY_LATE == 0
            received = due + dt.timedelta(days=1 + n % 10) if late else due - dt.timedelta(days=n % 10)
            who = [
                r.code,
                r.name,
                r.parent_code,
                f"{programme_id}_{r.code}",
                f"{r.name}{suffix[programme_id]}",
            ]
            # One upload folder per region, as the portal delivers them (inbox.region_hint).
            path = folder / r.code / f"{r.code}{r.name}{instance.title}.xlsx"
            tasks.append((programme_id, who, str(path), mistake, received.isoformat()))
            counts["files"] += 1
            counts["broken"] += mistake is not None
            counts["late"] += late and mistake is None
        summary[programme_id] = {**counts, "instance": instance.key, "due": due.isoformat()}
    started = time.perf_counter()
    with ProcessPoolExecutor(max(1, workers)) as pool:
        list(pool.map(_write_one, tasks, chunksize=25))
    out.write_text(
        json.dumps(
            {
                "regions": len(regions),
                "counties": len(county_regions),
                "provinces": len({r.province_code for r in regions}),
                "programmes": summary,
                "write_s": time.perf_counter() - started,
            }
        )
    )


def _timed(function: Any, totals: dict[str, float], key: str) -> Any:
    """``function``, adding the seconds of every call to ``totals[key]``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - started

    return wrapper


def _plain_read(files: list[Path]) -> float:
    """Seconds to simply read the same files: each file's bytes and its first sheet's cells (python-calamine).

    What any program taking the files in must do at least; step 2 is reported as a ratio to it.
    """
    import io

    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    for path in files:
        book = CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes()))
        book.get_sheet_by_index(0).to_python()
    return time.perf_counter() - started


def _run_pipeline(programme_id: str, *, rollup: bool) -> dict[str, Any]:
    """Intake (one batch) + provincial gate + aggregation + reports of one instance, timed by phase."""
    from sqlalchemy import select

    from review_calendar.aggregate.national import national_rollup
    from review_calendar.aggregate.write import aggregate_province
    from review_calendar.domain.calendar import TZ
    from review_calendar.gate.provincial import run_gate
    from review_calendar.intake import ingest
    from review_calendar.intake.inbox import pending_files
    from review_calendar.report.gate_page import write_gate_page
    from review_calendar.report.publish import write_reports
    from review_calendar.store.db import session_scope
    from review_calendar.store.tables.registry import Region
    from review_calendar.tasks import intake as tasks
    from review_calendar.tasks import storing

    settings = _settings()
    programme, instance = _programme(programme_id)
    # Where intake's time goes: reading + row checks per file, and storing (many files per transaction).
    intake_parts = {"read_s": 0.0, "persist_s": 0.0}
    for module, name, key in ((ingest, "parse_file", "read_s"), (storing, "store_chunk", "persist_s")):
        setattr(module, name, _timed(getattr(module, name), intake_parts, key))
    phases: dict[str, float] = {}
    files = pending_files(settings, instance)
    plain_read_s = _plain_read(files)
    started = time.perf_counter()
    # Each file as a live sweep would have seen it: at its arrival (the moment set_received gave it).
    arrived = {f: dt.datetime.fromtimestamp(f.stat().st_mtime, TZ) for f in files}
    report = tasks.ingest_files(settings.db_url, settings, programme, instance, files, received_at=arrived)
    phases["ingest_s"] = time.perf_counter() - started

    started = time.perf_counter()
    with session_scope(settings.db_url) as session:
        known = set(session.scalars(select(Region.code)))
        gate = run_gate(
            session, programme, instance, run_id=RUN_ID, expectations_dir=settings.expectations_dir,
            reports_dir=settings.reports_dir, known_region_codes=known,
        )  # fmt: skip
        write_gate_page(programme, instance, RUN_ID, gate)
    phases["gate_s"] = time.perf_counter() - started

    as_of = instance.effective_due + dt.timedelta(days=14)
    started = time.perf_counter()
    with session_scope(settings.db_url) as session:
        aggregate = aggregate_province(session, programme, instance, as_of)
    phases["aggregate_s"] = time.perf_counter() - started

    started = time.perf_counter()
    write_reports(settings.reports_dir, programme, instance, aggregate, aggregate.states, gate.html_path)
    phases["reports_s"] = time.perf_counter() - started

    result: dict[str, Any] = {}
    if rollup:
        started = time.perf_counter()
        with session_scope(settings.db_url) as session:
            frame = national_rollup(
                session, programme, CYCLE_YEAR, aggregate, obligation_id=instance.obligation_id
            )
        phases["rollup_s"] = time.perf_counter() - started
        result["rollup"] = {
            "provinces": len(frame),
            "clusters_reported": float(frame["clusters_reported"].sum())
            if "clusters_reported" in frame
            else None,
            "criteria_met_all": float(frame["criteria_met_all"].sum())
            if "criteria_met_all" in frame
            else None,
        }
    summary = aggregate.summary()
    return {
        **result,
        "files": len(files),
        "intake": report.counts(),
        "gate": {"success": gate.success, "critical": len(gate.critical), "warnings": len(gate.warnings)},
        "aggregate": {
            k: summary[k] for k in ("expected", "on_time", "late", "missing", "rejected", "rows_written")
        },
        "phases": phases,
        "intake_parts": intake_parts,
        "pipeline_s": sum(phases.values()),
        "plain_read_s": plain_read_s,
    }


def child_national(out: Path) -> None:
    """Step 2: Programme A's half-year report for every county in one intake batch."""
    _setup_logging()
    out.write_text(json.dumps(_run_pipeline(PROGRAMME_A, rollup=False)))


def child_programme_b(out: Path) -> None:
    """Step 3: Programme B's annual information tables, aggregated and rolled up per province."""
    _setup_logging()
    out.write_text(json.dumps(_run_pipeline(PROGRAMME_B, rollup=True)))


def run_child(argv: list[str]) -> None:
    """Entry point of the child processes."""
    parser = argparse.ArgumentParser(prog="bench.py _child")
    parser.add_argument("step")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--counties", type=int, default=2850)
    parser.add_argument("--clusters", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--file", help="parse-dags: only this file of dags/")
    args = parser.parse_args(argv)
    steps = {
        "parse-bare": lambda: child_parse_bare(args.out),
        "parse-dags": lambda: child_parse_dags(args.out, args.file),
        "setup": lambda: child_setup(args.out, args.counties, args.clusters, args.workers),
        "national": lambda: child_national(args.out),
        "programme-b": lambda: child_programme_b(args.out),
    }
    steps[args.step]()


# Orchestration and the table


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    from importlib import metadata

    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    meminfo = Path("/proc/meminfo").read_text(encoding="utf-8", errors="replace")
    mem_kib = re.search(r"^MemTotal:\s*(\d+)", meminfo, re.MULTILINE)
    out = {
        "CPUs (nproc)": str(len(os.sched_getaffinity(0))),
        "CPU model": model.group(1).strip() if model else "unknown",
        "RAM": f"{int(mem_kib.group(1)) / 1024 / 1024:.1f} GiB" if mem_kib else "unknown",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
    }
    for package in VERSIONS:
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    out["load average at start (1/5/15 min)"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return out


def child_env(work: Path) -> dict[str, str]:
    """The environment of every child: scripts/env.sh's settings, with Airflow and the review data in ``work``."""
    env = dict(os.environ)
    paths = [str(ROOT / "include"), str(ROOT / "plugins")]
    paths += [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p not in paths]
    env.update(
        PYTHONPATH=os.pathsep.join(paths),
        AIRFLOW_HOME=str(work / "airflow"),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DEFAULT_TIMEZONE="Asia/Shanghai",
        # `airflow dags report` only parses files, but by default refuses to run on an
        # un-migrated metadata database; the throw-away AIRFLOW_HOME has none.
        AIRFLOW__DATABASE__CHECK_MIGRATIONS="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        REVIEW_CALENDAR_HOME=str(work / "home"),
        REVIEW_CALENDAR_DB_URL=f"sqlite:///{work / 'home' / 'review.db'}",
        TZ="Asia/Shanghai",
        PYTHONWARNINGS=env.get("PYTHONWARNINGS", "ignore::DeprecationWarning"),
    )
    return env


@dataclass
class Table:
    """The result table: step | figure | goal | ok."""

    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)

    def add(self, step: str, figure: str, goal: str = "", ok: bool | None = None) -> None:
        self.rows.append((step, figure, goal, "" if ok is None else ("yes" if ok else "**no**")))

    def memory(self, step: str, measured: Measured, what: str = "") -> None:
        self.add(
            step, f"peak memory {measured.max_rss_mib:,.0f} MiB{what}", "< 1 GiB", measured.max_rss_mib < GIB
        )

    def crash(self, step: str, measured: Measured) -> None:
        self.crashed.append(step)
        self.rows.append((step, f"crashed (exit {measured.returncode})", "", "**crashed**"))
        tail = "\n".join((measured.stderr or measured.stdout).strip().splitlines()[-15:])
        self.details.append(f"{step} crashed:\n```\n{tail}\n```")

    def markdown(self) -> str:
        lines = ["| step | figure | goal | ok |", "|---|---|---|---|"]
        lines += [f"| {' | '.join(r)} |" for r in self.rows]
        return "\n".join(lines)


def _child(step: str, work: Path, env: dict[str, str], *extra: str) -> Measured:
    out = work / "results" / f"{step}-{time.monotonic_ns()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, str(Path(__file__).resolve()), "_child", step, "--out", str(out), *extra]
    return measure(argv, env, work, out)


def bench_parse(table: Table, work: Path, env: dict[str, str], rounds: int) -> None:
    """Step 1: DAG parse vs a bare import of the SDK, alternated; median of ``rounds`` after a warm-up."""
    step = "1 DAG parse"
    bare: list[float] = []
    totals: list[float] = []
    per_file: dict[str, list[float]] = {}
    last: Measured | None = None
    alone: dict[str, list[float]] = {}
    names = sorted(p.name for p in (ROOT / "dags").glob("*.py"))
    for n in range(rounds + 1):
        # Alternate the order so that drift in the machine's load hits both alike.
        order = ("parse-bare", "parse-dags") if n % 2 else ("parse-dags", "parse-bare")
        for kind in order:
            m = _child(kind, work, env)
            if not m.ok:
                table.crash(step, m)
                return
            if n == 0:
                continue  # warm-up: bytecode caches, file system caches
            if kind == "parse-bare":
                bare.append(m.result["import_s"])
            else:
                last = m
                totals.append(m.result["sdk_s"] + sum(m.result["files"].values()))
                for name, seconds in m.result["files"].items():
                    per_file.setdefault(name, []).append(seconds)
        # Each file alone in a fresh interpreter pays every import it needs, as the first file
        # of a DAG processor's child would: the worst case per file.
        for name in names if n else ():
            m = _child("parse-dags", work, env, "--file", name)
            if not m.ok:
                table.crash(step, m)
                return
            alone.setdefault(name, []).append(m.result["files"][name])
    assert last is not None
    sdk, total = statistics.median(bare), statistics.median(totals)
    files = {name: statistics.median(v) for name, v in per_file.items()}
    slowest = max(files, key=files.__getitem__)
    table.add(step, f"bare `import airflow.sdk`: {sdk:.2f} s (median of {rounds})")
    table.add(
        step,
        f"`import airflow.sdk` + DagBag of each of {len(files)} files ({last.result['dags']} DAGs): {total:.2f} s"
        f" = **{total / sdk:.2f}×** the bare import",
        "≤ 1.5×",
        total / sdk <= 1.5,
    )
    table.add(
        step,
        f"slowest file in that sequence: {slowest} {files[slowest]:.3f} s",
        "≤ 0.5 s per file",
        files[slowest] <= 0.5,
    )
    worst = {name: statistics.median(v) for name, v in alone.items()}
    slowest_alone = max(worst, key=worst.__getitem__)
    table.add(
        step,
        f"each file alone in a fresh interpreter (after `import airflow.sdk`): slowest {slowest_alone}"
        f" {worst[slowest_alone]:.3f} s",
        "≤ 0.5 s per file",
        worst[slowest_alone] <= 0.5,
    )
    if last.result["errors"]:
        table.add(step, f"import errors: {', '.join(last.result['errors'])}", "none", False)
    table.details.append(
        "DAG parse, per file (DagBag, median): "
        + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in sorted(files.items()))
        + "; each alone in a fresh interpreter: "
        + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in sorted(worst.items()))
        + f"; importing DagBag itself (not counted): {last.result['dagbag_import_s']:.2f} s"
    )

    airflow = Path(sys.executable).with_name("airflow")
    report = measure(
        [str(airflow if airflow.exists() else "airflow"), "dags", "report", "-o", "plain"], env, work
    )
    if not report.ok:
        table.crash(f"{step} (dags report)", report)
    else:
        durations = {}
        for line in report.stdout.splitlines():
            match = re.match(r"^\s*(\S+\.py)\s+(\d+):(\d+):(\d+(?:\.\d+)?)\s+(\d+)\s+(\d+)", line)
            if match:
                h, m, s = int(match.group(2)), int(match.group(3)), float(match.group(4))
                durations[match.group(1)] = h * 3600 + m * 60 + s
        worst = max(durations.values()) if durations else float("nan")
        table.add(
            step,
            "`airflow dags report`: "
            + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in sorted(durations.items())),
            "≤ 0.5 s per file",
            bool(durations) and worst <= 0.5,
        )
    table.memory(step, last, " (parse process)")


def bench_national(table: Table, work: Path, env: dict[str, str], args: argparse.Namespace) -> None:
    """Steps 2 and 3: set-up, national intake + gate + aggregation, Programme B roll-up."""
    step = "2 national intake + gate + aggregation"
    env = {**env, "REVIEW_CALENDAR_PROGRAMMES": str(work / "programmes")}
    setup = _child(
        "setup", work, env, "--counties", str(args.counties), "--clusters", str(args.clusters),
        "--workers", str(len(os.sched_getaffinity(0))),
    )  # fmt: skip
    if not setup.ok:
        table.crash("set-up", setup)
        return
    s = setup.result
    a, b = s["programmes"][PROGRAMME_A], s["programmes"][PROGRAMME_B]
    table.details.append(
        f"Set-up (not measured against a goal): {s['regions']:,} regions in {s['provinces']} provinces, "
        f"{s['counties']:,} counties; {a['files']:,} progress-report files for {a['submitters']:,} counties "
        f"({a['broken']} broken, {a['late']} late, {a['missing']} not sent) and {b['files']} annual tables for "
        f"{b['submitters']} Programme B clusters, written in {s['write_s']:.0f} s; {setup.seconds:.0f} s in all."
    )

    national = _child("national", work, env)
    if not national.ok:
        table.crash(step, national)
    if national.ok:
        r = national.result
        p = r["phases"]
        parts = r["intake_parts"]
        # The plain read runs in the same process first; it is not part of the step.
        process_s = national.seconds - r["plain_read_s"]
        table.add(
            step,
            f"{r['files']:,} files: **{process_s:.1f} s** for the whole process (intake "
            f"{p['ingest_s']:.1f} s: reading and row checks {parts['read_s']:.1f} s, "
            f"storing {parts['persist_s']:.1f} s; gate {p['gate_s']:.1f} s, "
            f"aggregation {p['aggregate_s']:.1f} s, reports {p['reports_s']:.1f} s; interpreter start and "
            f"imports {process_s - r['pipeline_s']:.1f} s)",
            "≤ 14 s (idle machine)",
            process_s <= 14,
        )
        table.add(
            step,
            f"storing {parts['persist_s']:.2f} s ({1000 * parts['persist_s'] / max(r['files'], 1):.2f} ms/file), "
            f"reading and row checks {parts['read_s']:.2f} s "
            f"({1000 * parts['read_s'] / max(r['files'], 1):.2f} ms/file)",
            "storing < 2 s",
            parts["persist_s"] < 2,
        )
        table.add(
            step,
            f"intake + gate + aggregation + reports {r['pipeline_s']:.1f} s against simply reading the same "
            f"files (bytes + first sheet, python-calamine) {r['plain_read_s']:.2f} s in the same process: "
            f"**{r['pipeline_s'] / max(r['plain_read_s'], 1e-9):.1f}×**",
            "(ratio reported)",
        )
        i, g, agg = r["intake"], r["gate"], r["aggregate"]
        table.details.append(
            f"National run: intake accepted {i['accepted']:,}, rejected {i['rejected']}, duplicates {i['duplicates']}; "
            f"gate {'passed' if g['success'] else 'FAILED'} ({g['critical']} critical, {g['warnings']} warnings); "
            f"aggregation: {agg['expected']:,} expected, {agg['on_time']:,} on time, {agg['late']} late, "
            f"{agg['missing']} missing, {agg['rejected']} rejected; {agg['rows_written']:,} aggregate rows written."
        )
        table.memory(step, national)

    step_b = "3 Programme B national roll-up"
    programme_b = _child("programme-b", work, env)
    if not programme_b.ok:
        table.crash(step_b, programme_b)
        return
    r = programme_b.result
    p = r["phases"]
    roll = r["rollup"]
    table.add(
        step_b,
        f"{r['files']} annual tables of {b['submitters']} clusters → {roll['provinces']} provinces + national total: "
        f"**{programme_b.seconds:.1f} s** (intake {p['ingest_s']:.1f}, gate {p['gate_s']:.1f}, aggregation "
        f"{p['aggregate_s']:.1f}, reports {p['reports_s']:.1f}, roll-up {p['rollup_s']:.2f} s)",
        "(no goal)",
    )
    table.details.append(
        f"Programme B: {r['intake']['accepted']} accepted, {r['intake']['rejected']} rejected; gate "
        f"{'passed' if r['gate']['success'] else 'FAILED'} ({r['gate']['critical']} critical, "
        f"{r['gate']['warnings']} warnings); roll-up: {roll['clusters_reported']:.0f} clusters reported, "
        f"{roll['criteria_met_all']:.0f} meeting every criterion (the 3-year criteria are unknown without "
        "earlier cycles, so few or none)."
    )
    table.memory(step_b, programme_b)


def bench_reminders(table: Table, work: Path, env: dict[str, str], regions: int) -> None:
    """Step 4: scripts/bench_reminders.py as a child process; its printed figures parsed."""
    step = "4 national reminder day"
    m = measure(
        [sys.executable, str(ROOT / "scripts" / "bench_reminders.py"), "--regions", str(regions)], env, work
    )
    if not m.ok:
        table.crash(step, m)
        return
    runs = {}
    for line in m.stdout.splitlines():
        for name in ("first", "second"):
            if line.startswith(name):
                fields = line.split()[-6:]
                runs[name] = dict(
                    zip(
                        ("queued", "sent", "plan_s", "send_s", "total_s", "rate"),
                        map(float, fields),
                        strict=True,
                    )
                )
    received = re.search(r"received by the SMTP server:\s*(\d+)", m.stdout)
    if "first" not in runs or "second" not in runs:
        table.crash(step, m)
        return
    first, second = runs["first"], runs["second"]
    table.add(
        step,
        f"{first['queued']:,.0f} reminders planned, {first['sent']:,.0f} sent: **{first['total_s']:.1f} s** "
        f"(plan {first['plan_s']:.1f} s, send {first['send_s']:.1f} s, {first['rate']:,.0f} msgs/s)",
        "≤ 15 s",
        first["total_s"] <= 15,
    )
    table.add(
        step,
        f"same day again: {second['queued']:.0f} queued, **{second['sent']:.0f} sent** ({second['total_s']:.2f} s); "
        f"server received {received.group(1) if received else '?'} in all",
        "0 sent",
        second["sent"] == 0,
    )
    table.details.append(
        f"Reminders: whole script {m.seconds:.1f} s including seeding {regions:,} counties and starting the server."
    )
    table.memory(step, m, " (largest process: sender or SMTP server)")


def bench_ingest(table: Table, work: Path, env: dict[str, str], rounds: int) -> None:
    """Step 5: ``review-calendar ingest`` of one valid file from a cold command line vs a bare ``import pandas``."""
    step = "5 one county file, cold command line"
    m = measure(
        [sys.executable, str(ROOT / "scripts" / "bench_ingest.py"), str(work / "ingest"), str(rounds)],
        env,
        work,
    )
    if not m.ok:
        table.crash(step, m)
        return
    r = json.loads(m.stdout.strip().splitlines()[-1])
    table.add(step, f'bare `python -c "import pandas"`: {r["pandas_s"]:.2f} s (median of {rounds})')
    table.add(
        step,
        f"`review-calendar ingest` of one valid file: {r['ingest_s']:.2f} s = **{r['ratio']:.2f}×** the bare import",
        "≤ 2×",
        r["ratio"] <= 2.0,
    )
    table.add(
        step,
        f"Great Expectations imported by the ingest command: {'yes' if r['gx_imported'] else 'no'}",
        "no",
        not r["gx_imported"],
    )
    if r.get("instructions"):
        ir = r["instructions"]
        table.add(
            step,
            f"CPU instructions (valgrind, one run each; load does not move them): ingest "
            f"{ir['ingest'] / 1e9:.2f} G, bare import {ir['pandas'] / 1e9:.2f} G = {ir['ratio']:.2f}×",
            "(reported; the goal is on wall time)",
        )


def main() -> int:
    """Run every step, print the machine, the table and the notes."""
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        run_child(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run: 300 counties, 300 reminders")
    parser.add_argument("--counties", type=int, help="county-level units of the national set (default 2850)")
    parser.add_argument("--clusters", type=int, help="Programme B clusters (default 200)")
    parser.add_argument("--reminders", type=int, help="lagging counties to remind (default 3000)")
    parser.add_argument(
        "--rounds",
        type=int,
        help="rounds of the parse measurement (default 3; the cold command takes 3× as many)",
    )
    parser.add_argument(
        "--only",
        choices=("parse", "national", "reminders", "ingest"),
        action="append",
        help="run only these steps",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = parser.parse_args()
    quick = {"counties": 300, "clusters": 60, "reminders": 300, "rounds": 1}
    full = {"counties": 2850, "clusters": 200, "reminders": 3000, "rounds": 3}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    only = set(args.only or ("parse", "national", "reminders", "ingest"))

    work = Path(tempfile.mkdtemp(prefix="rc-bench-"))
    env = child_env(work)
    table = Table()
    started = time.perf_counter()
    described = machine()
    print(f"review-calendar benchmark, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
          f"{' (--quick)' if args.quick else ''}; working in {work}", flush=True)  # fmt: skip
    try:
        if "parse" in only:
            print("==> 1 DAG parse", flush=True)
            bench_parse(table, work, env, args.rounds)
        if "national" in only:
            print(
                f"==> 2-3 national set ({args.counties} counties, {args.clusters} Programme B clusters)",
                flush=True,
            )
            bench_national(table, work, env, args)
        if "reminders" in only:
            print(f"==> 4 reminders ({args.reminders})", flush=True)
            bench_reminders(table, work, env, args.reminders)
        if "ingest" in only:
            print("==> 5 one county file, cold command line", flush=True)
            # Each round is about a second: more of them than the parse step, for a steadier median.
            bench_ingest(table, work, env, max(3 * args.rounds, 3))
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    described["load average at end (1/5/15 min)"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print("\n## Machine\n")
    print("\n".join(f"- {key}: {value}" for key, value in described.items()))
    print("\n## Results\n")
    print(table.markdown())
    if table.notes:
        print("\n## Notes\n")
        print("\n".join(f"- {n}" for n in table.notes))
    print("\n## Details\n")
    print("\n".join(f"- {d}" for d in table.details))
    print(f"\nBenchmark wall time: {time.perf_counter() - started:.0f} s.")
    return 1 if table.crashed else 0


if __name__ == "__main__":
    sys.exit(main())
