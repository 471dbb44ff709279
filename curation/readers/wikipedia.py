"""MediaWiki XML export dumps (.xml, .xml.bz2, .xml.gz), streamed with expat; wikitext -> plain text.

Safety: any entity declaration in the document type aborts the file (no billion-laughs expansion,
no external entities are ever fetched), the XML is fed in 64 KiB chunks (a dump is never loaded
whole) and the encoding (UTF-8 or BOM-marked UTF-16) is left to expat.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, BinaryIO
from xml.parsers import expat

import mwparserfromhell
from mwparserfromhell.nodes import (
    Argument,
    Comment,
    ExternalLink,
    Heading,
    HTMLEntity,
    Tag,
    Template,
    Text,
    Wikilink,
)
from mwparserfromhell.wikicode import Wikicode

from curation.readers.base import Format, ReadContext, SourceFile, describe
from curation.readers.compression import Window, codec_of, decompressed
from curation.readers.source import read_with
from curation.schema import Document, Failure

_CHUNK = 1 << 16
# Canonical (English) names of the File, Media and Category namespaces, valid on every wiki.
_ALWAYS_DROPPED_PREFIXES = frozenset({"file", "image", "media", "category"})
_DROPPED_TAGS = frozenset(
    {
        "ref",
        "references",
        "gallery",
        "timeline",
        "imagemap",
        "score",
        "math",
        "chem",
        "graph",
        "templatedata",
        "table",
        "syntaxhighlight",
        "source",
        "mapframe",
        "maplink",
        "inputbox",
        "categorytree",
        "noinclude",
        "indicator",
    }
)
_LIST_MARKUP = frozenset({"*", "#"})
_LANG_PREFIX = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]+)*$")
_MAGIC_WORD = re.compile(r"__[A-Z]+__")
_EMPTY_PARENS = re.compile(r"\(\s*[,;:]?\s*\)")
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r" +([,.;:])")
_BLANK_RUNS = re.compile(r"\n{3,}")
_NESTED_BULLET = re.compile(r"^((?:  )+)- ")
_QUOTE_RUN = re.compile(r"'{2,}")
_HEADING_MARK = "\ue000"  # marks rendered headings until empty sections are removed
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_REF_SELF_CLOSING = re.compile(r"<ref\b[^>]*/>", re.IGNORECASE)
_REF_PAIRED = re.compile(r"<ref\b[^>]*>.*?</ref\s*>", re.IGNORECASE | re.DOTALL)
_INNERMOST_TEMPLATE = re.compile(r"\{\{(?!\{)[^{}]*\}\}")


class UnsafeXMLError(ValueError):
    """The XML declares entities (billion-laughs / external-entity risk); the file is refused."""


def _forbid_entities(*_args: object) -> None:
    """expat handler: refuse every entity declaration."""
    raise UnsafeXMLError("XML entity declarations are not allowed in a MediaWiki dump (possible entity attack)")


class _DumpHandler:
    """expat callbacks collecting siteinfo namespaces and finished <page> records."""

    _TEXT_PATHS = frozenset(
        {
            ("mediawiki", "siteinfo", "base"),
            ("mediawiki", "siteinfo", "dbname"),
            ("mediawiki", "siteinfo", "namespaces", "namespace"),
            ("mediawiki", "page", "title"),
            ("mediawiki", "page", "ns"),
            ("mediawiki", "page", "id"),
            ("mediawiki", "page", "revision", "timestamp"),
            ("mediawiki", "page", "revision", "text"),
        }
    )

    def __init__(
        self, parser: expat.XMLParserType, max_chars: int, keep_namespaces: frozenset[int], base: int = 0
    ) -> None:
        self.parser = parser
        self.max_chars = max_chars
        self.keep_namespaces = keep_namespaces
        self.base = base  # bytes fed before the data (a synthetic root for a range of a multistream dump)
        self.siteinfo_done = False
        self.pages_started = False
        self.path: list[str] = []
        self.buffer: list[str] = []
        self.buffered = 0
        self.collecting = False
        self.namespaces: dict[int, str] = {}
        self.namespace_key: int | None = None
        self.site: dict[str, str] = {}
        self.page: dict[str, Any] = {}
        self.done: list[dict[str, Any]] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        """Track the element path and open a text buffer where a field starts."""
        self.path.append(name)
        key = tuple(self.path)
        if key == ("mediawiki", "page"):
            self.page = {"offset": self.parser.CurrentByteIndex - self.base}
            self.pages_started = True
        elif key == ("mediawiki", "page", "redirect"):
            self.page["redirect"] = attrs.get("title", "")
        elif key == ("mediawiki", "siteinfo", "namespaces", "namespace"):
            key_text = attrs.get("key", "0")
            self.namespace_key = int(key_text) if key_text.lstrip("-").isdigit() else None
        if key in self._TEXT_PATHS:
            self.collecting, self.buffer, self.buffered = True, [], 0
            if name == "text" and (self._skipped_namespace() or "redirect" in self.page):
                self.collecting = False  # the page is skipped anyway: do not hold its text

    def _skipped_namespace(self) -> bool:
        """True when the current page's <ns> (already seen: it precedes <revision>) is not kept."""
        try:
            return int(self.page.get("ns", "0")) not in self.keep_namespaces
        except ValueError:
            return False  # reported as a bad <ns> later

    def data(self, text: str) -> None:
        """Accumulate character data of the current field, up to the size limit."""
        if self.collecting:
            self.buffered += len(text)
            if self.buffered <= self.max_chars:
                self.buffer.append(text)

    def end(self, name: str) -> None:
        """Close a field; on </page> hand the finished page over."""
        key = tuple(self.path)
        self.path.pop()
        if key in self._TEXT_PATHS:
            value = "".join(self.buffer)
            self.collecting = False
            field = key[-1]
            if key[1] == "siteinfo":
                if field == "namespace" and self.namespace_key is not None:
                    self.namespaces[self.namespace_key] = value
                else:
                    self.site[field] = value
            elif field == "text":
                self.page["text"] = value
                self.page["text_chars"] = self.buffered
            elif field not in self.page:  # page <id>, not the revision's or contributor's
                self.page[field] = value
        if key == ("mediawiki", "page"):
            self.done.append(self.page)
            self.page = {}
        elif key == ("mediawiki", "siteinfo"):
            self.siteinfo_done = True

    def resume_offset(self) -> int:
        """Offset (in the data) of the first page not finished yet: the open page, else the parser position."""
        if "offset" in self.page:
            return int(self.page["offset"])
        return max(self.parser.CurrentByteIndex - self.base, 0)


