"""JSON-lines reader (.jsonl, .jsonl.gz, .jsonl.zst): one document per line with a `text` field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

from curation.readers.base import STREAM_ERRORS, SourceFile, buffered, open_decompressed
from curation.schema import Document, Failure, make_id

_KNOWN = ("text", "id", "url", "title", "meta")


def read_jsonl(stream: BinaryIO, file: SourceFile) -> Iterator[Document | Failure]:
    """Yield a Document per line; bad lines and a broken stream become Failures with line numbers."""
    decompressed = open_decompressed(stream, file.path)
    # Compressed streams are already buffered; an extra large buffer would lose the readable
    # prefix of a truncated file when the decompressor fails while filling it.
    reader = buffered(decompressed) if decompressed is stream else decompressed
    lineno = 0
    try:
        for raw in reader:
            lineno += 1
            if not raw.strip():
                continue
            where = f"{file.path}:{lineno}"
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield Failure(file.source, where, f"invalid UTF-8: {exc}", "read", len(raw))
                continue
            except json.JSONDecodeError as exc:
                yield Failure(file.source, where, f"invalid JSON: {exc}", "read", len(raw))
                continue
            doc = record_to_document(record, file, lineno)
            if isinstance(doc, str):
                yield Failure(file.source, where, doc, "read", len(raw))
            else:
                yield doc
    except STREAM_ERRORS as exc:  # truncated/corrupt compressed stream
        yield Failure(file.source, f"{file.path}:{lineno + 1}", f"{type(exc).__name__}: {exc}", "read")


def record_to_document(record: object, file: SourceFile, position: int) -> Document | str:
    """Map one decoded record to a Document, or return an error message."""
    if not isinstance(record, dict):
        return f"record is {type(record).__name__}, expected an object"
    text = record.get("text")
    if not isinstance(text, str):
        return "record has no string 'text' field"
    meta = record.get("meta") or record.get("metadata") or {}
    if not isinstance(meta, dict):
        meta = {"meta": meta}
    extra = {k: v for k, v in record.items() if k not in _KNOWN and k != "metadata"}
    if extra:
        meta = {**extra, **meta}
    if record.get("id") is not None:
        meta = {**meta, "source_id": str(record["id"])}
    url = record.get("url") or meta.get("url")
    return Document(
        id=make_id(file.source, file.relpath, position),
        source=file.source,
        text=text,
        url=str(url) if url is not None else None,
        title=str(record["title"]) if record.get("title") is not None else None,
        meta=meta,
    )
