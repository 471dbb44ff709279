"""Archive members (tar, tar.gz/.tgz/.tar.bz2/.tar.zst, zip) read without ever extracting to disk.

The archive is first copied into a size-capped `SpooledTemporaryFile` (memory, then a private temp
file) because zip needs seeking and code archives need two passes (LICENSE before files). Tar input is
spooled decompressed so that the second pass only seeks forward in plain bytes. Member names are only
ever used as metadata; names that would escape the archive root (`../`, absolute) are reported.
"""

from __future__ import annotations

import posixpath
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, BinaryIO

from curation.readers.base import ReadContext
from curation.readers.compression import open_decompressed

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.zst", ".zip")
_CHUNK = 1 << 20


class ArchiveTooLargeError(ValueError):
    """The archive is over `readers.max_archive_bytes`."""


@dataclass(frozen=True, slots=True)
class Member:
    """One archive entry: its name, kind ('file', 'dir', 'link', 'other'), size and where to read it."""

    name: str
    kind: str
    size: int
    index: int


def is_archive(path: str) -> bool:
    """True for the archive extensions this module reads."""
    return path.lower().endswith(ARCHIVE_SUFFIXES)


def is_zip(path: str) -> bool:
    """True for .zip files."""
    return path.lower().endswith(".zip")


def unsafe_name(name: str) -> bool:
    """True for member names that would escape the archive root if extracted (zip-slip)."""
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        return True
    return ".." in normalized.split("/")


def clean_name(name: str) -> str:
    """Normalised POSIX member name without a leading './' (empty for the root itself)."""
    normalized = posixpath.normpath(name.replace("\\", "/"))
    return "" if normalized == "." else normalized.removeprefix("./")


def spool(stream: BinaryIO, path: str, memory_bytes: int, max_bytes: int) -> IO[bytes]:
    """Copy the (for tar: decompressed) archive into a SpooledTemporaryFile, refusing more than `max_bytes`."""
    lower = path.lower()
    if lower.endswith(".tgz"):
        source = open_decompressed(stream, path[:-4] + ".tar.gz")
    elif lower.endswith(".tbz2"):
        source = open_decompressed(stream, path[:-5] + ".tar.bz2")
    elif is_zip(path):
        source = stream
    else:
        source = open_decompressed(stream, path)
    out = tempfile.SpooledTemporaryFile(max_size=memory_bytes)  # noqa: SIM115 - returned to the caller
    total = 0
    while True:
        chunk = source.read(_CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            out.close()
            raise ArchiveTooLargeError(f"archive is larger than readers.max_archive_bytes={max_bytes}")
        out.write(chunk)
    out.seek(0)
    return out


class OpenArchive:
    """A spooled tar or zip archive: list members and read one member's bytes up to a limit."""

    def __init__(self, spooled: IO[bytes], path: str) -> None:
        self._spooled = spooled
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        if is_zip(path):
            self._zip = zipfile.ZipFile(spooled)  # type: ignore[arg-type]
            self._entries: list = self._zip.infolist()
        else:
            self._tar = tarfile.open(fileobj=spooled, mode="r:")  # type: ignore[arg-type]  # noqa: SIM115
            self._entries = self._tar.getmembers()

    def members(self) -> Iterator[Member]:
        """Members in archive order."""
        for index, entry in enumerate(self._entries):
            if self._zip is not None:
                kind = "dir" if entry.is_dir() else ("link" if (entry.external_attr >> 28) == 0xA else "file")
                yield Member(entry.filename, kind, entry.file_size, index)
            else:
                kind = (
                    "file"
                    if entry.isreg()
                    else "dir"
                    if entry.isdir()
                    else "link"
                    if entry.issym() or entry.islnk()
                    else "other"
                )
                yield Member(entry.name, kind, entry.size, index)

    def read(self, member: Member, limit: int) -> bytes:
        """Up to `limit` bytes of a regular member (decompressed for zip)."""
        entry = self._entries[member.index]
        if self._zip is not None:
            with self._zip.open(entry) as handle:
                return handle.read(limit)
        assert self._tar is not None
        member_file = self._tar.extractfile(entry)
        return member_file.read(limit) if member_file is not None else b""

    def close(self) -> None:
        """Release the spooled copy."""
        if self._zip is not None:
            self._zip.close()
        if self._tar is not None:
            self._tar.close()
        self._spooled.close()


def common_top_dir(names: list[str]) -> str | None:
    """The single top-level directory all names share (as `git archive --prefix` writes), else None."""
    tops = {n.split("/", 1)[0] for n in names if n}
    if len(tops) == 1 and all("/" in n or n == next(iter(tops)) for n in names if n):
        return next(iter(tops))
    return None


def open_archive(stream: BinaryIO, ctx: ReadContext) -> OpenArchive:
    """Spool and open the archive of `ctx.file` within the `readers` limits (raises when it cannot be read)."""
    opts = ctx.options
    spooled = spool(stream, ctx.path, int(opts["spool_memory_bytes"]), int(opts["max_archive_bytes"]))
    try:
        return OpenArchive(spooled, ctx.path)
    except BaseException:
        spooled.close()
        raise
