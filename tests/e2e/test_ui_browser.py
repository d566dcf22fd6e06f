"""The reviewers' pages in the real Airflow api-server, driven by a real headless Chromium.

Arrange: a temporary Airflow home migrated with ``airflow db migrate``, the
repository's DAGs serialised into it, the FAB auth manager with the project's
users (admin/operator/reviewer, provisioned by ``review_calendar_airflow.access``),
the repository's plugins folder, and a review
database filled with a demo year whose cells cover every closed-window state.
Then ``airflow api-server`` runs in its own process group, and Chromium (through
Debian's chromedriver and a minimal W3C WebDriver client over ``urllib``) logs
in on FAB's login page as the reviewer and reads the status matrix; then, with a
proposal parked by its decision DAG (``dag.test()`` in a child process, stopped
once the Required Action exists), the programme's reviewer opens Airflow's
Required Actions page and approves it.

Nothing is mocked: the plugin authenticates against the api-server's auth
manager and the operator's re-run goes through Airflow's REST API.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from review_calendar_airflow.ui_language import LANGUAGE_KEY, language_script

from review_calendar.gate.provincial import gate_report_path

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
SCREENSHOT = ROOT / "docs" / "screenshots" / "review-calendar.png"
REGION_SCREENSHOT = ROOT / "docs" / "screenshots" / "region.png"
REJECTED_REGION = "130635"  # 蠡县: its development plan was rejected with these errors
REJECTED_ERRORS = [("规划项目", 3, "总投资（万元）", "", "必填项为空"),
                   ("规划项目", 4, "建设年限", "2019-2017", "起止年份颠倒"),
                   ("规划项目", 7, "总投资（万元）", "约5000", "应为数值")]  # fmt: skip
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: scripts/apt-install.sh's arguments, as scripts/test.sh passes them (a CJK font for readable screenshots).
BROWSER_PACKAGES = (
    f"--have={CHROMIUM}", f"--have={CHROMEDRIVER}", "chromium", "chromium-driver", "fonts-wqy-microhei", "fontconfig"
)  # fmt: skip
PROGRAMME = "hebei_smart_cluster"
YEAR = 2025
CYCLE_DAG = f"review_cycle__{PROGRAMME}__development_plan"
PAGE = f"/review-calendar/programmes/{PROGRAMME}/{YEAR}"
GATE_RUN = "scheduled__2025_Y__2025-06-30T16:00:00+00:00"  # named by its cycle, as the timetable names runs
#: How the gate page names that run (its cycle year, and its moment in Beijing time).
GATE_RUN_WORDS = "2025年度 · 2025-07-01 00:00（北京时间）按计划运行"
#: The page the real gate writes for that run, relative to the reports folder.
REPORT = gate_report_path(
    Path(),
    SimpleNamespace(programme_id=PROGRAMME, cycle_year=YEAR, obligation_id="development_plan", period="Y"),
    GATE_RUN,
).as_posix()
SUMMARY_XLSX = f"{PROGRAMME}/{YEAR}/development_plan_Y.xlsx"
DECISION_DAG = f"decisions__{PROGRAMME}"
PARKED = "gaobeidian_luggage"  # the proposal left awaiting the reviewer's answer
PARKED_NAME = "高碑店箱包产业集群"
LANDING = "/review-calendar/?today=2026-04-01"  # every 2025 window closed, the 2026 contact list just overdue
WHY_REJECTED = "手机号码应为11位数字"
#: Airflow's navigation labels in its zh-CN and en locales (ui/dist/i18n/locales/*/common.json, ``nav``).
AIRFLOW_NAV_ZH = ("首页", "资源", "浏览", "文档")
AIRFLOW_NAV_EN = ("Home", "Assets", "Browse", "Docs")
USER_MENU = 'button[aria-label="用户"]'
PICK_LANGUAGE = '[role=menuitem][data-value="language"]'

REASON = "input[name=element_reason]"  # the form's 理由或意见 field (HITL params are named element_<param>)

# Demo states.

D = dt.date
#: (obligation, region, [(received_on, status, is_late), ...]); a region absent is missing.
DEMO_FILES: list[tuple[str, str, list[tuple[dt.date, str, bool]]]] = [
    ("contact_list", "130100", [(D(2025, 3, 20), "accepted", False)]),  # 石家庄
    ("contact_list", "130181", [(D(2025, 3, 25), "rejected", False), (D(2025, 3, 30), "accepted", False)]),
    ("contact_list", "130200", [(D(2025, 4, 8), "accepted", True)]),  # 唐山: late
    ("contact_list", "130300", [(D(2025, 3, 28), "rejected", False)]),  # 秦皇岛: rejected
    *[("contact_list", c, [(D(2025, 3, 24), "accepted", False)])
      for c in ("130500", "130600", "130682", "130700", "130800", "130900", "131000", "131100")],
    # 130400 邯郸 sends nothing: missing
    ("development_plan", "130684", [(D(2025, 6, 20), "accepted", False)]),  # 高碑店
    ("development_plan", "130229", [(D(2025, 7, 3), "accepted", True)]),  # 玉田: late
    ("development_plan", "130635", [(D(2025, 6, 28), "rejected", False)]),  # 蠡县
    ("development_plan", "130322", [(D(2025, 6, 29), "accepted", False)]),  # 昌黎
    # 130109 藁城 sends nothing: missing
    ("half_year_report", "130684", [(D(2025, 7, 10), "accepted", False)]),
    ("half_year_report", "130229", [(D(2025, 7, 14), "accepted", False)]),
    ("half_year_report", "130322", [(D(2025, 7, 20), "accepted", True)]),
    ("half_year_report", "130635", [(D(2025, 7, 15), "accepted", False)]),
    ("full_year_report", "130684", [(D(2026, 1, 12), "accepted", False)]),
    ("full_year_report", "130229", [(D(2026, 1, 14), "accepted", False)]),
    ("full_year_report", "130635", [(D(2026, 1, 20), "accepted", True)]),
    ("full_year_report", "130109", [(D(2026, 1, 15), "rejected", False)]),
    ("performance_evaluation", "130000", [(D(2026, 3, 10), "accepted", False)]),
]  # fmt: skip
#: The recorded errors of the rejected files, by (obligation, region, file number): (sheet, row, column, value,
#: code, message); a file's error count is the number of its errors.
DEMO_ERRORS: dict[tuple[str, str, int], list[tuple[str, int, str, str, str, str]]] = {
    ("contact_list", "130181", 0): [("联系人名单", 3, "办公电话", "0311", "PHONE_INVALID", "办公电话应含区号和号码"),
                                    ("联系人名单", 5, "姓名", "", "VALUE_REQUIRED", "必填项为空")],
    ("contact_list", "130300", 0): [("联系人名单", 4, "手机", "1381234", "MOBILE_INVALID", WHY_REJECTED),
                                    ("联系人名单", 6, "电子邮箱", "wang@", "EMAIL_INVALID", "电子邮箱格式不正确"),
                                    ("联系人名单", 7, "职务", "", "VALUE_REQUIRED", "必填项为空")],
    ("development_plan", REJECTED_REGION, 0): [
        (sheet, row, column, value, code, message) for (sheet, row, column, value, message), code
        in zip(REJECTED_ERRORS, ("VALUE_REQUIRED", "VALUE_INCONSISTENT", "NUMBER_INVALID"), strict=True)],
    ("full_year_report", "130109", 0): [("建设进展", 2, "年度", "2024", "YEAR_MISMATCH", "年度应为2025")],
}  # fmt: skip
#: 高碑店's plan declares 5,000万元 but its projects add up to 3,000万元: the gate's critical total check fails.
PLAN_ROW = {"cluster_name": "高碑店箱包产业集群", "period_start": 2025, "period_end": 2027, "pilot_start": 2025,
            "pilot_end": 2027, "overall_approach": "以数字化改造提升集群整体竞争力", "goals": "建成集群工业互联网平台",
            "main_tasks": "一是平台建设，二是企业上云", "safeguards": "成立工作专班", "approved": "是",
            "approval_date": "2025-05-20", "approval_number": "高政字〔2025〕18号", "total_investment": 5000.0}  # fmt: skip
PLAN_PROJECTS = [
    {"project_name": name, "content": "建设内容", "investor": "某某科技有限公司", "targets": "服务企业200家以上",
     "year": year, "investment": amount, "funding_source": "企业自筹"}
    for name, year, amount in [("集群工业互联网平台", 2025, 1800.0), ("箱包企业上云", 2026, 1200.0)]
]  # fmt: skip
GATE_FAILED_CHECK = "项目计划投资之和与规划计划总投资一致"
#: The evaluations decided and approved by the reviewer: (subject, outcome, reason, rule in words, score).
EVALUATIONS = [
    ("baigou_luggage", "continue", "得分86分，不低于80分：继续支持", "得分≥80分：继续支持", 86),
    ("yutian_printing", "rectify", "得分72分，在60至80分之间：限期整改30天", "60分≤得分<80分：限期整改30天", 72),
    ("lixian_fur", "revoke", "发现违规使用专项资金：取消试点资格并追回补贴", "有违规行为：取消试点资格并追回补贴", 55),
]  # fmt: skip
#: Who decided: the Airflow login and the name the answer recorded from the reviewers' roster.
DECIDED_BY, DECIDED_BY_NAME = "hebei_reviewer", "张明（河北省工业和信息化厅产业集群处）"
DECIDED_CLAUSE = "冀工信产业〔2016〕93号 五"


#: Cells the browser must show (region, column) -> label, for a day after every window closed.
EXPECTED_CELLS = {
    ("130100", "contact_list/Y"): "按时提交",
    ("130181", "contact_list/Y"): "按时提交",
    ("130200", "contact_list/Y"): "逾期提交",
    ("130300", "contact_list/Y"): "已退回",
    ("130400", "contact_list/Y"): "未提交",
    ("130229", "development_plan/Y"): "逾期提交",
    ("130635", "development_plan/Y"): "已退回",
    ("130109", "development_plan/Y"): "未提交",
    ("130684", "development_plan/Y"): "按时提交",
    ("130000", "performance_evaluation/Y"): "按时提交",
}


def fill_demo_states(db_url: str, reports_dir: Path) -> None:
    """Migrate and seed the review database; record the demo year's files, gate run, aggregation and decisions."""

    from review_calendar.domain.programmes import load_programmes
    from review_calendar.domain.verdicts import Verdict
    from review_calendar.store.db import session_scope, upgrade, upsert
    from review_calendar.store.decision_log import record_decision
    from review_calendar.store.models import Contact, Submission
    from review_calendar.store.queries import record_instances
    from review_calendar_demo.seed import seed_demo
    from tests.support.builders import Key, contact_values, submission_values

    upgrade(db_url)
    seed_demo(db_url)
    programme = load_programmes(ROOT / "programmes")[PROGRAMME]
    record_instances(db_url, programme, YEAR)
    submissions = [
        submission_values(Key(PROGRAMME, YEAR, obligation), region, received, name, status=status, is_late=late,
                          error_count=len(DEMO_ERRORS.get((obligation, region, n), ())), stored_path=f"accepted/{name}",
                          size_bytes=2048, row_count=12, content_hash=hashlib.sha256(name.encode()).hexdigest())
        for obligation, region, files in DEMO_FILES
        for n, (received, status, late) in enumerate(files)
        for name in [f"{region}_{obligation}_{n}.xlsx"]
    ]  # fmt: skip
    with session_scope(db_url) as session:
        upsert(session, Submission, submissions,
               ["programme_id", "cycle_year", "obligation_id", "period", "region_code", "content_hash"])  # fmt: skip
        _record_files(session, programme)
        upsert(session, Contact, [contact_values(PROGRAMME, YEAR, "130300", "责任处室负责同志", name="王芳",
                                                 mobile="13812345678", email="wangfang@qhd.example.cn")],
               ["programme_id", "cycle_year", "region_code", "role"])  # fmt: skip
        _region_history(session)
    _gate_and_reports(db_url, programme, reports_dir)
    with session_scope(db_url) as session:
        for subject, outcome, reason, basis, score in EVALUATIONS:
            verdict = Verdict(subject=subject, outcome=outcome, reason=reason, clause=DECIDED_CLAUSE,
                              rule="programmes/hebei_smart_cluster.yaml: evaluation",
                              figures={"score": score, "basis": basis, "decided_by": DECIDED_BY, "decided_by_name": DECIDED_BY_NAME,
                                       "decided_at": "2026-03-17T01:00:00+00:00", "state": "approved"})  # fmt: skip
            assert record_decision(
                session, PROGRAMME, YEAR, "evaluation", verdict, "manual__2026-03-17T01:00:00+00:00"
            )


