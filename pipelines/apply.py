"""Last phase of a run, for one work item: apply the cross-document decisions and write the item's shards.

Re-reads the item's staged shard once (documents were never shuffled), decides each row's final outcome in
the paper's order (per-document rules, then exact and near dedup, then decontamination), and stages the
item's `data/` and `removed/` shards. Vectorised with Arrow: Python runs only for documents in a duplicate
cluster or with a decontamination match.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curation.lsh import NONE
from curation.memory import release_memory
from curation.schema import document_schema
from curation.workitems import doc_key
from pipelines.dedup import cluster_id_exact
from pipelines.io import open_file
from pipelines.outputs import HashingWriter, create_file, staged_path
from pipelines.process import work_relpath
from pipelines.progress import ProgressWriter
from pipelines.write import CLUSTER_SCHEMA, MATCH_SCHEMA, stage_report_rows

EXACT_REASON, NEAR_REASON = "dedup.exact", "dedup.near"


def _decision_map(decisions: pa.Table | None) -> dict[int, tuple[int, int, int, int, str | None, str | None]]:
    """key -> (exact_rep, h1, h2, near_root, exact_rep_id, near_root_id) for the item's clustered documents."""
    if decisions is None or decisions.num_rows == 0:
        return {}
    columns = [decisions.column(name).to_pylist() for name in decisions.schema.names]
    return {row[0]: row[1:] for row in zip(*columns, strict=True)}


class ShardWriter:
    """A staged Parquet shard written row group by row group, described for the manifest when closed."""

    def __init__(self, out: str, relpath: str, schema: pa.Schema, compression: str, row_group_rows: int):
        self.relpath = relpath
        self.schema = schema
        self.row_group_rows = row_group_rows
        self.sink = HashingWriter(create_file(staged_path(out, relpath)))
        self.writer = pq.ParquetWriter(self.sink, schema, compression=compression)
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self.writer.write_table(table.select(self.schema.names).cast(self.schema), self.row_group_rows)
            self.rows += table.num_rows

    def close(self) -> dict[str, Any]:
        self.writer.close()
        self.sink.close()
        return {"staged": self.relpath, "rows": self.rows, "bytes": self.sink.nbytes, "sha256": self.sha256}

    @property
    def sha256(self) -> str:
        return self.sink.sha.hexdigest()


