"""Plain-text books (.txt, .txt.gz, ... or tar/zip archives of them) with Project Gutenberg boilerplate removed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from curation.readers.archive import clean_name, is_archive, open_archive, unsafe_name
from curation.readers.base import Format, ReadContext, SourceFile
from curation.readers.compression import codec_of, decompressed
from curation.readers.source import read_with
from curation.readers.text import text_document, text_records
from curation.schema import Document, Failure

_TEXT_MEMBER_SUFFIXES = (".txt", ".text")


def _archive_records(stream: BinaryIO, ctx: ReadContext) -> Iterator[Document | Failure]:
    """A tar/zip archive of books: one document per `.txt` member (position = member path)."""
    limit = ctx.max_document_bytes
    archive = open_archive(stream, ctx)
    try:
        for member in archive.members():
            if member.kind != "file":
                continue
            if unsafe_name(member.name):
                yield ctx.failure("member", member.name, "unsafe member path (outside the archive root)")
                continue
            name = clean_name(member.name)
            if not name.lower().endswith(_TEXT_MEMBER_SUFFIXES):
                continue  # MANIFEST.csv, images, ... of a book folder are not books
            ctx.resume_at("member", name)
            if member.size > limit:
                yield ctx.too_large(name, member.size, path=name)
                continue
            try:
                yield text_document(archive.read(member, limit), ctx, name, name)
            except Exception as exc:  # noqa: BLE001 - one bad member is that member's failure
                yield ctx.error("member", name, exc)
    finally:
        archive.close()


def book_records(stream: BinaryIO, ctx: ReadContext) -> Iterator[Document | Failure]:
    """Books from a text file (one book) or a tar/zip archive of text files (one book per member)."""
    if is_archive(ctx.path):
        yield from _archive_records(stream, ctx)
    else:
        yield from text_records(decompressed(stream, codec_of(ctx.path)), ctx)


FORMAT = Format("books", records=book_records, raw=True, label="member")


def read_books(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """Books from a text file (one book) or a tar/zip archive of text files (one book per member)."""
    return read_with(FORMAT, stream, file, options)