def _record_files(session: Any, programme: Any) -> None:
    """Each demo file's errors (as many as its error count) and its 受理记录, as intake records them."""
    from sqlalchemy import select

    from review_calendar.domain.programmes import find_instance
    from review_calendar.domain.verdicts import Verdict
    from review_calendar.intake.ingest import FileOutcome
    from review_calendar.store.accept import acceptance_record
    from review_calendar.store.decision_log import record_decision
    from review_calendar.store.models import Submission, SubmissionError

    for obligation, region, files in DEMO_FILES:
        instance = find_instance(programme, YEAR, obligation, "Y")
        for n, (_, status, _late) in enumerate(files):
            name = f"{region}_{obligation}_{n}.xlsx"
            sub = session.scalar(select(Submission).where(Submission.file_name == name))
            errors = DEMO_ERRORS.get((obligation, region, n), ())
            session.add_all(SubmissionError(submission_id=sub.id, sheet=sheet, row=row, column=column, value=value,
                                            code=code, message=message)
                            for sheet, row, column, value, code, message in errors)  # fmt: skip
            outcome = FileOutcome(
                file=f"inbox/{name}", status=status, sha256=sub.content_hash, submission_id=sub.id,
                region_code=region, is_late=sub.is_late, received_on=sub.received_on.isoformat(),
                received_at=f"{sub.received_on.isoformat()}T09:30:00+08:00", receipt_no=f"HB{sub.id:06d}",
                errors=[{"code": e[4]} for e in errors],
            )  # fmt: skip
            verdict = Verdict(**acceptance_record(programme, instance, outcome))
            record_decision(session, PROGRAMME, YEAR, "acceptance", verdict, "manual__browser-test-intake")
        session.flush()


