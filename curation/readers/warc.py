"""WARC / ARC / WET archives (.warc, .warc.gz, .arc, .arc.gz, .warc.wet.gz) via warcio, streamed record by record.

HTML responses become documents holding decoded HTML (`meta.content_type = text/html`) for the extract
stage; WET conversion records are already text. Non-200 and non-HTML responses are counted skips.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from curation.readers.base import SourceFile
from curation.readers.html import HTML_CONTENT_TYPE, charset_from_content_type, decode_html, page_title
from curation.readers.options import reader_options
from curation.readers.text import STREAM_ERRORS, decode_text, normalize_newlines, read_capped, too_large_document
from curation.schema import Document, Failure, make_id

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


def record_to_document(record: ArcWarcRecord, file: SourceFile, offset: int, limit: int) -> Document | Failure | None:
    """One WARC record -> a document, a counted skip, a Failure, or None for structural records."""
    if record.rec_type not in DOCUMENT_RECORD_TYPES:
        return None
    meta = _base_meta(record)
    url = meta.get("url")
    if url and url.startswith("metadata:"):  # crawler bookkeeping (wget manifest / log), not a page
        return None
    if not url or ":" not in url:  # e.g. a text line misread as an ARC header
        return Failure(file.source, f"{file.path}:{offset}", f"record has no valid target URI: {url!r}", "read")
    doc_id = make_id(file.source, file.relpath, offset)
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
        return Document(id=doc_id, source=file.source, text="", url=url, meta=meta, reason="read.http_status")
    body, total, truncated = _read_payload(record, limit)
    if truncated:
        return Failure(
            file.source, f"{file.path}:{offset}", "truncated record: fewer bytes than Content-Length", "read", total
        )
    if total > limit:
        skip = too_large_document(file, offset, total, limit)
        skip.url, skip.meta = url, {**meta, **skip.meta}
        return skip
    if record.rec_type == "conversion" or mime == "text/plain":
        text, _ = decode_text(body)
        return Document(
            id=doc_id,
            source=file.source,
            text=normalize_newlines(text).strip(),
            url=url,
            meta={**meta, "content_type": "text/plain"},
        )
    is_html = mime in ("text/html", "application/xhtml+xml") or (
        mime in ("", "application/octet-stream") and _looks_like_html(body)
    )
    if not is_html:
        return Document(id=doc_id, source=file.source, text="", url=url, meta=meta, reason="read.non_html")
    text, encoding = decode_html(body, charset_from_content_type(content_type))
    meta.update(content_type=HTML_CONTENT_TYPE, encoding=encoding)
    return Document(id=doc_id, source=file.source, text=text, url=url, title=page_title(text), meta=meta)


def read_warc(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """Yield documents, counted skips and Failures for each record of a WARC/ARC/WET file (never raises)."""
    limit = int(reader_options(options)["max_document_bytes"])
    iterator = ArchiveIterator(stream, arc2warc=True, ensure_http_headers=False)
    offset = 0
    records = 0
    try:
        for record in iterator:
            offset = iterator.offset  # start of this record (get_record_offset() would consume it)
            records += 1
            try:
                out = record_to_document(record, file, offset, limit)
            except STREAM_ERRORS as exc:  # broken gzip member / chunking inside a record
                yield Failure(file.source, f"{file.path}:{offset}", f"{type(exc).__name__}: {exc}", "read")
                return
            if out is not None:
                yield out
            if isinstance(out, Failure) and out.error.startswith("truncated"):
                return  # a truncated record means the stream ended early
    except Exception as exc:  # noqa: BLE001 - warcio raises ArchiveLoadFailed, zlib/OSError, ValueError...
        where = offset  # the last record that started cleanly
        message = " ".join(str(exc).split())
        yield Failure(file.source, f"{file.path}:{where}", f"{type(exc).__name__}: {message}", "read")
        return
    if records == 0:
        yield Failure(file.source, f"{file.path}:0", "no WARC/ARC records (empty or not an archive)", "read")
