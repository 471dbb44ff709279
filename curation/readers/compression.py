"""Streaming decompression chosen by file extension, one member at a time (gzip members, bz2 streams, zstd frames).

Every reader decompresses through `MemberReader`, so all formats share three guarantees: a truncated file
yields every byte up to the cut and only then raises `TruncatedInputError` (never a silent early end);
one call never holds more than a bounded amount of output (a decompression bomb is streamed, not
materialised); and the file offset where each member starts is recorded, which is what byte ranges of
per-record `.warc.gz` files and multistream Wikipedia dumps are aligned on.
"""

from __future__ import annotations

import bisect
import bz2
import io
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

import zstandard

# Suffix -> codec. `.tgz`/`.tbz2` are tar archives compressed as a whole.
CODECS: dict[str, str] = {".gz": "gzip", ".tgz": "gzip", ".bz2": "bz2", ".tbz2": "bz2", ".zst": "zstd"}
# Compressed bytes fed per step. zstd's decompressor has no output limit, so it gets small pieces
# (its worst-case expansion is ~32,000x, so one step holds at most ~128 MiB even for a bomb).
_IN_CHUNK = {"gzip": 1 << 16, "bz2": 1 << 16, "zstd": 1 << 12}
_GZIP_MAGIC = b"\x1f\x8b"
# What a broken compressed or truncated stream raises while it is read (zlib.error is not an OSError).
STREAM_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, ValueError, zlib.error, zstandard.ZstdError)


class TruncatedInputError(OSError):
    """The compressed data ends inside a member: the file was cut off."""


class CorruptInputError(OSError):
    """The compressed data of a member is not valid (bad bytes, bad checksum)."""


def codec_of(path: str) -> str | None:
    """The compression codec named by the file extension, or None for an uncompressed file."""
    lower = path.lower()
    for suffix, codec in CODECS.items():
        if lower.endswith(suffix):
            return codec
    return None


class Window(io.RawIOBase):
    """Bytes [start, stop) of a stream (stop None: to its end); `tell()` is the offset in the whole file.

    A seekable stream is re-positioned before every read, so that other readers may share it.
    """

    def __init__(self, stream: BinaryIO, start: int = 0, stop: int | None = None) -> None:
        super().__init__()
        self._stream = stream
        self._pos = start
        self._stop = stop
        self._seek = _seekable(stream)
        if start and not self._seek:
            raise io.UnsupportedOperation(f"a byte range from {start} needs a seekable stream")

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def read(self, size: int = -1) -> bytes:
        if self._stop is not None:
            left = self._stop - self._pos
            size = left if size < 0 else min(size, left)
            if size <= 0:
                return b""
        if self._seek:
            self._stream.seek(self._pos)
        data = self._stream.read(size) if size >= 0 else self._stream.read()
        self._pos += len(data)
        return data

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _seekable(stream: BinaryIO) -> bool:
    """Whether `stream` can seek (a forward-only download cannot)."""
    try:
        return bool(stream.seekable())
    except (AttributeError, ValueError, OSError):
        return False


def _new_decompressor(codec: str):  # type: ignore[no-untyped-def]
    """A fresh decompressor for one member of `codec`."""
    if codec == "gzip":
        return zlib.decompressobj(wbits=31)
    if codec == "bz2":
        return bz2.BZ2Decompressor()
    return zstandard.ZstdDecompressor().decompressobj()