def _dropped_prefixes(namespaces: Mapping[int, str]) -> frozenset[str]:
    """Lower-cased link prefixes to drop: File/Media/Category in English and in the wiki's language."""
    local = {namespaces.get(k, "").lower() for k in (-2, 6, 14)} - {""}
    return _ALWAYS_DROPPED_PREFIXES | local


def _render(code: Wikicode, dropped: frozenset[str], out: list[str]) -> None:
    """Append the visible text of parsed wikitext to `out`, skipping templates, refs, tables, files, categories."""
    for node in code.nodes:
        if isinstance(node, Text):
            out.append(node.value)
        elif isinstance(node, Wikilink):
            title = str(node.title).strip()
            if title.startswith(":"):
                title = title[1:].lstrip()
            elif ":" in title:
                prefix = title.split(":", 1)[0].strip().lower()
                if prefix in dropped or (node.text is None and _LANG_PREFIX.match(prefix)):
                    continue
            if node.text is not None:
                _render(node.text, dropped, out)
            else:
                out.append(title.split("#", 1)[0] if not title.startswith("#") else title[1:])
        elif isinstance(node, Heading):
            out.append(f"\n\n{_HEADING_MARK}{min(max(node.level, 1), 9)}")
            _render(node.title, dropped, out)
            out.append("\n")
        elif isinstance(node, Tag):
            tag = str(node.tag).strip().lower()
            if tag in _DROPPED_TAGS or node.wiki_markup == "{|":
                continue
            if tag == "br":
                out.append("\n")
            elif tag == "li" and node.wiki_markup in _LIST_MARKUP:
                if out and out[-1].strip() == "-":  # "**": a nested item, indent instead of "- - "
                    out[-1] = "  " + out[-1]
                else:
                    out.append("- ")
            elif tag == "nowiki" and node.contents is not None:
                out.append(str(node.contents))
            elif node.contents is not None:
                _render(node.contents, dropped, out)
        elif isinstance(node, ExternalLink):
            if node.title is not None:
                _render(node.title, dropped, out)
        elif isinstance(node, HTMLEntity):
            out.append(node.normalize())
        elif isinstance(node, (Template, Argument, Comment)):
            continue


