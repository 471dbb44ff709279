"""`--baseline`: what changed against another run, rule by rule (e.g. a `curation rethreshold` what-if)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from curation.report.collect import Sample
from curation.report.funnel import funnel_table
from curation.report.sample import fetch_rows, find_rows, flat_signals, shard_files

CANDIDATES = 200  # documents per rule looked up in the other run
EXAMPLES = 3


def flatten(cfg: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config as `dotted.key -> value` (lists stay values)."""
    out: dict[str, Any] = {}
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def config_changes(base: Mapping[str, Any], this: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Config keys whose value differs between the two runs."""
    a, b = flatten(base), flatten(this)
    return [
        {"key": k, "baseline": a.get(k), "this run": b.get(k)} for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)
    ]


def step_deltas(base: Mapping[str, Any], this: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per source and funnel step (input, each rule, failures, kept): documents and bytes in both runs."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for label, stats in (("baseline", base), ("this", this)):
        for r in funnel_table(stats):
            entry = rows.setdefault(
                (r["source"], r["step"]),
                {
                    "source": r["source"],
                    "step": r["step"],
                    "kind": r["kind"],
                    "baseline": 0,
                    "this": 0,
                    "baseline_bytes": 0,
                    "this_bytes": 0,
                },
            )
            entry[label] = r["docs"]
            entry[f"{label}_bytes"] = r["bytes"]
    out = [
        {**e, "delta": e["this"] - e["baseline"], "delta_bytes": e["this_bytes"] - e["baseline_bytes"]}
        for e in rows.values()
    ]
    rank = {"input": 0, "removed": 1, "failed": 2, "kept": 3}
    return sorted(out, key=lambda e: (e["source"], rank[e["kind"]], -abs(e["delta"]), e["step"]))


def rule_deltas(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Changed removal rules over all sources (`rule, baseline, this, delta`), largest change first."""
    totals: dict[str, dict[str, int]] = {}
    for e in steps:
        if e["kind"] in ("removed", "failed", "kept"):
            t = totals.setdefault(e["step"], {"baseline": 0, "this": 0})
            t["baseline"] += e["baseline"]
            t["this"] += e["this"]
    rows = [{"rule": k, **v, "delta": v["this"] - v["baseline"]} for k, v in totals.items()]
    return sorted((r for r in rows if r["delta"]), key=lambda r: (-abs(r["delta"]), r["rule"]))


def outcomes_by_id(out: Path, ids: list[str]) -> dict[str, str]:
    """`id -> "kept" or its removal reason` in a run, for the given ids (id-sorted shards skip row groups)."""
    found: dict[str, str] = {}
    wanted = pa.array(sorted(set(ids)), pa.string())
    for kind, columns in (("data", ["id"]), ("removed", ["id", "reason"])):
        files = shard_files(out, kind)
        if files and ids:
            table = ds.dataset(files, format="parquet").to_table(columns=columns, filter=pc.field("id").isin(wanted))
            for row in table.to_pylist():
                found[row["id"]] = row.get("reason") or "kept"
    return found


def _removed_rows(out: Path, reason: str, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` removed rows of a rule (id, source, signals), found through the `reason` column alone."""
    locations = find_rows(shard_files(out, "removed"), "reason", reason, limit)
    return [flat_signals(v) for v in fetch_rows(locations, ["id", "source", "signals"]).values()]


def changed_documents(out: Path, baseline: Path, sample: Sample, rules: list[str]) -> dict[str, dict[str, list[dict]]]:
    """Per changed rule: documents it removes here but not in the baseline, and the other way round."""
    table = sample.table
    removed = table.filter(pc.equal(table.column("kind"), "removed")) if table.num_rows else table
    removed_here = {
        rule: removed.filter(pc.equal(removed.column("outcome"), rule)).slice(0, CANDIDATES).to_pylist()
        for rule in rules
        if removed.num_rows
    }
    out_rows: dict[str, dict[str, list[dict]]] = {}
    for rule in rules:
        here = removed_here.get(rule, [])
        before = _removed_rows(baseline, rule, CANDIDATES)
        then = outcomes_by_id(baseline, [r["id"] for r in here])
        now = outcomes_by_id(out, [r["id"] for r in before])
        newly = [{**r, "baseline": then.get(r["id"], "absent")} for r in here if then.get(r["id"]) != rule]
        no_longer = [{**r, "this": now.get(r["id"], "absent")} for r in before if now.get(r["id"]) != rule]
        # Documents kept on the other side come first: they are what the change adds to or takes from the output.
        out_rows[rule] = {
            "newly_removed": sorted(newly, key=lambda r: r["baseline"] != "kept")[:EXAMPLES],
            "no_longer_removed": sorted(no_longer, key=lambda r: r["this"] != "kept")[:EXAMPLES],
        }
    return out_rows
