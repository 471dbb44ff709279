"""Source code: repository archives (.tar.gz/.tgz/.tar/.zip, one document per file) and loose source files.

Each document carries `meta.path` (inside the repository), `meta.language` (extension / file-name map),
`meta.repo` and `meta.license` (SPDX ids detected from the repository's LICENSE/COPYING files).
Binary, vendored and oversize files are counted skips (`read.binary`, `read.vendored`, `read.too_large`);
links are `read.link`; member names that would escape the archive root are Failures (never extracted).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from curation.readers.archive import Member, OpenArchive, clean_name, common_top_dir, open_archive, unsafe_name
from curation.readers.base import Format, ReadContext, SourceFile
from curation.readers.source import read_with
from curation.schema import Document, Failure

# File name (exact) -> language.
FILENAME_LANGUAGES: dict[str, str] = {
    "makefile": "Makefile",
    "gnumakefile": "Makefile",
    "dockerfile": "Dockerfile",
    "containerfile": "Dockerfile",
    "cmakelists.txt": "CMake",
    "rakefile": "Ruby",
    "gemfile": "Ruby",
    "vagrantfile": "Ruby",
    "podfile": "Ruby",
    "jenkinsfile": "Groovy",
    "build": "Starlark",
    "workspace": "Starlark",
    ".bashrc": "Shell",
    ".zshrc": "Shell",
    ".profile": "Shell",
    ".gitignore": "Ignore List",
    ".dockerignore": "Ignore List",
    ".gitattributes": "Git Attributes",
    ".editorconfig": "EditorConfig",
    "cargo.lock": "TOML",
    "go.mod": "Go Module",
    "go.sum": "Go Checksums",
    "license": "Text",
    "licence": "Text",
    "copying": "Text",
    "readme": "Text",
    "authors": "Text",
    "notice": "Text",
    "changelog": "Text",
    "manifest.in": "Text",
    "requirements.txt": "Pip Requirements",
    ".env": "Dotenv",
}
# Extension (lower case, with dot) -> language (GitHub Linguist names).
EXTENSION_LANGUAGES: dict[str, str] = {
    ".py": "Python",
    ".pyi": "Python",
    ".pyx": "Cython",
    ".pxd": "Cython",
    ".ipynb": "Jupyter Notebook",
    ".c": "C",
    ".h": "C",
    ".cc": "C++",
    ".cpp": "C++",
    ".cxx": "C++",
    ".hpp": "C++",
    ".hh": "C++",
    ".hxx": "C++",
    ".cs": "C#",
    ".java": "Java",
    ".kt": "Kotlin",
    ".kts": "Kotlin",
    ".scala": "Scala",
    ".groovy": "Groovy",
    ".go": "Go",
    ".rs": "Rust",
    ".swift": "Swift",
    ".m": "Objective-C",
    ".mm": "Objective-C++",
    ".js": "JavaScript",
    ".mjs": "JavaScript",
    ".cjs": "JavaScript",
    ".jsx": "JavaScript",
    ".ts": "TypeScript",
    ".tsx": "TypeScript",
    ".vue": "Vue",
    ".svelte": "Svelte",
    ".php": "PHP",
    ".rb": "Ruby",
    ".pl": "Perl",
    ".pm": "Perl",
    ".t": "Perl",
    ".lua": "Lua",
    ".r": "R",
    ".jl": "Julia",
    ".hs": "Haskell",
    ".lhs": "Haskell",
    ".ml": "OCaml",
    ".mli": "OCaml",
    ".fs": "F#",
    ".fsx": "F#",
    ".erl": "Erlang",
    ".hrl": "Erlang",
    ".ex": "Elixir",
    ".exs": "Elixir",
    ".clj": "Clojure",
    ".cljs": "Clojure",
    ".cljc": "Clojure",
    ".edn": "Clojure",
    ".lisp": "Common Lisp",
    ".el": "Emacs Lisp",
    ".scm": "Scheme",
    ".rkt": "Racket",
    ".dart": "Dart",
    ".f": "Fortran",
    ".f90": "Fortran",
    ".f95": "Fortran",
    ".f03": "Fortran",
    ".for": "Fortran",
    ".sh": "Shell",
    ".bash": "Shell",
    ".zsh": "Shell",
    ".fish": "fish",
    ".ps1": "PowerShell",
    ".bat": "Batchfile",
    ".cmd": "Batchfile",
    ".sql": "SQL",
    ".html": "HTML",
    ".htm": "HTML",
    ".css": "CSS",
    ".scss": "SCSS",
    ".sass": "Sass",
    ".less": "Less",
    ".json": "JSON",
    ".jsonc": "JSON with Comments",
    ".yaml": "YAML",
    ".yml": "YAML",
    ".toml": "TOML",
    ".xml": "XML",
    ".ini": "INI",
    ".cfg": "INI",
    ".md": "Markdown",
    ".markdown": "Markdown",
    ".mdown": "Markdown",
    ".rst": "reStructuredText",
    ".tex": "TeX",
    ".txt": "Text",
    ".proto": "Protocol Buffer",
    ".graphql": "GraphQL",
    ".mk": "Makefile",
    ".cmake": "CMake",
    ".gradle": "Gradle",
    ".zig": "Zig",
    ".nim": "Nim",
    ".v": "Verilog",
    ".sv": "SystemVerilog",
    ".vhd": "VHDL",
    ".asm": "Assembly",
    ".s": "Assembly",
    ".cu": "Cuda",
    ".sol": "Solidity",
    ".tf": "HCL",
    ".nix": "Nix",
    ".vim": "Vim Script",
    ".dockerfile": "Dockerfile",
    ".svg": "SVG",
    ".csv": "CSV",
}
# Formats that are binary by construction: skipped without looking at the bytes.
BINARY_EXTENSIONS = frozenset(
    [
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".bmp",
        ".ico",
        ".icns",
        ".webp",
        ".tiff",
        ".psd",
        ".pdf",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".zst",
        ".7z",
        ".rar",
        ".tar",
        ".jar",
        ".war",
        ".class",
        ".so",
        ".dll",
        ".dylib",
        ".exe",
        ".o",
        ".a",
        ".lib",
        ".obj",
        ".pyc",
        ".pyo",
        ".whl",
        ".egg",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".mp3",
        ".mp4",
        ".wav",
        ".ogg",
        ".flac",
        ".avi",
        ".mov",
        ".mkv",
        ".webm",
        ".sqlite",
        ".db",
        ".bin",
        ".dat",
        ".npy",
        ".npz",
        ".pkl",
        ".pt",
        ".onnx",
        ".h5",
        ".parquet",
    ]
)
# License file names (lower case, without extension) and the phrases that identify SPDX licenses
# (first matching rule wins; a license may have several rules).
_LICENSE_STEMS = ("license", "licence", "copying", "unlicense")
_LICENSE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("AGPL-3.0", ("gnu affero general public license",)),
    ("LGPL-3.0", ("gnu lesser general public license", "version 3")),
    ("LGPL-2.1", ("gnu lesser general public license", "version 2.1")),
    ("GPL-3.0", ("gnu general public license", "version 3")),
    ("GPL-2.0", ("gnu general public license", "version 2")),
    ("Apache-2.0", ("apache license", "version 2.0")),
    ("Apache-2.0", ("www.apache.org/licenses/", "version 2.0", "terms and conditions for use, reproduction")),
    ("MPL-2.0", ("mozilla public license", "2.0")),
    ("BSD-3-Clause", ("redistribution and use in source and binary forms", "neither the name")),
    ("BSD-2-Clause", ("redistribution and use in source and binary forms",)),
    ("MIT", ("permission is hereby granted, free of charge",)),
    ("ISC", ("permission to use, copy, modify, and/or distribute this software for any purpose",)),
    ("Unlicense", ("this is free and unencumbered software released into the public domain",)),
    ("CC0-1.0", ("cc0 1.0 universal",)),
    ("BSL-1.0", ("boost software license",)),
    ("Zlib", ("this software is provided 'as-is', without any express or implied",)),
)
_WS = re.compile(r"\s+")


def detect_language(path: str) -> str | None:
    """Programming/markup language from the file name, else from the extension (None if unknown)."""
    name = posixpath.basename(path).lower()
    if name in FILENAME_LANGUAGES:
        return FILENAME_LANGUAGES[name]
    if name.startswith(".env"):
        return "Dotenv"
    stem, ext = posixpath.splitext(name)
    if ext in EXTENSION_LANGUAGES:
        return EXTENSION_LANGUAGES[ext]
    return FILENAME_LANGUAGES.get(stem)


def detect_license(text: str) -> str | None:
    """SPDX id of a license text by its characteristic phrases ('unknown' when none matches)."""
    flat = _WS.sub(" ", text.lower()).replace("’", "'")
    for spdx, phrases in _LICENSE_RULES:
        if all(p in flat for p in phrases):
            return spdx
    return "unknown" if flat.strip() else None


def is_license_file(path: str) -> bool:
    """A top-level LICENSE / LICENCE / COPYING file (any extension or suffix like LICENSE-MIT)."""
    name = posixpath.basename(path).lower()
    return "/" not in path and name.startswith(_LICENSE_STEMS)


def decode_code(data: bytes) -> tuple[str, str] | None:
    """Text of a source file, or None when it looks binary (NUL byte, or >1% control bytes and not UTF-8)."""
    head = data[:8000]
    if b"\x00" in head:
        return None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    if head and controls / len(head) > 0.01:
        return None
    return data.decode("cp1252", "replace"), "cp1252"


def vendored_part(path: str, vendored_dirs: frozenset[str]) -> str | None:
    """The vendored directory component of `path`, if any (node_modules, vendor, .git, ...)."""
    parts = path.split("/")[:-1]
    return next((p for p in parts if p in vendored_dirs), None)


def max_file_bytes(ctx: ReadContext) -> int:
    """The size cap for one source file: `readers.code.max_file_bytes`, never above `readers.max_document_bytes`."""
    return min(int(ctx.options["code"]["max_file_bytes"]), ctx.max_document_bytes)


def code_document(
    data: bytes | None,
    size: int,
    path: str,
    ctx: ReadContext,
    position: int | str,
    repo: str | None,
    license_id: str | None,
) -> Document:
    """One source file -> a Document, or a counted skip (binary, vendored, too large)."""
    meta: dict[str, Any] = {
        "path": path,
        "language": detect_language(path),
        "repo": repo,
        "license": license_id,
        "nbytes": size,
    }
    doc = Document(id=ctx.doc_id(position), source=ctx.file.source, text="", title=path, meta=meta)
    vendored = vendored_part(path, frozenset(ctx.options["code"]["vendored_dirs"]))
    if vendored is not None:
        doc.reason = "read.vendored"
        meta["vendored_dir"] = vendored
    elif posixpath.splitext(path.lower())[1] in BINARY_EXTENSIONS:
        doc.reason = "read.binary"
    elif size > max_file_bytes(ctx):
        doc.reason = "read.too_large"
    elif data is not None:
        decoded = decode_code(data)
        if decoded is None:
            doc.reason = "read.binary"
        else:
            doc.text, meta["encoding"] = decoded
            if not doc.text.strip():
                doc.reason = "read.empty"
    return doc


def _needs_bytes(path: str, size: int, ctx: ReadContext) -> bool:
    """Whether a member must be read at all (vendored / binary-by-name / oversize files are not)."""
    return (
        vendored_part(path, frozenset(ctx.options["code"]["vendored_dirs"])) is None
        and posixpath.splitext(path.lower())[1] not in BINARY_EXTENSIONS
        and size <= max_file_bytes(ctx)
    )


def _repo_name(file: SourceFile, top: str | None) -> str:
    """The repository name: the archive's single top directory, else the archive file name without suffix."""
    if top:
        return top
    name = posixpath.basename(file.relpath)
    for suffix in (".tar.gz", ".tar.bz2", ".tar.zst", ".tgz", ".tbz2", ".tar", ".zip"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _license(archive: OpenArchive, safe: list[Member], names: list[str], strip: int) -> str | None:
    """SPDX id(s) from the repository's top-level licence files (`A OR B`; 'unknown'; None without one)."""
    licenses: set[str] = set()
    for member, name in zip(safe, names, strict=True):
        if member.kind == "file" and is_license_file(name[strip:]) and member.size <= 1_000_000:
            found = detect_license(archive.read(member, 1_000_000).decode("utf-8", "replace"))
            if found:
                licenses.add(found)
    known = sorted(licenses - {"unknown"})
    return " OR ".join(known) if known else ("unknown" if licenses else None)


def archive_records(stream: BinaryIO, ctx: ReadContext) -> Iterator[Document | Failure]:
    """One repository archive -> one document per regular file (position = member path), license attached."""
    archive = open_archive(stream, ctx)
    try:
        members = list(archive.members())
        safe = [m for m in members if not unsafe_name(m.name)]
        names = [clean_name(m.name) for m in safe]
        top = common_top_dir(names)
        strip = len(top) + 1 if top else 0
        license_id = _license(archive, safe, names, strip)
        repo = _repo_name(ctx.file, top)
        for member in members:
            if unsafe_name(member.name):
                yield ctx.failure("member", member.name, "unsafe member path (outside the archive root); not read")
                continue
            name = clean_name(member.name)
            inner = name[strip:] if top else name
            if member.kind == "dir" or not inner:
                continue
            ctx.resume_at("member", name)
            if member.kind != "file":
                yield Document(
                    id=ctx.doc_id(name),
                    source=ctx.file.source,
                    text="",
                    title=inner,
                    meta={"path": inner, "repo": repo, "kind": member.kind},
                    reason="read.link",
                )
                continue
            try:
                data = archive.read(member, member.size) if _needs_bytes(inner, member.size, ctx) else None
            except Exception as exc:  # noqa: BLE001 - a corrupt member (bad zip CRC, truncated tar)
                yield ctx.error("member", name, exc)
                continue
            yield code_document(data, member.size, inner, ctx, name, repo, license_id)
    finally:
        archive.close()


def file_records(stream: BinaryIO, ctx: ReadContext) -> Iterator[Document | Failure]:
    """One loose source file (e.g. a checked-out tree matched by a glob) -> one document; no repo/license."""
    limit = max_file_bytes(ctx)
    data = stream.read(limit + 1)
    size = len(data)
    while len(chunk := stream.read(1 << 20)) > 0:  # drain an oversize file without keeping it
        size += len(chunk)
    if size == 0:
        yield ctx.failure("byte", 0, "empty file")
        return
    keep = data if _needs_bytes(ctx.file.relpath, size, ctx) else None
    yield code_document(keep, size, ctx.file.relpath, ctx, 0, None, None)


ARCHIVE = Format("code_archive", records=archive_records, raw=True, label="member")
FILE = Format("code_file", records=file_records, raw=True)


def read_code_archive(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """One repository archive -> one document per regular file (position = member path), license attached."""
    return read_with(ARCHIVE, stream, file, options)


def read_code_file(
    stream: BinaryIO, file: SourceFile, options: Mapping[str, Any] | None = None
) -> Iterator[Document | Failure]:
    """One loose source file (e.g. a checked-out tree matched by a glob) -> one document; no repo/license."""
    return read_with(FILE, stream, file, options)
