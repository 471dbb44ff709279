"""The MassiveText pipeline graph: plan work items -> process each item once -> dedup on keys -> apply -> commit.

1. Plan: match the input globs (at run time, so a Dataflow dry run needs no credentials), cut big files into
   byte ranges and pack small ones (`curation.workitems`); line-based ranges get their first line number
   from a parallel counting step.
2. Process (`pipelines/process.py`): each work item is read, extracted, filtered (signals, then decision),
   hashed for dedup and checked against the decontamination index by one worker, and written once to a
   staged shard. Only a small summary per item goes on.
3. Dedup (`pipelines/dedup.py`): exact groups and LSH candidates from compact hash files, verification,
   connected components; only integer keys and hashes are shuffled.
4. Apply (`pipelines/apply.py`): each item's staged shard is re-read, its cross-document decisions applied,
   and its `data/` and `removed/` shards staged.
5. Commit (`pipelines/write.py`): shard names, reports, stats.json, manifest.json, `_SUCCESS`.
Beam elements are work items, summaries and numpy arrays: never one element per document.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions

from curation import readers
from curation.config import source_priority, source_stages
from curation.memory import MemoryReleaser
from curation.workitems import (
    InputFile,
    Segment,
    WorkItem,
    input_work,
    item_target,
    pack_items,
    plan_segments,
    with_first_lines,
)
from filters.registry import signal_names
from pipelines.apply import apply_item
from pipelines.dedup import NearDuplicates, item_decisions
from pipelines.io import open_file
from pipelines.outputs import staged_path
from pipelines.process import ItemProcessor, RunContext, work_relpath
from pipelines.read import InputSpec
from pipelines.runner import guard_local_runner_streams
from pipelines.write import finalize_run


def stage_chains(
    cfg: Mapping[str, Any], inputs: Sequence[InputSpec], explicit: list[str] | None
) -> dict[str, list[str]]:
    """Each input source's ordered stage chain."""
    return {spec.source: source_stages(cfg, spec.source, explicit) for spec in inputs}


# ---- planning -------------------------------------------------------------------------------------------
def match_input(spec: InputSpec) -> Iterator[InputFile]:
    """Every file an `--input` glob matches, with its size."""
    try:
        result = FileSystems.match([spec.glob])[0]
    except Exception:  # noqa: BLE001 - a glob matching nothing is checked up front by the CLI
        return
    for meta in result.metadata_list:
        yield InputFile(spec.source, meta.path, meta.size_in_bytes, spec.glob, spec.format)


def _format_of(path: str, source: str, forced: str | None) -> str:
    return forced or readers.detect_format(path, source)


def _splitter(fmt: str, path: str, size: int, target: int) -> list[tuple[int, int]]:
    return readers.split_ranges(fmt, path, size, target)


def _needs_lines(segment: Segment) -> bool:
    return segment.format is not None and readers.needs_line_numbers(segment.format, segment.path)


def plan(files: list[InputFile], cfg: Mapping[str, Any]) -> list[tuple[str, Segment]]:
    """All segments of a run, in survivor order."""
    priorities = {f.source: source_priority(cfg, f.source) for f in files}
    target = item_target(input_work(files), int(cfg["output"]["item_bytes"]))
    return plan_segments(files, priorities, target, _format_of, _splitter)


def _ranges_to_count(segments: list[tuple[str, Segment]]) -> Iterator[Segment]:
    """Ranges of split line-based files (their line numbers depend on the ranges before them)."""
    split_paths = {seg.path for _, seg in segments if seg.start > 0}
    for _, seg in segments:
        if seg.path in split_paths and _needs_lines(seg):
            yield seg


def count_lines(segment: Segment) -> tuple[tuple[str, int], int]:
    """((path, start), lines starting in the range)."""
    with open_file(segment.path) as stream:
        end = segment.size if segment.end is None else segment.end
        return (segment.path, segment.start), readers.count_line_starts(stream, segment.start, end)


def items_from(segments: list[tuple[str, Segment]], counts: list, cfg: Mapping[str, Any]) -> list[WorkItem]:
    """Work items with line numbers filled in."""
    target = item_target(sum(seg.work for _, seg in segments), int(cfg["output"]["item_bytes"]))
    return pack_items(with_first_lines(segments, dict(counts)), target)


