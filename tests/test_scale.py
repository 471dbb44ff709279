"""At the size users run: 100,000 documents in one JSONL file, the default web chain, several processes.

The worst defects of earlier rounds (documents lost by the multi-process runner, memory growing per
document) only showed at this size, so this test runs in CI (marked slow, never skipped): it checks the
accounting invariant, that every input line is accounted for by id, and that the multi-process output is
byte-identical to the in-process one.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from pipeline_helpers import read_failed, run_cli

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from corpus_gen import write_jsonl  # noqa: E402

DOCS = int(os.environ.get("CURATION_SCALE_DOCS", "100000"))


def _files(out: Path) -> dict[str, bytes]:
    """Every committed file of a run except the manifest (which records the run's own config)."""
    skip = {"manifest.json", "_CURATION_OUTPUT"}
    return {
        str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and p.name not in skip
    }


@pytest.mark.slow
def test_one_big_file_multi_process_accounts_for_every_document_and_equals_in_process(tmp_path):
    source = write_jsonl(tmp_path / "in" / "web.jsonl", DOCS, seed=11)
    multi, single = tmp_path / "multi", tmp_path / "single"
    assert run_cli("run", "--input", f"web={source}", "--output", multi, "--workers", "2") == 0
    stats = json.loads((multi / "stats.json").read_text())
    web = stats["sources"]["web"]
    assert stats["invariant_ok"] and web["input"]["docs"] == DOCS
    ids = set()
    for kind in ("data", "removed"):
        ids |= set(ds.dataset(str(multi / kind), format="parquet").to_table(columns=["id"]).column("id").to_pylist())
    ids |= {f["source_location"] for f in read_failed(multi)}
    assert ids == {f"web/web.jsonl#{line}" for line in range(1, DOCS + 1)}
    removed = web["removed"]["by_reason"]
    assert removed["dedup.exact"]["docs"] > DOCS // 100 and removed["dedup.near"]["docs"] > DOCS // 50

    assert run_cli("run", "--input", f"web={source}", "--output", single, "--workers", "1") == 0
    assert _files(multi) == _files(single)
