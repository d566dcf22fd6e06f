"""The demonstration year: who submits what, when, and which mistakes they make.

Deterministic: for an instance, its expected submitters in code order follow a
fixed pattern (on time, corrected after a rejection, late, missing, rejected
and never corrected), so the demo and the end-to-end tests show every state.
Files go into the instance's inbox with the day they are "received"
(:class:`Placed`); the year run sweeps the inbox at each arrival, and the
sweep's logical time is their receipt time (``year_run``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.intake.datasets import get_dataset
from review_calendar.intake.inbox import inbox_dir
from review_calendar.store.db import session_scope
from review_calendar.store.queries import expected_submitters
from review_calendar.store.tables.registry import Cluster, Enrolment, Region
from review_calendar_demo.documents import write_docx, write_pdf
from review_calendar_demo.synthetic import (
    MISTAKES,
    break_records,
    evaluation_records,
    records_for,
    set_received,
    write_xlsx,
)

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import Obligation, ObligationInstance, Programme
    from review_calendar.settings import Settings
    from review_calendar.store.queries import Submitter

#: Pattern by position (modulo 7) of a submitter among the instance's submitters.
PATTERN = ("on_time", "corrected", "on_time", "late", "on_time", "missing", "rejected")
#: Position whose development plan arrives without the county government's approval (状态“待补批复”).
UNAPPROVED_POSITION = 4
#: The demo's applications for a pilot (Programme A): one meeting every condition, one with 65% broadband.
APPLICATIONS = (
    ("130481", "武安装备制造产业集群", {}),
    ("130629", "容城服装产业集群", {"broadband_share": "65%"}),
)
EVALUATION_SCORES = (91.0, 88.0, 86.0, 52.0, 73.0, 95.0, 82.0, 65.0, 90.0)
#: Violations in construction or use of funds the evaluator reports (冀工信产业〔2016〕93号 五: revocation and
#: recovery of the subsidy), by programme and cluster; a high score does not save a pilot from them.
VIOLATIONS = {"hebei_smart_cluster": {"baigou_luggage": "部分专项资金用于非试点项目，资金使用不符合试点要求"}}
#: Clusters whose earliest earlier-year annual table is not on file: their three-year criteria are undeterminable.
HISTORY_GAPS = ("anping_wire_mesh",)
#: The county obligation whose files show the shapes officials send besides .xlsx: one city's combined
#: table for its on-time counties (split per county at intake) and one county's .xls (Excel 97-2003).
SHAPES_OBLIGATION = "half_year_report"


@dataclass(frozen=True, slots=True)
class Placed:
    """A file put in an inbox."""

    path: Path
    region_code: str
    received_on: dt.date
    role: str  # on_time, late, broken, corrected; city (a county's rows in its city's table), xls (on time, .xls)


def _place(path: Path, day: dt.date, region: str, role: str, out: list[Placed]) -> None:
    set_received(path, day)
    out.append(Placed(path, region, day, role))


def _role(obligation: Obligation, position: int) -> str:
    """What the submitter at ``position`` does: :data:`PATTERN`, except that re-review applicants are on time."""
    role = PATTERN[position % len(PATTERN)]
    if obligation.kind == "re_review" and role in ("corrected", "rejected", "late"):
        role = "on_time"
    if obligation.kind == "re_review" and position == 2:
        role = "missing"  # no re-review application: article 17 (1)
    return role


def _enrolled_clusters(session: Session, programme: Programme, instance: ObligationInstance) -> list[tuple]:
    """(cluster id, region code, name) of the clusters enrolled in the programme during the cycle year."""
    rows = session.execute(
        select(Cluster.id, Cluster.region_code, Cluster.name)
        .join(Enrolment, Enrolment.cluster_id == Cluster.id)
        .where(Enrolment.programme_id == programme.id, Enrolment.status.in_(("active", "extended")),
               Enrolment.valid_until >= dt.date(instance.cycle_year, 1, 1),
               Enrolment.recognised_on <= dt.date(instance.cycle_year, 12, 31))
        .order_by(Cluster.id)
    ).all()  # fmt: skip
    return [tuple(r) for r in rows]


def _place_evaluation(
    folder: Path, programme: Programme, instance: ObligationInstance, clusters: list[tuple]
) -> list[Placed]:
    """The evaluator's score sheet of every enrolled cluster, five days before the due date."""
    scores = {cid: EVALUATION_SCORES[i % len(EVALUATION_SCORES)] for i, (cid, _, _) in enumerate(clusters)}
    path = write_xlsx(folder / f"{instance.cycle_year}年度绩效评价评分表.xlsx",
                      evaluation_records(programme, instance, clusters, scores, VIOLATIONS.get(programme.id)),
                      "第三方评估评分表")  # fmt: skip
    placed: list[Placed] = []
    _place(path, instance.effective_due - dt.timedelta(days=5), programme.region_code, "on_time", placed)
    return placed


