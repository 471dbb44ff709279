"""Plain-text, one-per-line (Lee news .cor) and HTML-file readers, robust decoding, and the format registry."""

from __future__ import annotations

import gzip
import io
import tracemalloc
from pathlib import Path

import pytest

from curation.readers import READERS, detect_format, get_reader, reader_with_options
from curation.readers.base import SourceFile
from curation.readers.html import decode_html, page_url, read_html
from curation.readers.text import read_lines, read_text
from curation.sample import sample_dir
from curation.schema import Document, Failure

DATA = Path(__file__).parent / "data" / "readers"
LEE_BACKGROUND = Path(sample_dir()) / "news" / "lee_background.cor.gz"  # bundled with the demo


def run(reader, name: str, data: bytes, options: dict | None = None) -> list[Document | Failure]:
    """Everything `reader` yields for `data` stored under file name `name`."""
    return list(reader(io.BytesIO(data), SourceFile(name, name, "news", "x"), options))


def test_lee_corpus_one_document_per_line():
    docs = run(read_lines, "lee.cor", (DATA / "news" / "lee.cor").read_bytes())
    assert len(docs) == 50 and all(isinstance(d, Document) for d in docs)
    assert docs[0].id == "news/lee.cor#1" and docs[49].id == "news/lee.cor#50"
    assert docs[0].text.startswith("The national executive of the strife-torn Democrats last night appointed")
    background = run(read_lines, "lee_background.cor", gzip.decompress(LEE_BACKGROUND.read_bytes()))
    assert len(background) == 300


