"""Plain-text files: one document per file (articles) or one per line (e.g. the Lee news `.cor` files)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from curation.readers.base import Format, ReadContext, SourceFile
from curation.readers.gutenberg import strip_gutenberg
from curation.readers.source import read_with
from curation.schema import Document, Failure

_CHUNK = 1 << 20


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


def text_document(data: bytes, ctx: ReadContext, position: int | str, member: str | None = None) -> Document | Failure:
    """One text file's bytes -> a Document (Gutenberg boilerplate removed where present), Failure when empty."""
    text, encoding = decode_text(data)
    body, header = strip_gutenberg(normalize_newlines(text))
    body = body.strip()
    if not body:
        error = "empty file (no text after removing any Gutenberg header/footer)"
        return ctx.failure("member", member, error, len(data)) if member else ctx.failure("byte", 0, error, len(data))
    meta: dict[str, Any] = {"encoding": encoding, "path": member or ctx.file.relpath}
    if header:
        meta["gutenberg"] = True
        if "author" in header:
            meta["author"] = header["author"]
    return Document(id=ctx.doc_id(position), source=ctx.file.source, text=body, title=header.get("title"), meta=meta)


def whole_file(stream: BinaryIO, ctx: ReadContext) -> bytes | Document:
    """Decompressed bytes of a one-document file, or the `read.too_large` skip that replaces them."""
    data, total = read_capped(stream, ctx.max_document_bytes)
    if total > ctx.max_document_bytes:
        return ctx.too_large(0, total)
    return data


def text_records(stream: BinaryIO, ctx: ReadContext) -> Iterator[Document | Failure]:
    """A whole (decompressed) text file as one document."""
    data = whole_file(stream, ctx)
    yield text_document(data, ctx, 0) if isinstance(data, bytes) else data


def parse_text_line(raw: bytes, lineno: int, ctx: ReadContext) -> Document | None:
    """One non-empty line -> a document (position = line number); blank lines are None."""
    try:
        text = raw.decode("utf-8").strip()  # the common case, without decode_text's checks (hot loop)
    except UnicodeDecodeError:
        text = decode_text(raw)[0].strip()
    if not text:
        return None
    file = ctx.file
    return Document(
        id=f"{ctx.id_prefix}{lineno}", source=file.source, text=text, meta={"path": file.relpath, "line": lineno}
    )


TEXT = Format("text", records=text_records, sanitized=True)
LINES = Format("lines", parse_line=parse_text_line, split="lines", label="line", sanitized=True)


def read_text(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """One plain-text file (.txt, optionally compressed) -> one document (LF newlines, Gutenberg boilerplate removed)."""
    return read_with(TEXT, stream, file, options)


def read_lines(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """One document per non-empty line (position = 1-based line number); over-long lines are skipped."""
    return read_with(LINES, stream, file, options)
