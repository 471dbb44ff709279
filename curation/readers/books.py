"""Plain-text books (.txt, .txt.gz, ... or tar/zip archives of them) with Project Gutenberg boilerplate removed."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from curation.readers.archive import OpenArchive, clean_name, is_archive, spool, unsafe_name
from curation.readers.base import SourceFile, open_decompressed
from curation.readers.options import reader_options
from curation.readers.text import decode_text, normalize_newlines, read_capped, too_large_document
from curation.schema import Document, Failure, make_id

_START = re.compile(r"^\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK.*$", re.IGNORECASE | re.MULTILINE)
_END = re.compile(r"^\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK.*$", re.IGNORECASE | re.MULTILINE)
# Older files close with a prose line before (or instead of) the *** END marker.
_END_PROSE = re.compile(r"^\s*End of (?:the |this )?Project Gutenberg\b.*$", re.IGNORECASE | re.MULTILINE)
_FIELD = re.compile(r"^(Title|Author):[ \t]*(.*)$", re.MULTILINE)
_CREDIT = re.compile(
    r"^(?:Produced by|Transcribed from|E-?text prepared by|This e-?book was produced by)\b", re.IGNORECASE
)
_TEXT_MEMBER_SUFFIXES = (".txt", ".text")


def _header_field(header: str, name: str) -> str | None:
    """A `Title:`/`Author:` value from a Gutenberg header, with indented continuation lines joined."""
    for match in _FIELD.finditer(header):
        if match.group(1) != name:
            continue
        value = [match.group(2).strip()]
        rest = header[match.end() + 1 :].split("\n")
        for line in rest:
            if line[:1] in (" ", "\t") and line.strip():
                value.append(line.strip())
            else:
                break
        return " ".join(v for v in value if v) or None
    return None


def strip_gutenberg(text: str) -> tuple[str, dict[str, str]]:
    """Body of a Project Gutenberg text without header, license footer and producer credits; plus title/author.

    Texts without the `*** START OF` marker are returned unchanged (not a Gutenberg file).
    """
    start = _START.search(text)
    if start is None:
        return text, {}
    header = text[: start.start()]
    meta = {k: v for k in ("Title", "Author") if (v := _header_field(header, k))}
    body = text[start.end() :]
    end = _END.search(body)
    if end is not None:
        body = body[: end.start()]
    prose_end = _END_PROSE.search(body)
    if prose_end is not None:
        body = body[: prose_end.start()]
    paragraphs = body.strip().split("\n\n")
    if paragraphs and _CREDIT.match(paragraphs[0].lstrip()):
        paragraphs = paragraphs[1:]
    return "\n\n".join(paragraphs).strip(), {k.lower(): v for k, v in meta.items()}


def book_document(data: bytes, file: SourceFile, position: int | str, member: str | None = None) -> Document | Failure:
    """One book's bytes -> a Document with Gutenberg boilerplate removed (Failure when empty)."""
    text, encoding = decode_text(data)
    body, header = strip_gutenberg(normalize_newlines(text))
    where = f"{file.path}:{member}" if member else f"{file.path}:0"
    if not body.strip():
        return Failure(
            file.source, where, "empty book (no text after removing the Gutenberg header/footer)", "read", len(data)
        )
    meta: dict[str, Any] = {
        "encoding": encoding,
        "path": member or file.relpath,
        "gutenberg": bool(header) or "*** START OF" in text,
    }
    if "author" in header:
        meta["author"] = header["author"]
    return Document(
        id=make_id(file.source, file.relpath, position),
        source=file.source,
        text=body.strip(),
        title=header.get("title"),
        meta=meta,
    )


def _read_single(stream: BinaryIO, file: SourceFile, limit: int) -> Iterator[Document | Failure]:
    """A single (optionally compressed) text file = one book."""
    try:
        data, total = read_capped(open_decompressed(stream, file.path), limit)
    except (OSError, EOFError, ValueError) as exc:
        yield Failure(file.source, f"{file.path}:0", f"{type(exc).__name__}: {exc}", "read")
        return
    if total > limit:
        yield too_large_document(file, 0, total, limit)
        return
    yield book_document(data, file, 0)


def _read_archive(stream: BinaryIO, file: SourceFile, opts: Mapping[str, Any]) -> Iterator[Document | Failure]:
    """A tar/zip archive of books: one document per `.txt` member (position = member path)."""
    limit = int(opts["max_document_bytes"])
    try:
        archive = OpenArchive(
            spool(stream, file.path, int(opts["spool_memory_bytes"]), int(opts["max_archive_bytes"])), file.path
        )
    except Exception as exc:  # noqa: BLE001 - corrupt/truncated archive or over the size cap
        yield Failure(file.source, f"{file.path}:0", f"{type(exc).__name__}: {exc}", "read")
        return
    try:
        for member in archive.members():
            if member.kind != "file":
                continue
            if unsafe_name(member.name):
                yield Failure(
                    file.source, f"{file.path}:{member.name}", "unsafe member path (outside the archive root)", "read"
                )
                continue
            name = clean_name(member.name)
            if not name.lower().endswith(_TEXT_MEMBER_SUFFIXES):
                continue  # MANIFEST.csv, images, ... of a book folder are not books
            if member.size > limit:
                skip = too_large_document(file, name, member.size, limit)
                skip.meta["path"] = name
                yield skip
                continue
            try:
                yield book_document(archive.read(member, limit), file, name, name)
            except Exception as exc:  # noqa: BLE001
                yield Failure(file.source, f"{file.path}:{name}", f"{type(exc).__name__}: {exc}", "read")
    finally:
        archive.close()


def read_books(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """Books from a text file (one book) or a tar/zip archive of text files (one book per member)."""
    opts = reader_options(options)
    if is_archive(file.path):
        yield from _read_archive(stream, file, opts)
    else:
        yield from _read_single(stream, file, int(opts["max_document_bytes"]))
