"""Give freed heap memory back to the OS after a large step, so a long-lived process keeps only its working set.

glibc's malloc and Arrow's pool keep freed pages for reuse. A worker that reads one item, then a hash-range
partition, then another item's table holds the high-water mark of every mix of sizes it met: measured on the
100k-document bench, a worker's RSS rose from 194 to 332 MB over six `write_payload` calls although nothing
stayed referenced, and to 250 MB when this runs after each (docs/architecture.md, "Memory").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import threading
from collections.abc import Callable

import pyarrow as pa


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None where the C library has none (macOS, musl)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_memory() -> None:
    """Return freed memory to the OS: Arrow's pool first, then glibc's heaps (best effort, a few ms)."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class MemoryReleaser(threading.Thread):
    """Calls `release_memory` every `interval` seconds until stopped (for a process whose steps we do not own)."""

    def __init__(self, interval: float = 5.0):
        super().__init__(daemon=True, name="memory-releaser")
        self.interval = interval
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            release_memory()

    def stop(self) -> None:
        """Stop releasing (returns at once; the thread ends within one interval)."""
        self.stop_event.set()