class PlanWorkItems(beam.PTransform):
    """Input specs -> WorkItem elements (deterministic: independent of the runner and the worker count)."""

    def __init__(self, inputs: Sequence[InputSpec], cfg: Mapping[str, Any]):
        super().__init__()
        self.inputs = list(inputs)
        self.cfg = cfg

    def expand(self, pbegin):
        cfg = self.cfg
        files = (
            pbegin
            | "Specs" >> beam.Create(self.inputs)
            | "Match" >> beam.FlatMap(match_input)
            | "AllFiles" >> beam.combiners.ToList()
        )
        segments = files | "Segments" >> beam.Map(plan, cfg)
        counts = (
            segments
            | "RangesToCount" >> beam.FlatMap(_ranges_to_count)
            | "SpreadCounts" >> beam.Reshuffle()
            | "CountLines" >> beam.Map(count_lines)
            | "AllCounts" >> beam.combiners.ToList()
        )
        return (
            segments
            | "Items" >> beam.FlatMap(items_from, beam.pvalue.AsSingleton(counts), cfg)
            | "SpreadItems" >> beam.Reshuffle()
        )


# ---- processing -----------------------------------------------------------------------------------------
class ProcessItemFn(beam.DoFn):
    """Phase one for one work item (or its stored summary when resuming)."""

    def __init__(self, ctx: RunContext, resume: bool):
        self.ctx = ctx
        self.resume = resume
        self.processor: ItemProcessor | None = None

    def setup(self):
        self.processor = ItemProcessor(self.ctx, signal_names())
        self.processor.setup()

    def process(self, item: WorkItem):
        path = staged_path(self.ctx.out, work_relpath(item.key, ".summary.json"))
        if self.resume and FileSystems.exists(path):
            with open_file(path) as f:
                summary = json.loads(f.read().decode("utf-8"))
            Metrics.counter("curation", "items_resumed").inc()
        else:
            assert self.processor is not None, "setup() makes the processor"
            summary = self.processor.process(item)
            for name, value in summary["counters"].items():
                Metrics.counter("curation", name).inc(value)
        Metrics.counter("curation", "items_processed").inc()
        Metrics.counter("curation", "documents_read").inc(sum(r[3] for r in summary["stats"] if r[1] == "input"))
        yield summary


def _apply(item: tuple[int, Mapping[str, list]], out: str, names: list[str], output_cfg: Mapping[str, Any]):
    ordinal, grouped = item
    for summary in grouped["summary"]:
        result = apply_item(out, summary, item_decisions(out, grouped["decisions"]), names, output_cfg)
        Metrics.counter("curation", "items_written").inc()
        yield result


def build_pipeline(
    p: beam.Pipeline,
    inputs: Sequence[InputSpec],
    output: str,
    cfg: Mapping[str, Any],
    explicit_stages: list[str] | None = None,
    decontam_index: str | None = None,
    resume: bool = False,
) -> None:
    """Add the whole curation graph to `p`, writing the documented layout under `output`."""
    chains = stage_chains(cfg, inputs, explicit_stages)
    dedup_ran = any("dedup" in chain for chain in chains.values())
    decontam_ran = bool(decontam_index) and any("decontaminate" in chain for chain in chains.values())
    ctx = RunContext(out=output, cfg=dict(cfg), chains=chains, decontam_index=decontam_index if decontam_ran else None)
    names = signal_names()

    items = p | "Plan" >> PlanWorkItems(inputs, cfg)
    summaries = items | "Process" >> beam.ParDo(ProcessItemFn(ctx, resume))
    keyed = summaries | "KeySummaries" >> beam.Map(lambda s: (s["ordinal"], s))
    if dedup_ran:
        decisions = summaries | "Dedup" >> NearDuplicates(output, cfg)
    else:
        decisions = p | "NoDecisions" >> beam.Create([])
    applied = (
        {"summary": keyed, "decisions": decisions}
        | "JoinDecisions" >> beam.CoGroupByKey()
        | "Apply" >> beam.FlatMap(_apply, output, names, dict(cfg["output"]))
    )
    (
        p
        | "CommitOnce" >> beam.Create([None])
        | "Commit"
        >> beam.Map(
            lambda _, s, a: finalize_run(output, s, a, dict(cfg), explicit_stages, dedup_ran, ctx.decontam_index),
            beam.pvalue.AsList(summaries),
            beam.pvalue.AsList(applied),
        )
    )


def run(
    inputs: Sequence[InputSpec],
    output: str,
    cfg: Mapping[str, Any],
    beam_flags: Sequence[str] = (),
    explicit_stages: list[str] | None = None,
    decontam_index: str | None = None,
    runner: Any = None,
    resume: bool = False,
) -> None:
    """Build and run the pipeline to completion (raises on pipeline failure)."""
    guard_local_runner_streams()
    options = PipelineOptions(list(beam_flags))
    releaser = MemoryReleaser()  # the local runner's driver buffers every step's output between steps
    releaser.start()
    try:
        with beam.Pipeline(runner=runner, options=options) as p:
            build_pipeline(p, inputs, output, cfg, explicit_stages, decontam_index, resume)
    finally:
        releaser.stop()
