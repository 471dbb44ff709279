"""JSON-lines reader (.jsonl, .jsonl.gz/.zst/.bz2, .ndjson): one document per line with a `text` field."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from curation.readers.base import Format, ReadContext, SourceFile
from curation.readers.source import read_with
from curation.schema import Document, Failure, sanitize_document

_KNOWN = ("text", "id", "url", "title", "meta", "metadata")


def parse_jsonl_line(raw: bytes, lineno: int, ctx: ReadContext) -> Document | Failure | None:
    """One line -> a Document, a Failure (bad UTF-8, bad JSON, not a document), or None for a blank line."""
    if not raw.strip():
        return None
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ctx.failure("line", lineno, f"invalid UTF-8: {exc}", len(raw))
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return ctx.failure("line", lineno, f"invalid JSON: {exc}", len(raw))
    except RecursionError:
        return ctx.failure("line", lineno, "invalid JSON: nested too deeply to parse", len(raw))
    doc = record_to_document(record, ctx, lineno)
    if isinstance(doc, str):
        return ctx.failure("line", lineno, doc, len(raw))
    if _may_need_cleaning(raw):
        sanitize_document(doc)
    return doc


# A JSON escape of a UTF-16 surrogate (\uD800-\uDFFF), any case.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _may_need_cleaning(raw: bytes) -> bool:
    """Whether a record decoded from this (valid UTF-8) line can hold a lone surrogate.

    Valid UTF-8 decodes to surrogate-free text, so only a `\\uD8xx`-`\\uDFxx` escape can bring one in;
    one scan of the bytes costs far less than checking every decoded string.
    """
    return _SURROGATE_ESCAPE.search(raw) is not None


def record_to_document(record: object, ctx: ReadContext, position: int) -> Document | str:
    """Map one decoded record to a Document (other fields kept in meta), or return an error message."""
    if not isinstance(record, dict):
        return f"record is {type(record).__name__}, expected an object"
    text = record.get("text")
    if not isinstance(text, str):
        return "record has no string 'text' field"
    meta = record.get("meta") or record.get("metadata") or {}
    if not isinstance(meta, dict):
        meta = {"meta": meta}
    extra = {k: v for k, v in record.items() if k not in _KNOWN}
    if extra:
        meta = {**extra, **meta}
    if record.get("id") is not None:
        meta = {**meta, "source_id": str(record["id"])}
    url = record.get("url") or meta.get("url")
    title = record.get("title")
    return Document(
        id=f"{ctx.id_prefix}{position}",  # ctx.doc_id(position), inlined: this runs once per line
        source=ctx.file.source,
        text=text,
        url=str(url) if url is not None else None,
        title=str(title) if title is not None else None,
        meta=meta,
    )


FORMAT = Format("jsonl", parse_line=parse_jsonl_line, split="lines", label="line", sanitized=True)


def read_jsonl(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """Yield a Document per line; bad lines and a broken stream become Failures with line numbers."""
    return read_with(FORMAT, stream, file, options)
