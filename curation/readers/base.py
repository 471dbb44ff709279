"""What every reader gets: the input file (`SourceFile`), the read context, failure labels and the format spec."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from curation.readers.compression import MemberReader, open_decompressed
from curation.schema import Document, Failure, make_id

__all__ = [
    "Format",
    "ReadContext",
    "SourceFile",
    "describe",
    "location",
    "location_sort_key",
    "open_decompressed",
]


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One input file, or the byte range [start, end) of it that one work item reads.

    `relpath` (relative to the glob root) makes the ids; `first_line` is, for line formats, the 1-based
    number of the first line that starts at or after `start` (the caller counts them, see
    `count_line_starts`). A whole file is `start=0, end=None`.
    """

    path: str
    relpath: str
    source: str
    format: str
    start: int = 0
    end: int | None = None
    first_line: int = 1


def location(path: str, label: str, value: object) -> str:
    """The one form of a failure location: `path:label=value` (labels: line, byte, row, member, page)."""
    return f"{path}:{label}={value}"


_DIGITS = re.compile(r"(\d+)")


def location_sort_key(where: str) -> tuple:
    """Natural order of failure locations (`a:line=7` before `a:line=59`, `b:byte=10` after `a:...`)."""
    return tuple((1, int(part), "") if i % 2 else (0, 0, part) for i, part in enumerate(_DIGITS.split(where)))


def describe(exc: BaseException) -> str:
    """`Type: message` of an exception on one line (the error text of every read failure)."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


@dataclass(slots=True)
class ReadContext:
    """Everything a format's record loop needs besides its stream: the file, options, ids, labels, limits.

    A loop reports progress with `resume_at` (where the first record it has not finished starts), so that
    an error that ends the file becomes one Failure "unread from byte N" at the right place.
    """

    file: SourceFile
    options: Mapping[str, Any]
    max_document_bytes: int
    raw: BinaryIO | None = None  # the undecompressed, seekable input (for formats that re-open parts of it)
    members: MemberReader | None = None  # the decompressor under the stream, when the file is compressed
    window_start: int = 0  # file offset where the stream handed to the loop starts (aligned range start)
    window_end: int | None = None  # file offset where it stops (None: end of file)
    resume_label: str = "byte"
    resume_value: object = 0
    resume_byte: int | None = 0
    id_prefix: str = ""

    def __post_init__(self) -> None:
        self.id_prefix = make_id(self.file.source, self.file.relpath, "")

    @property
    def path(self) -> str:
        """The file's path (used in every failure location)."""
        return self.file.path

    def doc_id(self, position: int | str) -> str:
        """The stable document id of the record at `position` (`make_id(source, relpath, position)`)."""
        return f"{self.id_prefix}{position}"

    def where(self, label: str, value: object) -> str:
        """A failure location in this file."""
        return location(self.file.path, label, value)

    def failure(self, label: str, value: object, error: str, nbytes: int = 0) -> Failure:
        """A read Failure at `label=value`."""
        return Failure(self.file.source, self.where(label, value), error, "read", nbytes)

    def error(self, label: str, value: object, exc: BaseException, nbytes: int = 0) -> Failure:
        """A read Failure for an exception at `label=value`."""
        return self.failure(label, value, describe(exc), nbytes)

    def resume_at(self, label: str, value: object, byte: int | None = None) -> None:
        """Record that the first unfinished record is at `label=value`, byte `byte` of the (decompressed) data.

        A `byte` position given as None is worked out when needed (`position(byte)`), once the member
        that holds it has been seen.
        """
        self.resume_label, self.resume_value, self.resume_byte = label, value, byte

    def unread(self, exc: BaseException) -> Failure:
        """The Failure for an error that ends the file: everything from the first unfinished record is unread.

        The byte is written like a record position: a file offset, or `M+K` (K bytes into the decompressed
        data of the compressed member that starts at file offset M), so it is the same whichever byte
        range of the file met the error.
        """
        value = self.resume_value
        if self.resume_byte is None:
            where = f"this {self.resume_label} on"
        else:
            where = f"byte {self.position(self.resume_byte)}"
            if value is None:
                value = self.position(self.resume_byte)
        return self.failure(self.resume_label, value, f"unread from {where}: {describe(exc)}")

    def too_large(self, position: int | str, nbytes: int, **meta: Any) -> Document:
        """The counted skip for a record over `readers.max_document_bytes` (text empty, size kept in meta)."""
        return Document(
            id=self.doc_id(position),
            source=self.file.source,
            text="",
            meta={"nbytes": nbytes, "limit": self.max_document_bytes, "path": self.file.relpath, **meta},
            reason="read.too_large",
        )

    def position(self, offset: int) -> int | str:
        """Id position of a record at decompressed `offset`: its file offset, or `member+inner` inside a member."""
        if self.members is None:
            return offset
        member, inner = self.members.member_of(offset)
        return member if inner == 0 else f"{member}+{inner}"


RecordLoop = Callable[[BinaryIO, ReadContext], Iterator[Document | Failure]]
LineParser = Callable[[bytes, int, ReadContext], "Document | Failure | None"]


@dataclass(frozen=True, slots=True)
class Format:
    """How one input format is read: only its record loop (or line parser) is format-specific.

    `records(stream, ctx)` gets the decompressed stream of its byte window (or, with `raw=True`, the
    undecompressed seekable input); `parse_line(line, lineno, ctx)` is the whole job of a line format.
    `split` names the byte-range method (see `curation.readers.split`); None reads the file whole.
    `label` is how a record's position is written in a failure location (`line`, `byte`, `row`, ...).
    `sanitized`: the format makes its documents UTF-8-safe itself (cheaper than the generic check).
    """

    name: str
    records: RecordLoop | None = None
    parse_line: LineParser | None = None
    raw: bool = False
    split: str | None = None
    label: str = "byte"
    sanitized: bool = False
