"""Work items: the input files of a run cut into byte ranges and packed into units of about equal work.

A work item is what one worker reads, filters and writes in one go: a range of one big file, or several
small files of the same source. Items are planned deterministically from the matched files alone (never
from the number of workers), so shard names, document keys and the output bytes are the same on every run
and every runner. Items are numbered in survivor order: source priority, source name, file path in natural
order, byte offset; a document's key (`doc_key`) is its item's number and its position inside the item, so
comparing keys compares "who comes first" without looking at ids.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from curation.schema import id_sort_key

# Typical text compression ratio: compressed input counts this many times its size as work.
COMPRESSED_TEXT_RATIO = 4
_COMPRESSED_SUFFIXES = (".gz", ".zst", ".zstd", ".bz2", ".xz", ".deflate")

# A document key is (item ordinal << INDEX_BITS) | position of the document inside its item.
INDEX_BITS = 28
MAX_ITEM_DOCS = 1 << INDEX_BITS


# Items are dealt to workers up front (no work stealing), so their number is rounded up to a multiple of
# MIN_ITEMS: a small input still makes MIN_ITEMS items to spread over the cores, and 2, 4, 8 or 16 workers get
# equal shares of a large one (an odd item left over cost a 2-worker run ~5% at 100k documents). Never items
# below MIN_ITEM_BYTES (each item has a fixed cost: its staged files and shards).
MIN_ITEMS = 16
MIN_ITEM_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class InputFile:
    """One matched input file of one `--input SOURCE[:FORMAT]=GLOB`."""

    source: str
    path: str
    size: int
    glob: str
    format: str | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """A byte range [start, end) of one file (end None = to the end), read with one format."""

    path: str
    relpath: str
    format: str | None
    start: int = 0
    end: int | None = None
    size: int = 0
    first_line: int = 1
    error: str | None = None  # the file cannot be read at all (e.g. unknown format): one Failure

    @property
    def work(self) -> int:
        """Uncompressed-equivalent bytes of this range."""
        stop = self.size if self.end is None else self.end
        return work_bytes([(self.path, max(0, stop - self.start))])


@dataclass(frozen=True, slots=True)
class WorkItem:
    """Segments of one source processed together; `ordinal` orders items in survivor order."""

    ordinal: int
    source: str
    segments: tuple[Segment, ...]

    @property
    def key(self) -> str:
        """Stable name of the item in file names."""
        return f"{self.ordinal:07d}"

    @property
    def work(self) -> int:
        """Uncompressed-equivalent bytes of the item."""
        return sum(s.work for s in self.segments)


def work_bytes(files: Iterable[tuple[str, int]]) -> int:
    """Uncompressed-equivalent size of (path, size) inputs: compressed files count COMPRESSED_TEXT_RATIO times."""
    return sum(
        size * COMPRESSED_TEXT_RATIO if path.lower().endswith(_COMPRESSED_SUFFIXES) else size for path, size in files
    )


def input_work(files: Iterable[InputFile]) -> int:
    """Uncompressed-equivalent bytes of a run's input, a file given twice for one source counted once."""
    unique = {(f.source, f.path): f.size for f in files}
    return work_bytes((path, size) for (_, path), size in unique.items())


