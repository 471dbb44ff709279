"""Readers: one function per input format, each `(stream, SourceFile) -> Iterator[Document | Failure]`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO

from curation.readers.base import SourceFile
from curation.readers.books import read_books
from curation.readers.code import read_code_archive, read_code_file
from curation.readers.html import read_html
from curation.readers.jsonl import read_jsonl
from curation.readers.parquet import read_parquet, read_replay
from curation.readers.text import read_lines, read_text
from curation.readers.warc import read_warc
from curation.readers.wikipedia import read_wikipedia
from curation.schema import Document, Failure

Reader = Callable[[BinaryIO, SourceFile], Iterator[Document | Failure]]

# Format name -> reader. Sources issue adds warc, wet, html, wikipedia, books, code, ...
READERS: dict[str, Reader] = {
    "jsonl": read_jsonl,
    "parquet": read_parquet,
    "replay": read_replay,
    "warc": read_warc,  # .warc / .warc.gz / .arc / .arc.gz (warcio; ARC converted on the fly)
    "wet": read_warc,  # WET conversion records are already text
    "html": read_html,  # one HTML file = one document (raw HTML for the extract stage)
    "wikipedia": read_wikipedia,  # MediaWiki XML export dump
    "books": read_books,  # a text file or a tar/zip of text files; Gutenberg boilerplate removed
    "text": read_text,  # one plain-text file = one document
    "lines": read_lines,  # one document per non-empty line (.cor)
    "code_archive": read_code_archive,  # .tar.gz/.tgz/.tar/.zip repository: one document per file
    "code_file": read_code_file,  # one loose source file
}

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


class UnknownFormatError(ValueError):
    """No reader is registered for a file or format name."""


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


def get_reader(fmt: str) -> Reader:
    """The reader function for a format name."""
    try:
        return READERS[fmt]
    except KeyError:
        raise UnknownFormatError(f"unknown input format {fmt!r} (known: {', '.join(sorted(READERS))})") from None


def reader_with_options(fmt: str, options: Mapping[str, Any] | None) -> Reader:
    """The reader for `fmt` with the `readers` config section bound (readers without options unchanged)."""
    reader = get_reader(fmt)
    if options is None or "options" not in inspect.signature(reader).parameters:
        return reader
    return functools.partial(reader, options=options)


__all__ = [
    "READERS",
    "EXTENSIONS",
    "SourceFile",
    "detect_format",
    "get_reader",
    "UnknownFormatError",
    "reader_with_options",
]
