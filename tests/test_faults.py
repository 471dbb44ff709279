"""A run killed at any point leaves OUT/data absent or complete; a re-run (or --resume) gives the same bytes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from corpus_gen import generate  # noqa: E402

FILES, DOCS_PER_FILE = 6, 400


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Six JSONL files of generated news-like documents (several work items, with duplicates)."""
    folder = tmp_path_factory.mktemp("faults") / "in"
    folder.mkdir()
    records = list(generate(FILES * DOCS_PER_FILE, seed=5))
    for i in range(FILES):
        with open(folder / f"part{i}.jsonl", "w", encoding="utf-8") as f:
            for r in records[i * DOCS_PER_FILE : (i + 1) * DOCS_PER_FILE]:
                f.write(json.dumps(r) + "\n")
    return folder


def _command(corpus: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "curation.cli",
        "run",
        "--input",
        f"web={corpus}/*.jsonl",
        "--output",
        str(out),
        "--workers",
        "1",
        "--set",
        "output.item_bytes=1000000",
        *extra,
    ]


def _run(corpus: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(_command(corpus, out, *extra), capture_output=True, text=True, timeout=900)


def _committed(out: Path) -> dict[str, bytes]:
    skip = {"manifest.json", "_CURATION_OUTPUT"}
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name not in skip and "_temporary" not in p.parts
    }


def _kill_when(corpus: Path, out: Path, ready, *extra: str) -> None:
    """Start a run and SIGKILL its whole process group as soon as `ready(out)` is true."""
    proc = subprocess.Popen(
        _command(corpus, out, *extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 900
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if ready(out):
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("reference") / "out"
    result = _run(corpus, out)
    assert result.returncode == 0, result.stderr
    return _committed(out)


def _staged(out: Path, pattern: str) -> list[Path]:
    return list((out / "_temporary").glob(pattern))


KILL_POINTS = {
    "before any output": lambda out: (out / "_CURATION_OUTPUT").exists(),
    "mid-write": lambda out: bool(_staged(out, "data/web/*.parquet")),
    "just before commit": lambda out: bool(_staged(out, "stats.json")),
}


@pytest.mark.slow
@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_killed_run_leaves_data_absent_or_complete_and_rerun_is_identical(corpus, reference, tmp_path, point):
    out = tmp_path / "out"
    _kill_when(corpus, out, KILL_POINTS[point])
    assert not (out / "_SUCCESS").exists() or _committed(out) == reference
    data = out / "data"
    if data.exists():  # the commit had started: data is whole, never partial
        expected = {k: v for k, v in reference.items() if k.startswith("data/")}
        assert {k: v for k, v in _committed(out).items() if k.startswith("data/")} == expected
    later = subprocess.run(
        [sys.executable, "-m", "curation.cli", "stats", str(out)], capture_output=True, text=True, timeout=120
    )
    if not (out / "_SUCCESS").exists():
        assert later.returncode == 2 and "unfinished" in later.stderr and len(later.stderr.splitlines()) == 1
    result = _run(corpus, out, "--overwrite")
    assert result.returncode == 0, result.stderr
    assert _committed(out) == reference


@pytest.mark.slow
def test_resume_after_the_expensive_phase_reuses_it_and_gives_the_same_bytes(corpus, reference, tmp_path):
    out = tmp_path / "out"

    def processed(o: Path) -> bool:
        """Dedup has started writing verification payloads: every item was processed before that step."""
        return bool(_staged(o, "work/*.ids.npz"))

    _kill_when(corpus, out, processed)
    assert processed(out) and not (out / "_SUCCESS").exists()
    assert len(_staged(out, "work/*.summary.json")) >= FILES  # files are cut into ranges: at least one item each
    # Scramble every input while keeping its size and time stamps: a resume that re-read the inputs
    # instead of reusing the processed items would write different documents.
    originals = {path: (path.read_bytes(), path.stat()) for path in sorted(corpus.glob("*.jsonl"))}
    for path, (data, stat) in originals.items():
        path.write_bytes(data.replace(b"e", b"o"))
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    try:
        result = _run(corpus, out, "--resume")
        assert result.returncode == 0, result.stderr
        assert _committed(out) == reference
        refused = _run(corpus, out, "--resume")
        assert refused.returncode == 2 and "already complete" in refused.stderr
    finally:
        for path, (data, stat) in originals.items():
            path.write_bytes(data)
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