def test_lines_truncated_gzip_keeps_earlier_lines():
    data = LEE_BACKGROUND.read_bytes()  # 360 kB, 300 lines, gzip-compressed
    items = run(read_lines, "lee.cor.gz", data[: len(data) // 2])
    assert isinstance(items[-1], Failure) and 50 < len(items) < 300
    assert items[-1].source_location.startswith("lee.cor.gz:")


def test_fifty_megabyte_single_line_is_skipped_and_next_line_read(tmp_path):
    path = tmp_path / "huge.cor"
    with path.open("wb") as fh:
        fh.write(b"word " * 10_000_000 + b"\nsecond line\n")
    tracemalloc.start()
    with path.open("rb") as fh:
        items = list(read_lines(fh, SourceFile(str(path), "huge.cor", "news", "lines")))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [(d.reason, d.text) for d in items] == [("read.too_large", ""), (None, "second line")]
    assert items[0].meta["nbytes"] == 50_000_001 and items[1].id.endswith("#2")
    assert peak < 45_000_000


def test_text_file_encodings_and_empty():
    [utf16] = run(read_text, "a.txt", "Grüße aus Köln\r\n".encode("utf-16"))
    assert utf16.text == "Grüße aus Köln"
    [latin] = run(read_text, "b.txt", "café olé".encode("cp1252"))
    assert latin.text == "café olé" and latin.meta["encoding"] == "cp1252"
    for name, data in [("e.txt", b""), ("e.cor", b""), ("e.txt.gz", gzip.compress(b""))]:
        items = run(read_lines if name.endswith(".cor") else read_text, name, data)
        assert len(items) == 1 and isinstance(items[0], Failure) and "empty" in items[0].error


def test_html_file_is_one_document_with_raw_html():
    [doc] = run(read_html, "blog.python.org.html.gz", (DATA / "html" / "blog.python.org.html.gz").read_bytes())
    assert doc.meta["content_type"] == "text/html"
    assert "<html" in doc.text.lower() and "Python 3.6.0 is now available" in doc.text
    assert doc.url == doc.meta["url"] == "http://blog.python.org/2016/12/python-360-is-now-available.html"  # og:url


def test_page_url_from_canonical_link_or_og_url():
    assert page_url('<head><link href="https://a.b/c" rel="canonical"><meta property=og:url content=https://x/>') == (
        "https://a.b/c"
    )
    assert (
        page_url("<meta content='http://blog.python.org/x.html' property='og:url'/>") == "http://blog.python.org/x.html"
    )
    assert page_url("<link rel=canonical href=/relative><p>no absolute url</p>") is None


def test_html_without_charset_is_detected():
    [doc] = run(read_html, "zh.html.gz", (DATA / "html" / "chineselyrics4u.com.zhineng.html.gz").read_bytes())
    assert "\ufffd" not in doc.text and any("\u4e00" <= c <= "\u9fff" for c in doc.text)


@pytest.mark.parametrize(
    ("body", "http_charset", "expected", "codec"),
    [
        ('<meta charset="windows-1251"><p>Привет, мир</p>'.encode("cp1251"), None, "Привет, мир", "cp1251"),
        ("<p>Grüße</p>".encode("latin-1"), "ISO-8859-1", "Grüße", "cp1252"),  # WHATWG: latin-1 label = cp1252
        ('<meta charset="utf-8"><p>naïve \xff\xfe bytes</p>'.encode("latin-1"), None, "na", None),  # lying label
        (b'<meta charset="x-no-such-charset"><p>plain</p>', None, "plain", "utf-8"),
        ("<p>漢字テキスト</p>".encode("shift_jis"), "shift_jis", "漢字テキスト", "cp932"),
        (b"\xef\xbb\xbf<p>bom</p>", "iso-8859-1", "<p>bom</p>", "utf-8"),
        (b"\xff\xfe" + "<p>utf16</p>".encode("utf-16-le"), None, "<p>utf16</p>", "utf-16-le"),
    ],
)
def test_decode_html_never_raises(body, http_charset, expected, codec):
    text, used = decode_html(body, http_charset)
    assert expected in text
    if codec is not None:
        assert used == codec


def test_invalid_bytes_in_utf8_page_are_replaced_not_fatal():
    body = "<html><body><p>Ünïcödé text</p>".encode() + b"\xc3\x28\xa0\xa1" + b"<p>after</p></body></html>"
    [doc] = run(read_html, "bad.html", body)
    assert "after" in doc.text


def test_empty_html_and_truncated_gzip_html():
    assert isinstance(run(read_html, "e.html", b"")[0], Failure)
    data = (DATA / "html" / "blog.python.org.html.gz").read_bytes()
    [cut] = run(read_html, "cut.html.gz", data[: len(data) // 2])
    assert isinstance(cut, Failure) and cut.source_location == "cut.html.gz:byte=0"
    assert cut.error.startswith("unread from byte 0: TruncatedInputError")


def test_registry_covers_every_format_and_empty_input_never_raises():
    expected = {"warc", "wet", "html", "wikipedia", "books", "text", "lines", "code_archive", "code_file"}
    assert expected <= set(READERS)
    for fmt in sorted(expected):
        reader = reader_with_options(fmt, {"max_document_bytes": 1000})
        items = list(reader(io.BytesIO(b""), SourceFile("empty", "empty", "x", fmt)))
        assert len(items) == 1 and isinstance(items[0], Failure), fmt
    line = b'{"text": "' + b"x" * 2000 + b'"}\n'
    [capped] = reader_with_options("jsonl", {"max_document_bytes": 1000})(
        io.BytesIO(line), SourceFile("j", "j", "x", "x")
    )
    assert capped.reason == "read.too_large"  # the options reach JSONL too (every reader gets them)
    [whole] = get_reader("jsonl")(io.BytesIO(line), SourceFile("j", "j", "x", "x"))
    assert whole.reason is None and len(whole.text) == 2000


@pytest.mark.parametrize(
    ("path", "source", "fmt"),
    [
        ("news/lee.cor", None, "lines"),
        ("news/article.txt", "news", "text"),
        ("books/pg42.txt.gz", "books", "books"),
        ("web/page.html.gz", None, "html"),
        ("web/x.warc.wet.gz", "web", "wet"),
        ("code/repo.tar.gz", None, "code_archive"),
        ("code/samples/index.html", "code", "code_file"),
        ("dolma/docs.json.gz", "web", "jsonl"),
    ],
)
def test_detect_format(path, source, fmt):
    assert detect_format(path, source) == fmt


class NonSeekable(io.RawIOBase):
    """A forward-only byte stream like a gs:// or s3:// download (no seek, no tell)."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:
        chunk = self._inner.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def seek(self, *args):
        raise io.UnsupportedOperation("seek")

    def tell(self):
        raise io.UnsupportedOperation("tell")


@pytest.mark.parametrize(
    ("fmt", "path", "expected_docs"),
    [
        ("warc", DATA / "web" / "whirlwind.warc.gz", 1),
        ("wet", DATA / "web" / "whirlwind.warc.wet.gz", 1),
        ("wikipedia", DATA / "wikipedia" / "enwiki-table-markup.xml.bz2", 5),
        ("books", DATA / "books" / "pg42.txt.gz", 1),
        ("lines", DATA / "news" / "lee.cor", 50),
        ("html", DATA / "html" / "blog.python.org.html.gz", 1),
        ("code_archive", DATA / "code" / "go-isatty-9a68506e2394.tar.gz", 17),
    ],
)
def test_readers_work_on_non_seekable_streams(fmt, path, expected_docs):
    data = path.read_bytes()
    stream = NonSeekable(data)
    items = list(get_reader(fmt)(stream, SourceFile(str(path), path.name, "s", fmt)))
    assert sum(1 for i in items if isinstance(i, Document) and not i.reason) == expected_docs
    seekable = list(get_reader(fmt)(io.BytesIO(data), SourceFile(str(path), path.name, "s", fmt)))
    assert [i.id for i in items] == [i.id for i in seekable]


def test_zip_archive_from_non_seekable_stream():
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("repo/a.py", "print('a')\n")
        zf.writestr("repo/LICENSE", "Permission is hereby granted, free of charge, to any person")
    items = list(get_reader("code_archive")(NonSeekable(out.getvalue()), SourceFile("r.zip", "r.zip", "code", "x")))
    assert [(d.meta["path"], d.meta["license"]) for d in items] == [("a.py", "MIT"), ("LICENSE", "MIT")]


def test_text_format_also_removes_gutenberg_boilerplate():
    # `--input books=*.txt.gz` without a source-aware format lands on `text`: the book must still be clean
    [doc] = run(read_text, "pg42.txt.gz", (DATA / "books" / "pg42.txt.gz").read_bytes())
    assert doc.title == "Dr. Jekyll and Mr. Hyde" and doc.meta["gutenberg"] is True
    assert "*** START OF" not in doc.text and "Project Gutenberg" not in doc.text[-3000:]


def test_corrupt_gzip_data_is_a_failure_not_zlib_error():
    data = bytearray((DATA / "html" / "blog.python.org.html.gz").read_bytes())
    data[len(data) // 2] ^= 0xFF  # zlib raises zlib.error, which is not an OSError
    [item] = run(read_html, "page.html.gz", bytes(data))
    assert isinstance(item, Failure) and "decompress" in item.error


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("warc", "web/whirlwind.warc.gz"),
        ("warc", "web/example.warc.gz"),
        ("warc", "web/bad.arc"),
        ("wet", "web/whirlwind.warc.wet.gz"),
        ("wikipedia", "wikipedia/enwiki-table-markup.xml.bz2"),
        ("books", "books/pg42.txt.gz"),
        ("lines", "news/lee.cor"),
        ("html", "html/blog.python.org.html.gz"),
        ("code_archive", "code/go-isatty-9a68506e2394.tar.gz"),
    ],
)
def test_randomly_corrupted_inputs_never_raise(fmt, name):
    import random

    data = (DATA / name).read_bytes()
    rng = random.Random(name)
    for _ in range(12):
        mutated = bytearray(data)
        if rng.random() < 0.5:
            mutated = mutated[: rng.randrange(len(mutated))]
        else:
            for _ in range(rng.randint(1, 5)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        items = list(get_reader(fmt)(io.BytesIO(bytes(mutated)), SourceFile(name, name, "s", fmt)))
        assert all(isinstance(i, Document | Failure) for i in items)
