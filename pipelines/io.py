"""Path helpers that work the same on local disks, gs:// and s3:// (through Beam's FileSystems)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import BinaryIO

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems


def is_remote(path: str) -> bool:
    """Whether a path is an object-store URL (has a scheme such as gs:// or s3://)."""
    return "://" in path


def absolute_local(path: str) -> str:
    """Absolute form of a local path; URLs unchanged."""
    return path if is_remote(path) else os.path.abspath(path)


def matched_files(glob: str) -> list[tuple[str, int]]:
    """(path, size) of every file a glob matches (empty if none or unreachable)."""
    try:
        result = FileSystems.match([glob])[0]
    except Exception:  # noqa: BLE001 - "no match" surfaces as an exception on some filesystems
        return []
    return sorted((m.path, m.size_in_bytes) for m in result.metadata_list)


def read_text(path: str) -> str:
    """Whole file as UTF-8 text from any filesystem."""
    with FileSystems.open(path) as f:
        return f.read().decode("utf-8")


def open_file(path: str) -> BinaryIO:
    """Open a file for reading on any filesystem, as stored (no decompression by extension)."""
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def open_binary(path: str, beam_flags: Sequence[str] = ()) -> BinaryIO:
    """`open_file` outside a pipeline: `beam_flags` carry object-store settings (endpoint, region)."""
    if is_remote(path) and beam_flags:
        use_pipeline_options(list(beam_flags))
    return open_file(path)


def use_pipeline_options(flags: list[str]) -> None:
    """Configure Beam's filesystems in this process with a run's flags (endpoints, credentials, project)."""
    from apache_beam.options.pipeline_options import PipelineOptions

    FileSystems.set_options(PipelineOptions(list(flags)))
