"""release_memory gives freed heap pages back to the OS (what keeps a worker's RSS at its working set)."""

import numpy as np
import pytest

from curation.memory import MemoryReleaser, _malloc_trim, release_memory


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6


@pytest.mark.skipif(_malloc_trim() is None, reason="needs glibc's malloc_trim")
def test_release_memory_returns_freed_heap_pages():
    # 64 KB blocks come from malloc's heap (below its mmap threshold); the one kept at the end pins the heap
    # top, so glibc cannot shrink the heap by itself and the freed pages stay resident until trimmed.
    blocks = [np.ones(8192) for _ in range(4000)]  # ~260 MB
    keep = np.ones(8192)
    del blocks
    before = _rss_mb()
    release_memory()
    after = _rss_mb()
    assert keep.sum() == 8192
    assert before - after > 100, (before, after)


def test_memory_releaser_stops():
    releaser = MemoryReleaser(interval=0.01)
    releaser.start()
    releaser.stop()
    releaser.join(timeout=5)
    assert not releaser.is_alive()
