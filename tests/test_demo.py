"""`curation demo` runs the whole pipeline on the bundled corpus alone (no ../shared needed)."""

from __future__ import annotations

import json

from pipeline_helpers import read_docs, read_failed, run_cli, stats


def test_demo_runs_every_source_and_stage(demo_run, capsys):
    out = demo_run.out
    assert demo_run.exit_code == 0
    assert "invariant holds" in demo_run.stdout
    s = stats(out)
    assert set(s["sources"]) == {"web", "wikipedia", "books", "news", "code"}
    assert s["invariant_ok"]
    reasons = {r["reason"].split(".")[0] for r in read_docs(out, "removed")}
    assert {"language", "quality", "dedup", "read"} <= reasons
    # the deliberately truncated WARC in the sample is dead-lettered with its file name
    assert any("clipped.warc.gz" in f["source_location"] for f in read_failed(out))
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"data", "removed", "failed", "report"} <= {e["kind"] for e in manifest["shards"]}
    assert (out / "decontam" / "matches.parquet").exists() and (out / "dedup" / "clusters.parquet").exists()
    # running again into the same folder needs --overwrite, and leaves it as it was
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    assert run_cli("demo", "--output", out) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
