"""Parquet reader: documents from Parquet files with a `text` column, streamed by row group."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

import pyarrow.parquet as pq

from curation.readers.base import SourceFile
from curation.readers.jsonl import record_to_document
from curation.schema import Document, Failure, row_to_document


def read_parquet(stream: BinaryIO, file: SourceFile) -> Iterator[Document | Failure]:
    """Yield a Document per row; our own output shards keep their ids, signals and language."""
    try:
        pf = pq.ParquetFile(stream)
    except Exception as exc:  # noqa: BLE001 - any parse error is a dead letter for this file
        yield Failure(file.source, f"{file.path}:0", f"not a readable Parquet file: {exc}", "read")
        return
    if "text" not in pf.schema_arrow.names:
        yield Failure(file.source, f"{file.path}:0", "Parquet file has no 'text' column", "read")
        return
    own_output = {"id", "source", "signals"}.issubset(pf.schema_arrow.names)
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=1024):
            for record in batch.to_pylist():
                row += 1
                if own_output:
                    yield row_to_document({**record, "source": record.get("source") or file.source})
                    continue
                if isinstance(record.get("meta"), str):
                    try:
                        record["meta"] = json.loads(record["meta"])
                    except json.JSONDecodeError:
                        record["meta"] = {"meta": record["meta"]}
                doc = record_to_document(record, file, row)
                if isinstance(doc, str):
                    yield Failure(file.source, f"{file.path}:row={row}", doc, "read")
                else:
                    yield doc
    except Exception as exc:  # noqa: BLE001
        yield Failure(file.source, f"{file.path}:row={row + 1}", f"{type(exc).__name__}: {exc}", "read")


# Decisions made before signals exist cannot be re-decided from signals: they stay as they are.
_FINAL_REASON_PREFIXES = ("read.", "extract.")


def read_replay(stream: BinaryIO, file: SourceFile) -> Iterator[Document | Failure]:
    """This project's own shards as input for a what-if re-decision: stored signals kept, reasons cleared."""
    for item in read_parquet(stream, file):
        if isinstance(item, Document) and item.reason and not item.reason.startswith(_FINAL_REASON_PREFIXES):
            item.meta.pop("duplicate_of", None)
            item.reason = None
        yield item
