"""WARC / ARC / WET archives (.warc, .warc.gz, .arc, .arc.gz, .warc.wet.gz) via warcio, streamed record by record.

HTML responses become documents holding decoded HTML (`meta.content_type = text/html`) for the extract
stage; WET conversion records are already text. Non-200 and non-HTML responses are counted skips.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import zstandard
from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from curation.readers.base import Format, ReadContext, SourceFile
from curation.readers.html import HTML_CONTENT_TYPE, charset_from_content_type, decode_html, page_title
from curation.readers.source import read_with
from curation.readers.text import decode_text, normalize_newlines, read_capped
from curation.schema import Document, Failure

DOCUMENT_RECORD_TYPES = frozenset({"response", "resource", "conversion"})


def _mime(content_type: str | None) -> str:
    """The bare MIME type of a Content-Type value, lower-cased ('' when absent)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _looks_like_html(head: bytes) -> bool:
    """Sniff HTML when no usable Content-Type is given."""
    start = head[:512].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _read_payload(record: ArcWarcRecord, limit: int) -> tuple[bytes, int, bool]:
    """Payload bytes (de-chunked, decompressed) up to `limit`: (bytes, total size, record truncated?)."""
    data, total = read_capped(record.content_stream(), limit)
    truncated = getattr(record.raw_stream, "limit", 0) > 0  # fewer block bytes than Content-Length
    return data, total, truncated


def _base_meta(record: ArcWarcRecord) -> dict[str, Any]:
    """url, crawl date, record id and type from the WARC headers."""
    headers = record.rec_headers
    url = (headers.get_header("WARC-Target-URI") or "").strip().strip("<>") or None
    meta: dict[str, Any] = {
        "url": url,
        "crawl_date": headers.get_header("WARC-Date"),
        "warc_record_id": headers.get_header("WARC-Record-ID"),
        "warc_type": record.rec_type,
        "warc_refers_to": headers.get_header("WARC-Refers-To"),  # WET: the response it was made from
        "warc_languages": headers.get_header("WARC-Identified-Content-Language"),  # CC's CLD2 guess
    }
    return {k: v for k, v in meta.items() if v is not None}


def record_to_document(
    record: ArcWarcRecord, ctx: ReadContext, position: int | str, limit: int
) -> Document | Failure | None:
    """One WARC record -> a document, a counted skip, a Failure, or None for structural records."""
    if record.rec_type not in DOCUMENT_RECORD_TYPES:
        return None
    meta = _base_meta(record)
    url = meta.get("url")
    if url and url.startswith("metadata:"):  # crawler bookkeeping (wget manifest / log), not a page
        return None
    if not url or ":" not in url:  # e.g. a text line misread as an ARC header
        return ctx.failure("byte", position, f"record has no valid target URI: {url!r}")
    doc_id = ctx.doc_id(position)
    source = ctx.file.source
    status = None
    if record.http_headers is not None and record.rec_type == "response":
        content_type = record.http_headers.get_header("Content-Type")
        status_text = record.http_headers.get_statuscode()
        status = int(status_text) if status_text and status_text.isdigit() else None
        meta["http_status"] = status
    else:
        content_type = record.rec_headers.get_header("Content-Type")
    mime = _mime(content_type)
    meta["mime"] = mime
    if record.rec_type == "response" and record.http_headers is not None and status != 200:
        return Document(id=doc_id, source=source, text="", url=url, meta=meta, reason="read.http_status")
    body, total, truncated = _read_payload(record, limit)
    if truncated:
        return ctx.failure("byte", position, "truncated record: fewer bytes than Content-Length", total)
    if total > limit:
        skip = ctx.too_large(position, total, **meta)
        skip.url = url
        return skip
    if record.rec_type == "conversion" or mime == "text/plain":
        text, _ = decode_text(body)
        return Document(
            id=doc_id,
            source=source,
            text=normalize_newlines(text).strip(),
            url=url,
            meta={**meta, "content_type": "text/plain"},
        )
    is_html = mime in ("text/html", "application/xhtml+xml") or (
        mime in ("", "application/octet-stream") and _looks_like_html(body)
    )
    if not is_html:
        return Document(id=doc_id, source=source, text="", url=url, meta=meta, reason="read.non_html")
    text, encoding = decode_html(body, charset_from_content_type(content_type))
    meta.update(content_type=HTML_CONTENT_TYPE, encoding=encoding)
    return Document(id=doc_id, source=source, text=text, url=url, title=page_title(text), meta=meta)


# Errors that mean the bytes themselves are broken (the rest of the file cannot be read), not one bad record.
_BROKEN_DATA = (OSError, EOFError, zlib.error, zstandard.ZstdError)


def _drop_invented_record_ids(iterator: ArchiveIterator) -> None:
    """ARC records converted to WARC get a random WARC-Record-ID from warcio: drop it, outputs stay reproducible."""
    arc_parser = iterator.loader.arc_parser
    parse = arc_parser.parse

    def parse_without_invented_id(*args: Any, **kwargs: Any) -> Any:
        headers = parse(*args, **kwargs)
        headers.remove_header("WARC-Record-ID")
        return headers

    arc_parser.parse = parse_without_invented_id


def _find_next_record(iterator: ArchiveIterator, record: ArcWarcRecord, ctx: ReadContext, offset: int) -> None:
    """Read to the end of `record` so that a failure after it is reported at the next record, not this one."""
    try:
        iterator.read_to_end(record)
    except _BROKEN_DATA:
        members = ctx.members.members if ctx.members is not None else []
        if members and members[-1][0] > offset:  # the data broke inside a later gzip member
            ctx.resume_at("byte", None, members[-1][0])
        raise
    ctx.resume_at("byte", None, iterator.offset)


def warc_records(stream: BinaryIO, ctx: ReadContext) -> Iterator[Document | Failure]:
    """Documents, counted skips and Failures for each record of the (decompressed) WARC/ARC/WET window."""
    limit = ctx.max_document_bytes
    iterator = ArchiveIterator(stream, arc2warc=True, ensure_http_headers=False)
    _drop_invented_record_ids(iterator)
    records = 0
    for record in iterator:
        offset = iterator.offset  # start of this record (get_record_offset() would consume it)
        position = ctx.position(offset)
        ctx.resume_at("byte", position, offset)
        records += 1
        try:
            out = record_to_document(record, ctx, position, limit)
        except _BROKEN_DATA:
            raise
        except Exception as exc:  # noqa: BLE001 - one record that cannot be converted is that record's failure
            out = ctx.error("byte", position, exc)
        if out is not None:
            yield out
        if isinstance(out, Failure) and out.error.startswith("truncated"):
            return  # a truncated record means the stream ended early
        _find_next_record(iterator, record, ctx, offset)
    if records == 0 and ctx.window_start == 0 and ctx.window_end is None:
        yield ctx.failure("byte", 0, "no WARC/ARC records (empty or not an archive)")


# Headers are decoded by warcio (UTF-8, else ISO-8859-1) and payloads with "replace": no lone surrogates.
FORMAT = Format("warc", records=warc_records, split="records", sanitized=True)
WET = Format("wet", records=warc_records, split="records", sanitized=True)


def read_warc(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """Yield documents, counted skips and Failures for each record of a WARC/ARC/WET file (never raises)."""
    return read_with(FORMAT, stream, file, options)
