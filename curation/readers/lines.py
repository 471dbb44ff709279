"""Line framing for one-record-per-line formats: numbering, byte ranges, the size cap, BOM, empty files.

A line format only parses one line (`Format.parse_line`); this loop does everything else. Lines are
numbered from 1 (`first_line` for a range), split on `\\n` only; a line over `readers.max_document_bytes`
is never held in memory (read in bounded pieces and counted as `read.too_large`); a UTF-8 BOM at the start
of the file is dropped; an exception while parsing a line is that line's Failure and reading goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from curation.readers.base import LineParser, ReadContext
from curation.schema import Document, Failure

_BOM = b"\xef\xbb\xbf"
_PIECE = 1 << 20


def _drain(reader: BinaryIO, first: bytes) -> int:
    """Read the rest of an over-long line in bounded pieces; its total size (newline included)."""
    total, piece = len(first), first
    while not piece.endswith(b"\n"):
        piece = reader.readline(_PIECE)
        if not piece:
            break
        total += len(piece)
    return total


def line_records(
    reader: BinaryIO, ctx: ReadContext, parse: LineParser, pos: int, end: int | None, lineno: int
) -> Iterator[Document | Failure]:
    """Records of the lines that start in [pos, end) of `reader` (positioned at byte `pos`, line `lineno`).

    Range 0 of a file that yields nothing at all reports it as one "empty file" Failure (after looking past
    its end for a record, so that an empty file is reported exactly once whatever the ranges).
    """
    limit = ctx.max_document_bytes
    at_start = pos == 0
    produced = False
    while end is None or pos < end:
        try:
            raw = reader.readline(limit + 1)
            size = len(raw)
            over = size > limit and not raw.endswith(b"\n")
            if over:
                size = _drain(reader, raw)
        except Exception:
            ctx.resume_at("line", lineno, pos)  # the data broke inside this line: it and the rest are unread
            raise
        if not raw:
            break
        if over:
            item: Document | Failure | None = ctx.too_large(lineno, size, line=lineno)
        else:
            if at_start and raw.startswith(_BOM):
                raw = raw[3:]
            try:
                item = parse(raw, lineno, ctx)
            except Exception as exc:  # noqa: BLE001 - one bad line is that line's failure, never the file's
                item = ctx.error("line", lineno, exc, size)
        at_start = False
        pos += size
        lineno += 1
        if item is not None:
            produced = True
            yield item
    if produced or ctx.file.start != 0:
        return
    if end is not None and _has_record_after(reader, ctx, parse, lineno):
        return
    ctx.resume_at("byte", 0, 0)
    yield ctx.failure("byte", 0, "empty file: no records")


def _has_record_after(reader: BinaryIO, ctx: ReadContext, parse: LineParser, lineno: int) -> bool:
    """Whether any line after the range would give a record (range 0 only, and only when it had none)."""
    limit = ctx.max_document_bytes
    while True:
        raw = reader.readline(limit + 1)
        if not raw:
            return False
        if len(raw) > limit and not raw.endswith(b"\n"):
            return True
        try:
            if parse(raw, lineno, ctx) is not None:
                return True
        except Exception:  # noqa: BLE001 - a line that fails to parse is a record (a Failure)
            return True
        lineno += 1
