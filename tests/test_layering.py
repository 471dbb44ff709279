"""The dependency direction pipelines -> filters -> curation, and Beam only in pipelines/."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_beam_outside_pipelines():
    offenders = [
        str(p.relative_to(REPO))
        for pkg in ("curation", "filters")
        for p in (REPO / pkg).rglob("*.py")
        if any(m == "apache_beam" or m.startswith("apache_beam.") for m in imported_modules(p))
    ]
    assert offenders == []


def test_filters_do_not_import_pipelines():
    offenders = [
        str(p.relative_to(REPO))
        for p in (REPO / "filters").rglob("*.py")
        if any(m == "pipelines" or m.startswith("pipelines.") for m in imported_modules(p))
    ]
    assert offenders == []


def test_curation_imports_pipelines_only_from_the_cli():
    offenders = [
        str(p.relative_to(REPO))
        for p in (REPO / "curation").rglob("*.py")
        if p.name != "cli.py" and any(m.split(".")[0] in ("pipelines", "filters") for m in imported_modules(p))
    ]
    assert offenders == []