def _gate_and_reports(db_url: str, programme: Any, reports_dir: Path) -> None:
    """高碑店's plan rows (projects short of the declared total), the real gate over them, and the summary reports."""
    from sqlalchemy import select

    from review_calendar.aggregate.write import aggregate_province
    from review_calendar.domain.programmes import find_instance
    from review_calendar.gate.provincial import run_gate
    from review_calendar.report.gate_page import write_gate_page
    from review_calendar.report.publish import write_reports
    from review_calendar.store.db import session_scope
    from review_calendar.store.models import Region, Submission
    from tests.support.builders import add_rows

    instance = find_instance(programme, YEAR, "development_plan", "Y")
    with session_scope(db_url) as session:
        plan = session.scalar(
            select(Submission).where(Submission.file_name == "130684_development_plan_0.xlsx")
        )
        add_rows(session, plan, "development_plan", [PLAN_ROW])
        add_rows(session, plan, "plan_projects", PLAN_PROJECTS)
        session.flush()
        result = run_gate(session, programme, instance, run_id=GATE_RUN, expectations_dir=ROOT / "expectations",
                          reports_dir=reports_dir, known_region_codes=set(session.scalars(select(Region.code))))  # fmt: skip
        assert not result.success, result.summary
        write_gate_page(programme, instance, GATE_RUN, result)
        aggregate = aggregate_province(session, programme, instance, D(2026, 4, 1))
    write_reports(reports_dir, programme, instance, aggregate, aggregate.states, result.html_path)


def _region_history(session: Any) -> None:
    """蠡县 gets its notices, reminders and a gap report."""
    from review_calendar.store.models import OutboxMessage

    to = [{"name": "蠡县工信局联系人", "addr": "lixian.contact@gx.example.cn", "role": "联系人"}]
    messages = [
        ("notice", "notice", "sent", D(2025, 5, 1), "关于报送2025年度专项发展规划的通知", ""),
        ("rejection", "rejection", "sent", D(2025, 6, 28), "专项发展规划未通过校验，请更正后重报", ""),
        (
            "reminder",
            "overdue_3",
            "failed",
            D(2025, 7, 3),
            "专项发展规划逾期未报提醒",
            "550 mailbox unavailable",
        ),
        ("gap_report", "gap", "queued", D(2025, 7, 4), "联系人缺失报告：蠡县", ""),
    ]
    session.add_all(
        OutboxMessage(natural_key=f"demo-{n}", kind=kind, programme_id=PROGRAMME,
                      instance_key=f"{PROGRAMME}/{YEAR}/development_plan/Y", region_code=REJECTED_REGION,
                      stage=stage, to_addrs=to, subject=subject, body="", status=status, last_error=error,
                      attempts=1 if status != "queued" else 0, created_on=day,
                      sent_at=dt.datetime(day.year, day.month, day.day, 1, 30, tzinfo=dt.UTC) if status == "sent" else None)
        for n, (kind, stage, status, day, subject, error) in enumerate(messages)
    )  # fmt: skip


# Processes.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Group:
    """A child process in its own process group, stopped with its whole group."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
                # The leader is gone; children of the group may linger a moment.
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
        self._out.close()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last!r})")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http(method: str, url: str, *, headers: dict[str, str] | None = None, body: Any = None) -> Response:
    """One HTTP request with urllib, redirects not followed, errors returned (not raised)."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as r:
            return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