class MemberReader:
    """Decompressed bytes of `raw` (positioned at file offset `offset`), member after member, as a stream.

    `read(n)` returns everything decompressed before an error (a short read) and raises on the next call;
    `readline()` raises as soon as the data breaks (a partial last line is part of the unread remainder).
    `members` lists (decompressed offset, file offset) of every member started so far; `tell()` is the
    number of decompressed bytes consumed.
    """

    def __init__(self, raw: BinaryIO, codec: str, offset: int = 0, out_chunk: int = 1 << 20) -> None:
        self._raw = raw
        self._codec = codec
        self._chunk = _IN_CHUNK[codec]
        self._out_chunk = out_chunk
        self._raw_pos = offset  # file offset just past the last byte read from raw
        self._raw_eof = False
        self._pending = b""  # compressed bytes read but not yet given to a decompressor
        self._dec: Any = None  # the current member's zlib, bz2 or zstandard decompressor
        self._buf = b""  # decompressed bytes not yet consumed: self._buf[self._pos:]
        self._pos = 0
        self._consumed = 0  # decompressed bytes handed out
        self._produced = 0  # decompressed bytes produced
        self._error: BaseException | None = None
        self._eof = False
        self.member_start = offset
        self.members: list[tuple[int, int]] = []

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._consumed

    def member_of(self, position: int) -> tuple[int, int]:
        """(file offset of the member holding decompressed byte `position`, offset of the byte inside it)."""
        i = bisect.bisect_right(self.members, (position, float("inf"))) - 1
        if i < 0:
            return self.member_start, position
        start, file_offset = self.members[i]
        return file_offset, position - start

    # -- decompression ---------------------------------------------------------------------------------

    def _fill_input(self) -> None:
        """Read the next compressed chunk into `_pending` when it is empty."""
        if not self._pending and not self._raw_eof:
            data = self._raw.read(self._chunk)
            if data:
                self._raw_pos += len(data)
                self._pending = data
            else:
                self._raw_eof = True

    def _start_member(self) -> bool:
        """Open the next member; False at the clean end of the data (EOF on a member boundary)."""
        self._fill_input()
        if self._codec == "gzip" and self._pending[:1] == b"\0":  # gzip allows zero padding after members
            while True:
                stripped = self._pending.lstrip(b"\0")
                if stripped or self._raw_eof:
                    break
                self._pending = b""
                self._fill_input()
            self._pending = stripped
            if len(self._pending) == 1 and not self._raw_eof:
                more = self._raw.read(1)
                self._raw_pos += len(more)
                self._pending += more
        if not self._pending:
            return False
        if self._codec == "gzip" and not self._pending.startswith(_GZIP_MAGIC):
            raise OSError(f"data at byte {self._raw_pos - len(self._pending)} is not a gzip member")
        self.member_start = self._raw_pos - len(self._pending)
        self.members.append((self._produced, self.member_start))
        self._dec = _new_decompressor(self._codec)
        return True

    def _step(self) -> bytes:
        """Decompress some more of the current member (b'' when it needs more input or just ended)."""
        try:
            return self._decompress()
        except (zlib.error, zstandard.ZstdError) as exc:
            raise CorruptInputError(
                f"{self._codec} data is corrupt in the member that starts at byte {self.member_start}: {exc}"
            ) from exc

    def _decompress(self) -> bytes:
        """One decompression step of the current member."""
        dec = self._dec
        size = self._out_chunk
        if self._codec == "gzip":
            data = dec.unconsumed_tail
            if not data:
                self._fill_input()
                data, self._pending = self._pending, b""
                if not data and self._raw_eof:
                    raise self._truncated()
            out = dec.decompress(data, size)
        elif self._codec == "bz2":
            data = b""
            if dec.needs_input:
                self._fill_input()
                data, self._pending = self._pending, b""
                if not data and self._raw_eof:
                    raise self._truncated()
            out = dec.decompress(data, size)
        else:
            self._fill_input()
            if not self._pending and self._raw_eof:
                raise self._truncated()
            data, self._pending = self._pending[: self._chunk], self._pending[self._chunk :]
            out = dec.decompress(data)
        if dec.eof:
            self._pending = dec.unused_data + self._pending
            self._dec = None
        return out

    def _truncated(self) -> TruncatedInputError:
        """The error for data that ends inside the current member."""
        return TruncatedInputError(
            f"{self._codec} data ends inside the member that starts at byte {self.member_start} (file truncated)"
        )

    def _more(self) -> bool:
        """Decompress the next piece into the buffer; False at the end of the data; raises a stored error."""
        if self._error is not None:
            error, self._error = self._error, None
            self._eof = True
            raise error
        if self._eof:
            return False
        out = b""
        try:
            while not out:
                if self._dec is None and not self._start_member():
                    self._eof = True
                    return False
                out = self._step()
        except Exception as exc:
            self._eof = True
            raise exc
        self._buf = self._buf[self._pos :] + out if self._pos < len(self._buf) else out
        self._pos = 0
        self._produced += len(out)
        return True

    # -- stream interface ------------------------------------------------------------------------------

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (all when negative); short only at the end or just before an error."""
        parts: list[bytes] = []
        wanted = size
        while wanted != 0:
            if self._pos >= len(self._buf):
                try:
                    if not self._more():
                        break
                except Exception as exc:
                    if not parts or size < 0:  # read() of everything never returns part of it silently
                        raise
                    self._error = exc  # hand out what was decompressed; raise on the next call
                    break
            take = len(self._buf) - self._pos if wanted < 0 else min(wanted, len(self._buf) - self._pos)
            parts.append(self._buf[self._pos : self._pos + take])
            self._pos += take
            if wanted > 0:
                wanted -= take
        data = b"".join(parts)
        self._consumed += len(data)
        return data

    def read1(self, size: int = -1) -> bytes:
        """At most one buffer's worth of bytes."""
        if self._pos >= len(self._buf) and not self._more():
            return b""
        end = len(self._buf) if size < 0 else min(len(self._buf), self._pos + size)
        data = self._buf[self._pos : end]
        self._pos = end
        self._consumed += len(data)
        return data

    def readline(self, limit: int = -1) -> bytes:
        """One line (up to `limit` bytes); an error inside the line is raised, the partial line dropped."""
        parts: list[bytes] = []
        taken = 0
        while True:
            if self._pos >= len(self._buf) and not self._more():
                break
            stop = len(self._buf) if limit < 0 else min(len(self._buf), self._pos + limit - taken)
            newline = self._buf.find(b"\n", self._pos, stop)
            end = newline + 1 if newline >= 0 else stop
            parts.append(self._buf[self._pos : end])
            taken += end - self._pos
            self._pos = end
            if newline >= 0 or taken == limit:
                break
        line = parts[0] if len(parts) == 1 else b"".join(parts)
        self._consumed += len(line)
        return line

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def close(self) -> None:
        """Nothing to release (the raw stream belongs to the caller)."""


def decompressed(stream: BinaryIO, codec: str | None, offset: int = 0) -> BinaryIO:
    """A decompressed view of `stream` (positioned at file offset `offset`); `stream` itself when plain."""
    if codec is None:
        return stream
    return MemberReader(stream, codec, offset)  # type: ignore[return-value]


def member_reader(stream: BinaryIO) -> MemberReader | None:
    """The MemberReader of a stream made by `decompressed`, if it is one."""
    return stream if isinstance(stream, MemberReader) else None


def open_decompressed(stream: BinaryIO, path: str) -> BinaryIO:
    """Wrap `stream` in a streaming decompressor chosen by the extension of `path`."""
    return decompressed(stream, codec_of(path))