def strip_templates_and_refs(wikitext: str, dropped_prefixes: frozenset[str] = _ALWAYS_DROPPED_PREFIXES) -> str:
    """Fast regex pre-pass: drop comments, <ref>s and innermost-first balanced {{templates}} before parsing.

    The mwparserfromhell tree builder is pure Python and templates are most of its nodes, so removing
    them here first is ~2-3x faster overall; whatever this misses is still removed by the parser.
    """
    text = _COMMENT.sub("", wikitext)
    text = _REF_SELF_CLOSING.sub("", text)
    text = _REF_PAIRED.sub("", text)
    text = _strip_tables(text)
    text = _strip_prefixed_links(text, dropped_prefixes)
    previous = None
    while previous != text:
        previous = text
        text = _INNERMOST_TEMPLATE.sub("", text)
    return text


def wikitext_to_text(wikitext: str, dropped_prefixes: frozenset[str] = _ALWAYS_DROPPED_PREFIXES) -> str:
    """Plain text of an article's wikitext: link text kept; templates, refs, tables, files and categories removed."""
    out: list[str] = []
    _render(mwparserfromhell.parse(strip_templates_and_refs(wikitext, dropped_prefixes)), dropped_prefixes, out)
    text = _MAGIC_WORD.sub("", "".join(out))
    text = _EMPTY_PARENS.sub("", text)
    # Unbalanced bold/italic quotes left as text by the parser: an odd run keeps one apostrophe (Iliad's).
    text = _QUOTE_RUN.sub(lambda m: "'" if len(m.group()) % 2 else "", text)
    lines = []
    for line in text.split("\n"):
        nested = _NESTED_BULLET.match(line)
        indent = nested.group(1) if nested else ""
        line = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", line[len(indent) :])).strip()
        if line in ("-", ":", ";") or (line.startswith(_HEADING_MARK) and len(line) <= 2):  # content removed
            continue
        lines.append(indent + line)
    text = _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
    return _remove_empty_headings(text)


def _remove_empty_headings(text: str) -> str:
    """Drop headings whose section (up to the next heading of the same or a higher level) has no text.

    Rendered headings are lines `<_HEADING_MARK><level digit><title>`; scanning backwards, a heading has
    text iff some text line lies below it before any heading of its level or higher.
    """
    kept: list[str] = []
    has_text_below = False
    barrier = 99  # highest heading level (smallest number) between here and the nearest text line below
    for line in reversed(text.split("\n")):
        if line.startswith(_HEADING_MARK):
            level = int(line[1]) if line[1:2].isdigit() else 2
            if has_text_below and barrier > level:
                kept.append(line[2:].strip())
            barrier = min(barrier, level)
            continue
        if line.strip():
            has_text_below, barrier = True, 99
        kept.append(line)
    return _BLANK_RUNS.sub("\n\n", "\n".join(reversed(kept))).strip()


