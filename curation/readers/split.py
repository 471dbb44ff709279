"""Byte ranges of one big file that workers read in parallel, and the record boundaries they align on.

A record belongs to the range that holds its first byte. The reader of [start, end) finds the first
record boundary at or after `start` (Beam's text-source rule) and reads the records that start before
`end`; the last one may run past `end`. Adjacent ranges therefore partition the records exactly.

Boundaries per method:
  lines        - the byte after a newline (uncompressed JSONL, one-document-per-line files);
  records      - a WARC/ARC record: the start of a gzip member that decompresses to a record header
                 (per-record `.warc.gz`, the Common Crawl layout), or, uncompressed, a record header whose
                 Content-Length leads to the next header or the end of the file;
  bz2_streams  - the start of a bz2 stream (Wikipedia multistream dumps, 100 pages per stream);
  row_groups   - a Parquet row group belongs to the range holding its first byte (no scan needed).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from curation.readers.compression import codec_of

_SCAN = 1 << 16
# Which compression each method can split.
_SPLITTABLE_CODECS: dict[str, tuple[str | None, ...]] = {
    "lines": (None,),
    "records": (None, "gzip"),
    "bz2_streams": ("bz2",),
    "row_groups": (None,),
}
_GZIP_MEMBER = re.compile(rb"\x1f\x8b\x08")
# A bz2 stream header ("BZh" + block size) followed by a block or an end-of-stream magic number.
_BZ2_STREAM = re.compile(rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)")
_WARC_HEADER = re.compile(rb"WARC/\d")
# ARC v1/v2 record header line: URL, IP, 14-digit date, content type, ..., length.
_ARC_HEADER = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*:\S* \S+ \d{14} \S+(?: \S+)* (\d+)\r?\n")
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)[ \t]*\r?$")


def range_method(split: str | None, path: str) -> str | None:
    """The split method that applies to this file (None: read it whole), from its format's method and codec."""
    if split is None:
        return None
    return split if codec_of(path) in _SPLITTABLE_CODECS.get(split, ()) else None


def byte_ranges(method: str | None, size: int, target_bytes: int) -> list[tuple[int, int]]:
    """[(0, t), (t, 2t), ..., (kt, size)] for a splittable file, else [(0, size)]."""
    if target_bytes <= 0:
        raise ValueError(f"target_bytes must be positive, got {target_bytes}")
    if method is None or size <= target_bytes:
        return [(0, size)]
    return [(start, min(start + target_bytes, size)) for start in range(0, size, target_bytes)]


def count_line_starts(stream: BinaryIO, start: int, end: int | None) -> int:
    """Number of lines that start in [start, end) (end None: to the end of the file) of a seekable stream."""
    if end is not None and end <= start:
        return 0
    low = max(start - 1, 0)
    stream.seek(low)
    remaining = None if end is None else end - 1 - low  # a line starts after each newline in [start-1, end-1)
    count, last, seen = 0, b"", False
    while remaining is None or remaining > 0:
        chunk = stream.read(_SCAN * 16 if remaining is None else min(_SCAN * 16, remaining))
        if not chunk:
            break
        seen = True
        count += chunk.count(b"\n")
        last = chunk[-1:]
        if remaining is not None:
            remaining -= len(chunk)
    if end is None and last == b"\n":
        count -= 1  # a newline that ends the file starts no line
    if start == 0 and (seen or (end is not None and end > 0)):
        count += 1  # the first line starts at byte 0
    return count


def skip_partial_line(stream: BinaryIO, start: int) -> int:
    """Beam's rule: from `start - 1`, skip through the next newline; returns the first line start >= start."""
    if start == 0:
        return 0
    stream.seek(start - 1)
    pos = start - 1
    while True:
        chunk = stream.read(_SCAN)
        if not chunk:
            return pos
        newline = chunk.find(b"\n")
        if newline >= 0:
            return pos + newline + 1
        pos += len(chunk)


def _scan(stream: BinaryIO, start: int, pattern: re.Pattern[bytes], overlap: int) -> Iterator[int]:
    """Offsets of `pattern` matches at or after `start`, in file order (the stream may be moved between them)."""
    pos, tail, emitted = start, b"", start - 1
    while True:
        stream.seek(pos)
        chunk = stream.read(_SCAN)
        if not chunk:
            return
        data, base = tail + chunk, pos - len(tail)
        pos += len(chunk)
        for match in pattern.finditer(data):
            offset = base + match.start()
            if offset > emitted:
                emitted = offset
                yield offset
        tail = data[-overlap:]


def next_bz2_stream(stream: BinaryIO, start: int) -> int | None:
    """File offset of the first bz2 stream that starts at or after `start`; None if there is none."""
    if start == 0:
        return 0
    return next(_scan(stream, start, _BZ2_STREAM, 9), None)


def _record_header(head: bytes) -> bool:
    """True when `head` starts with a WARC or ARC record header."""
    return bool(_WARC_HEADER.match(head) or _ARC_HEADER.match(head))


def _gzip_record_at(stream: BinaryIO, offset: int) -> bool:
    """True when a gzip member starts at `offset` and decompresses to a WARC/ARC record header."""
    stream.seek(offset)
    data = stream.read(_SCAN)
    try:
        head = zlib.decompressobj(wbits=31).decompress(data, 1024)
    except zlib.error:
        return False
    return _record_header(head)


def _plain_record_end(stream: BinaryIO, offset: int) -> int | None:
    """End of the uncompressed WARC/ARC record whose header starts at `offset` (None: not a parseable header)."""
    stream.seek(offset)
    head = stream.read(_SCAN)
    arc = _ARC_HEADER.match(head)
    if arc:
        return offset + arc.end() + int(arc.group(1))
    if not _WARC_HEADER.match(head):
        return None
    blank = head.find(b"\r\n\r\n")
    if blank < 0:
        return None
    length = _CONTENT_LENGTH.search(head, 0, blank + 2)
    return offset + blank + 4 + int(length.group(1)) if length else None


def _plain_record_at(stream: BinaryIO, offset: int, depth: int = 2) -> bool:
    """True when a record header at `offset` leads, by its length, to `depth` more headers or the end of file."""
    for _ in range(depth + 1):
        end = _plain_record_end(stream, offset)
        if end is None:
            return False
        stream.seek(end)
        after = stream.read(_SCAN)
        stripped = after.lstrip(b"\r\n")
        if not stripped:
            return len(after) < _SCAN  # end of file after blank lines
        offset = end + len(after) - len(stripped)
    return True


# A line start that may begin a record (the newline before it is matched; candidates are verified).
_PLAIN_CANDIDATE = re.compile(rb"\n(?=WARC/\d|[A-Za-z][A-Za-z0-9+.-]*:\S* \S+ \d{14} )")


def next_record(stream: BinaryIO, start: int, codec: str | None) -> int | None:
    """File offset of the first WARC/ARC record that starts at or after `start` (gzip: its member); None if none."""
    if start == 0:
        return 0
    if codec == "gzip":
        for candidate in _scan(stream, start, _GZIP_MEMBER, 2):
            if _gzip_record_at(stream, candidate):
                return candidate
        return None
    for newline in _scan(stream, start - 1, _PLAIN_CANDIDATE, 8192):
        if _plain_record_at(stream, newline + 1):
            return newline + 1
    return None