@dataclass
class Server:
    url: str
    home: Path
    env: dict[str, str]

    def token(self, username: str) -> str:
        """Log in through FAB's ``POST /auth/token`` with the provisioned password."""
        r = http(
            "POST", f"{self.url}/auth/token", body={"username": username, "password": self.password(username)}
        )
        assert r.status == 201, r.text
        return r.json()["access_token"]

    def password(self, username: str) -> str:
        from review_calendar_airflow.access import password

        return password(username, self.home)


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium and chromedriver, installed by scripts/apt-install.sh (as scripts/test.sh does) when missing."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        result = subprocess.run(
            ["bash", str(ROOT / "scripts" / "apt-install.sh"), *BROWSER_PACKAGES],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not CHROMIUM.exists():
            pytest.skip(f"chromium could not be installed: {(result.stderr or result.stdout)[-500:]}")
    return CHROMIUM


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real ``airflow api-server`` with the plugin, the users and the demo review database."""
    tmp = tmp_path_factory.mktemp("ui-e2e")
    home, rc_home = tmp / "airflow", tmp / "review"
    home.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),  # >= 64 bytes for HS512
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")]),
        "REVIEW_CALENDAR_HOME": str(rc_home),
        "REVIEW_CALENDAR_DB_URL": f"sqlite:///{rc_home / 'review.db'}",
        "REVIEW_CALENDAR_PROGRAMMES": str(ROOT / "programmes"),
        "TZ": "Asia/Shanghai",
    }  # fmt: skip
    airflow = str(Path(sys.executable).with_name("airflow"))
    migrate = subprocess.Popen([airflow, "db", "migrate"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        fill_demo_states(env["REVIEW_CALENDAR_DB_URL"], rc_home / "reports")
        out, _ = migrate.communicate(timeout=240)
    finally:
        if migrate.poll() is None:
            os.killpg(migrate.pid, signal.SIGKILL)
    assert migrate.returncode == 0, out.decode(errors="replace")[-3000:]
    # The DAGs must be in Airflow's database for the operator's re-run (no dag-processor runs here).
    reserialize = subprocess.run([airflow, "dags", "reserialize"], env=env, cwd=ROOT, capture_output=True,
                                 text=True, timeout=240, check=False, start_new_session=True)  # fmt: skip
    assert reserialize.returncode == 0, reserialize.stderr[-3000:]
    provision = subprocess.run([sys.executable, "-m", "review_calendar_airflow.access", "provision"], env=env,
                               cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)  # fmt: skip
    assert provision.returncode == 0, provision.stderr[-3000:]
    api = Group(
        [airflow, "api-server", "--host", "127.0.0.1", "--port", str(port)], env, tmp / "api-server.log"
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: (
                api.alive()
                and http("GET", f"{url}/api/v2/monitor/health").status == 200
                or (not api.alive() and pytest.fail(f"api-server exited:\n{api.tail()}"))
            ),
            timeout=120,
            what="the api-server's health endpoint",
        )
        yield Server(url=url, home=home, env=env)
    finally:
        api.stop()
        OUTPUT.mkdir(exist_ok=True)
        shutil.copy(api.log, OUTPUT / "api-server.log")


# A minimal W3C WebDriver client.

BROWSER_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1440,2000",
]  # fmt: skip

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class WebDriver:
    """Just enough of the W3C WebDriver protocol, over urllib, to log in and read a page."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = ""

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        prefix = f"/session/{self.session}" if self.session and not path.startswith("/session") else ""
        r = http(
            method, f"{self.url}{prefix}{path}", body=body if body is not None or method == "GET" else {}
        )
        payload = r.json()
        if r.status >= 400:
            raise RuntimeError(f"WebDriver {method} {path}: {payload.get('value', payload)}")
        return payload.get("value")

    def start(self, args: list[str], prefs: dict[str, Any] | None = None) -> None:
        options = {"binary": str(CHROMIUM), "args": args, **({"prefs": prefs} if prefs else {})}
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def quit(self) -> None:
        if self.session:
            try:
                self._call("DELETE", "")
            finally:
                self.session = ""

    def get(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    @property
    def current_url(self) -> str:
        return self._call("GET", "/url")

    def find_all(self, css: str) -> list[str]:
        return [e[ELEMENT] for e in self._call("POST", "/elements", {"using": "css selector", "value": css})]

    def find(self, css: str) -> str:
        return self._call("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def find_all_xpath(self, xpath: str) -> list[str]:
        return [e[ELEMENT] for e in self._call("POST", "/elements", {"using": "xpath", "value": xpath})]

    def source(self) -> str:
        return self._call("GET", "/source")

    def type(self, element: str, text: str) -> None:
        self._call("POST", f"/element/{element}/value", {"text": text})

    def click(self, element: str) -> None:
        self._call("POST", f"/element/{element}/click")

    def click_first(self, find: Callable[[], list[str]], timeout: float, what: str) -> None:
        """Click the first element ``find`` returns, finding it again while the page re-renders it.

        React lists re-render after their data loads; an element found before that is "stale".
        """

        def found_and_clicked() -> bool:
            elements = find()
            if not elements:
                return False
            self.click(elements[0])
            return True

        wait_for(found_and_clicked, timeout, what)

    def text(self, element: str) -> str:
        return self._call("GET", f"/element/{element}/text")

    def attribute(self, element: str, name: str) -> str | None:
        return self._call("GET", f"/element/{element}/attribute/{name}")

    def screenshot(self) -> bytes:
        return base64.b64decode(self._call("GET", "/screenshot"))

    def execute(self, script: str) -> Any:
        return self._call("POST", "/execute/sync", {"script": script, "args": []})

    def resize(self, width: int, height: int) -> None:
        self._call("POST", "/window/rect", {"width": width, "height": height})

    def delete_cookies(self) -> None:
        self._call("DELETE", "/cookie")

    def cookie_header(self) -> str:
        """The session's cookies as a ``Cookie`` header, to fetch a link the way the browser would."""
        return "; ".join(f"{c['name']}={c['value']}" for c in self._call("GET", "/cookie"))

    def download_to(self, folder: Path) -> None:
        """Let the browser save downloads (``Content-Disposition: attachment``) into ``folder``."""
        params = {"behavior": "allow", "downloadPath": str(folder)}
        self._call("POST", "/chromium/send_command", {"cmd": "Page.setDownloadBehavior", "params": params})

    def save_screenshot(self, path: Path) -> None:
        path.write_bytes(self.screenshot())


@pytest.fixture(scope="module")
def browser(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium behind Debian's chromedriver, both in their own process group."""
    tmp = tmp_path_factory.mktemp("chromium")
    port = free_port()
    driver = Group([str(CHROMEDRIVER), f"--port={port}"], dict(os.environ), tmp / "chromedriver.log")
    client = WebDriver(f"http://127.0.0.1:{port}")
    try:
        wait_for(lambda: http("GET", f"{client.url}/status").json()["value"]["ready"], 30, "chromedriver")
        client.start([*BROWSER_ARGS, "--lang=zh-CN", f"--user-data-dir={tmp / 'profile'}"])
        yield client
    finally:
        try:
            client.quit()
        finally:
            driver.stop()


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/review-calendar/", id="index"),
        pytest.param(PAGE, id="programme"),
        pytest.param(f"/review-calendar/api/matrix/{PROGRAMME}/{YEAR}", id="json"),
        pytest.param("/review-calendar/static/style.css", id="css"),
        pytest.param(f"/review-calendar/reports/{REPORT}", id="report"),
    ],
)
def test_anonymous_request_gets_401(server: Server, path: str) -> None:
    response = http("GET", server.url + path, headers={"Accept": "application/json"})

    assert response.status == 401
    assert response.headers.get("www-authenticate") == "Bearer"


def test_anonymous_browser_navigation_is_sent_to_the_login_page(server: Server) -> None:
    response = http("GET", server.url + PAGE, headers={"Accept": "text/html,application/xhtml+xml"})

    assert response.status == 303
    assert response.headers["location"] == f"{server.url}/auth/login/?next={quote(PAGE, safe='')}"


def test_a_forged_token_gets_401(server: Server) -> None:
    forged = server.token("reviewer")[:-4] + "AAAA"

    response = http("GET", server.url + PAGE, headers={"Authorization": f"Bearer {forged}"})

    assert response.status == 401


def test_reviewer_sees_the_demo_states_in_chromium(server: Server, browser: WebDriver) -> None:
    # Arrange: log in on FAB's login page, which stores the JWT in the _token cookie.
    browser.get(f"{server.url}/auth/login/?next={quote(PAGE, safe='')}")
    username = wait_for(lambda: browser.find_all("input[name=username]"), 30, "the login form")[0]
    browser.type(username, "reviewer")
    browser.type(browser.find("input[name=password]"), server.password("reviewer"))
    browser.click(browser.find("input[type=submit], button[type=submit]"))

    # Act: the login page sends the browser back to the review calendar.
    wait_for(lambda: PAGE in browser.current_url and browser.find_all("table.matrix"), 30, "the matrix page")

    # Assert: the signed-in reviewer, the legend, and the demo's states in their cells.
    assert browser.text(browser.find("header .user")).startswith("reviewer")
    shown = {}
    for region, column in EXPECTED_CELLS:
        cell = browser.find(f'td.cell[data-region="{region}"][data-column="{column}"] a.open-cell')
        shown[(region, column)] = browser.text(cell)
    assert shown == EXPECTED_CELLS
    legend = browser.text(browser.find("ul.legend"))
    assert all(label in legend for label in ("按时提交", "逾期提交", "已退回", "未提交", "待提交", "未到期"))
    assert browser.find_all("svg.chart")
    assert not browser.find_all(".rerun form"), "a reviewer's page offers no re-run"
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "review-calendar.png").write_bytes(browser.screenshot())
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(OUTPUT / "review-calendar.png", SCREENSHOT)


def test_airflow_ui_is_chinese_by_default_and_keeps_the_users_choice(
    server: Server, browser: WebDriver, tmp_path: Path
) -> None:
    # Arrange: a fresh browser profile whose browser language is English, signed in as the reviewer.
    fresh = WebDriver(browser.url)  # a second session of the same chromedriver
    fresh.start(
        [*BROWSER_ARGS, "--lang=en-US", f"--user-data-dir={tmp_path / 'profile'}"],
        prefs={"intl.accept_languages": "en-US,en"},
    )
    try:
        fresh.get(f"{server.url}/auth/login/?next=%2F")
        username = wait_for(lambda: fresh.find_all("input[name=username]"), 30, "the login form")[0]
        fresh.type(username, "reviewer")
        fresh.type(fresh.find("input[name=password]"), server.password("reviewer"))
        fresh.click(fresh.find("input[type=submit], button[type=submit]"))

        # Act: Airflow's home page, as the api-server serves it to a user who never picked a language.
        nav = wait_for(lambda: _airflow_nav(fresh, AIRFLOW_NAV_ZH), 60, "Airflow's navigation in Chinese")

        # Assert: the navigation in zh-CN although the browser asks for English.
        assert fresh.execute("return navigator.language").startswith("en")
        assert all(label in nav for label in AIRFLOW_NAV_ZH), nav
        assert fresh.execute(f"return window.localStorage.getItem('{LANGUAGE_KEY}')") == "zh-CN"
        OUTPUT.mkdir(exist_ok=True)
        fresh.save_screenshot(OUTPUT / "airflow-zh.png")

        # Act: the user picks English in the UI's language menu (用户 › 选择语言), then reloads.
        fresh.click_first(lambda: fresh.find_all(USER_MENU), 30, "the user menu")
        fresh.click_first(lambda: fresh.find_all(PICK_LANGUAGE), 30, "选择语言")
        choose = wait_for(lambda: fresh.find_all("[role=dialog] input"), 30, "the language dialog")[0]
        fresh.type(choose, "English\ue007")
        wait_for(lambda: fresh.execute(f"return window.localStorage.getItem('{LANGUAGE_KEY}')") == "en",
                 30, "the choice stored")  # fmt: skip
        fresh.get(f"{server.url}/")

        # Assert: the choice sticks; the page did not put zh-CN back.
        nav = wait_for(lambda: _airflow_nav(fresh, AIRFLOW_NAV_EN), 60, "Airflow's navigation in English")
        assert all(label in nav for label in AIRFLOW_NAV_EN) and "首页" not in nav, nav
        assert fresh.execute(f"return window.localStorage.getItem('{LANGUAGE_KEY}')") == "en"
        fresh.save_screenshot(OUTPUT / "airflow-en.png")
    except Exception:
        fresh.save_screenshot(tmp_path / "failed.png")
        (tmp_path / "failed.html").write_text(fresh.source(), encoding="utf-8")
        raise
    finally:
        fresh.quit()