def _strip_prefixed_links(text: str, prefixes: frozenset[str]) -> str:
    """Remove [[File:...]] / [[Category:...]]-style links with balanced brackets (captions may hold links)."""
    if "[[" not in text:
        return text
    pattern = _prefixed_link_pattern(prefixes)
    out: list[str] = []
    pos = 0
    for match in pattern.finditer(text):
        if match.start() < pos:
            continue  # inside a link already removed
        depth, i = 0, match.start()
        while i < len(text) - 1:
            pair = text[i : i + 2]
            if pair == "[[":
                depth, i = depth + 1, i + 2
            elif pair == "]]":
                depth, i = depth - 1, i + 2
                if depth == 0:
                    break
            elif text[i] == "\n" and text[i + 1] == "\n":
                break  # a link never spans a paragraph: unbalanced, stop here
            else:
                i += 1
        out.append(text[pos : match.start()])
        pos = i
    out.append(text[pos:])
    return "".join(out)


@lru_cache(maxsize=64)
def _prefixed_link_pattern(prefixes: frozenset[str]) -> re.Pattern[str]:
    """Regex finding the start of a link in one of the given namespaces (case-insensitive)."""
    names = "|".join(sorted((re.escape(p) for p in prefixes), key=len, reverse=True))
    return re.compile(rf"\[\[\s*(?:{names})\s*:", re.IGNORECASE)


def _strip_tables(text: str) -> str:
    """Remove wiki tables line by line ({| ... |}, nested), also those the parser does not recognise."""
    if "{|" not in text:
        return text
    out: list[str] = []
    depth = 0
    for line in text.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith("{|"):
            depth += 1
            continue
        if depth:
            if stripped.startswith("|}"):
                depth -= 1
            continue
        out.append(line)
    return "\n".join(out)


def _page_url(site: Mapping[str, str], title: str) -> str | None:
    """Article URL from the dump's <base> (…/wiki/Main_Page) and the page title."""
    base = site.get("base")
    if not base or "/" not in base:
        return None
    return base.rsplit("/", 1)[0] + "/" + title.replace(" ", "_")


def _page_to_document(
    page: Mapping[str, Any], handler: _DumpHandler, ctx: ReadContext, keep: frozenset[int]
) -> Document | Failure:
    """One parsed <page> -> an article document or a counted skip (namespace, redirect, too large)."""
    title = page.get("title", "")
    page_id = page.get("id") or f"offset{ctx.position(page['offset'])}"
    meta: dict[str, Any] = {"page_id": page_id, "namespace": None, "timestamp": page.get("timestamp")}
    if handler.site.get("dbname"):
        meta["wiki"] = handler.site["dbname"]
    doc = Document(
        id=ctx.doc_id(page_id),
        source=ctx.file.source,
        text="",
        title=title,
        url=_page_url(handler.site, title),
        meta=meta,
    )
    try:
        namespace = int(page.get("ns", "0"))
    except ValueError:
        return ctx.failure("page", page_id, f"bad <ns> {page.get('ns')!r}")
    meta["namespace"] = namespace
    wikitext = page.get("text", "")
    if namespace not in keep:
        doc.reason = "read.namespace"
    elif "redirect" in page or wikitext.lstrip()[:9].upper() == "#REDIRECT":
        doc.reason = "read.redirect"
        meta["redirect"] = page.get("redirect")
    elif page.get("text_chars", 0) > handler.max_chars:
        doc.reason = "read.too_large"
        meta["nbytes"] = page["text_chars"]
    else:
        try:
            doc.text = wikitext_to_text(wikitext, _dropped_prefixes(handler.namespaces))
        except Exception as exc:  # noqa: BLE001 - a parser bug on one page must not end the dump
            return ctx.failure("page", page_id, f"wikitext: {describe(exc)}")
        if not doc.text:
            doc.reason = "read.empty"
    return doc


def _new_parser(
    ctx: ReadContext, encoding: str | None = None, base: int = 0
) -> tuple[expat.XMLParserType, _DumpHandler]:
    """A hardened expat parser (no entity declarations, nothing external) with a dump handler."""
    parser = expat.ParserCreate(encoding)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    keep = frozenset(int(n) for n in ctx.options["wikipedia"]["namespaces"])
    handler = _DumpHandler(parser, ctx.max_document_bytes, keep, base)
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.data
    parser.EntityDeclHandler = _forbid_entities
    parser.ExternalEntityRefHandler = lambda *_: 0  # never fetch; 0 = error if one is referenced
    return parser, handler


