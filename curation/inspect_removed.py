"""`curation inspect OUT --removed`: example documents for each removal rule, with the signals that decided."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.dataset as ds

SNIPPET_CHARS = 240


def _signal_summary(reason: str, signals: dict | None) -> str:
    """The stored signals of the rule's stage (e.g. every `quality.*` value for a quality removal)."""
    stage = reason.split(".", 1)[0]
    values = {k: v for k, v in (signals or {}).items() if v is not None and k.startswith(f"{stage}.")}
    return ", ".join(f"{k.split('.', 1)[1]}={v:.3g}" for k, v in sorted(values.items()))


def inspect_removed(out_dir: str, per_reason: int = 3, reason: str | None = None) -> str:
    """A printable report: per removal reason, its count and the first `per_reason` documents by id."""
    files = sorted(str(p) for p in (Path(out_dir) / "removed").rglob("*.parquet"))
    if not files:
        return f"{out_dir}: no removed documents"
    dataset = ds.dataset(files, format="parquet")
    flt = pc.field("reason") == reason if reason else None
    table = dataset.to_table(columns=["id", "reason", "text", "signals", "meta", "language"], filter=flt)
    if table.num_rows == 0:
        return f"{out_dir}: no document removed by {reason!r}"
    table = table.sort_by([("reason", "ascending"), ("id", "ascending")])
    counts = table.group_by("reason").aggregate([("id", "count")]).to_pylist()
    lines = []
    rows = table.to_pylist()
    for entry in sorted(counts, key=lambda c: (-c["id_count"], c["reason"])):
        name = entry["reason"]
        lines.append(f"== {name}: {entry['id_count']} document(s)")
        examples = [r for r in rows if r["reason"] == name][:per_reason]
        for r in examples:
            lines.append(f"  - {r['id']}")
            summary = _signal_summary(name, r["signals"])
            if name.startswith("language.") and r["language"]:
                summary = f"language={r['language']}, {summary}"
            if summary:
                lines.append(f"    signals: {summary}")
            if '"duplicate_of"' in (r["meta"] or ""):
                lines.append(f"    duplicate of: {json.loads(r['meta'])['duplicate_of']}")
            snippet = " ".join(r["text"].split())[:SNIPPET_CHARS] or "(no text)"
            lines += textwrap.wrap(snippet, width=100, initial_indent="    | ", subsequent_indent="    | ")
        lines.append("")
    return "\n".join(lines).rstrip()
