"""Benchmark: plan one reminder day for ~3,000 lagging regions and deliver to a local SMTP server.

Seeds a fresh SQLite review database with a synthetic province (code 99…):
40 cities x 75 counties, one enrolled cluster per county, a contact list for
every region. Plans the reminders of 2025-07-18 (3 working days after the
half-year report's due date, so each reminder also copies the city leader),
delivers them over one SMTP connection to the aiosmtpd server of
``review_calendar_demo.local_smtp`` (in a child process, like a real server), then runs
the same day again, which must queue and send nothing. Prints figures;
asserts nothing.

Run: ``.venv/bin/python scripts/bench_reminders.py [--regions 3000] [--rate N] [--durable] [--same-process]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import multiprocessing as mp
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

from review_calendar.domain.programmes import Programme, load_programme_file  # noqa: E402
from review_calendar.notify.delivery import deliver  # noqa: E402
from review_calendar.notify.recipients import ROLE_DIVISION, ROLE_LEADER  # noqa: E402
from review_calendar.notify.reminders import plan_reminders  # noqa: E402
from review_calendar.notify.smtp import smtp_sender  # noqa: E402
from review_calendar.settings import SmtpSettings, get_settings  # noqa: E402
from review_calendar.store.db import session_scope, upgrade, upsert  # noqa: E402
from review_calendar.store.tables.registry import Cluster, Contact, Enrolment, Region  # noqa: E402
from review_calendar_demo.local_smtp import LocalSmtpServer, free_port  # noqa: E402

AS_OF = dt.date(2025, 7, 18)
COUNTIES_PER_CITY = 75


def bench_programme() -> Programme:
    """The Hebei pilot programme, renamed for the synthetic province, half-year report only."""
    base = load_programme_file(get_settings().programmes_dir / "hebei_smart_cluster.yaml")
    return base.model_copy(
        update={
            "id": "bench_cluster",
            "region_code": "990000",
            "obligations": [base.obligation("half_year_report")],
        }
    )


def _region(code: str, name: str, level: str, parent: str | None) -> dict[str, Any]:
    return {"code": code, "name": name, "level": level, "parent_code": parent, "province_code": "990000"}


def _contact(programme: Programme, code: str, role: str, name: str, prefix: str) -> dict[str, Any]:
    return {
        "programme_id": programme.id,
        "cycle_year": 2025,
        "region_code": code,
        "role": role,
        "name": name,
        "post": "",
        "office_phone": "",
        "mobile": "",
        "email": f"{prefix}.{code}@bench.example.cn",
    }


def seed(url: str, programme: Programme, regions: int) -> int:
    """Write the synthetic province; returns the number of counties."""
    cities = -(-regions // COUNTIES_PER_CITY)
    region_rows = [_region("990000", "基准省", "province", None)]
    counties: list[str] = []
    for c in range(1, cities + 1):
        city = f"99{c:02d}00"
        region_rows.append(_region(city, f"基准{c}市", "city", "990000"))
        for n in range(1, COUNTIES_PER_CITY + 1):
            if len(counties) < regions:
                counties.append(f"99{c:02d}{n:02d}")
                region_rows.append(_region(counties[-1], f"基准{c}市{n}县", "county", city))
    clusters = [
        {"id": f"bench_{code}", "name": f"基准{code}产业集群", "region_code": code, "synthetic": True}
        for code in counties
    ]
    enrolments = [
        {
            "programme_id": programme.id,
            "cluster_id": f"bench_{code}",
            "recognised_on": dt.date(2025, 1, 2),
            "valid_until": dt.date(2028, 1, 1),
            "status": "active",
        }
        for code in counties
    ]
    contacts = [
        _contact(programme, r["code"], role, name, prefix)
        for r in region_rows[1:]
        for role, name, prefix in ((ROLE_DIVISION, "张伟", "div"), (ROLE_LEADER, "李强", "lead"))
    ]
    with session_scope(url) as session:
        upsert(session, Region, region_rows, ["code"])
        upsert(session, Cluster, clusters, ["id"])
        upsert(session, Enrolment, enrolments, ["programme_id", "cluster_id"])
        upsert(session, Contact, contacts, ["programme_id", "cycle_year", "region_code", "role"])
    return len(counties)


def serve(port: int, ready: Connection, stop: Connection) -> None:
    """Run the local SMTP server in a child process until told to stop; report what it received."""
    server = LocalSmtpServer(port=port).start()
    ready.send(True)
    stop.recv()
    server.stop()
    ready.send(len(server.received))


def run_day(url: str, programme: Programme, settings: SmtpSettings, args: argparse.Namespace) -> tuple:
    """Plan and deliver one day; returns the figures of the run."""
    started = time.perf_counter()
    plan = plan_reminders(url, programme, 2025, AS_OF)
    planned = time.perf_counter() - started
    with smtp_sender(settings) as send:
        report = deliver(
            url, send, sender=programme.office.sender, rate_per_second=args.rate, fast_commit=not args.durable
        )
    return plan.queued, report.sent, planned, report.seconds, report.rate


def main() -> None:
    """Seed, plan and deliver twice; print a table of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=3000, help="lagging counties (default 3000)")
    parser.add_argument("--rate", type=float, default=None, help="messages per second (default: unlimited)")
    parser.add_argument(
        "--durable", action="store_true", help="flush every 'sent' mark to disk (fast_commit off)"
    )
    parser.add_argument("--same-process", action="store_true", help="run the SMTP server in this process")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="rc-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'review.db'}"
        upgrade(url)
        programme = bench_programme()
        counties = seed(url, programme, args.regions)
        port = free_port()
        settings = SmtpSettings(host="127.0.0.1", port=port, timeout=30)
        # The server runs in its own process by default, as a real one would: it
        # does not compete with the sender for this interpreter's lock.
        if args.same_process:
            server = LocalSmtpServer(port=port).start()
        else:
            ready, child_ready = mp.Pipe()
            stop, child_stop = mp.Pipe()
            child = mp.Process(target=serve, args=(port, child_ready, child_stop), daemon=True)
            child.start()
            ready.recv()
        rows = []
        try:
            for run in ("first", "second (same day)"):
                rows.append((run, *run_day(url, programme, settings, args)))
        finally:
            if args.same_process:
                server.stop()
                received = len(server.received)
            else:
                stop.send(True)
                received = ready.recv()
                child.join(10)

    where = "this process" if args.same_process else "a child process"
    commits = "durable commits" if args.durable else "fast commits"
    print(f"{counties} lagging counties, reminders of {AS_OF} (overdue_3, city leader copied)")
    print(f"SQLite ({commits}), aiosmtpd in {where}, one SMTP connection per batch")
    print(f"{'run':<18}{'queued':>8}{'sent':>8}{'plan s':>9}{'send s':>9}{'total s':>9}{'msgs/s':>9}")
    for run, queued, sent, plan_s, send_s, rate in rows:
        print(f"{run:<18}{queued:>8}{sent:>8}{plan_s:>9.2f}{send_s:>9.2f}{plan_s + send_s:>9.2f}{rate:>9.0f}")
    print(f"messages received by the SMTP server: {received}")


if __name__ == "__main__":
    main()
