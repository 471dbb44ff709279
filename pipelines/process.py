"""Phase one of a run, for one work item: read, run every per-document stage, write the item once.

Plain Python (no Beam types): a Beam DoFn calls `ItemProcessor.process` once per work item. The item's
documents stream through in batches, so memory does not depend on the item's size. What it leaves behind,
all under `OUT/_temporary/work/`:

- `<key>.parquet`: every document that was read, with its signals and its per-document decision (`reason`)
  and, for decontaminated sources, the stored decontamination result (applied after dedup, as the paper's
  order has it). The row number is the document's position in the item (its `doc_key`).
- `<key>.exact.npy` / `<key>.bands.npy` (+ `.idx.npy`): the compact dedup features of the documents still
  kept, sorted by hash, with the row offset of each of FINE_BUCKETS hash ranges, so a dedup partition reads
  only its slice of every item.
- `failed/part-<key>.jsonl` (staged for the final output): the item's dead letters.
- `<key>.summary.json`, written last: counts, statistics rows and file names. Its presence means the item is
  done, which is what `--resume` relies on.
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curation.config import source_priority
from curation.decontam import DecontamIndex, check_compatible, decontaminate_document
from curation.extract import extract_with_config
from curation.lsh import BAND_ROW_DTYPE, EXACT_ROW_DTYPE
from curation.memory import release_memory
from curation.minhash import params_from_config, sketch
from curation.readers import SourceFile, location, read_source
from curation.readers.base import describe
from curation.schema import Document, Failure, document_schema, documents_to_table, id_sort_key
from curation.text import exact_dedup_key
from curation.workitems import Segment, WorkItem, doc_key
from filters import registry
from filters.language import language_signals_batch
from pipelines.io import open_file
from pipelines.outputs import HashingWriter, create_file, staged_path, write_file
from pipelines.progress import ProgressWriter

HTML = "text/html"
BATCH_DOCS = 256
FINE_BITS = 10
FINE_BUCKETS = 1 << FINE_BITS
EXACT_DTYPE, BAND_DTYPE = EXACT_ROW_DTYPE, BAND_ROW_DTYPE
DECONTAM_FIELD = pa.field("decontam", pa.string(), metadata={"encoding": "json"})


@dataclass(frozen=True)
class RunContext:
    """What every worker needs to process items of one run (picklable)."""

    out: str
    cfg: Mapping[str, Any]
    chains: Mapping[str, Sequence[str]]
    decontam_index: str | None = None

    def stages(self, source: str) -> Sequence[str]:
        """The stage chain of a source."""
        return self.chains.get(source, ())


def work_relpath(key: str, suffix: str) -> str:
    """Staged path (relative to OUT/_temporary) of one of an item's working files."""
    return f"work/{key}{suffix}"


def item_shard_schema(signal_names: Sequence[str]) -> pa.Schema:
    """Schema of an item's staged document shard: the removed-documents schema plus the stored decontam result."""
    return document_schema(signal_names, with_reason=True).append(DECONTAM_FIELD)


def fine_bucket(hashes: np.ndarray) -> np.ndarray:
    """Which of FINE_BUCKETS hash ranges each 64-bit hash falls in (its top bits)."""
    return (np.asarray(hashes, dtype=np.uint64) >> np.uint64(64 - FINE_BITS)).astype(np.int64)


def bucket_offsets(sorted_hashes: np.ndarray) -> np.ndarray:
    """Row offset of each fine bucket in hash-sorted rows (FINE_BUCKETS + 1 entries)."""
    return np.searchsorted(fine_bucket(sorted_hashes), np.arange(FINE_BUCKETS + 1)).astype(np.int64)


def npy_bytes(array: np.ndarray) -> bytes:
    """An array in .npy format."""
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def _exact_hash(text: str) -> tuple[int, int]:
    """The 128-bit exact-dedup hash of a text as two 64-bit halves."""
    digest = bytes.fromhex(exact_dedup_key(text))
    return int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:], "little")


