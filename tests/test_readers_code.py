"""Code reader: real repository tarballs, license detection, skips with reasons, zip-slip and bad archives."""

from __future__ import annotations

import io
import random
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from archive_helpers import tar_gz
from shared_data import SHARED_DATA

from curation.readers import detect_format
from curation.readers.base import SourceFile
from curation.readers.code import detect_language, detect_license, read_code_archive, read_code_file
from curation.sample import sample_dir
from curation.schema import Document, Failure

DATA = Path(__file__).parent / "data" / "readers" / "code"
SHARED = SHARED_DATA / "code"
SAMPLE = Path(sample_dir()) / "code"
REPO = Path(__file__).resolve().parents[1]


def read(name: str, data: bytes, options: dict | None = None) -> list[Document | Failure]:
    """Everything read_code_archive yields for `data` stored under file name `name`."""
    return list(read_code_archive(io.BytesIO(data), SourceFile(name, name, "code", "code_archive"), options))


def outcomes(items: list[Document | Failure]) -> Counter:
    """Count by 'failure', skip reason, or 'file'."""
    return Counter("failure" if isinstance(i, Failure) else (i.reason or "file") for i in items)


def test_go_repository_tarball():
    items = read("go-isatty-9a68506e2394.tar.gz", (DATA / "go-isatty-9a68506e2394.tar.gz").read_bytes())
    assert outcomes(items) == {"file": 17}  # 17 files in the tree (MANIFEST), directories are not documents
    by_path = {d.meta["path"]: d for d in items}
    doc = by_path["isatty_bsd.go"]
    assert doc.meta["language"] == "Go" and doc.meta["repo"] == "go-isatty" and doc.meta["license"] == "MIT"
    assert doc.id == "code/go-isatty-9a68506e2394.tar.gz#go-isatty/isatty_bsd.go"
    assert doc.text.startswith("//go:build")
    assert by_path[".github/workflows/test.yml"].meta["language"] == "YAML"
    assert by_path["go.test.sh"].meta["language"] == "Shell"


@pytest.mark.corpus
def test_dual_licensed_rust_repo_with_images():
    items = read("itoa.tar.gz", (SHARED / "repos" / "itoa-1577ed901354.tar.gz").read_bytes())
    assert outcomes(items) == {"file": 14, "read.binary": 2}
    assert {d.meta["path"] for d in items if d.reason == "read.binary"} == {"itoa-benchmark.png", "performance.png"}
    assert all(d.meta["license"] == "Apache-2.0 OR MIT" for d in items)
    assert next(d for d in items if d.meta["path"] == "src/lib.rs").meta["language"] == "Rust"


def test_bsd_python_repo():
    items = read("markupsafe.tar.gz", (SAMPLE / "markupsafe-1251593f6b0e.tar.gz").read_bytes())
    assert sum(outcomes(items).values()) == 46
    assert {d.meta["license"] for d in items} == {"BSD-3-Clause"}
    init = next(d for d in items if d.meta["path"] == "src/markupsafe/__init__.py")
    assert init.meta["language"] == "Python" and "class Markup(str)" in init.text


