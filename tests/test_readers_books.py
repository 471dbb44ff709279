"""Books reader: Project Gutenberg header/footer removal on the real sample books, archives of books, bad input."""

from __future__ import annotations

import gzip
import io
import random
import zipfile
from pathlib import Path

import pytest
from archive_helpers import tar_gz
from shared_data import SHARED_DATA

from curation.readers import detect_format
from curation.readers.base import SourceFile
from curation.readers.books import read_books
from curation.readers.gutenberg import strip_gutenberg
from curation.sample import sample_dir
from curation.schema import Document, Failure

DATA = Path(__file__).parent / "data" / "readers" / "books"
SHARED = SHARED_DATA / "books" / "gutenberg"
SAMPLE = Path(sample_dir()) / "books"


def read(name: str, data: bytes, options: dict | None = None) -> list[Document | Failure]:
    """Everything read_books yields for `data` stored under file name `name`."""
    return list(read_books(io.BytesIO(data), SourceFile(name, name, "books", "books"), options))


def test_gutenberg_book_starts_after_header_and_ends_before_license():
    [doc] = read("pg42.txt.gz", (DATA / "pg42.txt.gz").read_bytes())
    assert doc.title == "Dr. Jekyll and Mr. Hyde"
    assert doc.meta["author"] == "Robert Louis Stevenson"
    assert doc.id == "books/pg42.txt.gz#0"
    assert "Project Gutenberg" not in doc.text[-2000:]
    assert "START OF" not in doc.text and "END OF" not in doc.text
    assert "STORY OF THE DOOR" in doc.text[:3000]
    assert doc.text.rstrip().endswith("I bring the life of\nthat unhappy Henry Jekyll to an end.")
    assert "\r" not in doc.text


@pytest.mark.corpus
def test_every_corpus_book_loses_its_boilerplate():
    books = sorted(SHARED.glob("*.txt.gz"))
    assert len(books) == 16
    for path in books:
        raw = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        [doc] = read(path.name, path.read_bytes())
        assert isinstance(doc, Document), path.name
        assert "*** START OF" not in doc.text and "*** END OF" not in doc.text.upper(), path.name
        assert "Project Gutenberg License" not in doc.text, path.name
        assert len(doc.text) > 0.85 * len(raw.replace("\r\n", "\n")) - 25_000, path.name  # header+license ~20 kB


@pytest.mark.corpus
def test_title_with_continuation_line():
    [jane] = read("pg1260.txt.gz", (SHARED / "pg1260.txt.gz").read_bytes())
    assert jane.title == "Jane Eyre an Autobiography" and jane.meta["author"] == "Charlotte Bronte"


def test_testing_author_and_missing_title():
    [copy] = read("106.txt.gz", (SAMPLE / "106.txt.gz").read_bytes())
    [orig] = read("105.txt.gz", (SAMPLE / "105.txt.gz").read_bytes())
    assert copy.meta["author"] == "TESTING" and copy.title is None
    assert copy.text == orig.text  # identical bodies once the differing header is gone


def test_plain_text_without_gutenberg_markers_is_unchanged():
    body = "Chapter 1\n\nIt was a dark and stormy night.\n"
    [doc] = read("novel.txt", body.encode())
    assert doc.text == body.strip() and doc.title is None
    assert strip_gutenberg(body) == (body, {})


def test_tar_archive_of_books_one_document_per_text_member():
    jekyll = gzip.decompress((DATA / "pg42.txt.gz").read_bytes())
    data = tar_gz({"shelf/pg42.txt": jekyll, "shelf/MANIFEST.csv": b"a,b\n", "shelf/other.txt": b"Short story."})
    items = read("shelf.tar.gz", data)
    assert [d.id for d in items] == ["books/shelf.tar.gz#shelf/pg42.txt", "books/shelf.tar.gz#shelf/other.txt"]
    assert items[0].title == "Dr. Jekyll and Mr. Hyde"
    assert detect_format("shelf.tar.gz", "books") == "books"
    assert detect_format("x/pg42.txt.gz", "books") == "books"


def test_zip_archive_with_escaping_member_names():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("../../evil.txt", "escape")
        zf.writestr("good.txt", "A good book.")
    items = read("books.zip", out.getvalue())
    assert isinstance(items[0], Failure) and items[0].source_location == "books.zip:member=../../evil.txt"
    assert isinstance(items[1], Document) and items[1].text == "A good book."


def test_truncated_gz_and_empty_files_are_failures():
    data = (DATA / "pg42.txt.gz").read_bytes()
    [cut] = read("pg42.txt.gz", data[: len(data) // 2])
    assert isinstance(cut, Failure) and cut.source_location == "pg42.txt.gz:byte=0"
    for name, payload in [("empty.txt", b""), ("empty.txt.gz", gzip.compress(b"")), ("blank.txt", b"\n \r\n")]:
        [item] = read(name, payload)
        assert isinstance(item, Failure) and "empty" in item.error
    noise = random.Random(0).randbytes(20_000)  # incompressible, so the cut lands inside the member
    [bad_tar] = read("broken.tar.gz", tar_gz({"a.txt": noise})[:10_000])
    assert isinstance(bad_tar, Failure)


def test_fifty_megabyte_book_is_skipped_with_bounded_memory(tmp_path):
    import tracemalloc

    path = tmp_path / "huge.txt"
    line = b"All work and no play makes Jack a dull boy.\n"
    with path.open("wb") as fh:
        fh.write(line * (50_000_000 // len(line) + 1))
    tracemalloc.start()
    with path.open("rb") as fh:
        [item] = list(read_books(fh, SourceFile(str(path), "huge.txt", "books", "books")))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert item.reason == "read.too_large" and item.meta["nbytes"] > 50_000_000
    assert peak < 40_000_000  # the 16 MiB cap plus one read buffer, not the whole file
    with path.open("rb") as fh:  # with a higher limit the same file is one document
        [doc] = list(
            read_books(fh, SourceFile(str(path), "huge.txt", "books", "books"), {"max_document_bytes": 60_000_000})
        )
    assert doc.reason is None and len(doc.text) > 49_000_000