def test_only_the_ui_page_carries_the_language_script(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.token('reviewer')}", "Accept": "text/html"}

    ui = http("GET", f"{server.url}/dags", headers=headers)
    api = http("GET", f"{server.url}/api/v2/version", headers=headers)
    ours = http("GET", f"{server.url}{PAGE}", headers=headers)
    login = http("GET", f"{server.url}/auth/login/")

    assert ui.status == 200 and language_script("zh-CN") in ui.body
    assert ui.body.index(language_script("zh-CN")) < ui.body.index(b'<script type="module"')
    assert api.status == 200 and b"localStorage" not in api.body and api.json()["version"]
    assert ours.status == 200 and b"localStorage" not in ours.body
    assert "script-src 'none'" in ours.headers["content-security-policy"]
    assert b"i18nextLng" not in login.body


def _airflow_nav(browser: WebDriver, labels: tuple[str, ...]) -> list[str]:
    """The lines of Airflow's page once its navigation shows every one of ``labels`` ([] until then).

    The UI renders 首页 before 浏览 (the menus it builds from the user's permissions), so waiting
    for one label and asserting the rest raced the second render.
    """
    lines = [line.strip() for line in (browser.execute("return document.body.innerText") or "").splitlines()]
    return lines if all(label in lines for label in labels) else []


def log_in(server: Server, browser: WebDriver, user: str, target: str) -> None:
    browser.delete_cookies()
    browser.get(f"{server.url}/auth/login/?next={quote(target, safe='')}")
    username = wait_for(lambda: browser.find_all("input[name=username]"), 30, "the login form")[0]
    browser.type(username, user)
    browser.type(browser.find("input[name=password]"), server.password(user))
    browser.click(browser.find("input[type=submit], button[type=submit]"))


def test_reviewer_finds_who_is_late_and_why_in_chromium(server: Server, browser: WebDriver) -> None:
    # Arrange: the reviewer logs in and lands on what is lagging now.
    log_in(server, browser, "reviewer", LANDING)
    wait_for(lambda: browser.find_all("table.lagging tbody tr"), 30, "the lagging list")

    # Assert: most overdue first, states in words, the city's contact masked until clicked.
    rows = browser.find_all("table.lagging tbody tr")
    states = [browser.attribute(r, "data-state") for r in rows]
    assert set(states) <= {"missing", "rejected", "returned", "awaiting_approval"}
    first = browser.text(rows[0])
    assert "未提交" in first and "天" in first
    qhd = browser.find('table.lagging tr[data-region="130300"][data-obligation="contact_list"]')
    assert (
        "已退回" in browser.text(qhd) and "王芳" in browser.text(qhd) and "138****5678" in browser.text(qhd)
    )
    assert "13812345678" not in browser.source()
    assert browser.find_all("a.export"), "the list exports to Excel"
    OUTPUT.mkdir(exist_ok=True)
    browser.save_screenshot(OUTPUT / "landing.png")
    shutil.copy(OUTPUT / "landing.png", SCREENSHOT.with_name("landing.png"))

    # Act: one click on the rejected file's row opens its history: row and column of the error.
    links = browser.find_all('table.lagging tr[data-region="130300"][data-obligation="contact_list"] td a')
    browser.click(links[0])
    wait_for(lambda: browser.find_all("table.errors"), 30, "the file history")
    errors = browser.text(browser.find("table.errors"))
    assert WHY_REJECTED in errors and "联系人名单" in errors and "4" in errors and "手机" in errors
    assert browser.find_all('a[href$="/download"]')
    errors_link = browser.attribute(browser.find('a[href$="/errors.xlsx"]'), "href")
    errors_link = errors_link if errors_link.startswith("http") else server.url + errors_link
    download = http("GET", errors_link, headers={"Authorization": f"Bearer {server.token('reviewer')}"})
    assert download.status == 200 and download.body.startswith(b"PK")  # an .xlsx workbook
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"

    # Act: the same list on a 390-px phone: tables scroll inside their card, the page does not.
    try:
        browser.resize(390, 844)
        for page in (LANDING, PAGE + "?today=2026-04-01"):
            browser.get(server.url + page)
            wait_for(lambda: browser.find_all("table"), 30, "the page")
            width, inner = browser.execute("return [document.documentElement.scrollWidth, window.innerWidth]")
            assert width <= inner, f"{page} overflows the phone: {width} > {inner}"
            browser.save_screenshot(OUTPUT / ("landing-phone.png" if page == LANDING else "matrix-phone.png"))
        facts = browser.text(browser.find('td.cell[data-region="130300"][data-column="contact_list/Y"]'))
        assert "收到 2025-03-28" in facts and "3 处错误" in facts  # visible text, not a tooltip
    finally:
        browser.resize(1440, 2000)


def test_reviewer_opens_a_region_from_the_matrix_and_reads_why_its_file_was_rejected(
    server: Server, browser: WebDriver
) -> None:
    # Arrange: the reviewer is signed in (previous test); the matrix page is open.
    browser.get(f"{server.url}{PAGE}")
    link = wait_for(
        lambda: browser.find_all(f'tr[data-region="{REJECTED_REGION}"] th.region a'), 30, "the matrix"
    )[0]

    # Act: one click on the region's name, one on the rejected file's problems.
    browser.click(link)
    wait_for(lambda: browser.find_all("table.region-instances"), 30, "the region page")
    browser.click(browser.find('tr[data-obligation="development_plan"] details.errors summary'))

    # Assert: row, column, value and message visible; decisions and the communication log with outcomes.
    errors = browser.text(browser.find('tr[data-obligation="development_plan"] table.errors'))
    assert all(str(row) in errors and column in errors and message in errors
               for _, row, column, _, message in REJECTED_ERRORS)  # fmt: skip
    assert "蠡县" in browser.text(browser.find("h1"))
    log = browser.text(browser.find("#messages"))
    assert "发送失败" in log and "已发送" in log and "待发送" in log and "联系人缺失报告" in log
    assert "lixian.contact@" not in browser.source() and "l***@gx.example.cn" in log
    assert "取消建设试点资格" in browser.text(browser.find(".region-programme .decisions"))
    summary = browser.text(browser.find('tr[data-obligation="development_plan"] details.errors summary'))
    assert summary == f"{len(REJECTED_ERRORS)} 处问题"
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "region.png").write_bytes(browser.screenshot())
    shutil.copy(OUTPUT / "region.png", REGION_SCREENSHOT)

    # Act: one more click opens the file's history page, at the file, with every finding.
    browser.click(browser.find('tr[data-obligation="development_plan"] details.errors .all-problems a'))
    wait_for(lambda: "/regions/" in browser.current_url and browser.find_all("article.file-version"), 30,
             "the file's history")  # fmt: skip

    # Assert: the same findings, all of them, and the error list to download.
    file_id = browser.current_url.rsplit("#file-", 1)[1]
    listed = browser.text(browser.find(f"#file-{file_id} table.errors"))
    assert all(message in listed for *_, message in REJECTED_ERRORS)
    assert len(browser.find_all(f"#file-{file_id} table.errors tbody tr")) == len(REJECTED_ERRORS)
    assert browser.find_all(f'#file-{file_id} a[href$="/files/{file_id}/errors.xlsx"]')


