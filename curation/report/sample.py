"""Bounded reads of a run's Parquet shards: row counts from footers, a seeded sample of whole row groups.

A report never holds more than its sample budget of rows (plus one row group) in memory, whatever the
size of the run: row groups are chosen at random (seeded, so a report is reproducible) until the budget
is met, and only the columns asked for are read.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


@dataclass(frozen=True)
class RowGroup:
    """One row group of one shard: where it is and how many rows it has."""

    path: str
    index: int
    rows: int


def shard_files(out: Path, kind: str, source: str | None = None) -> list[str]:
    """Sorted Parquet shards under `OUT/<kind>/` (one source, or all)."""
    base = out / kind / source if source else out / kind
    return sorted(str(p) for p in base.rglob("*.parquet")) if base.is_dir() else []


def row_groups(files: Sequence[str]) -> list[RowGroup]:
    """Every row group of the files, from their footers only (no column data is read)."""
    groups = []
    for path in files:
        meta = pq.ParquetFile(path).metadata
        groups += [RowGroup(path, i, meta.row_group(i).num_rows) for i in range(meta.num_row_groups)]
    return groups


def choose(groups: Sequence[RowGroup], max_rows: int, seed: int = 0) -> list[RowGroup]:
    """Random row groups (seeded) until `max_rows` rows are covered; all of them when they fit."""
    if sum(g.rows for g in groups) <= max_rows:
        return list(groups)
    order = list(groups)
    random.Random(seed).shuffle(order)
    chosen, total = [], 0
    for g in order:
        if total >= max_rows:
            break
        chosen.append(g)
        total += g.rows
    return sorted(chosen, key=lambda g: (g.path, g.index))


def read_group(group: RowGroup, columns: Sequence[str]) -> pa.Table:
    """The given columns of one row group, with its location (`_path`, `_group`, `_row`) attached."""
    pf = pq.ParquetFile(group.path)
    present = set(pf.schema_arrow.names)
    table = pf.read_row_group(group.index, columns=[c for c in columns if c in present])
    n = table.num_rows
    return (
        table.append_column("_path", pa.array([group.path] * n, pa.string()))
        .append_column("_group", pa.array([group.index] * n, pa.int32()))
        .append_column("_row", pa.array(range(n), pa.int32()))
    )


def text_lengths(group: RowGroup, batch_rows: int = 256) -> pa.Array:
    """Characters of every document of a row group, streaming the text column in small batches."""
    pf = pq.ParquetFile(group.path)
    parts = [
        pc.utf8_length(batch.column(0)).cast(pa.int64())
        for batch in pf.iter_batches(batch_size=batch_rows, row_groups=[group.index], columns=["text"])
    ]
    return pa.concat_arrays(parts) if parts else pa.array([], pa.int64())


def iter_column(files: Sequence[str], column: str) -> Iterator[pa.Array]:
    """One column of every row group in turn (for exact streaming counts of a small column)."""
    for path in files:
        pf = pq.ParquetFile(path)
        for i in range(pf.metadata.num_row_groups):
            yield pf.read_row_group(i, columns=[column]).column(0).combine_chunks()


def fetch_rows(locations: Sequence[tuple[str, int, int]], columns: Sequence[str]) -> dict[tuple[str, int, int], dict]:
    """Selected rows, by `(path, row group, row)`, reading each needed row group's columns once."""
    wanted: dict[tuple[str, int], list[int]] = {}
    for path, group, row in locations:
        wanted.setdefault((path, group), []).append(row)
    out = {}
    for (path, group), rows in sorted(wanted.items()):
        table = pq.ParquetFile(path).read_row_group(group, columns=list(columns)).take(pa.array(sorted(set(rows))))
        for row, values in zip(sorted(set(rows)), table.to_pylist(), strict=True):
            out[(path, group, row)] = values
    return out


def find_rows(files: Sequence[str], column: str, value: str, limit: int) -> list[tuple[str, int, int]]:
    """Locations `(path, row group, row)` of the first `limit` rows whose `column` equals `value`.

    Reads only that column, one row group at a time, and stops as soon as enough rows are found.
    """
    found: list[tuple[str, int, int]] = []
    for path in files:
        pf = pq.ParquetFile(path)
        if column not in pf.schema_arrow.names:
            continue
        for group in range(pf.metadata.num_row_groups):
            hits = pc.indices_nonzero(pc.equal(pf.read_row_group(group, columns=[column]).column(0), value))
            found += [(path, group, int(i)) for i in hits.to_pylist()[: limit - len(found)]]
            if len(found) >= limit:
                return found
    return found


def flat_signals(row: dict) -> dict:
    """A fetched row with its `signals` struct spread into `signal:<name>` keys (as in the sample)."""
    signals = row.pop("signals", None) or {}
    return {**row, **{f"signal:{k}": v for k, v in signals.items()}}
