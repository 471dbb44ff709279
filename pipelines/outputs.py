"""Output directories this tool owns: a marker at start, staged writes, and a commit that ends in `_SUCCESS`.

Every command that writes an output directory (run, rethreshold, tokenize, ...) follows one protocol:

1. `prepare_output` refuses an OUT that equals, contains or lies inside an input, an existing file, or a
   non-empty directory that is not an earlier output of this tool (recognised by `MARKER`); `--overwrite`
   only ever replaces an earlier output of this tool, and only the entries this tool writes. It then creates
   OUT and writes `MARKER`, which also proves OUT is writable before any compute starts.
2. Every file is written under `OUT/_temporary/` (`write_staged`, `create_staged`).
3. `commit` moves the staged files to their final names, writes `manifest.json`, and writes `_SUCCESS` last.
   On a local disk each top-level folder (`data/`, `removed/`, ...) appears with one atomic rename, so a
   reader of `OUT/data` never sees part of a run; on object stores `_SUCCESS` is the only commit signal (the
   Hadoop/Spark convention). `require_complete` refuses an OUT without it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, BinaryIO

from apache_beam.io.filesystems import FileSystems

from pipelines.io import is_remote, matched_files, open_file

MARKER = "_CURATION_OUTPUT"
SUCCESS = "_SUCCESS"
STAGING = "_temporary"
MANIFEST = "manifest.json"
TOOL = "massivetext-curation"


class OutputError(ValueError):
    """OUT cannot be used (a usage error: reported in one line, exit code 2)."""


def join(*parts: str) -> str:
    """Join path parts with '/', for local paths and object-store URLs alike."""
    return "/".join(p.strip("/") if i else p.rstrip("/") for i, p in enumerate(parts))


def _norm(path: str) -> str:
    """A comparable form of a path: absolute and normalised locally, stripped of a trailing '/' remotely."""
    return path.rstrip("/") if is_remote(path) else os.path.normpath(os.path.abspath(path))


def _inside(path: str, folder: str) -> bool:
    """Whether `path` equals `folder` or lies below it."""
    path, folder = _norm(path), _norm(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def glob_root(glob: str) -> str:
    """Folder prefix of a glob before its first wildcard (the glob itself when it has none)."""
    for i, ch in enumerate(glob):
        if ch in "*?[":
            return glob[: glob.rfind("/", 0, i) + 1] or "."
    return glob


def check_not_overlapping(out: str, input_globs: Iterable[str]) -> None:
    """Refuse an OUT that equals, contains or lies inside an input (with or without --overwrite)."""
    for glob in input_globs:
        root = glob_root(glob)
        wildcard = any(ch in glob for ch in "*?[")
        if _inside(root, out):
            raise OutputError(f"output {out} contains input {glob}: choose an OUT outside every input")
        if (not wildcard or "**" in glob or glob.endswith("/")) and _inside(out, root):
            raise OutputError(f"output {out} lies inside input {glob}: choose an OUT outside every input")
        probe = join(out, "data", "x", "part-00000-of-00001.parquet")
        if wildcard and fnmatch.fnmatch(_norm(probe), _norm(glob)):
            raise OutputError(f"input {glob} would match files written to {out}: choose another OUT")
        if not is_remote(glob):
            for path, _size in matched_files(glob):
                if _inside(path, out):
                    raise OutputError(f"output {out} contains input file {path}")


def _entries(out: str) -> list[str]:
    """Top-level entry names under OUT (empty when OUT does not exist)."""
    if not is_remote(out):
        return sorted(os.listdir(out)) if os.path.isdir(out) else []
    prefix = out.rstrip("/") + "/"
    names = {p[len(prefix) :].split("/", 1)[0] for p, _ in matched_files(prefix + "**")}
    return sorted(n for n in names if n)


def read_marker(out: str) -> dict[str, Any] | None:
    """The marker of an earlier output of this tool, or None."""
    path = join(out, MARKER)
    try:
        with open_file(path) as f:
            data = json.loads(f.read().decode("utf-8"))
    except Exception:  # noqa: BLE001 - absent or unreadable: not ours
        return None
    return data if isinstance(data, dict) and data.get("tool") == TOOL else None


def prepare_output(
    out: str,
    *,
    overwrite: bool,
    kind: str,
    inputs: Sequence[str] = (),
    owned: Sequence[str] = (),
    resume: bool = False,
    fingerprint: str | None = None,
) -> None:
    """Make OUT ready for a new run of `kind` (see the module docstring); raises OutputError.

    `owned` names the top-level entries a run of this kind writes (besides the marker, `_temporary`,
    `_SUCCESS` and the manifest): only those are removed by `--overwrite`. With `resume`, an unfinished
    earlier output of the same kind and `fingerprint` keeps its staged work.
    """
    check_not_overlapping(out, inputs)
    if not is_remote(out) and os.path.exists(out) and not os.path.isdir(out):
        raise OutputError(f"output {out} exists and is a file, not a folder")
    entries = _entries(out)
    marker = read_marker(out) if entries else None
    if resume:
        if marker is None or marker.get("kind") != kind:
            raise OutputError(f"--resume: {out} is not an unfinished {kind} output of this tool")
        if SUCCESS in entries:
            raise OutputError(f"--resume: {out} is already complete")
        if fingerprint is not None and marker.get("fingerprint") != fingerprint:
            raise OutputError(f"--resume: inputs or configuration differ from the interrupted run in {out}")
        return
    if entries:
        if marker is None:
            raise OutputError(f"output {out} is not empty and is not an output of this tool; refusing to touch it")
        if not overwrite:
            raise OutputError(f"output {out} exists (use --overwrite to replace this earlier output)")
        ours = {MARKER, SUCCESS, STAGING, MANIFEST, *owned}
        foreign = [e for e in entries if e not in ours]
        if foreign:
            raise OutputError(
                f"output {out} holds entries this tool did not write ({', '.join(foreign[:3])}); "
                "move them away or choose another OUT"
            )
        # The commit marker goes first, so an interrupted clean-up never leaves a "complete" output.
        for name in [SUCCESS, *sorted(e for e in entries if e not in (SUCCESS, MARKER)), MARKER]:
            if name in entries:
                remove_tree(join(out, name))
    _write_marker(out, kind, fingerprint)


def _write_marker(out: str, kind: str, fingerprint: str | None) -> None:
    """Create OUT and write the marker; an unwritable OUT is an OutputError."""
    data = json.dumps({"tool": TOOL, "kind": kind, "fingerprint": fingerprint}, sort_keys=True).encode()
    try:
        if not is_remote(out):
            os.makedirs(out, exist_ok=True)
        with FileSystems.create(join(out, MARKER)) as f:
            f.write(data)
    except Exception as exc:  # noqa: BLE001 - any reason it cannot be written is one line for the user
        raise OutputError(f"cannot write to output {out}: {type(exc).__name__}: {exc}".splitlines()[0]) from None


def remove_tree(path: str) -> None:
    """Delete a file or folder (local) or every object under a prefix (object stores)."""
    if not is_remote(path):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)
        return
    paths = [p for p, _ in matched_files(path.rstrip("/") + "/**")] + [p for p, _ in matched_files(path)]
    if paths:
        FileSystems.delete(sorted(set(paths)))


def staged_path(out: str, relpath: str) -> str:
    """Where `relpath` is written before the commit."""
    return join(out, STAGING, relpath)


class HashingWriter:
    """A write-only file wrapper that counts bytes and computes sha256 on the way (for manifest entries)."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.sha = hashlib.sha256()
        self.nbytes = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.nbytes += len(data)
        self.raw.write(data)
        return len(data)

    def tell(self) -> int:
        return self.nbytes

    def flush(self) -> None:
        self.raw.flush()

    def close(self) -> None:
        self.raw.close()

    @property
    def closed(self) -> bool:
        return bool(getattr(self.raw, "closed", False))

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False