def item_target(total_work: int, item_bytes: int) -> int:
    """Work per item: at most `item_bytes`, sized so that the items come in a multiple of MIN_ITEMS.

    Never below MIN_ITEM_BYTES unless `item_bytes` itself is. Depends only on the input and the config.
    """
    items = -(-max(total_work, 1) // item_bytes)  # items of item_bytes
    items = -(-items // MIN_ITEMS) * MIN_ITEMS
    return min(item_bytes, max(MIN_ITEM_BYTES, -(-total_work // items)))


def doc_key(ordinal: int, position: int) -> int:
    """The 64-bit key of the `position`-th document of item `ordinal`."""
    if position >= MAX_ITEM_DOCS:
        raise ValueError(f"a work item holds more than {MAX_ITEM_DOCS} documents; lower output.item_bytes")
    return (ordinal << INDEX_BITS) | position


def split_key(key: int) -> tuple[int, int]:
    """(item ordinal, position) of a document key."""
    return key >> INDEX_BITS, key & (MAX_ITEM_DOCS - 1)


def glob_root(glob: str) -> str:
    """Folder prefix of a glob before its first wildcard; ids are made relative to it."""
    for i, ch in enumerate(glob):
        if ch in "*?[":
            return glob[: glob.rfind("/", 0, i) + 1]
    cut = glob.rfind("/")
    return glob[: cut + 1] if cut >= 0 else ""


def _relative(path: str, root: str) -> str:
    """`path` relative to `root`, falling back to the file name."""
    if root and path.startswith(root) and len(path) > len(root):
        return path[len(root) :]
    return path.rsplit("/", 1)[-1]


def relative_paths(files: Sequence[InputFile]) -> dict[str, str]:
    """path -> relpath for one source's files, unique by construction.

    Each file is named relative to its glob's root. When two different files would get the same name (the
    same file name under two globs), every file of the source is named relative to the deepest folder
    shared by all of them instead, which distinct paths never share.
    """
    paths = sorted({f.path for f in files})
    names: dict[str, str] = {}
    for f in files:
        names.setdefault(f.path, _relative(f.path, glob_root(f.glob)))
    if len(set(names.values())) == len(paths):
        return names
    common = posixpath.commonpath([posixpath.dirname(p) for p in paths]) if len(paths) > 1 else ""
    root = common.rstrip("/") + "/" if common else ""
    return {p: _relative(p, root) if root else p.lstrip("/") for p in paths}


Splitter = Callable[[str, str, int, int], list[tuple[int, int]]]
FormatOf = Callable[[str, str, str | None], str]


def plan_segments(
    files: Sequence[InputFile],
    priorities: Mapping[str, int],
    target_bytes: int,
    format_of: FormatOf,
    splitter: Splitter,
) -> list[tuple[str, Segment]]:
    """(source, segment) for every range of every file, in survivor order; a file given twice is read once.

    `format_of(path, source, forced)` names a file's format (raises ValueError when it cannot);
    `splitter(fmt, path, size, target_bytes)` cuts a file into byte ranges.
    """
    by_source: dict[str, dict[str, InputFile]] = {}
    for f in files:
        by_source.setdefault(f.source, {}).setdefault(f.path, f)
    out: list[tuple[tuple, str, Segment]] = []
    for source, unique in by_source.items():
        names = relative_paths(list(unique.values()))
        for path, f in unique.items():
            rel = names[path]
            order = (priorities.get(source, 100), source, id_sort_key(rel))
            try:
                fmt = format_of(path, source, f.format)
            except ValueError as exc:
                out.append((order + (0,), source, Segment(path, rel, None, 0, None, f.size, error=str(exc))))
                continue
            ranges = splitter(fmt, path, f.size, target_bytes) if target_bytes > 0 else [(0, f.size)]
            for start, end in ranges:
                stop = None if end >= f.size else end
                out.append((order + (start,), source, Segment(path, rel, fmt, start, stop, f.size)))
    out.sort(key=lambda t: t[0])
    return [(source, seg) for _, source, seg in out]


def with_first_lines(
    segments: Sequence[tuple[str, Segment]], line_starts: Mapping[tuple[str, int], int]
) -> list[tuple[str, Segment]]:
    """Give every range of a split line-based file the number of its first line.

    `line_starts[(path, start)]` is the number of lines that start inside the range beginning at `start`.
    """
    out = []
    seen: dict[str, int] = {}
    for source, seg in segments:
        if (seg.path, seg.start) in line_starts:
            first = seen.get(seg.path, 1)
            seg = replace(seg, first_line=first)
            seen[seg.path] = first + line_starts[(seg.path, seg.start)]
        out.append((source, seg))
    return out


def pack_items(segments: Sequence[tuple[str, Segment]], target_bytes: int) -> list[WorkItem]:
    """Group consecutive segments of one source into items of about `target_bytes` of work, numbered in order."""
    items: list[WorkItem] = []
    current: list[Segment] = []
    current_source: str | None = None
    work = 0

    def flush() -> None:
        nonlocal current, work
        if current:
            items.append(WorkItem(len(items), current_source or "", tuple(current)))
        current, work = [], 0

    for source, seg in segments:
        if source != current_source or (current and work + seg.work > target_bytes):
            flush()
            current_source = source
        current.append(seg)
        work += seg.work
    flush()
    return items
