"""`curation inspect` on a real demo run: removal examples per rule and duplicate clusters."""

from __future__ import annotations

from pipeline_helpers import read_docs, run_cli

# `demo_out` is the session-wide demo run of conftest.py.


def test_removed_examples_name_every_rule_with_its_signals(demo_out, capsys):
    removed = read_docs(demo_out, "removed")
    assert run_cli("inspect", demo_out, "--removed", "--top", "2") == 0
    report = capsys.readouterr().out
    for reason in {r["reason"] for r in removed}:
        count = sum(1 for r in removed if r["reason"] == reason)
        assert f"== {reason}: {count} document(s)" in report
    first_quality = min((r for r in removed if r["reason"].startswith("quality.")), key=lambda r: r["id"], default=None)
    if first_quality is not None:
        assert first_quality["id"] in report and "word_count=" in report


def test_removed_filtered_by_reason_and_dedup_clusters(demo_out, capsys):
    removed = read_docs(demo_out, "removed")
    reason = next(r["reason"] for r in removed if r["reason"].startswith("dedup."))
    assert run_cli("inspect", demo_out, "--removed", "--reason", reason) == 0
    report = capsys.readouterr().out
    assert report.count("== ") == 1 and f"== {reason}" in report and "duplicate of:" in report
    assert run_cli("inspect", demo_out, "--dedup") == 0
    assert "cluster" in capsys.readouterr().out.lower()
    assert run_cli("inspect", demo_out) == 2