OBLIGATION = f"{PAGE}/development_plan/Y"


def open_as(server: Server, browser: WebDriver, user: str, target: str) -> None:
    """Open ``target`` as ``user``, logging in only when the browser is not signed in as them.

    FAB allows 5 logins in 40 s; the walks share the reviewer's session.
    """
    browser.get(server.url + target)
    user_box = wait_for(lambda: browser.find_all("input[name=username]") or browser.find_all("header .user"), 30,
                        f"{target} or the login form")  # fmt: skip
    if "/auth/login" in browser.current_url or browser.text(user_box[0]).split()[0] != user:
        log_in(server, browser, user, target)


def _href(server: Server, browser: WebDriver, link: str) -> str:
    href = browser.attribute(link, "href") or ""
    return href if href.startswith("http") else server.url + href


def _download(server: Server, browser: WebDriver, link: str, folder: Path) -> tuple[Path, Response]:
    """Click a download link in the browser and wait for the file; fetch the same href with its cookies."""
    before = set(folder.iterdir())
    url = _href(server, browser, link)
    browser.click(link)
    saved = wait_for(
        lambda: [f for f in set(folder.iterdir()) - before if not f.name.endswith(".crdownload")],
        30, f"the browser's download of {url}",
    )  # fmt: skip
    response = http("GET", url, headers={"Cookie": browser.cookie_header()})
    return saved[0], response


def _header_row(path: Path) -> list[Any]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True)
    return [c.value for c in next(workbook.worksheets[0].iter_rows(max_row=1))]


def test_reviewer_follows_the_failed_gate_run_to_why_it_stopped(server: Server, browser: WebDriver) -> None:
    # Arrange: the reviewer opens the development plan's page, where the real gate's failed run is listed.
    open_as(server, browser, "reviewer", OBLIGATION)
    wait_for(lambda: OBLIGATION in browser.current_url and browser.find_all("table.gates tr.fail"), 30,
             "the obligation page with its failed gate run")  # fmt: skip

    # Assert: the 受理记录 lists the files counted as received, as the progress does.
    acceptances = browser.text(browser.find("#acceptances"))
    assert "本期尚未受理或退回任何文件" not in acceptances
    rows = browser.find_all("#acceptances table.acceptances tbody tr")
    assert sorted(browser.attribute(r, "data-region") for r in rows) == [
        "130229",
        "130322",
        "130635",
        "130684",
    ]
    assert "退回" in browser.text(browser.find(f'#acceptances tr[data-region="{REJECTED_REGION}"]'))
    OUTPUT.mkdir(exist_ok=True)
    browser.save_screenshot(OUTPUT / "obligation.png")

    # Act: one click on the failed run's report.
    report = (
        "//table[contains(@class, 'gates')]//tr[contains(@class, 'fail')]//a[normalize-space()='查看报告']"
    )
    browser.click_first(lambda: browser.find_all_xpath(report), 30, "the failed gate run's report")
    check = f"//tr[td[contains(normalize-space(), '{GATE_FAILED_CHECK}')]]"
    wait_for(lambda: browser.find_all_xpath(check), 30, "the gate report")

    # Assert: the real gate's page, the failing check named in Chinese, and the finding that failed it.
    assert browser.current_url.endswith(f"/review-calendar/reports/{REPORT}")
    assert "未通过" in browser.text(browser.find_all_xpath(check)[0])
    page = browser.text(browser.find("body"))
    assert "计划总投资为5000万元，但项目清单各项目计划投资之和为3000万元" in page and "高碑店" in page

    # Assert: the run named by its cycle and Beijing time, the findings by their kind in words, codes only aside.
    assert GATE_RUN_WORDS in browser.text(browser.find("td.run"))
    assert "GATE_" not in browser.text(browser.find("table.findings"))
    kinds = browser.text(browser.find("dl.kinds"))
    assert "合计数不符" in kinds and "各项目之和与填报的合计数不一致" in kinds
    browser.save_screenshot(OUTPUT / "gate-report.png")


#: The pages a reviewer opens on a phone beyond the landing page and the matrix, with their screenshots.
PHONE_PAGES = {
    "region-phone.png": f"/review-calendar/regions/{REJECTED_REGION}",
    "cell-phone.png": f"{OBLIGATION}/regions/{REJECTED_REGION}",
    "obligation-phone.png": OBLIGATION,
    "gate-report-phone.png": f"/review-calendar/reports/{REPORT}",
}
#: For each visible table in a scrolling card: its class, the computed position of its first column, whether
#: it is wider than its card, and how far its first column sits from the card's left edge once scrolled right.
STICKY_FIRST_COLUMNS = """
return [...document.querySelectorAll('.scroll > table')].filter(t => t.offsetParent !== null).map(t => {
  const box = t.parentElement;
  const first = [...t.querySelectorAll(':scope > tbody > tr > :first-child')].find(c => c.colSpan === 1);
  box.scrollLeft = box.scrollWidth;
  const shift = first.getBoundingClientRect().left - box.getBoundingClientRect().left;
  const result = [t.className, getComputedStyle(first).position, box.scrollWidth > box.clientWidth, shift];
  box.scrollLeft = 0;
  return result;
});
"""


def test_region_cell_obligation_and_gate_pages_fit_a_phone(server: Server, browser: WebDriver) -> None:
    # Arrange: the reviewer is signed in, on a 390-px phone.
    open_as(server, browser, "reviewer", PHONE_PAGES["region-phone.png"])
    OUTPUT.mkdir(exist_ok=True)
    try:
        browser.resize(390, 844)
        for shot, page in PHONE_PAGES.items():
            # Act: open the page.
            browser.get(server.url + page)
            wait_for(lambda: browser.find_all(".scroll > table"), 30, page)
            browser.save_screenshot(OUTPUT / shot)

            # Assert: the page is no wider than the phone; its tables scroll in their card, first column held.
            width, inner = browser.execute("return [document.documentElement.scrollWidth, window.innerWidth]")
            assert width <= min(inner, 390) + 1, f"{page} overflows the phone: {width} > {inner}"
            tables = browser.execute(STICKY_FIRST_COLUMNS)
            assert tables, page
            for name, position, scrolls, shift in tables:
                assert position == "sticky", f"{page}: the first column of table.{name} is {position}"
                assert not scrolls or abs(shift) <= 1, (
                    f"{page}: table.{name} lost its first column ({shift}px)"
                )
            if shot in ("region-phone.png", "obligation-phone.png"):  # their wide tables do scroll
                assert any(scrolls for _, _, scrolls, _ in tables), page
            browser.execute(
                "document.querySelectorAll('.scroll').forEach(b => { b.scrollLeft = b.scrollWidth; })"
            )
            browser.save_screenshot(OUTPUT / shot.replace(".png", "-scrolled.png"))

        # Assert: a tag's explanation opens on a tap, without hover (the matrix's configured due date).
        browser.get(f"{server.url}{PAGE}")
        note = wait_for(lambda: browser.find_all("table.calendar details.note"), 30, "the calendar's tags")[0]
        assert not browser.text(browser.find("table.calendar details.note .note-text"))
        browser.click(browser.find("table.calendar details.note summary"))
        assert "依据文件" in browser.text(note)
        browser.save_screenshot(OUTPUT / "note-phone.png")
    finally:
        browser.resize(1440, 2000)


