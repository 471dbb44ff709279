"""ReadDocuments: match input globs at run time and read each file with the reader for its format."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from curation.readers import SourceFile, UnknownFormatError, detect_format, reader_with_options
from curation.schema import Document, Failure

_WILDCARD = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class InputSpec:
    """One `--input SOURCE[:FORMAT]=GLOB`."""

    source: str
    glob: str
    format: str | None = None


def glob_root(glob: str) -> str:
    """Directory prefix of a glob before its first wildcard; ids are made relative to it."""
    m = _WILDCARD.search(glob)
    head = glob[: m.start()] if m else glob
    cut = head.rfind("/")
    return head[: cut + 1] if cut >= 0 else ""


def relative_path(path: str, root: str) -> str:
    """`path` relative to the glob root, falling back to the file name."""
    if root and path.startswith(root):
        return path[len(root) :] or path.rsplit("/", 1)[-1]
    return path.rsplit("/", 1)[-1]


def read_file(path: str, spec: InputSpec, options: Mapping[str, Any] | None = None) -> Iterator[Document | Failure]:
    """Read one matched file with its format's reader; any error becomes a Failure, never a crash."""
    root = glob_root(spec.glob)
    try:
        fmt = spec.format or detect_format(path, spec.source)
        reader = reader_with_options(fmt, options)
    except UnknownFormatError as exc:
        yield Failure(spec.source, f"{path}:0", str(exc), "read")
        return
    file = SourceFile(path=path, relpath=relative_path(path, root), source=spec.source, format=fmt)
    produced = 0
    try:
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as stream:
            for record in reader(stream, file):
                produced += 1
                yield record
    except Exception as exc:  # noqa: BLE001 - dead-letter, with where it stopped
        yield Failure(spec.source, f"{path}:record={produced + 1}", f"{type(exc).__name__}: {exc}", "read")


class ReadDocuments(beam.PTransform):
    """All inputs -> one PCollection of Document | Failure (splittable by file across workers)."""

    def __init__(self, inputs: list[InputSpec], reader_options: Mapping[str, Any] | None = None):
        super().__init__()
        self.inputs = inputs
        self.reader_options = reader_options

    def expand(self, pbegin):
        streams = []
        for i, spec in enumerate(self.inputs):
            streams.append(
                pbegin
                | f"Match[{i}] {spec.source}" >> fileio.MatchFiles(spec.glob)
                | f"Paths[{i}]" >> beam.Map(lambda meta: meta.path)
                | f"Spread[{i}]" >> beam.Reshuffle()
                | f"Read[{i}]" >> beam.FlatMap(read_file, spec, self.reader_options)
            )
        return streams | "AllInputs" >> beam.Flatten()
