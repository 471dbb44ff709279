"""The report's bounded sample of a run: per source and outcome, up to a budget of rows with their signals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from curation.report.sample import choose, read_group, row_groups, shard_files, text_lengths

KEPT = "kept"
KINDS = {"data": KEPT, "removed": "removed"}
SIGNAL_PREFIX = "signal:"


@dataclass
class Sample:
    """Sampled rows (`id, source, kind, outcome, language, length, signal:*` and their location) and coverage."""

    table: pa.Table
    total: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, source) -> rows in the run
    sampled: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, source) -> rows in the sample

    @property
    def complete(self) -> bool:
        """Whether every row of the run is in the sample."""
        return self.total == self.sampled

    @property
    def signals(self) -> list[str]:
        """Signal names present in the sample."""
        return sorted(c.removeprefix(SIGNAL_PREFIX) for c in self.table.column_names if c.startswith(SIGNAL_PREFIX))


def _group_table(group, kind: str, source: str) -> pa.Table:
    """One row group's sampled columns, signals flattened to `signal:<name>` columns."""
    t = read_group(group, ["id", "reason", "language", "language_score", "signals"])
    n = t.num_rows
    outcome = t.column("reason") if kind == "removed" and "reason" in t.column_names else pa.array([KEPT] * n)
    cols = {
        "id": t.column("id"),
        "source": pa.array([source] * n, pa.string()),
        "kind": pa.array([KINDS[kind]] * n, pa.string()),
        "outcome": outcome,
        "language": t.column("language") if "language" in t.column_names else pa.nulls(n, pa.string()),
        "length": text_lengths(group),
        "_path": t.column("_path"),
        "_group": t.column("_group"),
        "_row": t.column("_row"),
    }
    if "signals" in t.column_names:
        signals = t.column("signals").combine_chunks()
        for i in range(signals.type.num_fields):
            name = signals.type.field(i).name
            cols[SIGNAL_PREFIX + name] = signals.field(i).cast(pa.float64())
    return pa.table(cols)


def collect_sample(out: Path, sources: Sequence[str], max_rows: int, seed: int = 0) -> Sample:
    """Up to `max_rows` rows (whole row groups, seeded choice) per source of `data/` and of `removed/`."""
    parts, total, sampled = [], {}, {}
    for kind in KINDS:
        for source in sources:
            groups = row_groups(shard_files(out, kind, source))
            chosen = choose(groups, max_rows, seed)
            total[(KINDS[kind], source)] = sum(g.rows for g in groups)
            sampled[(KINDS[kind], source)] = sum(g.rows for g in chosen)
            parts += [_group_table(g, kind, source) for g in chosen]
    table = pa.concat_tables(parts, promote_options="default") if parts else pa.table({"id": pa.array([], pa.string())})
    return Sample(table, total, sampled)
