"""Plain-text books (.txt, .txt.gz, ... or tar/zip archives of them) with Project Gutenberg boilerplate removed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from curation.readers.archive import OpenArchive, clean_name, is_archive, spool, unsafe_name
from curation.readers.base import SourceFile
from curation.readers.options import reader_options
from curation.readers.text import single_text_document, text_document, too_large_document
from curation.schema import Document, Failure

_TEXT_MEMBER_SUFFIXES = (".txt", ".text")


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
                yield text_document(archive.read(member, limit), file, name, name)
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
        yield from single_text_document(stream, file, int(opts["max_document_bytes"]))
