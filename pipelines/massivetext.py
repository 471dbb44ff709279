"""The MassiveText pipeline graph: read -> filter -> exact/near dedup -> decontaminate -> write + stats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from curation.config import source_stages
from curation.schema import Failure
from filters.registry import signal_names
from pipelines.decontam import Decontaminate, write_matches_bytes
from pipelines.exact_dedup import ExactDedup
from pipelines.filter import ApplyFilters
from pipelines.near_dedup import NearDedup
from pipelines.read import InputSpec, ReadDocuments
from pipelines.write import (
    WriteDocumentShards,
    WriteFailures,
    outcome_row,
    sum_pairs,
    write_clusters_bytes,
    write_run_summary,
    write_table_file,
)


def stage_chains(
    cfg: Mapping[str, Any], inputs: Sequence[InputSpec], explicit: list[str] | None
) -> dict[str, list[str]]:
    """Each input source's ordered stage chain."""
    return {spec.source: source_stages(cfg, spec.source, explicit) for spec in inputs}


def _split(pcoll, label: str, predicate):
    """Partition a PCollection in two by a predicate: (matching, others)."""
    parts = pcoll | label >> beam.Partition(lambda x, n: 0 if predicate(x) else 1, 2)
    return parts[0], parts[1]


def build_pipeline(
    p: beam.Pipeline,
    inputs: Sequence[InputSpec],
    output: str,
    cfg: Mapping[str, Any],
    explicit_stages: list[str] | None = None,
    decontam_index: str | None = None,
) -> None:
    """Add the whole curation graph to `p`, writing the documented layout under `output`."""
    chains = stage_chains(cfg, inputs, explicit_stages)
    dedup_sources = {s for s, chain in chains.items() if "dedup" in chain}
    decontam_sources = {s for s, chain in chains.items() if "decontaminate" in chain}

    records = p | "Read" >> ReadDocuments(list(inputs), cfg.get("readers"))
    docs, read_failures = _split(records, "SplitReadFailures", lambda r: not isinstance(r, Failure))

    filtered = docs | "Filters" >> ApplyFilters(cfg, chains)
    kept = filtered.kept
    removed = [filtered.removed]
    failed = [read_failures, filtered.failed]
    reports = []

    dedup_cfg = cfg.get("dedup") or {}
    if dedup_sources:
        to_dedup, bypass = _split(kept, "SplitDedup", lambda d: d.source in dedup_sources)
        clusters = []
        if dedup_cfg.get("exact", True):
            exact = to_dedup | "ExactDedup" >> ExactDedup(cfg)
            to_dedup = exact.kept
            removed.append(exact.removed)
            clusters.append(exact.clusters)
        if dedup_cfg.get("near", True):
            near = to_dedup | "NearDedup" >> NearDedup(dict(cfg))
            to_dedup = near["kept"]
            removed.append(near["removed"])
            failed.append(near["failed"])
            clusters.append(near["clusters"])
        if clusters:
            cluster_rows = clusters | "AllClusters" >> beam.Flatten()
            reports.append(
                _write_report(p, "Clusters", cluster_rows, output, "dedup/clusters.parquet", write_clusters_bytes)
            )
        kept = (to_dedup, bypass) | "MergeDedup" >> beam.Flatten()

    if decontam_sources and decontam_index:
        to_check, bypass = _split(kept, "SplitDecontam", lambda d: d.source in decontam_sources)
        dec = to_check | "Decontaminate" >> Decontaminate(dict(cfg), decontam_index)
        reports.append(
            _write_report(p, "Matches", dec["matches"], output, "decontam/matches.parquet", write_matches_bytes)
        )
        removed.append(dec["removed"])
        failed.append(dec["failed"])
        kept = (dec["kept"], bypass) | "MergeDecontam" >> beam.Flatten()

    removed_all = removed | "AllRemoved" >> beam.Flatten()
    failed_all = failed | "AllFailed" >> beam.Flatten()

    names = signal_names()
    out_cfg = cfg.get("output") or {}
    shards = [
        kept | "WriteKept" >> WriteDocumentShards(output, "data", names, out_cfg),
        removed_all | "WriteRemoved" >> WriteDocumentShards(output, "removed", names, out_cfg),
        failed_all | "WriteFailed" >> WriteFailures(output),
        *reports,
    ]
    shard_entries = shards | "AllShards" >> beam.Flatten()

    outcomes = (
        records | "InputRows" >> beam.Map(lambda r: outcome_row("input", r)),
        kept | "KeptRows" >> beam.Map(lambda d: outcome_row("kept", d)),
        removed_all | "RemovedRows" >> beam.Map(lambda d: outcome_row("removed", d)),
        failed_all | "FailedRows" >> beam.Map(lambda f: outcome_row("failed", f)),
    )
    stats_rows = outcomes | "AllOutcomes" >> beam.Flatten() | "SumOutcomes" >> beam.CombinePerKey(sum_pairs)
    (
        p
        | "SummaryOnce" >> beam.Create([None])
        | "WriteSummary"
        >> beam.Map(
            write_run_summary,
            out_dir=output,
            stats_rows=beam.pvalue.AsList(stats_rows),
            shards=beam.pvalue.AsList(shard_entries),
            effective_cfg=dict(cfg),
            stages=explicit_stages,
        )
    )


def _write_report(p, name: str, rows, output: str, relpath: str, to_bytes):
    """One small table file (cluster or match report) written after all its rows exist."""
    return (
        p
        | f"{name}Once" >> beam.Create([None])
        | f"Write{name}"
        >> beam.Map(write_table_file, out_dir=output, relpath=relpath, rows=beam.pvalue.AsList(rows), to_bytes=to_bytes)
    )


def run(
    inputs: Sequence[InputSpec],
    output: str,
    cfg: Mapping[str, Any],
    beam_flags: Sequence[str] = (),
    explicit_stages: list[str] | None = None,
    decontam_index: str | None = None,
    runner: Any = None,
) -> None:
    """Build and run the pipeline to completion (raises on pipeline failure)."""
    options = PipelineOptions(list(beam_flags))
    with beam.Pipeline(runner=runner, options=options) as p:
        build_pipeline(p, inputs, output, cfg, explicit_stages, decontam_index)
