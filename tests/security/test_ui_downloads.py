"""Downloads from the reviewers' pages: attachments with nosniff, only from the data folders, only for readers.

The plugin's FastAPI app is called in process against Airflow's real
SimpleAuthManager (the fixtures of :mod:`tests.security.test_ui_access`), on a
migrated SQLite review database with the demo province. Submitted files are
placed in the accepted and quarantine folders; one submission's stored path
leads out of them (directly, and through a symbolic link), which must never be
served. Nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest

from tests.security import test_ui_access
from tests.support.builders import Key, add_submission, contact_values

pytestmark = pytest.mark.security
P = "hebei_smart_cluster"
REPORT = f"{P}/2025/contact_list_Y.xlsx"
# The in-process app with the real SimpleAuthManager, as the access tests build it.
airflow_auth = test_ui_access.airflow_auth
client = test_ui_access.client
token_for = test_ui_access.token_for


@pytest.fixture
def files(review_env: Path, tmp_path: Path) -> dict[str, int]:
    """Submissions whose stored files lie inside and outside the data folders, by name."""
    from review_calendar.settings import get_settings
    from review_calendar.store.db import session_scope, upgrade, upsert
    from review_calendar.store.models import Contact
    from review_calendar_demo.seed import seed_demo

    config = get_settings()
    upgrade(config.db_url)
    seed_demo(config.db_url)
    for folder in (config.accepted_dir, config.quarantine_dir, config.reports_dir / P / "2025"):
        folder.mkdir(parents=True, exist_ok=True)
    (config.accepted_dir / "ok.xlsx").write_bytes(b"PK accepted workbook")
    (config.quarantine_dir / "bad.html").write_text("<script>alert(1)</script>", encoding="utf-8")
    (config.reports_dir / REPORT).write_bytes(b"PK report workbook")
    (config.reports_dir / P / "2025" / "contact_list_Y.html").write_text("<h1>汇总</h1>", encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for reviewers", encoding="utf-8")
    (config.quarantine_dir / "link.xlsx").symlink_to(secret)
    key = Key(P, 2025, "contact_list")
    day = dt.date(2025, 3, 20)
    with session_scope(config.db_url) as s:
        ids = {
            "accepted": add_submission(s, key, "130100", day, "联系人名单.xlsx", is_late=False,
                                       stored_path=str(config.accepted_dir / "ok.xlsx")).id,
            "quarantined": add_submission(s, key, "130200", day, "=evil.html", status="rejected",
                                          stored_path=str(config.quarantine_dir / "bad.html"),
                                          errors=[{"sheet": "名单", "row": 3, "column": "邮箱", "value": "=1+1",
                                                   "code": "BAD", "message": "邮箱格式不正确"}]).id,
            "outside": add_submission(s, key, "130300", day, "x.xlsx", status="rejected", stored_path=str(secret)).id,
            "dotdot": add_submission(s, key, "130400", day, "y.xlsx", status="rejected",
                                     stored_path=str(config.quarantine_dir / ".." / ".." / "secret.txt")).id,
            "symlink": add_submission(s, key, "130500", day, "z.xlsx", status="rejected",
                                      stored_path=str(config.quarantine_dir / "link.xlsx")).id,
        }  # fmt: skip
        upsert(s, Contact, [contact_values(P, 2025, "130300", "责任处室负责同志", name="王芳",
                                           mobile="13812345678", email="wangfang@qhd.example.cn")],
               ["programme_id", "cycle_year", "region_code", "role"])  # fmt: skip
    return ids


@pytest.fixture
def reviewer(airflow_auth: Any) -> dict[str, str]:
    return {"authorization": f"Bearer {token_for(airflow_auth, 'reviewer', 'viewer')}"}


def assert_attachment(response: Any) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert (
        "text/html" not in response.headers["content-type"]
        or "sandbox" in response.headers["content-security-policy"]
    )


def test_downloads_need_an_authenticated_caller(client: Any, files: dict[str, int]) -> None:
    for path in (f"/files/{files['accepted']}/download", f"/files/{files['quarantined']}/errors.csv",
                 f"/downloads/reports/{REPORT}", f"/reports/{REPORT}", "/lagging.xlsx",
                 f"/contacts/{P}/2025/130300", f"/programmes/{P}/2025/contact_list/Y/regions/130100"):  # fmt: skip
        response = client.get(path, headers={"accept": "application/json"}, follow_redirects=False)
        assert response.status_code == 401, path


def test_accepted_and_quarantined_files_are_attachments(
    client: Any, files: dict[str, int], reviewer: dict[str, str]
) -> None:
    accepted = client.get(f"/files/{files['accepted']}/download", headers=reviewer)
    quarantined = client.get(f"/files/{files['quarantined']}/download", headers=reviewer)

    assert_attachment(accepted)
    assert accepted.content == b"PK accepted workbook"
    assert "filename*=UTF-8''%E8%81%94" in accepted.headers["content-disposition"]  # 联系人名单.xlsx
    assert_attachment(quarantined)
    assert quarantined.headers["content-type"] == "application/octet-stream"  # never rendered as HTML


@pytest.mark.parametrize("name", ["outside", "dotdot", "symlink"])
def test_a_stored_path_outside_the_data_folders_is_never_served(
    client: Any, files: dict[str, int], reviewer: dict[str, str], name: str
) -> None:
    response = client.get(
        f"/files/{files[name]}/download", headers={**reviewer, "accept": "application/json"}
    )

    assert response.status_code == 404
    assert b"not for reviewers" not in response.content


def test_error_lists_are_xlsx_and_csv_attachments_with_formulas_neutralised(
    client: Any, files: dict[str, int], reviewer: dict[str, str]
) -> None:
    import io

    from openpyxl import load_workbook

    csv = client.get(f"/files/{files['quarantined']}/errors.csv", headers=reviewer)
    xlsx = client.get(f"/files/{files['quarantined']}/errors.xlsx", headers=reviewer)

    assert_attachment(csv)
    text = csv.content.decode("utf-8-sig")
    assert "工作表,行,列,值,问题,级别" in text and "'=1+1" in text and "邮箱格式不正确" in text
    assert_attachment(xlsx)
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in ws[2]][:5] == ["名单", 3, "邮箱", "'=1+1", "邮箱格式不正确"]
    assert client.get(f"/files/{files['quarantined']}/errors.html", headers=reviewer).status_code == 404


def test_reports_download_as_attachments_and_xlsx_reports_are_served(
    client: Any, files: dict[str, int], reviewer: dict[str, str]
) -> None:
    for path in (f"/reports/{REPORT}", f"/downloads/reports/{REPORT}",
                 f"/downloads/reports/{REPORT.removesuffix('.xlsx')}.html"):  # fmt: skip
        response = client.get(path, headers=reviewer)
        assert_attachment(response)


@pytest.mark.parametrize(
    "relpath",
    ["../review.db", "..%2Freview.db", "%2e%2e/%2e%2e/secret.txt", "/etc/passwd", f"{P}/../../review.db",
     "....//review.db", f"{P}/2025"],
)  # fmt: skip
def test_report_downloads_refuse_traversal(
    client: Any, files: dict[str, int], reviewer: dict[str, str], relpath: str
) -> None:
    response = client.get(f"/downloads/reports/{relpath}", headers={**reviewer, "accept": "application/json"})

    assert response.status_code == 404


def test_the_lagging_list_exports_to_excel(
    client: Any, files: dict[str, int], reviewer: dict[str, str]
) -> None:
    import io

    from openpyxl import load_workbook

    response = client.get("/lagging.xlsx?today=2025-07-20&obligation=contact_list", headers=reviewer)

    assert_attachment(response)
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[0][:4] == ("项目", "年度", "报送事项", "期次")
    assert {r[4] for r in rows[1:]} >= {"唐山市", "秦皇岛市"}
    assert not any("13812345678" in str(v) for r in rows for v in r)


def test_the_contact_reveal_is_logged_with_the_viewer_not_the_value(
    client: Any, files: dict[str, int], reviewer: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    landing = client.get("/?today=2025-07-20", headers={**reviewer, "accept": "text/html"})
    assert landing.status_code == 200
    assert "王芳" in landing.text and "138****5678" in landing.text and "13812345678" not in landing.text

    with caplog.at_level(logging.INFO, logger="review_calendar_airflow.ui.landing"):
        response = client.get(f"/contacts/{P}/2025/130300", headers={**reviewer, "accept": "text/html"})

    assert response.status_code == 200 and "13812345678" in response.text
    assert response.headers["cache-control"] == "no-store"
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "reviewer" in logged and f"{P}/2025/130300" in logged
    assert "13812345678" not in logged and "wangfang" not in logged


def test_a_matrix_cell_opens_its_file_history_with_row_and_column(
    client: Any, files: dict[str, int], reviewer: dict[str, str]
) -> None:
    matrix = client.get(f"/programmes/{P}/2025?today=2025-07-20", headers={**reviewer, "accept": "text/html"})
    assert f"/programmes/{P}/2025/contact_list/Y/regions/130200?today=2025-07-20" in matrix.text

    page = client.get(
        f"/programmes/{P}/2025/contact_list/Y/regions/130200", headers={**reviewer, "accept": "text/html"}
    )

    assert page.status_code == 200
    assert "=evil.html" in page.text and "邮箱格式不正确" in page.text and "<td>名单</td>" in page.text
    assert f"/files/{files['quarantined']}/errors.xlsx" in page.text
    assert "rc-home" not in page.text  # no server path


def test_the_obligation_page_offers_the_summary_as_xlsx_and_html(
    client: Any, files: dict[str, int], reviewer: dict[str, str]
) -> None:
    page = client.get(f"/programmes/{P}/2025/contact_list/Y", headers={**reviewer, "accept": "text/html"})

    assert page.status_code == 200
    assert f'href="/downloads/reports/{REPORT}"' in page.text
    assert f'href="/downloads/reports/{REPORT.removesuffix(".xlsx")}.html"' in page.text