def test_vendored_oversize_binary_and_links_are_counted_skips():
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in {
            "repo/main.py": b"print('hi')\n",
            "repo/node_modules/left-pad/index.js": b"module.exports = 1\n",
            "repo/vendor/lib.go": b"package lib\n",
            "repo/.git/config": b"[core]\n",
            "repo/big.py": b"x = 1\n" * 300_000,
            "repo/blob.dat2": b"\x00\x01binary\x00" * 10,
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("repo/link.py")
        link.type, link.linkname = tarfile.SYMTYPE, "main.py"
        tar.addfile(link)
    items = read("repo.tar.gz", out.getvalue())
    reasons = {d.meta["path"]: d.reason for d in items}
    assert reasons == {
        "main.py": None,
        "node_modules/left-pad/index.js": "read.vendored",
        "vendor/lib.go": "read.vendored",
        ".git/config": "read.vendored",
        "big.py": "read.too_large",
        "blob.dat2": "read.binary",
        "link.py": "read.link",
    }
    assert all(d.text == "" for d in items if d.reason)
    assert next(d for d in items if d.reason is None).meta["license"] is None  # no LICENSE file


def test_zip_slip_members_are_failures_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("proj/../../evil.py", "import os\n")
        zf.writestr("/etc/cron.d/evil", "* * * * * root true\n")
        zf.writestr("proj/ok.py", "print('ok')\n")
        zf.writestr("proj/LICENSE", "Permission is hereby granted, free of charge, to any person ...")
    items = read("proj.zip", out.getvalue())
    failures = [i for i in items if isinstance(i, Failure)]
    assert [f.source_location for f in failures] == [
        "proj.zip:member=proj/../../evil.py",
        "proj.zip:member=/etc/cron.d/evil",
    ]
    ok = next(d for d in items if isinstance(d, Document) and d.meta["path"] == "ok.py")
    assert ok.meta["license"] == "MIT" and ok.meta["repo"] == "proj"
    assert list(tmp_path.rglob("*")) == [] and not (tmp_path.parent / "evil.py").exists()


def test_truncated_empty_and_non_archives_are_failures():
    noise = random.Random(0).randbytes(50_000)
    data = tar_gz({"r/a.bin.txt": noise, "r/b.py": b"x = 1\n"})
    assert outcomes(read("cut.tar.gz", data[: len(data) // 2])) == {"failure": 1}
    assert outcomes(read("empty.tar.gz", b"")) == {"failure": 1}
    assert outcomes(read("empty.zip", b"")) == {"failure": 1}
    assert outcomes(read("junk.zip", b"PK\x03\x04 not really")) == {"failure": 1}


def test_archive_over_the_cap_is_a_failure():
    data = tar_gz({"r/a.py": b"x = 1\n" * 10_000})
    [item] = read("r.tar.gz", data, {"max_archive_bytes": 10_000})
    assert isinstance(item, Failure) and "max_archive_bytes" in item.error


def test_fifty_megabyte_member_is_skipped_without_reading(tmp_path):
    path = tmp_path / "big.tar"
    with tarfile.open(path, "w") as tar:
        big = tmp_path / "data.sql"
        big.write_bytes(b"INSERT INTO t VALUES (1);\n" * 2_000_000)
        tar.add(big, arcname="r/dump.sql")
        small = tmp_path / "a.py"
        small.write_bytes(b"print(1)\n")
        tar.add(small, arcname="r/a.py")
    with path.open("rb") as fh:
        items = list(read_code_archive(fh, SourceFile(str(path), "big.tar", "code", "code_archive")))
    assert [(d.meta["path"], d.reason) for d in items] == [("dump.sql", "read.too_large"), ("a.py", None)]
    assert items[0].meta["nbytes"] == 52_000_000


@pytest.mark.corpus
def test_loose_linguist_files():
    root = SHARED / "linguist" / "samples"
    counts: Counter = Counter()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = str(path.relative_to(root))
        fmt = detect_format(rel, "code")
        assert fmt == "code_file"
        with path.open("rb") as fh:
            [doc] = list(read_code_file(fh, SourceFile(str(path), rel, "code", fmt)))
        counts[doc.reason] += 1
        suffix = path.suffix
        if doc.reason is None and suffix in (".py", ".go", ".rs", ".c", ".js", ".java", ".rb", ".hs"):
            assert doc.meta["language"] == rel.split("/")[0], rel  # linguist's folder names the language
    assert sum(counts.values()) == 400
    assert counts == {None: 400}  # every sample is a text file under the 1 MB limit (largest: 668 kB)


def test_language_and_license_detection():
    assert detect_language("src/main.rs") == "Rust"
    assert detect_language("Makefile") == "Makefile" and detect_language("a/Dockerfile") == "Dockerfile"
    assert detect_language(".env.example") == "Dotenv"
    assert detect_language("weird.unknownext") is None
    assert detect_license((REPO / "LICENSE").read_text()) == "Apache-2.0"
    with tarfile.open(DATA / "go-isatty-9a68506e2394.tar.gz") as tar:
        mit = tar.extractfile("go-isatty/LICENSE").read().decode()
    assert detect_license(mit) == "MIT"
    assert detect_license("All rights reserved.") == "unknown"
    assert detect_format("x/repo.tgz") == "code_archive" and detect_format("x/repo.zip") == "code_archive"
