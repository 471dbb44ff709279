"""The decontamination index, read once per worker process from any Beam filesystem (local, gs://, s3://)."""

from __future__ import annotations

import threading

from curation.decontam import DecontamIndex, load_index
from pipelines.io import open_file

_INDEXES: dict[str, DecontamIndex] = {}
_INDEXES_LOCK = threading.Lock()


def read_index(path: str) -> DecontamIndex:
    """Load an index from any Beam filesystem path (local, gs://, s3://)."""
    with open_file(path) as fh:
        return load_index(fh.read())


def shared_index(path: str) -> DecontamIndex:
    """The index at `path`, read once per worker process and shared by all DoFn instances in it."""
    with _INDEXES_LOCK:
        if path not in _INDEXES:
            _INDEXES[path] = read_index(path)
        return _INDEXES[path]