_XML_DECL_ENCODING = re.compile(rb"""<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _xml_encoding(head: bytes) -> tuple[str, str]:
    """(expat encoding name, Python codec) of a dump from its first bytes: BOM, XML declaration, else UTF-8."""
    if head.startswith(b"\xff\xfe"):
        return "UTF-16LE", "utf-16-le"
    if head.startswith(b"\xfe\xff"):
        return "UTF-16BE", "utf-16-be"
    declared = _XML_DECL_ENCODING.match(head.lstrip(b"\xef\xbb\xbf"))
    name = declared.group(1).decode("ascii").upper() if declared else "UTF-8"
    return (name, "latin-1") if name in ("ISO-8859-1", "US-ASCII") else ("UTF-8", "utf-8")


def _first_stream_siteinfo(ctx: ReadContext) -> tuple[_DumpHandler, str, str] | None:
    """Namespaces and site fields from the start of the dump (its first bz2 stream), for a later range.

    None when the start of the dump cannot be parsed: the range holding byte 0 reports that.
    """
    assert ctx.raw is not None
    source = decompressed(Window(ctx.raw, 0), codec_of(ctx.path))  # type: ignore[arg-type]
    head = source.read(_CHUNK)
    expat_encoding, codec = _xml_encoding(head)
    parser, handler = _new_parser(ctx)
    try:
        while head and not (handler.siteinfo_done or handler.pages_started):
            parser.Parse(head, False)
            head = source.read(_CHUNK)
    except Exception:  # noqa: BLE001
        return None
    return handler, expat_encoding, codec


def wiki_records(stream: BinaryIO, ctx: ReadContext) -> Iterator[Document | Failure]:
    """Pages of a (decompressed) MediaWiki dump window: one document per article, counted skips for the rest.

    A range that starts after byte 0 of a multistream dump reads its bz2 streams under a synthetic
    `<mediawiki>` root, with the siteinfo (namespaces, base URL) of the dump's first stream.
    """
    keep = frozenset(int(n) for n in ctx.options["wikipedia"]["namespaces"])
    prelude = closing = b""
    if ctx.window_start > 0:
        start = _first_stream_siteinfo(ctx)
        if start is None:
            return
        first, expat_encoding, codec = start
        prelude, closing = "<mediawiki>".encode(codec), "</mediawiki>".encode(codec)
        parser, handler = _new_parser(ctx, expat_encoding, len(prelude))
        handler.site, handler.namespaces = first.site, first.namespaces
        parser.Parse(prelude, False)
    else:
        parser, handler = _new_parser(ctx)
        closing = b"</mediawiki>"
    seen = 0
    while True:
        chunk = stream.read(_CHUNK)
        final = not chunk
        if final and ctx.window_end is not None and handler.path == ["mediawiki"]:
            chunk = closing  # the range ends between two streams: close the root it left open
        error = None
        try:
            parser.Parse(chunk, final)
        except Exception as exc:  # noqa: BLE001 - expat / entity refusal: pages finished before it still count
            error = exc
        for page in handler.done:
            seen += 1
            yield _page_to_document(page, handler, ctx, keep)
        handler.done.clear()
        offset = handler.resume_offset()
        ctx.resume_at("byte", ctx.position(offset), offset)
        if error is not None:
            raise error
        if final:
            break
    if seen == 0 and ctx.window_start == 0 and ctx.window_end is None:
        yield ctx.failure("byte", 0, "no <page> elements (empty or not a MediaWiki dump)")


FORMAT = Format("wikipedia", records=wiki_records, split="bz2_streams", label="page")


def read_wikipedia(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """Stream a MediaWiki XML dump: one document per main-namespace article, counted skips for the rest."""
    return read_with(FORMAT, stream, file, options)
