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
from typing import Any
from urllib.parse import quote

import pytest
from review_calendar_airflow.ui_language import LANGUAGE_KEY, language_script

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
REPORT = f"{PROGRAMME}/{YEAR}/development_plan/Y/gate.html"
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
#: (obligation, region, [(received_on, status, is_late, errors), ...]); a region absent is missing.
DEMO_FILES: list[tuple[str, str, list[tuple[dt.date, str, bool, int]]]] = [
    ("contact_list", "130100", [(D(2025, 3, 20), "accepted", False, 0)]),  # 石家庄
    ("contact_list", "130181", [(D(2025, 3, 25), "rejected", False, 2), (D(2025, 3, 30), "accepted", False, 0)]),
    ("contact_list", "130200", [(D(2025, 4, 8), "accepted", True, 0)]),  # 唐山: late
    ("contact_list", "130300", [(D(2025, 3, 28), "rejected", False, 3)]),  # 秦皇岛: rejected
    *[("contact_list", c, [(D(2025, 3, 24), "accepted", False, 0)])
      for c in ("130500", "130600", "130682", "130700", "130800", "130900", "131000", "131100")],
    # 130400 邯郸 sends nothing: missing
    ("development_plan", "130684", [(D(2025, 6, 20), "accepted", False, 0)]),  # 高碑店
    ("development_plan", "130229", [(D(2025, 7, 3), "accepted", True, 0)]),  # 玉田: late
    ("development_plan", "130635", [(D(2025, 6, 28), "rejected", False, len(REJECTED_ERRORS))]),  # 蠡县
    ("development_plan", "130322", [(D(2025, 6, 29), "accepted", False, 0)]),  # 昌黎
    # 130109 藁城 sends nothing: missing
    ("half_year_report", "130684", [(D(2025, 7, 10), "accepted", False, 0)]),
    ("half_year_report", "130229", [(D(2025, 7, 14), "accepted", False, 0)]),
    ("half_year_report", "130322", [(D(2025, 7, 20), "accepted", True, 0)]),
    ("half_year_report", "130635", [(D(2025, 7, 15), "accepted", False, 0)]),
    ("full_year_report", "130684", [(D(2026, 1, 12), "accepted", False, 0)]),
    ("full_year_report", "130229", [(D(2026, 1, 14), "accepted", False, 0)]),
    ("full_year_report", "130635", [(D(2026, 1, 20), "accepted", True, 0)]),
    ("full_year_report", "130109", [(D(2026, 1, 15), "rejected", False, 1)]),
    ("performance_evaluation", "130000", [(D(2026, 3, 10), "accepted", False, 0)]),
]  # fmt: skip

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
    """Migrate and seed the review database, then upsert the demo year's files, gates, figures, decisions."""
    from sqlalchemy import select

    from review_calendar.domain.programmes import load_programmes
    from review_calendar.store.db import session_scope, upgrade, upsert
    from review_calendar.store.models import (
        Aggregate,
        Contact,
        Decision,
        GateRun,
        Submission,
        SubmissionError,
    )
    from review_calendar.store.queries import record_instances
    from review_calendar_demo.seed import seed_demo
    from tests.support.builders import Key, contact_values, submission_values

    upgrade(db_url)
    seed_demo(db_url)
    programme = load_programmes(ROOT / "programmes")[PROGRAMME]
    record_instances(db_url, programme, YEAR)
    submissions = [
        submission_values(Key(PROGRAMME, YEAR, obligation), region, received, name, status=status, is_late=late,
                          error_count=errors, stored_path=f"accepted/{name}", size_bytes=2048, row_count=12)
        for obligation, region, files in DEMO_FILES
        for n, (received, status, late, errors) in enumerate(files)
        for name in [f"{region}_{obligation}_{n}.xlsx"]
    ]  # fmt: skip
    report = reports_dir / REPORT
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        "<!doctype html><meta charset=utf-8><title>闸门报告</title><h1>专项发展规划 数据质量闸门</h1>"
        "<p>严重问题 2 项：蠡县 第3行 总投资 为空。</p>",
        encoding="utf-8",
    )
    gates = [
        {"programme_id": PROGRAMME, "cycle_year": YEAR, "obligation_id": "development_plan", "period": "Y",
         "gate": "development_plan", "run_id": "scheduled__2025-06-30T16:00:00+00:00", "success": False,
         "critical_failures": 2, "warnings": 1, "summary": {"rows": 48}, "html_path": str(report)},
    ]  # fmt: skip
    summary = reports_dir / PROGRAMME / str(YEAR) / "development_plan_Y.html"
    summary.write_text("<!doctype html><meta charset=utf-8><h1>全省汇总</h1>", encoding="utf-8")
    figures = [("130000", "submitted", 4.0), ("130000", "on_time_rate", 0.4), ("130000", "investment_wan_yuan", 86000.5),
               ("130600", "accepted", 1.0), ("130200", "accepted", 1.0), ("130300", "accepted", 1.0)]  # fmt: skip
    aggregates = [
        {"programme_id": PROGRAMME, "cycle_year": YEAR, "obligation_id": "development_plan", "period": "Y",
         "region_code": region, "metric": metric, "value": value, "text": ""}
        for region, metric, value in figures
    ]  # fmt: skip
    decisions = [
        {"programme_id": PROGRAMME, "cycle_year": YEAR, "kind": "evaluation", "subject": subject,
         "outcome": outcome, "rule": rule, "clause": "冀工信产业〔2016〕93号 五", "figures": {"score": score},
         "run_id": "manual__2026-03-17T01:00:00+00:00"}
        for subject, outcome, rule, score in [
            ("baigou_luggage", "continue", "得分≥80：继续支持", 86),
            ("yutian_printing", "rectify", "60≤得分<80：限期整改30天", 72),
            ("lixian_fur", "revoke", "有违规：取消试点资格并追回补贴", 55),
        ]
    ]  # fmt: skip
    with session_scope(db_url) as session:
        upsert(session, Submission, submissions,
               ["programme_id", "cycle_year", "obligation_id", "period", "region_code", "content_hash"])  # fmt: skip
        upsert(
            session,
            GateRun,
            gates,
            ["programme_id", "cycle_year", "obligation_id", "period", "gate", "run_id"],
        )
        upsert(session, Aggregate, aggregates,
               ["programme_id", "cycle_year", "obligation_id", "period", "region_code", "metric"])  # fmt: skip
        upsert(session, Decision, decisions, ["programme_id", "cycle_year", "kind", "subject"])
        rejected = session.scalars(
            select(Submission).where(
                Submission.region_code == "130300", Submission.obligation_id == "contact_list"
            )
        ).one()
        session.add(SubmissionError(submission_id=rejected.id, sheet="联系人名单", row=4, column="手机",
                                    value="1381234", code="MOBILE_INVALID", message=WHY_REJECTED))  # fmt: skip
        upsert(session, Contact, [contact_values(PROGRAMME, YEAR, "130300", "责任处室负责同志", name="王芳",
                                                 mobile="13812345678", email="wangfang@qhd.example.cn")],
               ["programme_id", "cycle_year", "region_code", "role"])  # fmt: skip
        _region_history(session)


def _region_history(session: Any) -> None:
    """蠡县's rejected plan gets its errors, and the region its notices, reminders and a gap report."""
    from sqlalchemy import select

    from review_calendar.store.models import OutboxMessage, Submission, SubmissionError

    rejected = session.scalar(select(Submission).where(
        Submission.region_code == REJECTED_REGION, Submission.obligation_id == "development_plan"))  # fmt: skip
    session.add_all(SubmissionError(submission_id=rejected.id, sheet=sheet, row=row, column=column, value=value,
                                    code="demo", message=message) for sheet, row, column, value, message in REJECTED_ERRORS)  # fmt: skip
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
    assert f'href="/dags/{CYCLE_DAG}/runs/scheduled__2025-06-30T16%3A00%3A00%2B00%3A00"' in html
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