def create_file(path: str) -> BinaryIO:
    """Open a new file for writing on any filesystem (local parent folders created)."""
    if not is_remote(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return open(path, "wb")  # noqa: SIM115 - the caller closes it
    return FileSystems.create(path)


def write_file(path: str, data: bytes) -> dict[str, Any]:
    """Write a whole file; describe it as {bytes, sha256}."""
    with create_file(path) as f:
        f.write(data)
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def write_staged(out: str, relpath: str, data: bytes) -> dict[str, Any]:
    """Write one file under OUT/_temporary; returns its manifest entry {path, bytes, sha256}."""
    return {"path": relpath, **write_file(staged_path(out, relpath), data)}


def _move(src: str, dst: str) -> None:
    """Move one file or (local) folder into place, replacing what is there."""
    if not is_remote(src):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.isdir(dst) and not os.path.islink(dst):
            shutil.rmtree(dst)
        os.replace(src, dst)
        return
    FileSystems.rename([src], [dst])


def commit(
    out: str, entries: Sequence[Mapping[str, Any]], manifest: Mapping[str, Any], also_move: Sequence[str] = ()
) -> None:
    """Move staged files to their final names, write manifest.json, then `_SUCCESS`; clear the staging area.

    `entries` are the manifest entries of the staged shards (their `path` is relative to OUT); `also_move`
    names other staged files (e.g. stats.json) that are committed but not listed. Local folders move with one
    rename per top-level folder; loose top-level files move one by one.
    """
    paths = sorted({e["path"] for e in entries} | set(also_move))
    if not is_remote(out):
        tops = sorted({p.split("/", 1)[0] for p in paths})
        for top in tops:
            src = staged_path(out, top)
            if os.path.exists(src):
                _move(src, join(out, top))
    else:
        for path in paths:
            _move(staged_path(out, path), join(out, path))
    body = {"shards": sorted((dict(e) for e in entries), key=lambda e: e["path"]), **manifest}
    write_file(join(out, MANIFEST), (json.dumps(body, indent=2, sort_keys=True, default=str) + "\n").encode())
    # Not empty: Beam's S3 filesystem cannot write a zero-byte object (an upload with no parts).
    write_file(join(out, SUCCESS), json.dumps({"tool": TOOL, "files": len(entries)}).encode() + b"\n")
    remove_tree(join(out, STAGING))


def is_complete(out: str) -> bool:
    """Whether OUT holds a committed output (its `_SUCCESS` marker)."""
    return FileSystems.exists(join(out, SUCCESS))


def require_complete(out: str) -> None:
    """Raise OutputError unless OUT is a finished (committed) output of this tool."""
    if not FileSystems.exists(join(out, MANIFEST)) and not FileSystems.exists(join(out, MARKER)):
        raise OutputError(f"{out} is not an output of this tool (no {MANIFEST})")
    if not is_complete(out):
        raise OutputError(f"{out} is an unfinished output (no {SUCCESS}: the run did not complete); re-run it")


def read_manifest(out: str) -> dict[str, Any]:
    """The manifest of a finished output (raises OutputError when unfinished or unreadable)."""
    require_complete(out)
    try:
        with open_file(join(out, MANIFEST)) as f:
            return json.loads(f.read().decode("utf-8"))
    except Exception as exc:  # noqa: BLE001
        raise OutputError(f"cannot read {join(out, MANIFEST)}: {type(exc).__name__}: {exc}") from None
