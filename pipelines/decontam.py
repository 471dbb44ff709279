"""Decontaminate: drop (or cut) documents overlapping evaluation sets, against a prebuilt index."""

from __future__ import annotations

import dataclasses
import io
import threading
from collections.abc import Mapping
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam import pvalue
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from curation.decontam import DecontamIndex, check_compatible, decontaminate_document, load_index
from curation.schema import Document, Failure

KEPT, REMOVED, MATCHES, FAILED = "kept", "removed", "matches", "failed"
MATCH_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("benchmark", pa.string()),
        ("item_id", pa.string()),
        ("matched_ngrams", pa.int64()),
        ("example_span", pa.string()),
    ]
)


_INDEXES: dict[str, DecontamIndex] = {}
_INDEXES_LOCK = threading.Lock()


def read_index(path: str) -> DecontamIndex:
    """Load an index from any Beam filesystem path (local, gs://, s3://)."""
    with FileSystems.open(path, compression_type="uncompressed") as fh:
        return load_index(fh.read())


def shared_index(path: str) -> DecontamIndex:
    """The index at `path`, read once per worker process and shared by all DoFn instances in it."""
    with _INDEXES_LOCK:
        if path not in _INDEXES:
            _INDEXES[path] = read_index(path)
        return _INDEXES[path]


def _nbytes(doc: Document) -> int:
    """Text size for a Failure record, 0 when the text is not even a string."""
    return doc.nbytes if isinstance(doc.text, str) else 0


class DecontaminateDoFn(beam.DoFn):
    """Checks each document against the index, which is loaded once per worker in `setup`."""

    def __init__(self, cfg: Mapping[str, Any], index_path: str):
        self.section = dict(cfg.get("decontaminate") or {})
        self.index_path = index_path
        self.index: DecontamIndex | None = None

    def setup(self):
        self.index = shared_index(self.index_path)
        check_compatible(self.index, self.section)
        self.cut = Metrics.counter("decontaminate", "cut")

    def process(self, doc: Document):
        doc = dataclasses.replace(doc, meta=dict(doc.meta))  # never mutate the input element
        try:
            removed, rows = decontaminate_document(doc, self.index, self.section)
        except Exception as exc:  # noqa: BLE001 - dead-letter the document, keep the run going
            Metrics.counter("decontaminate", "failed").inc()
            yield pvalue.TaggedOutput(
                FAILED, Failure(doc.source, doc.id, f"{type(exc).__name__}: {exc}", "decontaminate", _nbytes(doc))
            )
            return
        for row in rows:
            yield pvalue.TaggedOutput(MATCHES, row)
        if removed:
            Metrics.counter("decontaminate", f"filtered:{doc.reason}").inc()
            yield pvalue.TaggedOutput(REMOVED, doc)
        else:
            if rows:
                self.cut.inc()
            yield pvalue.TaggedOutput(KEPT, doc)


class Decontaminate(beam.PTransform):
    """Documents -> {kept, removed, matches, failed}: every input lands in exactly one of kept/removed/failed.

    `failed` (Failure records, stage "decontaminate") stays empty unless the matcher raises on a
    document; it exists so that such a document is reported instead of crashing the run.
    """

    def __init__(self, cfg: Mapping[str, Any], index_path: str):
        super().__init__()
        self.cfg = cfg
        self.index_path = index_path

    def expand(self, docs):
        return docs | "CheckIndex" >> beam.ParDo(DecontaminateDoFn(self.cfg, self.index_path)).with_outputs(
            KEPT, REMOVED, MATCHES, FAILED
        )


def write_matches_bytes(rows: list[dict[str, Any]]) -> bytes:
    """Parquet bytes of `decontam/matches.parquet` (id, benchmark, item_id, matched_ngrams, example_span), sorted."""
    rows = sorted(rows, key=lambda r: (r["id"], r["benchmark"], r["item_id"]))
    table = pa.Table.from_pylist(rows, schema=MATCH_SCHEMA)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()
