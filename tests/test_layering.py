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


def importers(packages: tuple[str, ...], forbidden: tuple[str, ...], allowed_files: tuple[str, ...] = ()) -> list[str]:
    """Modules under `packages` (except `allowed_files`) that import any of the `forbidden` top-level packages."""
    return [
        str(p.relative_to(REPO))
        for pkg in packages
        for p in (REPO / pkg).rglob("*.py")
        if p.name not in allowed_files and any(m.split(".")[0] in forbidden for m in imported_modules(p))
    ]


def test_no_beam_outside_pipelines():
    assert importers(("curation", "filters"), ("apache_beam",)) == []


def test_filters_do_not_import_pipelines():
    assert importers(("filters",), ("pipelines",)) == []


def test_curation_imports_pipelines_only_from_the_cli():
    assert importers(("curation",), ("pipelines", "filters"), allowed_files=("cli.py",)) == []
