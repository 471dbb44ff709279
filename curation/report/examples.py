"""Examples per removal rule with the signal values that decided, and kept documents closest to each cut."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curation.report.collect import KEPT, SIGNAL_PREFIX, Sample
from curation.report.sample import fetch_rows, find_rows, flat_signals, shard_files
from curation.report.thresholds import (
    NON_SIGNAL_RULES,
    RULES,
    Bound,
    bounds,
    fails,
    format_number,
    signal_of,
    stage_section,
)

SNIPPET_CHARS = 400
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _spread(key: str) -> str:
    """A stable pseudo-random order (so examples are not all from the first shard), same on every run."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def _snippet(text: str | None) -> str:
    """The start of a text on one line, control characters shown as U+FFFD."""
    words = _CONTROL.sub("\ufffd", " ".join((text or "").split()))
    return words[:SNIPPET_CHARS] + ("…" if len(words) > SNIPPET_CHARS else "") if words else "(no text)"


def reason_totals(stats: Mapping[str, Any]) -> list[tuple[str, int, dict[str, int]]]:
    """Every removal reason with its documents over all sources (largest first) and per source."""
    totals: dict[str, dict[str, int]] = {}
    for source, s in stats["sources"].items():
        for reason, v in s["removed"]["by_reason"].items():
            totals.setdefault(reason, {})[source] = v["docs"]
    return sorted(((r, sum(v.values()), v) for r, v in totals.items()), key=lambda t: (-t[1], t[0]))