def test_reviewer_reads_what_was_decided_on_which_rule_and_by_whom(
    server: Server, browser: WebDriver
) -> None:
    # Arrange: the reviewer is signed in; the decisions were recorded with reason, rule, clause and reviewer.
    subject, _, reason, rule, _ = EVALUATIONS[2]  # 蠡县毛皮产业集群: revoked
    open_as(server, browser, "reviewer", PAGE)
    card = f"//section[@id='decisions']//article[contains(., '{reason}')]"

    # Act: the programme page's decisions.
    found = wait_for(lambda: browser.find_all_xpath(card), 30, "the decision on the programme page")

    # Assert: plain reason first, then the rule in words, the clause and who decided.
    text = browser.text(found[0])
    assert browser.text(browser.find_all_xpath(f"{card}//p[contains(@class, 'reason')]")[0]) == reason
    assert f"依据规则\n{rule}" in text and f"条款\n{DECIDED_CLAUSE}" in text
    assert (
        f"审定人\n{DECIDED_BY_NAME} 账号 {DECIDED_BY} · 2026-03-17 09:00（北京时间）" in text
    )  # name, login beside
    assert "programmes/" not in text and subject not in text  # no configuration path, no code

    # Act: the same decision on the region's page.
    browser.get(f"{server.url}/review-calendar/regions/{REJECTED_REGION}")
    decisions = wait_for(lambda: browser.find_all(".region-programme .decisions"), 30, "the region page")

    # Assert: reason, rule, clause and reviewer there too.
    text = browser.text(decisions[0])
    assert all(part in text for part in (reason, rule, DECIDED_CLAUSE, DECIDED_BY_NAME, DECIDED_BY)), text


def test_reviewer_downloads_a_report_and_a_quarantined_files_errors_in_chromium(
    server: Server, browser: WebDriver, tmp_path: Path
) -> None:
    from review_calendar.reviewer_pages.files import ERROR_COLUMNS

    # Arrange: the browser saves downloads; the reviewer opens the obligation page.
    browser.download_to(tmp_path)
    open_as(server, browser, "reviewer", OBLIGATION)
    xlsx = 'a.download[href$=".xlsx"]'
    try:
        link = wait_for(lambda: OBLIGATION in browser.current_url and browser.find_all(xlsx), 30,
                        "the summary's .xlsx link")[0]  # fmt: skip
    except TimeoutError:
        OUTPUT.mkdir(exist_ok=True)
        (OUTPUT / "downloads-failed.html").write_text(browser.source(), encoding="utf-8")
        raise

    # Act: the browser follows the link of the provincial summary's workbook.
    saved, response = _download(server, browser, link, tmp_path)

    # Assert: an attachment the browser may not sniff, the workbook the aggregation wrote.
    assert browser.attribute(link, "href").endswith(f"/downloads/reports/{SUMMARY_XLSX}")
    assert response.status == 200 and response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert saved.read_bytes() == response.body
    assert _header_row(saved)[:3] == ["市代码", "市", "应报"]

    # Act: on 蠡县's page, the browser follows the quarantined plan's error list.
    browser.get(f"{server.url}/review-calendar/regions/{REJECTED_REGION}")
    errors = 'tr[data-obligation="development_plan"] a[href$="/errors.xlsx"]'
    wait_for(lambda: browser.find_all("table.region-instances"), 30, "the region page")
    browser.click(browser.find('tr[data-obligation="development_plan"] details.errors summary'))
    saved, response = _download(server, browser, wait_for(lambda: browser.find_all(errors), 30, "the link")[0],
                                tmp_path)  # fmt: skip

    # Assert: the same headers, and the list with its header row and one row per error.
    assert response.status == 200 and response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert _header_row(saved) == list(ERROR_COLUMNS)
    from openpyxl import load_workbook

    rows = list(load_workbook(saved, read_only=True).worksheets[0].iter_rows(min_row=2, values_only=True))
    assert sorted(r[ERROR_COLUMNS.index("行")] for r in rows) == [3, 4, 7]


def test_the_as_of_view_leaves_out_files_that_arrived_later(server: Server, browser: WebDriver) -> None:
    # Arrange: the reviewer is signed in; 2025-04-02 is before 唐山's contact list (04-08) and every plan.
    open_as(server, browser, "reviewer", PAGE)
    wait_for(lambda: browser.find_all("table.matrix"), 30, "the matrix page")

    # Act: the matrix with 查看日期 2025-04-02.
    browser.get(f"{server.url}{PAGE}?today=2025-04-02")
    wait_for(lambda: browser.find_all("table.matrix"), 30, "the matrix as of 2025-04-02")

    def cell(region: str, column: str) -> str:
        found = browser.find_all(f'td.cell[data-region="{region}"][data-column="{column}"]')
        return browser.text(found[0]) if found else ""

    # Assert: the files received by then are there, the later ones are not.
    assert "指定查看日期" in browser.text(browser.find("body"))
    assert "收到 2025-03-20" in cell("130100", "contact_list/Y")
    assert "收到 2025-03-28" in cell("130300", "contact_list/Y")
    tangshan = cell("130200", "contact_list/Y")
    assert "2025-04-08" not in tangshan and "逾期提交" not in tangshan
    assert "2025-06-20" not in cell("130684", "development_plan/Y")
    assert "收到" not in cell("130684", "half_year_report/Y")

    # Act: 唐山's page before and after its file arrived.
    browser.get(f"{server.url}/review-calendar/regions/130200?today=2025-04-02")
    before = wait_for(lambda: browser.find_all("h1") and browser.source(), 30, "唐山's page as of 04-02")
    browser.get(f"{server.url}/review-calendar/regions/130200?today=2025-04-10")
    after = wait_for(lambda: browser.find_all("h1") and browser.source(), 30, "唐山's page as of 04-10")

    # Assert: the file is listed only once it has arrived.
    assert "130200_contact_list_0.xlsx" not in before
    assert "130200_contact_list_0.xlsx" in after


def test_the_gate_report_is_served_and_traversal_is_refused(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.token('reviewer')}"}

    report = http("GET", f"{server.url}/review-calendar/reports/{REPORT}", headers=headers)
    escape = http("GET", f"{server.url}/review-calendar/reports/%2e%2e/%2e%2e/review.db", headers=headers)

    assert report.status == 200 and "数据质量闸门" in report.text
    assert "sandbox" in report.headers["content-security-policy"]
    assert escape.status == 404


def test_reviewer_cannot_rerun_a_cycle(server: Server) -> None:
    response = http(
        "POST",
        f"{server.url}/review-calendar/programmes/{PROGRAMME}/{YEAR}/development_plan/Y/rerun",
        headers={"Authorization": f"Bearer {server.token('reviewer')}", "Accept": "application/json"},
    )

    assert response.status == 403, response.text


