"""The one read path: byte range, decompression, options, sanitising and the last-resort failure, for every format.

A format only writes its record loop (`Format.records`) or its line parser (`Format.parse_line`); this
module gives it the decompressed bytes of its range and turns whatever escapes it into one Failure
"unread from byte N: <why>" at the first record it did not finish. Every Document that leaves is
UTF-8-safe in every field (lone surrogates replaced, non-UTF-8 file names escaped, meta plain JSON).
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from curation.readers.base import Format, ReadContext, SourceFile
from curation.readers.compression import Window, codec_of, decompressed, member_reader
from curation.readers.lines import line_records
from curation.readers.options import reader_options
from curation.readers.split import next_bz2_stream, next_record, range_method, skip_partial_line
from curation.schema import Document, Failure, clean_path, clean_text, sanitize_document

_BOUNDARY = {"records": next_record, "bz2_streams": lambda stream, pos, _codec: next_bz2_stream(stream, pos)}


def read_with(
    spec: Format, stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """Read `file` (or its byte range) from `stream` as format `spec`; never raises."""
    file = dataclasses.replace(
        file, path=clean_path(file.path), relpath=clean_path(file.relpath), source=clean_path(file.source)
    )
    try:
        opts = reader_options(options)
        limit = int(opts["max_document_bytes"])
    except Exception as exc:  # noqa: BLE001 - a broken options mapping is this file's failure, not a crash
        yield Failure(file.source, f"{file.path}:byte=0", f"reader options: {exc}", "read")
        return
    ctx = ReadContext(file=file, options=opts, max_document_bytes=limit, raw=stream)
    try:
        items = _records(spec, stream, ctx)
        if spec.sanitized:  # the format's documents are UTF-8-safe by construction: only failures are checked
            for item in items:
                yield item if type(item) is Document else _clean(item, spec, ctx)
        else:
            for item in items:
                yield _clean(item, spec, ctx)
    except Exception as exc:  # noqa: BLE001 - whatever ends the file early is one dead letter, never a crash
        yield _clean(ctx.unread(exc), spec, ctx)


def _records(spec: Format, stream: BinaryIO, ctx: ReadContext) -> Iterator[Document | Failure]:
    """The format's records for the range: its loop over the decompressed bytes of the range's window."""
    file = ctx.file
    method = range_method(spec.split, file.path)
    if method is None and file.start > 0:
        return iter(())  # a file that cannot be split is read whole by the range that starts at byte 0
    codec = codec_of(file.path)
    if spec.raw:
        assert spec.records is not None
        return spec.records(stream, ctx)
    if spec.parse_line is not None:
        if method == "lines":
            pos = skip_partial_line(stream, file.start)
            lines = io.BufferedReader(Window(stream, pos), buffer_size=1 << 20)  # type: ignore[arg-type]
            return line_records(lines, ctx, spec.parse_line, pos, file.end, file.first_line)
        reader = decompressed(stream, codec)
        ctx.members = member_reader(reader)
        if reader is stream:
            reader = io.BufferedReader(Window(stream), buffer_size=1 << 20)  # type: ignore[arg-type]
        return line_records(reader, ctx, spec.parse_line, 0, None, 1)
    assert spec.records is not None
    start, stop = 0, None
    if method in _BOUNDARY:
        boundary = _BOUNDARY[method]
        first = boundary(stream, file.start, codec)
        if first is None:
            return iter(())  # no record starts in this range
        start = first
        stop = boundary(stream, file.end, codec) if file.end is not None else None
        if stop is not None and stop <= start:
            return iter(())
    ctx.window_start, ctx.window_end = start, stop
    ctx.resume_at("byte", start, 0 if codec else start)
    data = decompressed(Window(stream, start, stop), codec, offset=start)  # type: ignore[arg-type]
    ctx.members = member_reader(data)
    return spec.records(data, ctx)


def _clean(item: Document | Failure, spec: Format, ctx: ReadContext) -> Document | Failure:
    """Make a record UTF-8-safe; a document that cannot be made so becomes a Failure at its position."""
    if isinstance(item, Failure):
        item.source = clean_path(item.source)
        item.source_location = clean_path(item.source_location)
        item.error = clean_text(item.error)
        return item
    try:
        return sanitize_document(item)
    except Exception as exc:  # noqa: BLE001
        return ctx.error(spec.label, clean_path(str(item.id)).rsplit("#", 1)[-1], exc, item.nbytes)
