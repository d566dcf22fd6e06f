"""The package is laid out as the data flows: each stage imports only the stages below it.

``domain ← intake ← store ← gate ← aggregate ← decide ← notify ← report``, with
``tasks``, ``cli`` and ``reviewer_pages`` on top and ``settings`` importable by all.
What crosses stages is orchestrated in ``tasks`` and ``cli``. The test reads the
imports of every module (top level and inside functions) with ``ast``, so a lazy
import cannot hide a wrong direction.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "include" / "review_calendar"
STAGES = ["domain", "intake", "store", "gate", "aggregate", "decide", "notify", "report"]
TOP = ["reviewer_pages", "tasks", "cli"]
#: Modules every stage may import.
SHARED = {"settings", "data"}
MAX_MODULE_LINES = 520


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def _stage(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if rel.parts[0] != "__init__.py" else "__init__"


def _imported_stages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "review_calendar" and len(parts) > 1:
                found.add(parts[1])
            elif parts[0] == "review_calendar_demo":
                found.add("review_calendar_demo")
    return found


def _allowed(stage: str) -> set[str]:
    if stage in STAGES:
        return set(STAGES[: STAGES.index(stage) + 1]) | SHARED
    if stage in TOP:
        return set(STAGES) | set(TOP[: TOP.index(stage) + 1]) | SHARED | {"reviewer_pages"}
    return set(STAGES) | set(TOP) | SHARED | {"__init__"}


@pytest.mark.parametrize("path", [pytest.param(p, id=str(p.relative_to(PACKAGE))) for p in _modules()])
def test_stage_imports_only_stages_below_it(path: Path) -> None:
    stage = _stage(path)
    wrong = _imported_stages(path) - _allowed(stage) - {stage}

    assert not wrong, f"{path.relative_to(ROOT)} ({stage}) imports {sorted(wrong)}"


@pytest.mark.parametrize("folder", ["include/review_calendar", "plugins", "dags"])
def test_production_code_never_imports_the_demo(folder: str) -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in sorted((ROOT / folder).rglob("*.py"))
        if re.search(r"^\s*(from|import) review_calendar_demo\b", p.read_text(encoding="utf-8"), re.M)
    ]

    assert offenders == []


def test_the_import_rule_catches_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("def f():\n    from review_calendar.notify.outbox import queue\n", encoding="utf-8")

    wrong = _imported_stages(module) - _allowed("intake")

    assert wrong == {"notify"}


def _source_files() -> list[Path]:
    files = [p for p in (ROOT / "include").rglob("*.py") if "migrations" not in p.parts]
    return sorted(files + list((ROOT / "plugins").rglob("*.py")) + list((ROOT / "dags").rglob("*.py")))


#: Documents outside the repository: the project cites a document by its number and clause.
#: Pointers to material outside the repository: a sibling folder, an issue tracker, the numbered
#: copies of source documents. The project cites a document by its number and clause instead.
OUTSIDE = re.compile(r"\.\.[/\\]shared\b|\bissues? \d|\bseeds?[ /]?0\d\d", re.I)
#: A Markdown document named in a file; every one must be a file of the repository.
MARKDOWN_NAME = re.compile(r"[\w./-]+\.md\b")


@pytest.mark.parametrize("path", [pytest.param(p, id=str(p.relative_to(ROOT))) for p in _source_files()])
def test_modules_are_rooms_not_floors(path: Path) -> None:
    text = path.read_text(encoding="utf-8")

    assert len(text.splitlines()) <= MAX_MODULE_LINES


def _tracked_text_files() -> list[Path]:
    import subprocess

    names = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    suffixes = {".py", ".md", ".sh", ".yaml", ".yml", ".toml", ".j2", ".html", ".txt", ".example"}
    return [
        ROOT / n
        for n in names
        if Path(n).suffix in suffixes
        and not n.startswith("tests/data/bad/")
        and n != "tests/unit/test_layout.py"
    ]


def _missing_documents(text: str, known: set[str]) -> list[str]:
    """The Markdown documents ``text`` names that are not files of the repository (by name)."""
    return [name for name in MARKDOWN_NAME.findall(text) if Path(name).name not in known]


def test_no_file_points_to_documents_outside_the_repository() -> None:
    files = [p for p in _tracked_text_files() if p.exists()]
    known = {p.name for p in files}
    offenders = [
        str(p.relative_to(ROOT))
        for p in files
        if OUTSIDE.search(text := p.read_text(encoding="utf-8", errors="replace"))
        or _missing_documents(text, known)
    ]

    assert offenders == []


def test_the_document_rule_catches_a_document_that_is_not_here() -> None:
    text = "see the house rules (RULES.md) and docs/benchmarks.md"

    assert _missing_documents(text, {"benchmarks.md"}) == ["RULES.md"]


def test_no_python_file_has_banner_comments() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in _tracked_text_files()
        if p.suffix == ".py"
        and p.exists()
        and re.search(r"^\s*# ?[-=]{5,}", p.read_text(encoding="utf-8"), re.M)
    ]

    assert offenders == []
