"""Readers: one function per input format, each `(stream, SourceFile) -> Iterator[Document | Failure]`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from curation.readers.base import SourceFile
from curation.readers.jsonl import read_jsonl
from curation.readers.parquet import read_parquet, read_replay
from curation.schema import Document, Failure

Reader = Callable[[BinaryIO, SourceFile], Iterator[Document | Failure]]

# Format name -> reader. Sources issue adds warc, wet, html, wikipedia, books, code, ...
READERS: dict[str, Reader] = {
    "jsonl": read_jsonl,
    "parquet": read_parquet,
    "replay": read_replay,
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
}


class UnknownFormatError(ValueError):
    """No reader is registered for a file or format name."""


def detect_format(path: str) -> str:
    """Format name from the file extension (longest matching suffix wins)."""
    lower = path.lower()
    for suffix in sorted(EXTENSIONS, key=len, reverse=True):
        if lower.endswith(suffix):
            return EXTENSIONS[suffix]
    raise UnknownFormatError(f"cannot tell the format of {path!r} from its extension; use --input SOURCE:FORMAT=GLOB")


def get_reader(fmt: str) -> Reader:
    """The reader function for a format name."""
    try:
        return READERS[fmt]
    except KeyError:
        raise UnknownFormatError(f"unknown input format {fmt!r} (known: {', '.join(sorted(READERS))})") from None


__all__ = ["READERS", "EXTENSIONS", "SourceFile", "detect_format", "get_reader", "UnknownFormatError"]
