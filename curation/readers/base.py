"""What every reader gets besides the byte stream, and transparent decompression."""

from __future__ import annotations

import bz2
import gzip
import io
import zlib
from dataclasses import dataclass
from typing import BinaryIO

import zstandard

# What a broken compressed or truncated stream raises while it is being read.
STREAM_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, ValueError, zlib.error, zstandard.ZstdError)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One input file: its full path, its path relative to the glob root (for ids), its source label."""

    path: str
    relpath: str
    source: str
    format: str


def open_decompressed(stream: BinaryIO, path: str) -> BinaryIO:
    """Wrap `stream` in a streaming decompressor chosen by the extension of `path`."""
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if lower.endswith(".bz2"):
        return bz2.BZ2File(stream, mode="rb")
    if lower.endswith(".zst"):
        # zstandard's reader has no readline/iteration: buffer it (small, so a broken stream loses little).
        reader = zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
        return io.BufferedReader(reader, buffer_size=1 << 16)  # type: ignore[arg-type]
    return stream


def buffered(stream: BinaryIO) -> io.BufferedReader:
    """A buffered reader over any binary stream, for fast line iteration."""
    if isinstance(stream, io.BufferedReader):
        return stream
    return io.BufferedReader(stream, buffer_size=1 << 20)  # type: ignore[arg-type]
