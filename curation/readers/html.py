"""HTML files (one page = one document) and robust decoding of HTML bytes for every HTML reader."""

from __future__ import annotations

import codecs
import html as htmllib
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, BinaryIO

from resiliparse.parse.encoding import detect_encoding

from curation.readers.base import Format, ReadContext, SourceFile
from curation.readers.source import read_with
from curation.readers.text import whole_file
from curation.schema import Document, Failure

HTML_CONTENT_TYPE = "text/html"

_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_LINK_OR_META_RE = re.compile(r"<(?:link|meta)\b[^>]*>", re.IGNORECASE)
_ATTR_RE = re.compile(r"""([A-Za-z_:][-\w:.]*)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")
_TITLE_RE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(r"<[^>]*>")
_HTTP_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# WHATWG: these labels are decoded as their supersets by browsers, so pages labelled with them use them.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
}


def charset_from_content_type(content_type: str | None) -> str | None:
    """The `charset=` parameter of an HTTP Content-Type header, if any."""
    if not content_type:
        return None
    match = _HTTP_CHARSET_RE.search(content_type)
    return match.group(1) if match else None


@lru_cache(maxsize=256)
def _codec(label: str | None) -> str | None:
    """A Python codec name for a charset label (WHATWG supersets applied), or None if unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(body: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """Decode HTML bytes: BOM, then HTTP charset, then <meta charset>, then strict UTF-8, then uchardet.

    A declared charset that fails strict decoding falls through to the next candidate; the last
    resort replaces invalid bytes, so this never raises. Returns (text, codec used).
    """
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(bom_codec, "replace"), bom_codec
    meta = _CHARSET_RE.search(body[:4096])
    candidates = [_codec(http_charset), _codec(meta.group(1).decode("ascii", "ignore") if meta else None), "utf-8"]
    for name in candidates:
        if name is None or name.startswith("utf-16"):  # a UTF-16 label on a BOM-less 8-bit page is a lie
            continue
        try:
            return body.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    detected = _codec(detect_encoding(body)) or "utf-8"
    if detected.startswith("utf-16"):
        detected = "utf-8"
    return body.decode(detected, "replace"), detected


def _attributes(tag: str) -> dict[str, str]:
    """Lower-cased attribute names -> values of one start tag."""
    return {name.lower(): value.strip("\"'").strip() for name, value in _ATTR_RE.findall(tag)}


def page_url(html: str) -> str | None:
    """The page's own absolute URL from `<link rel=canonical>` or `<meta property=og:url>` in its head."""
    head = html[:65536]
    for tag in _LINK_OR_META_RE.findall(head):
        attrs = _attributes(tag)
        if "canonical" in attrs.get("rel", "").lower().split():
            url = attrs.get("href", "")
        elif attrs.get("property", "").lower() == "og:url":
            url = attrs.get("content", "")
        else:
            continue
        if url.startswith(("http://", "https://")):
            return url
    return None


def page_title(html: str) -> str | None:
    """The page's title from `<title>` (entities decoded, whitespace collapsed), else `<meta property=og:title>`."""
    head = html[:65536]
    match = _TITLE_RE.search(head)
    title = " ".join(htmllib.unescape(_TAG_RE.sub(" ", match.group(1))).split()) if match else ""
    if not title:
        for tag in _LINK_OR_META_RE.findall(head):
            attrs = _attributes(tag)
            if attrs.get("property", "").lower() == "og:title":
                title = " ".join(htmllib.unescape(attrs.get("content", "")).split())
                break
    return title[:1000] or None


def html_records(stream: BinaryIO, ctx: ReadContext) -> Iterator[Document | Failure]:
    """One (decompressed) HTML file -> one document holding the decoded raw HTML.

    The URL comes from the page's canonical link / og:url (a saved page has no other record of it), the title
    from its `<title>` or og:title.
    """
    body = whole_file(stream, ctx)
    if not isinstance(body, bytes):
        yield body
        return
    if not body.strip():
        yield ctx.failure("byte", 0, "empty file")
        return
    text, encoding = decode_html(body)
    url = page_url(text)
    meta = {"content_type": HTML_CONTENT_TYPE, "encoding": encoding, "path": ctx.file.relpath}
    if url:
        meta["url"] = url
    yield Document(id=ctx.doc_id(0), source=ctx.file.source, text=text, url=url, title=page_title(text), meta=meta)


FORMAT = Format("html", records=html_records, sanitized=True)


def read_html(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """One HTML file (.html, .htm, optionally compressed) -> one document holding the decoded raw HTML."""
    return read_with(FORMAT, stream, file, options)