def test_operator_reruns_a_cycle_through_airflow(server: Server) -> None:
    token = server.token("operator")

    response = http(
        "POST",
        f"{server.url}/review-calendar/programmes/{PROGRAMME}/{YEAR}/development_plan/Y/rerun",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )

    assert response.status == 201, response.text
    run_id = response.json()["dag_run_id"]
    assert run_id.startswith("manual__2025_Y__")  # named by the cycle it serves, as scheduled runs are
    run = http(
        "GET",
        f"{server.url}/api/v2/dags/{CYCLE_DAG}/dagRuns/{quote(run_id, safe='')}",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert run["conf"] == {"programme": PROGRAMME, "year": YEAR, "period": "Y"}
    assert run["triggering_user_name"] == "operator"
    assert run["run_type"] == "manual"
    # The page tells the operator the truth: the DAG is paused, the run is queued, no second run now.
    page = http("GET", f"{server.url}{PAGE}/development_plan/Y?rerun={quote(run_id, safe='')}",
                headers={"Authorization": f"Bearer {token}", "Accept": "text/html"})  # fmt: skip
    assert page.status == 200, page.text[-2000:]
    assert "处于暂停状态" in page.text
    assert "排队中" in page.text and 'http-equiv="refresh"' in page.text
    assert "结束前不能再次重跑" in page.text
    state = http("GET", f"{server.url}{PAGE}/development_plan/Y/rerun/{quote(run_id, safe='')}",
                 headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}).json()  # fmt: skip
    assert state["state"] == "queued" and state["active"] and state["year"] == YEAR


def test_a_cookie_rerun_from_a_foreign_page_is_refused(server: Server) -> None:
    cookie = {"Cookie": f"_token={server.token('operator')}", "Accept": "text/html"}
    url = f"{server.url}/review-calendar/programmes/{PROGRAMME}/{YEAR}/development_plan/Y/rerun"

    forged = http("POST", url, headers={**cookie, "Origin": "http://attacker.example"})
    same_site = http("POST", url, headers={**cookie, "Origin": server.url})

    assert forged.status == 403
    # The same-site form passes the origin check and meets the operator's run, still queued
    # (no scheduler here): a second run of the same cycle is refused until it ends.
    assert same_site.status == 409, same_site.text[-2000:]
    assert "结束前不再重复启动" in same_site.text


def test_obligation_page_links_gate_report_summary_and_runs(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.token('reviewer')}", "Accept": "text/html"}

    page = http(
        "GET",
        f"{server.url}/review-calendar/programmes/{PROGRAMME}/{YEAR}/development_plan/Y",
        headers=headers,
    )

    assert page.status == 200, page.text[-2000:]
    html = page.text
    assert f'href="/review-calendar/reports/{REPORT}"' in html  # the gate's HTML page
    assert f'href="/review-calendar/reports/{PROGRAMME}/{YEAR}/development_plan_Y.html"' in html
    assert f'href="/dags/{CYCLE_DAG}/runs/{quote(GATE_RUN, safe="")}"' in html
    assert "按时报送率" in html and "40.0%" in html
    assert "当前角色只能查看" in html and '<form method="post"' not in html


def test_the_plugin_registers_the_app_and_the_nav_entry(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.token('admin')}"}

    plugins = http("GET", f"{server.url}/api/v2/plugins", headers=headers).json()["plugins"]

    (plugin,) = [p for p in plugins if p["name"] == "review_calendar"]
    assert [a["url_prefix"] for a in plugin["fastapi_apps"]] == ["/review-calendar"]
    assert [(v["name"], v["href"], v["destination"]) for v in plugin["external_views"]] == [
        ("审查日历", "review-calendar/", "nav")
    ]
    assert plugin["timetables"], "the timetables are still registered"


def park_a_required_action(server: Server, log: Path) -> str:
    """Record one proposal and let its decision DAG ask it (``dag.test()`` in a child, stopped once asked).

    Returns:
        The reviewer assigned to the Required Action (the programme's first).
    """
    from review_calendar.decide.proposals import record_proposal
    from review_calendar.domain.programmes import load_programmes
    from review_calendar.domain.verdicts import Verdict
    from review_calendar.store.db import session_scope
    from review_calendar_demo.decisions import DecisionDesk
    from review_calendar_demo.reviewer import ApiServer

    programme = load_programmes(ROOT / "programmes")[PROGRAMME]
    reviewer = programme.review.reviewers[0]
    proposal = Verdict(
        subject=PARKED, outcome="continue", reason="得分86分，不低于80分：继续支持",
        rule="programmes/hebei_smart_cluster.yaml: evaluation", clause="冀工信产业〔2016〕93号 五",
        figures={"score": 86, "state": "proposed", "cluster_name": PARKED_NAME, "region_code": "130684"},
    )  # fmt: skip
    with session_scope(server.env["REVIEW_CALENDAR_DB_URL"]) as session:
        assert record_proposal(session, programme, YEAR, "evaluation", proposal, "manual__browser-test")
    desk = DecisionDesk(
        server.home,
        users={PROGRAMME: reviewer},
        leave_pending={PARKED},
        server=ApiServer(log, port=int(server.url.rsplit(":", 1)[1])),  # the fixture's, already running
        passwords={reviewer: server.password(reviewer)},
    )
    assert desk.leave_for_ui(PROGRAMME, YEAR, log, timeout=180, env=server.env), log.read_text()[-3000:]
    return reviewer


def test_reviewer_approves_a_required_action_in_chromium(
    server: Server, browser: WebDriver, tmp_path: Path
) -> None:
    # Arrange: a proposal asked by the decision DAG and left awaiting input; the assigned reviewer logs in.
    reviewer = park_a_required_action(server, tmp_path / "decisions.log")
    browser.delete_cookies()  # the module's browser may still hold another user's session
    browser.get(f"{server.url}/auth/login/?next={quote('/required_actions', safe='')}")
    username = wait_for(lambda: browser.find_all("input[name=username]"), 30, "the login form")[0]
    browser.type(username, reviewer)
    browser.type(browser.find("input[name=password]"), server.password(reviewer))
    browser.click(browser.find("input[type=submit], button[type=submit]"))

    # Act: in Required Actions, open the proposal, give a reason, approve.
    link = f"//a[contains(@href, '/required_actions') and contains(normalize-space(), '{PARKED_NAME}')]"
    try:
        wait_for(lambda: browser.find_all_xpath(link), 60, "the Required Action in the list")
        browser.save_screenshot(tmp_path / "required-actions.png")
        browser.click_first(lambda: browser.find_all_xpath(link), 30, "the Required Action, clickable")
        approve = "//button[normalize-space()='批准']"
        wait_for(
            lambda: browser.find_all_xpath(approve) and browser.find_all(REASON), 60, "the action's form"
        )
        browser.type(browser.find(REASON), "同意，继续支持")
        browser.save_screenshot(tmp_path / "required-action.png")
        browser.click(browser.find_all_xpath(approve)[0])
    except Exception:
        browser.save_screenshot(tmp_path / "failed.png")
        (tmp_path / "failed.html").write_text(browser.source(), encoding="utf-8")
        raise

    # Assert: the answer is recorded as the reviewer's, with the reason typed.
    headers = {"Authorization": f"Bearer {server.token(reviewer)}"}
    hitl = f"{server.url}/api/v2/dags/{DECISION_DAG}/dagRuns/~/hitlDetails"

    def answered() -> dict[str, Any] | None:
        (found,) = http("GET", hitl, headers=headers).json()["hitl_details"]
        return found if found["response_received"] else None

    found = wait_for(answered, 30, "the answer")
    assert found["chosen_options"] == ["批准"]
    assert found["responded_by_user"]["name"] == reviewer
    assert found["params_input"]["reason"] == "同意，继续支持"
    OUTPUT.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "required-action.png", OUTPUT / "required-action.png")
    shutil.copy(tmp_path / "required-action.png", SCREENSHOT.with_name("required-action.png"))
