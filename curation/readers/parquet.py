"""Parquet reader: documents from Parquet files with a `text` column, streamed by row group.

A byte range reads the row groups whose first byte lies in it (row numbers stay those of the whole
file). Texts over `readers.max_document_bytes` are counted as `read.too_large` before they are turned
into Python strings; columns of any other type (timestamps, decimals, nested data) go to `meta` as
plain JSON values and never fail the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curation.readers.base import Format, ReadContext, SourceFile
from curation.readers.jsonl import record_to_document
from curation.readers.source import read_with
from curation.schema import Document, Failure, row_to_document

_BATCH_ROWS = 256


def _row_group_start(metadata: pq.FileMetaData, index: int) -> int:
    """File offset of the first byte of row group `index` (its first dictionary or data page)."""
    group = metadata.row_group(index)
    starts = []
    for i in range(group.num_columns):
        column = group.column(i)
        starts.append(column.data_page_offset)
        if column.has_dictionary_page and column.dictionary_page_offset:
            starts.append(column.dictionary_page_offset)
    return min(starts) if starts else 0


def _row_groups(pf: pq.ParquetFile, start: int, end: int | None) -> list[tuple[int, int]]:
    """(row group index, 1-based number of its first row) for the groups whose first byte is in [start, end)."""
    metadata = pf.metadata
    selected, first_row = [], 1
    for index in range(metadata.num_row_groups):
        offset = _row_group_start(metadata, index)
        if start <= offset and (end is None or offset < end):
            selected.append((index, first_row))
        first_row += metadata.row_group(index).num_rows
    return selected


def _column_values(column: pa.Array) -> list[Any]:
    """Python values of one column; a type that does not convert (e.g. timestamp[ns]) is converted as text."""
    try:
        return column.to_pylist()
    except (pa.ArrowException, ValueError, OverflowError):
        pass
    try:
        return pc.cast(column, pa.string()).to_pylist()
    except (pa.ArrowException, ValueError):
        return [None if value is None else str(value) for value in column]


def _text_sizes(column: pa.Array) -> list[int] | None:
    """UTF-8 sizes of a string `text` column (None when it is not a string column)."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return None
    return pc.fill_null(pc.binary_length(column), 0).to_pylist()  # type: ignore[no-any-return]


def parquet_records(stream: BinaryIO, ctx: ReadContext) -> Iterator[Document | Failure]:
    """A Document per row of the row groups of this range; our own output shards keep ids, signals, language."""
    try:
        pf = pq.ParquetFile(stream)
    except Exception as exc:  # noqa: BLE001 - any parse error is a dead letter for this file
        if ctx.file.start == 0:
            yield ctx.failure("byte", 0, f"not a readable Parquet file: {exc}")
        return
    names = pf.schema_arrow.names
    if "text" not in names:
        if ctx.file.start == 0:
            yield ctx.failure("byte", 0, "Parquet file has no 'text' column")
        return
    own_output = {"id", "source", "signals"}.issubset(names)
    limit = ctx.max_document_bytes
    for index, first_row in _row_groups(pf, ctx.file.start, ctx.file.end):
        row = first_row
        ctx.resume_at("row", row)
        for batch in pf.iter_batches(batch_size=_BATCH_ROWS, row_groups=[index]):
            sizes = _text_sizes(batch.column("text"))
            if sizes is not None and max(sizes, default=0) > limit:  # never make Python strings of those
                text = batch.column("text")
                over = pc.fill_null(pc.greater(pc.binary_length(text), limit), False)
                batch = batch.set_column(
                    batch.schema.get_field_index("text"), "text", pc.if_else(over, pa.scalar(None, text.type), text)
                )
            for i, record in enumerate(_rows(batch)):
                ctx.resume_at("row", row)
                try:
                    if sizes is not None and sizes[i] > limit:
                        yield ctx.too_large(row, sizes[i], row=row)
                    else:
                        yield _row_document(record, ctx, row, own_output)
                except Exception as exc:  # noqa: BLE001 - one bad row is that row's failure
                    yield ctx.error("row", row, exc)
                row += 1


def _rows(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    """Rows as dicts; when a column type does not convert (e.g. timestamp[ns]), column by column as text."""
    try:
        return batch.to_pylist()
    except (pa.ArrowException, ValueError, OverflowError):
        columns = {name: _column_values(batch.column(name)) for name in batch.schema.names}
        return [{name: values[i] for name, values in columns.items()} for i in range(batch.num_rows)]


def _row_document(record: dict[str, Any], ctx: ReadContext, row: int, own_output: bool) -> Document | Failure:
    """One row -> a Document (this project's own shards as they were), or the row's Failure."""
    if own_output:
        return row_to_document({**record, "source": record.get("source") or ctx.file.source})
    if isinstance(record.get("meta"), str):
        try:
            record["meta"] = json.loads(record["meta"])
        except json.JSONDecodeError:
            record["meta"] = {"meta": record["meta"]}
    doc = record_to_document(record, ctx, row)
    return ctx.failure("row", row, doc) if isinstance(doc, str) else doc


# Decisions made before signals exist cannot be re-decided from signals: they stay as they are.
_FINAL_REASON_PREFIXES = ("read.", "extract.")


def replay_records(stream: BinaryIO, ctx: ReadContext) -> Iterator[Document | Failure]:
    """This project's own shards as input for a what-if re-decision: stored signals kept, reasons cleared."""
    for item in parquet_records(stream, ctx):
        if isinstance(item, Document) and item.reason and not item.reason.startswith(_FINAL_REASON_PREFIXES):
            item.meta.pop("duplicate_of", None)
            item.reason = None
        yield item


FORMAT = Format("parquet", records=parquet_records, raw=True, split="row_groups", label="row")
REPLAY = Format("replay", records=replay_records, raw=True, split="row_groups", label="row")


def read_parquet(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """Yield a Document per row; our own output shards keep their ids, signals and language."""
    return read_with(FORMAT, stream, file, options)


def read_replay(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """This project's own shards as input for a what-if re-decision: stored signals kept, reasons cleared."""
    return read_with(REPLAY, stream, file, options)
