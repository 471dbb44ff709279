"""Readers: one contract for every input format.

`read_source(stream, SourceFile, options)` is the one entry point (format dispatch, byte ranges,
decompression, size caps, sanitising, failure labels); `split_ranges`, `needs_line_numbers` and
`count_line_starts` let a caller read one big file as several byte ranges in parallel. Each format
module only writes its record loop (`Format.records`) or its line parser (`Format.parse_line`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO

from curation.readers import books, code, html, jsonl, parquet, text, warc, wikipedia
from curation.readers.base import Format, SourceFile, location, location_sort_key
from curation.readers.compression import codec_of
from curation.readers.source import read_with
from curation.readers.split import byte_ranges, range_method
from curation.readers.split import count_line_starts as _count_line_starts
from curation.schema import Document, Failure

Reader = Callable[..., Iterator[Document | Failure]]

# Format name -> how it is read.
FORMATS: dict[str, Format] = {
    spec.name: spec
    for spec in (
        jsonl.FORMAT,
        parquet.FORMAT,
        parquet.REPLAY,
        warc.FORMAT,  # .warc / .warc.gz / .arc / .arc.gz (warcio; ARC converted on the fly)
        warc.WET,  # WET conversion records are already text
        html.FORMAT,  # one HTML file = one document (raw HTML for the extract stage)
        wikipedia.FORMAT,  # MediaWiki XML export dump (multistream .bz2 splits by stream)
        books.FORMAT,  # a text file or a tar/zip of text files; Gutenberg boilerplate removed
        text.TEXT,  # one plain-text file = one document
        text.LINES,  # one document per non-empty line (.cor)
        code.ARCHIVE,  # .tar.gz/.tgz/.tar/.zip repository: one document per file
        code.FILE,  # one loose source file
    )
}


class UnknownFormatError(ValueError):
    """No reader is registered for a file or format name."""


def read_source(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """Documents and Failures of `file` (or of its byte range [file.start, file.end)) read from `stream`.

    `stream` is the file's raw bytes, seekable for a range that does not start at 0; `options` is the
    `readers` config section (packaged defaults when None). Never raises.
    """
    spec = FORMATS.get(file.format)
    if spec is None:
        if file.start != 0:
            return iter(())
        return iter([Failure(file.source, location(file.path, "byte", 0), str(_unknown(file.format)), "read")])
    return read_with(spec, stream, file, options)


def split_ranges(fmt: str, path: str, size: int, target_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges of about `target_bytes` to read in parallel: [(0, t), (t, 2t), ...], or [(0, size)].

    No I/O: splittable are uncompressed line formats, WARC/ARC/WET uncompressed or per-record `.gz`,
    `.bz2` Wikipedia dumps (by bz2 stream) and Parquet (by row group); everything else is one range.
    """
    spec = FORMATS.get(fmt)
    return byte_ranges(range_method(spec.split if spec else None, path), size, target_bytes)


def needs_line_numbers(fmt: str, path: str) -> bool:
    """Whether ranges of this file need `SourceFile.first_line` (count them with `count_line_starts`)."""
    spec = FORMATS.get(fmt)
    return spec is not None and range_method(spec.split, path) == "lines"


def count_line_starts(stream: BinaryIO, start: int, end: int | None) -> int:
    """Number of lines that start in [start, end) of a seekable stream (end None: to the end of the file)."""
    return _count_line_starts(stream, start, end)


# File-name suffix -> format, longest suffix first when matching.
EXTENSIONS: dict[str, str] = {
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
    ".jsonl.zst": "jsonl",
    ".jsonl.bz2": "jsonl",
    ".json.gz": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".warc": "warc",
    ".warc.gz": "warc",
    ".arc": "warc",
    ".arc.gz": "warc",
    ".warc.wet": "wet",
    ".warc.wet.gz": "wet",
    ".wet": "wet",
    ".wet.gz": "wet",
    ".html": "html",
    ".htm": "html",
    ".html.gz": "html",
    ".htm.gz": "html",
    ".xml": "wikipedia",
    ".xml.bz2": "wikipedia",
    ".xml.gz": "wikipedia",
    ".txt": "text",
    ".txt.gz": "text",
    ".txt.bz2": "text",
    ".txt.zst": "text",
    ".cor": "lines",
    ".cor.gz": "lines",
    ".tar": "code_archive",
    ".tar.gz": "code_archive",
    ".tgz": "code_archive",
    ".tar.bz2": "code_archive",
    ".tar.zst": "code_archive",
    ".zip": "code_archive",
}

# Per-source overrides of EXTENSIONS (books: a .txt is a book and an archive holds books) and the
# format used for any other file of that source (code: a loose file of a checked-out tree).
SOURCE_EXTENSIONS: dict[str, dict[str, str]] = {
    "books": {
        suffix: "books"
        for suffix in (
            ".txt",
            ".txt.gz",
            ".txt.bz2",
            ".txt.zst",
            ".tar",
            ".tar.gz",
            ".tgz",
            ".tar.bz2",
            ".tar.zst",
            ".zip",
        )
    },
    # Dumps are often named like enwiki-...-pages-articles1.xml-p10p30302.bz2.
    "wikipedia": {".bz2": "wikipedia", ".gz": "wikipedia", ".zst": "wikipedia"},
    "code": {suffix: "code_archive" for suffix in (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.zst", ".zip")},
}
# Sources whose files are all of one kind: only their SOURCE_EXTENSIONS apply, every other file gets
# this format (code: any file of a checked-out tree is a source file, even .html, .txt or .xml).
SOURCE_FALLBACK_FORMAT: dict[str, str] = {"code": "code_file"}


def detect_format(path: str, source: str | None = None) -> str:
    """Format name from the file extension (longest matching suffix wins; `source` may refine it)."""
    lower = path.lower()
    own = SOURCE_EXTENSIONS.get(source or "", {})
    table = own if source in SOURCE_FALLBACK_FORMAT else {**EXTENSIONS, **own}
    for suffix in sorted(table, key=len, reverse=True):
        if lower.endswith(suffix):
            return table[suffix]
    if source in SOURCE_FALLBACK_FORMAT:
        return SOURCE_FALLBACK_FORMAT[source]
    raise UnknownFormatError(f"cannot tell the format of {path!r} from its extension; use --input SOURCE:FORMAT=GLOB")


def _unknown(fmt: str) -> UnknownFormatError:
    """The error for a format name no reader is registered for."""
    return UnknownFormatError(f"unknown input format {fmt!r} (known: {', '.join(sorted(FORMATS))})")


def get_reader(fmt: str) -> Reader:
    """The reader for a format name: `reader(stream, file, options=None)`, the file read as `fmt`."""
    if fmt not in FORMATS:
        raise _unknown(fmt)

    def reader(
        stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
    ) -> Iterator[Document | Failure]:
        return read_source(stream, dataclasses.replace(file, format=fmt), options)

    return reader


def reader_with_options(fmt: str, options: Mapping[str, Any] | None) -> Callable[..., Iterator[Document | Failure]]:
    """`reader(stream, file)` for `fmt` with the `readers` config section bound (for callers that bind first)."""
    reader = get_reader(fmt)
    return lambda stream, file: reader(stream, file, options)


READERS: dict[str, Reader] = {name: get_reader(name) for name in FORMATS}

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "READERS",
    "Format",
    "SourceFile",
    "UnknownFormatError",
    "codec_of",
    "count_line_starts",
    "detect_format",
    "get_reader",
    "location",
    "location_sort_key",
    "needs_line_numbers",
    "read_source",
    "reader_with_options",
    "split_ranges",
]
