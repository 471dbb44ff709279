"""Plain-text files: one document per file (articles) or one per line (e.g. the Lee news `.cor` files)."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from curation.readers.base import STREAM_ERRORS, SourceFile, open_decompressed
from curation.readers.gutenberg import strip_gutenberg
from curation.readers.options import reader_options
from curation.schema import Document, Failure, make_id

_CHUNK = 1 << 20
# What a broken or truncated compressed stream raises (zlib.error is not an OSError).


def read_capped(stream: BinaryIO, limit: int) -> tuple[bytes, int]:
    """Read at most `limit` bytes into memory, then drain the rest: (kept bytes, total size)."""
    parts: list[bytes] = []
    kept = total = 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if kept < limit + 1:
            take = chunk[: limit + 1 - kept]
            parts.append(take)
            kept += len(take)
    return b"".join(parts), total


def too_large_document(file: SourceFile, position: int | str, nbytes: int, limit: int) -> Document:
    """The counted skip for a record over the size limit (text left empty, size kept in meta)."""
    return Document(
        id=make_id(file.source, file.relpath, position),
        source=file.source,
        text="",
        meta={"nbytes": nbytes, "limit": limit, "path": file.relpath},
        reason="read.too_large",
    )


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode plain text: BOM-aware UTF-8/UTF-16, else UTF-8, else cp1252 (never raises)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace"), "utf-16"
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace"), "utf-8"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # cp1252 leaves 5 bytes undefined; "replace" keeps those visible as U+FFFD instead of failing.
    return data.decode("cp1252", "replace"), "cp1252"


def normalize_newlines(text: str) -> str:
    """CRLF / CR line ends -> LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def text_document(data: bytes, file: SourceFile, position: int | str, member: str | None = None) -> Document | Failure:
    """One text file's bytes -> a Document (Gutenberg boilerplate removed where present), Failure when empty."""
    text, encoding = decode_text(data)
    body, header = strip_gutenberg(normalize_newlines(text))
    body = body.strip()
    if not body:
        where = f"{file.path}:{member}" if member else f"{file.path}:0"
        return Failure(
            file.source, where, "empty file (no text after removing any Gutenberg header/footer)", "read", len(data)
        )
    meta: dict[str, Any] = {"encoding": encoding, "path": member or file.relpath}
    if header:
        meta["gutenberg"] = True
        if "author" in header:
            meta["author"] = header["author"]
    return Document(
        id=make_id(file.source, file.relpath, position),
        source=file.source,
        text=body,
        title=header.get("title"),
        meta=meta,
    )


def read_text(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """One plain-text file (.txt, optionally compressed) -> one document (LF newlines, Gutenberg boilerplate removed)."""
    yield from single_text_document(stream, file, int(reader_options(options)["max_document_bytes"]))


def whole_file(stream: BinaryIO, file: SourceFile, limit: int) -> bytes | Document | Failure:
    """Decompressed bytes of a one-document file, or the skip (too large) / Failure that replaces them."""
    try:
        data, total = read_capped(open_decompressed(stream, file.path), limit)
    except STREAM_ERRORS as exc:
        return Failure(file.source, f"{file.path}:0", f"{type(exc).__name__}: {exc}", "read")
    if total > limit:
        return too_large_document(file, 0, total, limit)
    return data


def single_text_document(stream: BinaryIO, file: SourceFile, limit: int) -> Iterator[Document | Failure]:
    """A whole (optionally compressed) text file as one document."""
    data = whole_file(stream, file, limit)
    yield text_document(data, file, 0) if isinstance(data, bytes) else data


def read_lines(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """One document per non-empty line (position = 1-based line number); over-long lines are skipped."""
    opts = reader_options(options)
    limit = int(opts["max_document_bytes"])
    # A small buffer: on a truncated compressed file, at most 64 KiB of complete lines are lost.
    reader = io.BufferedReader(open_decompressed(stream, file.path), buffer_size=1 << 16)  # type: ignore[arg-type]
    lineno = 0
    empty = True
    try:
        while True:
            raw = reader.readline(limit + 1)
            if not raw:
                break
            lineno += 1
            if len(raw) > limit and not raw.endswith(b"\n"):
                total = len(raw)
                while raw and not raw.endswith(b"\n"):  # drain the rest of the line in bounded pieces
                    raw = reader.readline(_CHUNK)
                    total += len(raw)
                yield too_large_document(file, lineno, total, limit)
                empty = False
                continue
            text, _ = decode_text(raw)
            text = text.strip()
            if not text:
                continue
            empty = False
            yield Document(
                id=make_id(file.source, file.relpath, lineno),
                source=file.source,
                text=text,
                meta={"path": file.relpath, "line": lineno},
            )
    except STREAM_ERRORS as exc:
        yield Failure(file.source, f"{file.path}:{lineno + 1}", f"{type(exc).__name__}: {exc}", "read")
        return
    if empty:
        yield Failure(file.source, f"{file.path}:0", "empty file", "read")
