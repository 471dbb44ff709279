"""Progress of a local run: plain lines on a non-terminal stderr, Beam's worker chatter only with --verbose."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.progress import describe

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from corpus_gen import write_jsonl  # noqa: E402

READ = re.compile(r"^progress: read ([\d,]+) docs")


def _run(tmp_path: Path, docs: int, *extra: str) -> subprocess.CompletedProcess:
    """`curation run` in a subprocess with stdout and stderr captured (not a terminal)."""
    data = write_jsonl(tmp_path / f"in-{docs}.jsonl", docs, seed=3)
    cmd = [sys.executable, "-m", "curation.cli", "run", "--input", f"web={data}", "--output", str(tmp_path / "out")]
    cmd += ["--overwrite", "--workers", "2", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_progress_lines_on_a_pipe_and_no_beam_warnings_without_verbose(tmp_path):
    result = _run(tmp_path, 3000, "--progress-every", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    counts = [int(m.group(1).replace(",", "")) for m in map(READ.match, lines) if m]
    assert len(counts) >= 3
    assert counts == sorted(counts)  # documents read only go up
    assert counts[-1] == 3000  # the reading phase is seen to finish
    assert any(0 < c < 3000 for c in counts)  # and seen in between
    assert all("\r" not in line and "\033" not in line for line in lines)  # plain lines, no terminal codes
    assert [line for line in lines if "WARNING" in line or "apache_beam" in line] == []
    assert "invariant holds" in result.stdout


@pytest.mark.slow
def test_verbose_shows_beam_worker_messages(tmp_path):
    result = _run(tmp_path, 200, "--verbose")
    assert result.returncode == 0, result.stderr
    assert any(line.startswith("WARNING apache_beam") for line in result.stderr.splitlines())


def test_progress_line_names_counts_rate_and_eta():
    totals = {"process": {"docs": 1500, "bytes": 250, "items": 0}, "apply": {"docs": 0, "bytes": 0, "items": 0}}
    line = describe(totals, total_bytes=1000, elapsed=30.0)
    assert line == "progress: read 1,500 docs (25% of input), 50 docs/s, ETA 1m30s, written 0 docs"
    totals["process"]["bytes"] = 1000
    assert "dedup" in describe(totals, total_bytes=1000, elapsed=60.0)


def test_progress_every_must_be_positive(capsys):
    from curation.cli import main

    assert main(["run", "--input", "web=x.jsonl", "--output", "o", "--progress-every", "0"]) == 2
    assert "--progress-every" in capsys.readouterr().err