def apply_item(
    out: str,
    summary: Mapping[str, Any],
    decisions: pa.Table | None,
    signal_names: Sequence[str],
    output_cfg: Mapping[str, Any],
) -> dict[str, Any]:
    """Write one item's final shards and its staged report rows; returns staged entries, stats rows and report refs."""
    key, source, ordinal = summary["key"], summary["source"], summary["ordinal"]
    clustered = _decision_map(decisions)
    compression = str(output_cfg["compression"])
    row_group_rows = int(output_cfg["row_group_rows"])
    kept_w = ShardWriter(
        out, f"data/{source}/{key}.parquet", document_schema(signal_names), compression, row_group_rows
    )
    removed_w = ShardWriter(
        out,
        f"removed/{source}/{key}.parquet",
        document_schema(signal_names, with_reason=True),
        compression,
        row_group_rows,
    )
    stats: dict[tuple[str, str, str], list[int]] = {}
    clusters: list[dict[str, Any]] = []
    matches: list[dict[str, Any]] = []
    position = 0
    progress = ProgressWriter(out, "apply", key, 0)
    with open_file(staged_path(out, work_relpath(key, ".parquet"))) as f:
        shard = pq.ParquetFile(f)
        for batch in shard.iter_batches(batch_size=row_group_rows):
            table = pa.Table.from_batches([batch])
            n = table.num_rows
            reasons = table.column("reason").to_pylist()
            texts = None
            metas = None
            decontam = table.column("decontam")
            with_decontam = np.flatnonzero(~np.asarray(decontam.is_null().to_numpy(zero_copy_only=False)))
            for i in range(n):
                k = doc_key(ordinal, position + i)
                if k in clustered:
                    rep, h1, h2, root, rep_id, root_id = clustered[k]
                    doc_id = table.column("id")[i].as_py()
                    # kept: the document survives dedup (an exact group's survivor can lose to a near duplicate)
                    survives = rep in (int(NONE), k) and root in (int(NONE), k)
                    if rep != int(NONE):
                        clusters.append({"id": doc_id, "cluster_id": cluster_id_exact(h1, h2), "kept": survives})
                    if root != int(NONE):
                        clusters.append({"id": doc_id, "cluster_id": f"near-{root_id}", "kept": survives})
                    if reasons[i]:
                        continue
                    dup_of = rep if rep != int(NONE) and rep != k else root if root != int(NONE) and root != k else None
                    if dup_of is not None:
                        reasons[i] = EXACT_REASON if dup_of == rep else NEAR_REASON
                        metas = metas if metas is not None else table.column("meta").to_pylist()
                        meta = json.loads(metas[i]) if metas[i] else {}
                        meta["duplicate_of"] = rep_id if dup_of == rep else root_id
                        metas[i] = json.dumps(meta, ensure_ascii=False, sort_keys=True)
            for i in with_decontam.tolist():
                if reasons[i]:
                    continue
                stored = json.loads(decontam[i].as_py())
                matches.extend(stored.get("rows") or [])
                if stored.get("reason"):
                    reasons[i] = stored["reason"]
                elif stored.get("text") is not None:
                    texts = texts if texts is not None else table.column("text").to_pylist()
                    texts[i] = stored["text"]
                    metas = metas if metas is not None else table.column("meta").to_pylist()
                    metas[i] = json.dumps(stored.get("meta") or {}, ensure_ascii=False, sort_keys=True)
            if metas is not None:
                table = table.set_column(table.schema.get_field_index("meta"), "meta", pa.array(metas, pa.string()))
            if texts is not None:
                table = table.set_column(
                    table.schema.get_field_index("text"), "text", pa.array(texts, pa.large_string())
                )
            reason_arr = pa.array(reasons, pa.string())
            table = table.set_column(table.schema.get_field_index("reason"), "reason", reason_arr)
            removed_mask = reason_arr.is_valid()
            kept_t, removed_t = table.filter(pc.invert(removed_mask)), table.filter(removed_mask)
            kept_w.write(kept_t)
            removed_w.write(removed_t)
            _count(stats, source, "kept", [""] * kept_t.num_rows, kept_t.column("text"))
            _count(stats, source, "removed", removed_t.column("reason").to_pylist(), removed_t.column("text"))
            position += n
            progress.update(position, 0)
    progress.update(position, 0, done=True)
    release_memory()
    entries = []
    for writer, kind in ((kept_w, "data"), (removed_w, "removed")):
        entry = writer.close()
        if entry["rows"]:
            entries.append({**entry, "kind": kind, "source": source, "ordinal": ordinal})
    return {
        "ordinal": ordinal,
        "entries": entries,
        "empty": [w.relpath for w in (kept_w, removed_w) if not w.rows],
        "stats": [[s, o, r, d, b] for (s, o, r), (d, b) in sorted(stats.items())],
        "clusters": stage_report_rows(out, work_relpath(key, ".clusters.parquet"), clusters, CLUSTER_SCHEMA),
        "matches": stage_report_rows(out, work_relpath(key, ".matches.parquet"), matches, MATCH_SCHEMA),
    }


def _count(stats: dict, source: str, outcome: str, reasons: list, texts: pa.ChunkedArray) -> None:
    """Add (docs, UTF-8 bytes) per reason to the stats rows."""
    if not reasons:
        return
    sizes = pc.binary_length(pc.cast(texts, pa.large_binary())).to_numpy(zero_copy_only=False)
    for reason, size in zip(reasons, sizes.tolist(), strict=True):
        row = stats.setdefault((source, outcome, reason or ""), [0, 0])
        row[0] += 1
        row[1] += int(size)