def deciding_signals(reason: str, row: Mapping[str, Any], cfg: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Signals of the rule with their value, bound and whether they fail it (for this row's source)."""
    section = stage_section(cfg, reason.split(".", 1)[0], row["source"])
    if reason == "language.not_kept":
        keep = ", ".join(section.get("keep") or [])
        score = row.get(SIGNAL_PREFIX + "language.score")
        label = f"{row.get('language')}" + (f" (score {format_number(score)})" if score is not None else "")
        return [{"signal": "language", "value": label, "bound": f"not in [{keep}]", "fails": True}]
    out = []
    for rule in RULES:
        if rule.reason != reason:
            continue
        name = signal_of(rule, section)
        value = row.get(SIGNAL_PREFIX + name)
        if value is None:
            continue
        marks = bounds(rule, cfg, [row["source"]])
        failing = [b for b in marks if fails(value, b)]
        shown = failing or marks
        out.append(
            {
                "signal": name,
                "value": format_number(value),
                "bound": " / ".join(("< " if b.kind == "min" else "> ") + format_number(b.value) for b in shown)
                if shown
                else "= 1",
                "fails": bool(failing) or (rule.is_flag and value > 0),
            }
        )
    return out


def _stage_signals(reason: str, row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The other stored signals of the rule's stage (context for the deciding one)."""
    prefix = SIGNAL_PREFIX + reason.split(".", 1)[0] + "."
    return [
        (k.removeprefix(SIGNAL_PREFIX), format_number(v))
        for k, v in sorted(row.items())
        if k.startswith(prefix) and v is not None and not k.endswith("_repeats")
    ]


def _scan_removed(out: Path, reason: str, limit: int) -> list[dict[str, Any]]:
    """Rows of a rule absent from the sample, found through the `reason` column alone."""
    locations = find_rows(shard_files(out, "removed"), "reason", reason, limit)
    fetched = fetch_rows(locations, ["id", "source", "reason", "language", "signals"])
    rows = []
    for (path, group, row), values in fetched.items():
        values = flat_signals(values)
        outcome = values.pop("reason")
        rows.append({**values, "outcome": outcome, "_path": path, "_group": group, "_row": row})
    return rows


def _matched_spans(out: Path, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The strongest match (benchmark, item, span) of each given document in decontam/matches.parquet."""
    path = out / "decontam" / "matches.parquet"
    if not ids or not path.is_file():
        return {}
    table = pq.read_table(path, filters=[("id", "in", sorted(set(ids)))])
    best: dict[str, dict[str, Any]] = {}
    for row in table.to_pylist():
        if row["id"] not in best or (row["matched_ngrams"] or 0) > (best[row["id"]]["matched_ngrams"] or 0):
            best[row["id"]] = row
    return best


def _rows(table: pa.Table, indices: list[int]) -> list[dict[str, Any]]:
    """Only the chosen rows of a sample table as dicts."""
    return table.take(pa.array(indices, pa.int64())).to_pylist() if indices else []


def _spread_pick(table: pa.Table, limit: int) -> list[dict[str, Any]]:
    """`limit` rows of a table in the stable pseudo-random order of their ids."""
    ids = table.column("id").to_pylist()
    return _rows(table, sorted(range(len(ids)), key=lambda i: _spread(ids[i]))[:limit])


def _borderline(kept: pa.Table, reason: str, cfg: Mapping[str, Any], limit: int) -> list[dict[str, Any]]:
    """Kept rows whose signal for the rule is closest to one of its bounds (they passed it narrowly)."""
    rule = next((r for r in RULES if r.reason == reason and not r.is_flag), None)
    if rule is None or kept.num_rows == 0:
        return []
    scored = []
    for source in sorted(set(kept.column("source").unique().to_pylist())):
        part = kept.filter(pc.equal(kept.column("source"), source))
        column = SIGNAL_PREFIX + signal_of(rule, stage_section(cfg, rule.stage, source))
        marks: list[Bound] = bounds(rule, cfg, [source])
        if column not in part.column_names or not marks:
            continue
        values = part.column(column).to_numpy(zero_copy_only=False).astype(float)
        gaps = np.min([np.abs(values - b.value) / (abs(b.value) or 1.0) for b in marks], axis=0)
        order = [i for i in np.argsort(gaps, kind="stable")[: limit * 4].tolist() if not np.isnan(gaps[i])]
        ids = part.column("id").take(pa.array(order, pa.int64())).to_pylist() if order else []
        scored += [
            (float(gaps[i]), _spread(doc_id), row)
            for i, doc_id, row in zip(order, ids, _rows(part, order), strict=True)
        ]
    return [row for _, _, row in sorted(scored, key=lambda t: (t[0], t[1]))[:limit]]


def examples_section(
    out: Path, sample: Sample, stats: Mapping[str, Any], cfg: Mapping[str, Any], per_rule: int = 3, borderline: int = 2
) -> list[dict[str, Any]]:
    """Per removal rule (largest first): its count, example removed documents and borderline kept ones."""
    table = sample.table
    kind = table.column("kind") if table.num_rows else pa.array([], pa.string())
    removed = table.filter(pc.equal(kind, "removed")) if table.num_rows else table
    kept = table.filter(pc.equal(kind, KEPT)) if table.num_rows else table
    chosen: dict[str, list[dict]] = {}
    near: dict[str, list[dict]] = {}
    for reason, _, _ in reason_totals(stats):
        of_rule = removed.filter(pc.equal(removed.column("outcome"), reason)) if removed.num_rows else removed
        chosen[reason] = _spread_pick(of_rule, per_rule) if of_rule.num_rows else _scan_removed(out, reason, per_rule)
        near[reason] = _borderline(kept, reason, cfg, borderline)
    locations = [
        (r["_path"], r["_group"], r["_row"])
        for group in (*chosen.values(), *near.values())
        for r in group
        if "_path" in r
    ]
    fetched = fetch_rows(locations, ["text", "meta"])
    spans = _matched_spans(
        out, [r["id"] for reason, group in chosen.items() if reason.startswith("decontaminate.") for r in group]
    )
    sections = []
    for reason, total, per_source in reason_totals(stats):
        entries = []
        for kind, group in (("removed", chosen[reason]), ("kept", near[reason])):
            for row in group:
                extra = fetched.get((row["_path"], row["_group"], row["_row"]), row) if "_path" in row else row
                meta = json.loads(extra.get("meta") or "{}")
                entries.append(
                    {
                        "kind": kind,
                        "id": row["id"],
                        "source": row["source"],
                        "deciding": deciding_signals(reason, row, cfg),
                        "context": _stage_signals(reason, row),
                        "language": row.get("language"),
                        "duplicate_of": meta.get("duplicate_of"),
                        "match": spans.get(row["id"]) if kind == "removed" else None,
                        "snippet": _snippet(extra.get("text")),
                    }
                )
        sections.append(
            {
                "reason": reason,
                "documents": total,
                "per_source": per_source,
                "explanation": NON_SIGNAL_RULES.get(reason),
                "removed": [e for e in entries if e["kind"] == "removed"],
                "borderline": [e for e in entries if e["kind"] == "kept"],
            }
        )
    return sections