def _place_one(
    folder: Path,
    programme: Programme,
    instance: ObligationInstance,
    submitter: Submitter,
    position: int,
    counties: list[tuple[str, str]] | None,
    placed: list[Placed],
) -> None:
    """The files of the submitter at ``position``: on time, late, broken then corrected, or broken only."""
    obligation = programme.obligation(instance.obligation_id)
    due = instance.effective_due
    role = _role(obligation, position)
    if role == "missing":
        return
    records = records_for(programme, instance, submitter, counties=counties)
    if obligation.kind == "re_review" and position == 1:
        records["rereview_materials"][0]["targets_completed"] = (
            records["rereview_materials"][0]["targets_total"] // 2
        )
    stem = f"{submitter.region_name}_{obligation.title}"
    sub = folder / submitter.region_code
    if role in ("corrected", "rejected"):
        mistake = (
            MISTAKES[(position // 7) % len(MISTAKES)]
            if role == "rejected"
            else MISTAKES[position % len(MISTAKES)]
        )
        bad = break_records(records, mistake, instance.cycle_year + obligation.data_year_offset)
        path = write_xlsx(sub / f"{stem}.xlsx", bad, obligation.title)
        if mistake == "not_spreadsheet":
            path.write_bytes(b"%PDF-1.4 not a spreadsheet")
        broken_on = due - dt.timedelta(days=8 if role == "corrected" else 4)
        _place(path, broken_on, submitter.region_code, "broken", placed)
        if role == "rejected":
            return
        path = write_xlsx(sub / f"{stem}（更正）.xlsx", records, obligation.title)
        _place(path, due - dt.timedelta(days=2), submitter.region_code, "corrected", placed)
        if obligation.dataset and get_dataset(obligation.dataset).needs_approval:
            _place_documents(sub, stem, due - dt.timedelta(days=2), approved=True)
        return
    path = write_xlsx(sub / f"{stem}.xlsx", records, obligation.title)
    day = due + dt.timedelta(days=3) if role == "late" else due - dt.timedelta(days=3 + position % 4)
    _place(path, day, submitter.region_code, role, placed)
    if obligation.dataset and get_dataset(obligation.dataset).needs_approval:
        _place_documents(sub, stem, day, approved=position != UNAPPROVED_POSITION)


def _place_documents(folder: Path, stem: str, day: dt.date, *, approved: bool) -> None:
    """The plan's text (Word) and, when approved, the county government's approval (PDF) beside the sheet."""
    set_received(write_docx(folder / f"{stem}_规划文本.docx", "专项发展规划和实施方案（全文）"), day)
    if approved:
        set_received(write_pdf(folder / f"{stem}_县政府批复.pdf", "Approval of the county government"), day)


def _place_applications(folder: Path, programme: Programme, instance: ObligationInstance) -> list[Placed]:
    """Two counties apply (through their city), a week before the configured date."""
    from review_calendar.store.queries import Submitter

    placed: list[Placed] = []
    day = instance.effective_due - dt.timedelta(days=7)
    for code, name, changes in APPLICATIONS:
        submitter = Submitter(code, name, code[:4] + "00", None, name)
        records = records_for(programme, instance, submitter)
        records["pilot_application"][0].update(changes)
        path = write_xlsx(folder / code / f"{name}_试点申报表.xlsx", records, "智慧集群建设试点申报表")
        _place(path, day, code, "on_time", placed)
    return placed


def place_submissions(
    url: str, settings: Settings, programme: Programme, instance: ObligationInstance
) -> list[Placed]:
    """Write the demo's files for ``instance`` into its inbox.

    Returns:
        The files placed, with their receipt dates.
    """
    obligation = programme.obligation(instance.obligation_id)
    folder = inbox_dir(settings, instance)
    with session_scope(url) as session:
        if obligation.kind == "evaluation":
            return _place_evaluation(
                folder, programme, instance, _enrolled_clusters(session, programme, instance)
            )
        if obligation.kind == "application":
            return _place_applications(folder, programme, instance)
        submitters = expected_submitters(session, programme, instance)
        regions = {
            r.code: r for r in session.query(Region).filter(Region.code.like(f"{programme.region_prefix}%"))
        }
    placed: list[Placed] = []
    for position, submitter in enumerate(submitters):
        counties = sorted(
            ((r.code, r.name) for r in regions.values() if r.parent_code == submitter.region_code and r.level == "county"),
        )[:2] if obligation.submitter == "city" else None  # fmt: skip
        _place_one(folder, programme, instance, submitter, position, counties, placed)
    if instance.obligation_id == SHAPES_OBLIGATION and obligation.submitter == "county":
        _combine_for_city(folder, programme, instance, submitters, placed)
        _save_one_as_xls(placed)
    return placed


def _combine_for_city(
    folder: Path,
    programme: Programme,
    instance: ObligationInstance,
    submitters: list[Submitter],
    placed: list[Placed],
) -> None:
    """The first city with two counties sending once (on time or late) sends one table of both instead.

    The table arrives on the later of their days, so a county of it may turn late.
    """
    by_code = {s.region_code: s for s in submitters}
    cities: dict[str, list[Placed]] = {}
    for p in placed:
        if p.role in ("on_time", "late") and p.region_code in by_code:
            cities.setdefault(by_code[p.region_code].city_code, []).append(p)
    city, files = next(((c, f) for c, f in sorted(cities.items()) if len(f) >= 2), (None, []))
    if city is None:
        return
    dataset = programme.obligation(instance.obligation_id).dataset or ""
    rows = [r for f in files for r in records_for(programme, instance, by_code[f.region_code])[dataset]]
    day = max(f.received_on for f in files)
    for f in files:
        f.path.unlink()
        placed.remove(f)
    path = write_xlsx(folder / city / f"{city}_各县汇总表.xlsx", {dataset: rows}, "各县（市、区）汇总表")
    for f in files:
        _place(path, day, f.region_code, "city", placed)


def _save_one_as_xls(placed: list[Placed]) -> None:
    """The first other on-time file saved again as .xls (Excel 97-2003) by LibreOffice, when it is installed."""
    import shutil
    import subprocess
    import tempfile

    target = next((p for p in placed if p.role == "on_time" and p.path.suffix == ".xlsx"), None)
    if target is None or shutil.which("soffice") is None:
        return
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
             "xls:MS Excel 97", "--outdir", str(target.path.parent), str(target.path)],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip
    xls = target.path.with_suffix(".xls")
    target.path.unlink()
    placed[placed.index(target)] = Placed(xls, target.region_code, target.received_on, "xls")
    set_received(xls, target.received_on)


def mismatch_plan_totals(
    placed: list[Placed], settings: Settings, programme: Programme, instance: ObligationInstance
) -> Placed | None:
    """Demo of a failing provincial gate: one county's plan total no longer equals its projects' sum.

    Rewrites the first on-time development plan with a wrong total (each sheet is
    valid on its own, so intake accepts it; the provincial gate must catch it).

    Returns:
        The rewritten file, or None when there is none.
    """
    from openpyxl import load_workbook

    target = next((p for p in placed if p.role == "on_time"), None)
    if target is None:
        return None
    wb = load_workbook(target.path)
    ws = wb["专项发展规划"]
    headers = [c.value for c in ws[2]]
    col = next(i for i, h in enumerate(headers, start=1) if h and "计划总投资" in str(h))
    ws.cell(row=3, column=col, value="99,999")
    wb.save(target.path)
    set_received(target.path, target.received_on)
    return target


def file_earlier_tables(settings: Settings, programme: Programme, year: int) -> int:
    """The two years' annual tables before ``year``, filed on time and taken in (no DAG runs).

    The demo runs one year, but the three-year criteria of the re-review (产值、研发经费、
    有效发明专利年均增长, 工信部企业〔2022〕119号 附件) need the earlier tables. The
    clusters of :data:`HISTORY_GAPS` miss the earliest one.

    Returns:
        The number of files taken in.
    """
    from review_calendar.domain.programmes import find_instance
    from review_calendar.tasks import ingest_inbox

    rules = programme.re_review
    if rules is None or rules.annual_table is None or not programme.criteria:
        return 0
    title = programme.obligation(rules.annual_table).title
    taken = 0
    for back in range(max(c.years for c in programme.criteria) - 1, 0, -1):
        instance = find_instance(programme, year - back, rules.annual_table)
        with session_scope(settings.db_url) as session:
            submitters = expected_submitters(session, programme, instance)
        folder = inbox_dir(settings, instance)
        for position, s in enumerate(submitters):
            if back == 2 and s.cluster_id in HISTORY_GAPS:
                continue
            path = write_xlsx(folder / s.region_code / f"{s.region_name}_{title}.xlsx",
                              records_for(programme, instance, s), title)  # fmt: skip
            set_received(path, instance.effective_due - dt.timedelta(days=3 + position % 4))
        result = ingest_inbox(
            instance.key, instance.effective_due.isoformat(), run_id=f"demo-history-{year - back}"
        )
        taken += int(result.get("accepted", 0))
    return taken


def recorded_facts(year: int) -> list[dict[str, str | int]]:
    """The demo's facts of ``year`` as the ``record_fact`` form takes them (dates as ISO text).

    Visits, a held meeting (Programme C) and a recognised platform (Programme D),
    from ``data/demo.yaml``; the bases without a visit in a quarter show as such in its bulletin.
    """
    from review_calendar_demo.seed import demo_data

    out = []
    for fact in demo_data().get("recorded_facts", []):
        conf = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in fact.items()}
        if int(conf.get("year") or str(conf["date"])[:4]) == year:
            out.append(conf)
    return out