def read_segment(segment: Segment, source: str, reader_options: Mapping[str, Any]) -> Iterator[Document | Failure]:
    """Every record of one byte range of a file (read_source never raises; opening the file may)."""
    if segment.error is not None or segment.format is None:
        if segment.start == 0:
            yield Failure(source, location(segment.path, "byte", 0), segment.error or "unknown format", "read")
        return
    file = SourceFile(
        path=segment.path,
        relpath=segment.relpath,
        source=source,
        format=segment.format,
        start=segment.start,
        end=segment.end,
        first_line=segment.first_line,
    )
    try:
        stream = open_file(segment.path)
    except Exception as exc:  # noqa: BLE001 - dead-letter the range, never crash the run
        yield Failure(source, location(segment.path, "byte", segment.start), describe(exc), "read")
        return
    with stream:
        yield from read_source(stream, file, reader_options)


def _failure_for(doc: Document, stage: str, exc: BaseException) -> Failure:
    """A document that a stage could not process, as a dead letter."""
    nbytes = doc.nbytes if isinstance(doc.text, str) else 0
    return Failure(doc.source, doc.id, f"{type(exc).__name__}: {exc}", stage, nbytes)


class ItemProcessor:
    """Per-worker state (models, decontamination index) and the per-item work of phase one."""

    def __init__(self, ctx: RunContext, signal_names: Sequence[str]):
        self.ctx = ctx
        self.cfg = ctx.cfg
        self.schema = item_shard_schema(signal_names)
        dedup = ctx.cfg["dedup"]
        self.exact_on = bool(dedup["exact"])
        self.near_on = bool(dedup["near"])
        self.params = params_from_config(dedup)
        self.index: DecontamIndex | None = None
        self.decontam_section = dict(ctx.cfg["decontaminate"])
        out_cfg = ctx.cfg["output"]
        self.row_group_rows = int(out_cfg["row_group_rows"])
        self.compression = str(out_cfg["compression"])

    def setup(self) -> None:
        """Load models and the decontamination index once per worker."""
        stages = sorted({s for chain in self.ctx.chains.values() for s in chain})
        registry.prepare(stages, self.cfg)
        if self.ctx.decontam_index and any("decontaminate" in c for c in self.ctx.chains.values()):
            from pipelines.decontam import shared_index

            self.index = shared_index(self.ctx.decontam_index)
            check_compatible(self.index, self.decontam_section)

    # -- per document ---------------------------------------------------------------------------------
    def _decide_batch(self, docs: list[Document]) -> list[Document | Failure]:
        """Extract, compute signals and decide for a batch of documents of one source."""
        out: list[Document | Failure] = []
        for doc in docs:
            if doc.reason:  # decided at read time (read.*) or carried from stored output (extract.*)
                out.append(doc)
                continue
            chain = self.ctx.stages(doc.source)
            try:
                if "extract" in chain and doc.meta.get("content_type") == HTML:
                    html = doc.text
                    doc.text = extract_with_config(html, doc.url, self.cfg["extract"])
                    doc.meta["content_type"] = "text/plain"
                    doc.meta["html_bytes"] = len(html.encode("utf-8", "replace"))
                    if not doc.text.strip():
                        doc.reason = "extract.empty"
            except Exception as exc:  # noqa: BLE001 - dead-letter the document, keep the run going
                out.append(_failure_for(doc, "extract", exc))
                continue
            out.append(doc)
        self._language_batch([d for d in out if isinstance(d, Document) and not d.reason])
        for i, item in enumerate(out):
            if not isinstance(item, Document) or item.reason:
                continue
            chain = self.ctx.stages(item.source)
            stage = "signals"
            try:
                registry.compute_signals(item, chain, self.cfg)
                stage = "decide"
                item.reason = registry.decide(item, chain, self.cfg)
            except Exception as exc:  # noqa: BLE001
                out[i] = _failure_for(item, stage, exc)
        return out

    def _language_batch(self, docs: list[Document]) -> None:
        """Language ID for many documents in one model call (same results as one at a time)."""
        todo = [
            d
            for d in docs
            if "language" in self.ctx.stages(d.source) and "language.score" not in d.signals and isinstance(d.text, str)
        ]
        by_section: dict[int, tuple[Mapping[str, Any], list[Document]]] = {}
        for d in todo:
            section = registry.stage_section(self.cfg, "language", d.source)
            by_section.setdefault(id(section), (section, []))[1].append(d)
        for section, group in by_section.values():
            try:
                for d, signals in zip(group, language_signals_batch(group, section), strict=True):
                    d.signals.update(signals)
            except Exception:  # noqa: BLE001 - fall back to one at a time, so one bad text fails alone
                continue

    def _features(self, doc: Document, key: int, exact: list, bands: list) -> None:
        """Dedup features of a kept document: its exact hash and (if it has words) its LSH band hashes."""
        if self.exact_on:
            h1, h2 = _exact_hash(doc.text)
            exact.append((h1, h2, key))
        if self.near_on:
            found = sketch(doc.text, self.params)  # shingles, signature and band hashes in one compiled call
            if found.shingles.size:
                bands.append(np.stack([found.bands, np.full(found.bands.size, key, dtype=np.uint64)], axis=1))

    def _decontam(self, doc: Document) -> str | None:
        """The decontamination result of a document as JSON (None when it matched nothing).

        Stored, not applied: it takes effect in the apply step, after dedup, as in the paper's order.
        """
        assert self.index is not None, "called only with an index"
        probe = dataclasses.replace(doc, meta=dict(doc.meta), reason=None)
        removed, rows = decontaminate_document(probe, self.index, self.decontam_section)
        if not rows and not removed:
            return None
        cut = not removed and probe.text != doc.text
        result = {
            "reason": probe.reason if removed else None,
            "text": probe.text if cut else None,
            "meta": probe.meta if cut else None,
            "rows": rows,
        }
        return json.dumps(result, sort_keys=True, ensure_ascii=False)

    # -- per item -------------------------------------------------------------------------------------
    def process(self, item: WorkItem) -> dict[str, Any]:
        """Process one work item end to end; returns (and stores) its summary."""
        out = self.ctx.out
        shard_rel = work_relpath(item.key, ".parquet")
        raw = create_file(staged_path(out, shard_rel))
        sink = HashingWriter(raw)
        writer = pq.ParquetWriter(sink, self.schema, compression=self.compression)
        stats: dict[tuple[str, str, str], list[int]] = {}
        failures: list[Failure] = []
        exact: list[tuple[int, int, int]] = []
        bands: list[np.ndarray] = []
        counters: dict[str, int] = {}
        position = 0
        progress = ProgressWriter(out, "process", item.key, item.work)
        read_docs = read_bytes = 0

        def count(source: str, outcome: str, reason: str, nbytes: int) -> None:
            row = stats.setdefault((source, outcome, reason), [0, 0])
            row[0] += 1
            row[1] += nbytes

        def flush(batch: list[Document]) -> None:
            nonlocal position
            decided = self._decide_batch(batch)
            rows: list[Document] = []
            decontam: list[str | None] = []
            for item_or_failure in decided:
                if isinstance(item_or_failure, Failure):
                    failures.append(item_or_failure)
                    count(item_or_failure.source, "failed", item_or_failure.stage, item_or_failure.nbytes)
                    continue
                doc = item_or_failure
                key = doc_key(item.ordinal, position)
                chain = self.ctx.stages(doc.source)
                stored = None
                stage = "dedup"
                try:
                    if not doc.reason and "dedup" in chain:
                        self._features(doc, key, exact, bands)
                    stage = "decontaminate"
                    if not doc.reason and self.index is not None and "decontaminate" in chain:
                        stored = self._decontam(doc)
                except Exception as exc:  # noqa: BLE001 - a document we cannot hash or check leaves as a Failure
                    failure = _failure_for(doc, stage, exc)
                    failures.append(failure)
                    count(doc.source, "failed", stage, failure.nbytes)
                    if exact and exact[-1][2] == key:
                        exact.pop()
                    if bands and int(bands[-1][0, 1]) == key:
                        bands.pop()
                    continue
                rows.append(doc)
                decontam.append(stored)
                name = f"{doc.source}.{doc.reason or 'passed'}"
                counters[name] = counters.get(name, 0) + 1
                position += 1
            if rows:
                table = documents_to_table(rows, self.schema.remove(self.schema.get_field_index("decontam")))
                table = table.append_column(DECONTAM_FIELD, pa.array(decontam, type=pa.string()))
                writer.write_table(table, row_group_size=self.row_group_rows)

        batch: list[Document] = []
        for segment in item.segments:
            for record in read_segment(segment, item.source, self.cfg["readers"]):
                if isinstance(record, Failure):
                    failures.append(record)
                    count(record.source, "input", "", record.nbytes)
                    count(record.source, "failed", record.stage, record.nbytes)
                    continue
                count(record.source, "input", "", record.nbytes)
                read_docs += 1
                read_bytes += record.nbytes
                batch.append(record)
                if len(batch) >= BATCH_DOCS:
                    flush(batch)
                    batch = []
                    progress.update(read_docs, read_bytes)
        if batch:
            flush(batch)
        writer.close()
        sink.close()
        progress.update(read_docs, read_bytes, done=True)

        summary: dict[str, Any] = {
            "key": item.key,
            "ordinal": item.ordinal,
            "source": item.source,
            "rows": position,
            "shard": shard_rel,
            "stats": [[s, o, r, d, b] for (s, o, r), (d, b) in sorted(stats.items())],
            "counters": counters,
            "failed": self._write_failures(item, failures),
            "exact": self._write_features(item, ".exact", self._exact_array(exact)),
            "bands": self._write_features(item, ".bands", self._band_array(bands)),
            "priority": source_priority(self.cfg, item.source),
        }
        write_file(staged_path(out, work_relpath(item.key, ".summary.json")), json.dumps(summary).encode())
        release_memory()
        return summary

    @staticmethod
    def _exact_array(rows: list[tuple[int, int, int]]) -> np.ndarray:
        array = np.array(rows, dtype=EXACT_DTYPE) if rows else np.empty(0, dtype=EXACT_DTYPE)
        return np.sort(array, order=("h1", "h2", "key"))

    @staticmethod
    def _band_array(parts: list[np.ndarray]) -> np.ndarray:
        if not parts:
            return np.empty(0, dtype=BAND_DTYPE)
        stacked = np.concatenate(parts)
        array = np.empty(stacked.shape[0], dtype=BAND_DTYPE)
        array["h"], array["key"] = stacked[:, 0], stacked[:, 1]
        return np.sort(array, order=("h", "key"))

    def _write_features(self, item: WorkItem, suffix: str, array: np.ndarray) -> dict[str, Any] | None:
        """Write a sorted feature array and its fine-bucket offsets; None when there are no rows."""
        if array.size == 0:
            return None
        assert array.dtype.names is not None, "a structured array"
        first = array.dtype.names[0]
        rel = work_relpath(item.key, f"{suffix}.npy")
        write_file(staged_path(self.ctx.out, rel), npy_bytes(array))
        idx_rel = work_relpath(item.key, f"{suffix}.idx.npy")
        write_file(staged_path(self.ctx.out, idx_rel), npy_bytes(bucket_offsets(array[first])))
        return {"path": rel, "index": idx_rel, "rows": int(array.size)}

    def _write_failures(self, item: WorkItem, failures: list[Failure]) -> dict[str, Any] | None:
        """Stage the item's dead letters for the final `failed/` folder, in location order."""
        if not failures:
            return None
        failures.sort(key=lambda f: (f.source, id_sort_key(f.source_location), f.stage, f.error))
        data = "".join(f.to_json() + "\n" for f in failures).encode("utf-8")
        rel = f"failed/{item.key}.jsonl"
        entry = write_file(staged_path(self.ctx.out, rel), data)
        return {"path": rel, "rows": len(failures), **entry}
