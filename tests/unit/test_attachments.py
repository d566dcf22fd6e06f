"""Documents beside the development plan: checked by their bytes, kept, hashed, and the approval rule.

冀工信产业〔2016〕93号 二: the plan is approved by the county government. A plan
counts as submitted only with the approval's 文号, date and document; without
them it is received but 待补批复.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from review_calendar.aggregate.states import submission_states
from review_calendar.domain.calendar import TZ
from review_calendar.domain.programmes import find_instance, load_programme
from review_calendar.intake.attachments import check_attachment, pair_attachments
from review_calendar.intake.inbox import inbox_dir, pending_files
from review_calendar.settings import get_settings
from review_calendar.store.attachments import approval_complete, attachments_of
from review_calendar.store.db import session_scope
from review_calendar.store.models import Attachment, Decision, Submission
from review_calendar.store.queries import expected_submitters, record_instances
from review_calendar.tasks.intake import ingest_files
from review_calendar_demo.documents import write_docx, write_ofd, write_pdf
from review_calendar_demo.seed import seed_demo
from review_calendar_demo.synthetic import records_for, write_xlsx

pytestmark = pytest.mark.unit
A = load_programme("hebei_smart_cluster")
PLAN = find_instance(A, 2025, "development_plan")
ON_TIME = dt.date(2025, 6, 20)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Checks by first bytes


@pytest.mark.parametrize(
    ("name", "write", "media_type"),
    [
        pytest.param("规划文本.pdf", write_pdf, "pdf", id="pdf"),
        pytest.param("规划文本.docx", write_docx, "docx", id="docx"),
        pytest.param("县政府批复.ofd", write_ofd, "ofd", id="ofd"),
    ],
)
def test_a_real_document_is_kept_with_its_hash(tmp_path: Path, name: str, write, media_type: str) -> None:
    path = write(tmp_path / name)

    doc = check_attachment(path)

    assert (doc.kept, doc.media_type, doc.sha256, doc.size) == (
        True,
        media_type,
        sha(path),
        path.stat().st_size,
    )
    assert doc.kind == ("approval" if "批复" in name else "plan")


def test_a_real_pdf_starts_with_its_magic_and_ends_with_eof(tmp_path: Path) -> None:
    data = write_pdf(tmp_path / "a.pdf", "Anping plan").read_bytes()

    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
    assert b"(Anping plan) Tj" in data


def test_an_old_word_document_is_told_by_its_ole2_header(tmp_path: Path) -> None:
    path = tmp_path / "批复.doc"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504)

    assert check_attachment(path).media_type == "doc"


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        pytest.param("规划.pdf", b"MZ\x90\x00 an executable", "请上传真实的PDF文件", id="exe-named-pdf"),
        pytest.param("规划.pdf", b"", "空文件", id="empty"),
        pytest.param("规划.exe", b"%PDF-1.4", "只接收PDF", id="wrong-suffix"),
    ],
)
def test_a_document_that_is_not_what_it_says_is_not_kept(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    doc = check_attachment(path)

    assert not doc.kept
    assert problem in doc.problem


def test_a_spreadsheet_renamed_docx_is_not_a_word_document(tmp_path: Path) -> None:
    path = tmp_path / "规划.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")

    assert "请上传真实的DOCX文件" in check_attachment(path).problem


def test_a_document_over_the_size_limit_is_not_kept(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "规划.pdf")

    assert "超过" in check_attachment(path, max_bytes=100).problem


def test_documents_go_with_the_sheet_of_their_region_folder(tmp_path: Path) -> None:
    a, b = tmp_path / "131125", tmp_path / "130683"
    files = [a / "规划.xlsx", a / "批复.pdf", b / "规划.xlsx", b / "规划文本.docx", tmp_path / "c.pdf"]

    pairing = pair_attachments(files, ["131125", "131125", "130683", "130683", None])

    assert pairing.sheets == [a / "规划.xlsx", b / "规划.xlsx"]
    assert pairing.by_sheet[a / "规划.xlsx"] == [a / "批复.pdf"]
    assert pairing.by_sheet[b / "规划.xlsx"] == [b / "规划文本.docx"]
    assert dict(pairing.alone) == {None: [tmp_path / "c.pdf"]}


@pytest.mark.parametrize(
    ("record", "kinds", "complete"),
    [
        pytest.param({"approved": "是", "approval_number": "安政字〔2025〕18号", "approval_date": "2025-05-20"},
                     ["approval", "plan"], True, id="approved-with-document"),
        pytest.param({"approved": "是", "approval_number": "安政字〔2025〕18号", "approval_date": "2025-05-20"},
                     ["plan"], False, id="no-approval-document"),
        pytest.param({"approved": "是", "approval_number": None, "approval_date": "2025-05-20"},
                     ["approval"], False, id="no-number"),
        pytest.param({"approved": "否", "approval_number": None, "approval_date": None},
                     ["approval"], False, id="not-approved"),
    ],
)  # fmt: skip
def test_a_plan_counts_only_with_its_county_approval(record: dict, kinds: list[str], complete: bool) -> None:
    """冀工信产业〔2016〕93号 二: 文号, date and the approval document."""
    assert approval_complete([record], kinds) is complete


# Through intake: an inbox sweep with documents


@pytest.fixture
def env(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    record_instances(migrated_url, A, 2025)
    with session_scope(migrated_url) as s:
        submitters = expected_submitters(s, A, PLAN)
    return migrated_url, get_settings(), submitters


#: The day each placed file arrives (the receipt time intake is given; file times are never read).
_ARRIVED: dict[Path, dt.date] = {}


def _place(folder: Path, name: str, day: dt.date, write=None, records=None) -> Path:
    path = write_xlsx(folder / name, records, "规划") if records is not None else write(folder / name)
    _ARRIVED[path] = day
    return path


def _take_in(url: str, settings, **kw):
    """Take in the pending files, each received at 10:00 on the day it was placed (its folder's, for others)."""
    files = pending_files(settings, PLAN)
    by_folder = {p.parent: d for p, d in _ARRIVED.items()}
    days = {p: _ARRIVED.get(p, by_folder.get(p.parent)) for p in files}
    at = {p: dt.datetime.combine(d, dt.time(10), tzinfo=TZ) for p, d in days.items() if d is not None}
    return ingest_files(url, settings, A, PLAN, files, received_at=at, **kw)


def _states(url: str) -> dict[str, str]:
    with session_scope(url) as s:
        frame = submission_states(s, A, PLAN, dt.date(2025, 7, 31))
    return dict(zip(frame["region_code"], frame["state"], strict=True))


def test_a_plan_with_its_approval_counts_and_its_documents_are_kept(env) -> None:
    url, settings, submitters = env
    county = submitters[0]
    folder = inbox_dir(settings, PLAN) / county.region_code
    _place(folder, "规划.xlsx", ON_TIME, records=records_for(A, PLAN, county))
    pdf = _place(folder, "县政府关于专项发展规划的批复.pdf", ON_TIME, write_pdf)
    docx = _place(folder, "专项发展规划文本.docx", ON_TIME, write_docx)
    digests = {pdf.name: sha(pdf), docx.name: sha(docx)}

    report = _take_in(url, settings, move=True)

    assert report.counts() == {"accepted": 1, "rejected": 0, "duplicates": 0}
    assert _states(url)[county.region_code] == "on_time"
    with session_scope(url) as s:
        shown = attachments_of(s, PLAN)
        sub = s.scalars(select(Submission)).one()
    assert sorted((a.file_name, a.kind, a.media_type, a.sha256, a.status) for a in shown) == sorted(
        [
            (pdf.name, "approval", "pdf", digests[pdf.name], "kept"),
            (docx.name, "plan", "docx", digests[docx.name], "kept"),
        ]
    )
    with session_scope(url) as s:
        stored = [Path(a.stored_path) for a in s.scalars(select(Attachment))]
    assert all(p.parent == Path(sub.stored_path).parent for p in stored)
    assert sorted(sha(p) for p in stored) == sorted(digests.values())
    assert pending_files(settings, PLAN) == []


def test_a_plan_without_its_approval_document_is_received_but_awaits_it(env) -> None:
    url, settings, submitters = env
    county = submitters[0]
    folder = inbox_dir(settings, PLAN) / county.region_code
    _place(folder, "规划.xlsx", ON_TIME, records=records_for(A, PLAN, county))
    _place(folder, "专项发展规划文本.pdf", ON_TIME, write_pdf)

    report = _take_in(url, settings, move=True)

    assert report.counts()["accepted"] == 1
    assert _states(url)[county.region_code] == "awaiting_approval"
    with session_scope(url) as s:
        decision = s.scalars(select(Decision).where(Decision.kind == "acceptance")).one()
    assert (decision.outcome, decision.figures["awaiting"]) == ("accepted", "approval")
    assert "待补县（市）政府批复" in decision.figures["reason"]


def test_the_approval_sent_later_alone_completes_the_plan(env) -> None:
    url, settings, submitters = env
    county = submitters[0]
    folder = inbox_dir(settings, PLAN) / county.region_code
    _place(folder, "规划.xlsx", ON_TIME, records=records_for(A, PLAN, county))
    _take_in(url, settings, move=True)
    _place(folder, "县政府批复.ofd", dt.date(2025, 6, 25), write_ofd)

    _take_in(url, settings, move=True)

    assert _states(url)[county.region_code] == "on_time"


def test_an_approval_completed_after_the_due_date_is_late(env) -> None:
    url, settings, submitters = env
    county = submitters[0]
    folder = inbox_dir(settings, PLAN) / county.region_code
    _place(folder, "规划.xlsx", ON_TIME, records=records_for(A, PLAN, county))
    _take_in(url, settings, move=True)
    _place(folder, "县政府批复.pdf", dt.date(2025, 7, 10), write_pdf)

    _take_in(url, settings, move=True)

    assert _states(url)[county.region_code] == "late"


def test_a_fake_pdf_is_quarantined_and_the_plan_still_awaits_its_approval(env) -> None:
    url, settings, submitters = env
    county = submitters[0]
    folder = inbox_dir(settings, PLAN) / county.region_code
    _place(folder, "规划.xlsx", ON_TIME, records=records_for(A, PLAN, county))
    fake = folder / "县政府批复.pdf"
    fake.write_bytes(b"MZ\x90\x00 not a pdf")
    _ARRIVED[fake] = ON_TIME

    _take_in(url, settings, move=True)

    with session_scope(url) as s:
        [row] = s.scalars(select(Attachment)).all()
        assert (row.status, row.media_type) == ("rejected", "")
        assert str(settings.quarantine_dir) in row.stored_path
    assert _states(url)[county.region_code] == "awaiting_approval"


def test_documents_wait_in_the_inbox_for_a_rejected_sheet(env) -> None:
    url, settings, submitters = env
    county = submitters[0]
    folder = inbox_dir(settings, PLAN) / county.region_code
    records = records_for(A, PLAN, county)
    records["development_plan"][0]["cluster_name"] = None
    _place(folder, "规划.xlsx", ON_TIME, records=records)
    pdf = _place(folder, "县政府批复.pdf", ON_TIME, write_pdf)

    report = _take_in(url, settings, move=True)

    assert report.counts()["rejected"] == 1
    assert pending_files(settings, PLAN) == [pdf]
    with session_scope(url) as s:
        assert s.scalars(select(Attachment)).all() == []


def test_reviewers_see_each_document_with_name_size_and_hash_never_its_content(env) -> None:
    from review_calendar_airflow.ui.rendering import Pages

    from review_calendar.reviewer_pages.documents import documents_view
    from review_calendar.reviewer_pages.matrix import status_matrix
    from review_calendar.reviewer_pages.results import AggregateTable

    url, settings, submitters = env
    county = submitters[0]
    folder = inbox_dir(settings, PLAN) / county.region_code
    _place(folder, "规划.xlsx", ON_TIME, records=records_for(A, PLAN, county))
    pdf = write_pdf(folder / "县政府批复.pdf", "SECRET-CONTENT")
    _ARRIVED[pdf] = ON_TIME
    digest, size = sha(pdf), pdf.stat().st_size
    _take_in(url, settings, move=True)

    with session_scope(url) as s:
        rows = documents_view(s, PLAN)
        matrix = status_matrix(s, A, 2025, dt.date(2025, 7, 31), instances=[PLAN])
    html = Pages().env.get_template("obligation.html").render(
        programme=A, instance=PLAN, obligation=A.obligation(PLAN.obligation_id), year=2025, prefix="", q="",
        airflow="/", dag_id="d", may_rerun=False, caller=None, matrix=matrix, gates=[], progress_svg="",
        aggregates=AggregateTable((), ()), state_labels={}, state_hints={}, documents=rows,
    )  # fmt: skip

    assert [(r.region_code, r.kind, r.file_name, r.media_type, r.sha256, r.status) for r in rows] == [
        (county.region_code, "批复文件", "县政府批复.pdf", "PDF", digest, "已保存")
    ]
    assert size < 1024 and rows[0].size == f"{size} B"
    assert digest in html and "县政府批复.pdf" in html
    assert "SECRET-CONTENT" not in html


def test_a_corrected_sheet_keeps_the_documents_of_the_file_it_replaces(env) -> None:
    url, settings, submitters = env
    county = submitters[0]
    folder = inbox_dir(settings, PLAN) / county.region_code
    records = records_for(A, PLAN, county)
    _place(folder, "规划.xlsx", ON_TIME, records=records)
    pdf = _place(folder, "县政府批复.pdf", ON_TIME, write_pdf)
    digest = sha(pdf)
    _take_in(url, settings, move=True)
    records["development_plan"][0]["total_investment"] = "13,000"
    _place(folder, "规划（更正）.xlsx", dt.date(2025, 6, 22), records=records)

    _take_in(url, settings, move=True)

    with session_scope(url) as s:
        shown = attachments_of(s, PLAN)
    assert [(a.file_name, a.sha256) for a in shown] == [("县政府批复.pdf", digest)]
    assert _states(url)[county.region_code] == "on_time"


def test_the_demo_year_shows_plans_with_their_approval_and_one_awaiting_it(env) -> None:
    from review_calendar_demo.scenario import UNAPPROVED_POSITION, place_submissions

    url, settings, submitters = env
    for placed in place_submissions(url, settings, A, PLAN):
        _ARRIVED[placed.path] = placed.received_on

    _take_in(url, settings, move=True)

    states = _states(url)
    with session_scope(url) as s:
        shown = attachments_of(s, PLAN)
    unapproved = submitters[UNAPPROVED_POSITION].region_code
    assert states[unapproved] == "awaiting_approval"
    assert [s for r, s in states.items() if r != unapproved].count("awaiting_approval") == 0
    assert {a.kind for a in shown if a.region_code == unapproved} == {"plan"}
    assert {a.media_type for a in shown} == {"pdf", "docx"}


def test_a_plan_awaiting_its_approval_is_reminded_like_a_missing_one(env) -> None:
    from review_calendar.notify.reminders import _lagging

    url, settings, submitters = env
    county, other = submitters[0], submitters[1]
    for who, documents in ((county, ()), (other, (("县政府批复.pdf", write_pdf),))):
        folder = inbox_dir(settings, PLAN) / who.region_code
        _place(folder, "规划.xlsx", ON_TIME, records=records_for(A, PLAN, who))
        for name, write in documents:
            _place(folder, name, ON_TIME, write)
    _take_in(url, settings, move=True)

    with session_scope(url) as s:
        lagging = _lagging(s, A, PLAN, dt.date(2025, 7, 3))

    assert county.region_code in lagging
    assert other.region_code not in lagging


def test_warnings_of_an_accepted_plan_are_kept_for_the_reviewer_and_reported(env) -> None:
    """93号 三 "原则上不超过3年": a six-year pilot period is kept with a warning the operator and reviewer see."""
    from review_calendar.store.models import SubmissionError

    url, settings, submitters = env
    county = submitters[0]
    records = records_for(A, PLAN, county)
    records["development_plan"] = [{**records["development_plan"][0], "pilot_start": 2025, "pilot_end": 2030}]
    folder = inbox_dir(settings, PLAN) / county.region_code
    _place(folder, "规划.xlsx", ON_TIME, records=records)

    report = _take_in(url, settings)

    (accepted,) = report.accepted
    assert any("共6年，超过3年" in w["message"] for w in accepted.warnings)
    with session_scope(url) as s:
        kept = s.scalars(
            select(SubmissionError).where(SubmissionError.submission_id == accepted.submission_id)
        )
        assert {(k.severity, k.column) for k in kept} >= {("warning", "试点实施截止年份")}
