"""The development-corpus contract: one path, one marker; skipped in a clone, every test run in CI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import pytest


@pytest.mark.corpus
def test_marked():
    pytest.skip("simulated: a corpus test that skips anyway")


def test_uses_fixture(shared_data):
    assert (shared_data / "MANIFEST.md").is_file()


def test_plain():
    pass
"""


def run_probe(tmp_path: Path, corpus: Path, require: bool) -> subprocess.CompletedProcess:
    """Run PROBE under tests/conftest.py in a fresh pytest with the corpus at `corpus`."""
    (tmp_path / "test_probe.py").write_text(PROBE, "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CURATION_", "PYTEST_"))}
    env |= {"PYTHONPATH": str(REPO / "tests"), "CURATION_SHARED_DATA": str(corpus)}
    if require:
        env["CURATION_REQUIRE_CORPUS"] = "1"
    argv = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "conftest", "-p", "no:cacheprovider", "test_probe.py"]
    return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_without_the_corpus_corpus_tests_skip_with_the_reason(tmp_path):
    result = run_probe(tmp_path, tmp_path / "no-such-corpus", require=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 2 skipped" in result.stdout
    assert result.stdout.count("needs the development corpus at") == 2


def test_ci_fails_on_a_skipped_corpus_test_and_on_a_missing_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "MANIFEST.md").write_text("# a stand-in corpus\n", "utf-8")
    result = run_probe(tmp_path, corpus, require=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 2 passed" in result.stdout
    assert "corpus test skipped while CURATION_REQUIRE_CORPUS is set" in result.stdout
    assert run_probe(tmp_path, corpus, require=False).returncode == 0  # the same skip is fine outside CI

    missing = run_probe(tmp_path, tmp_path / "no-such-corpus", require=True)
    assert missing.returncode != 0 and "CURATION_REQUIRE_CORPUS is set but" in missing.stderr


def test_the_corpus_path_is_computed_in_one_place():
    """Only tests/shared_data.py spells out where the corpus lives; tests and bench scripts import it."""
    spelled = re.compile(r"""["']shared["']""")
    home = REPO / "tests" / "shared_data.py"
    files = [p for folder in ("tests", "bench") for p in sorted((REPO / folder).glob("*.py")) if p != home]
    assert [str(p.relative_to(REPO)) for p in files if spelled.search(p.read_text("utf-8"))] == []
