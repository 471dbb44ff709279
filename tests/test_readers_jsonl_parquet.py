"""JSONL (.jsonl, .gz, .zst, .bz2) and Parquet readers on real news text from the bundled sample."""

from __future__ import annotations

import bz2
import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from curation.readers import SourceFile, detect_format, get_reader
from curation.sample import sample_dir
from curation.schema import Document, Failure


def lee_articles() -> list[str]:
    with gzip.open(f"{sample_dir()}/news/lee_background.cor.gz", "rt", encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


COMPRESS = {
    ".jsonl": lambda b: b,
    ".jsonl.gz": lambda b: gzip.compress(b, mtime=0),
    ".jsonl.zst": lambda b: zstandard.ZstdCompressor().compress(b),
    ".jsonl.bz2": bz2.compress,
}


@pytest.mark.parametrize("suffix", list(COMPRESS))
def test_jsonl_every_compression_reads_the_same_documents(suffix):
    texts = lee_articles()
    raw = "".join(
        json.dumps({"text": t, "id": i, "url": f"https://lee.example/{i}", "topic": "news"}) + "\n"
        for i, t in enumerate(texts)
    )
    path = f"/data/lee{suffix}"
    assert detect_format(path) == "jsonl"
    docs = list(
        get_reader("jsonl")(
            io.BytesIO(COMPRESS[suffix](raw.encode())), SourceFile(path, f"lee{suffix}", "news", "jsonl")
        )
    )
    assert [d.text for d in docs] == texts
    assert docs[3].id == f"news/lee{suffix}#4" and docs[3].url == "https://lee.example/3"
    assert docs[3].meta == {"source_id": "3", "topic": "news"}


def test_jsonl_with_zstd_frames_truncated_keeps_prefix_and_reports_the_break():
    texts = lee_articles()
    raw = "".join(json.dumps({"text": t}) + "\n" for t in texts).encode()
    data = zstandard.ZstdCompressor().compress(raw)
    items = list(
        get_reader("jsonl")(
            io.BytesIO(data[: len(data) // 2]), SourceFile("/x.jsonl.zst", "x.jsonl.zst", "news", "jsonl")
        )
    )
    docs = [d for d in items if isinstance(d, Document)]
    fails = [f for f in items if isinstance(f, Failure)]
    assert 0 < len(docs) < len(texts) and [d.text for d in docs] == texts[: len(docs)]
    assert len(fails) == 1 and fails[0].source_location.startswith("/x.jsonl.zst:")


def test_parquet_of_foreign_records_and_missing_text_column(tmp_path):
    texts = lee_articles()[:50]
    buf = io.BytesIO()
    pq.write_table(pa.table({"text": texts, "title": [f"t{i}" for i in range(50)], "meta": ['{"a": 1}'] * 50}), buf)
    docs = list(
        get_reader("parquet")(io.BytesIO(buf.getvalue()), SourceFile("/p.parquet", "p.parquet", "news", "parquet"))
    )
    assert [d.text for d in docs] == texts and docs[0].title == "t0" and docs[0].meta == {"a": 1}
    assert docs[0].id == "news/p.parquet#1"
    bad = io.BytesIO()
    pq.write_table(pa.table({"body": texts}), bad)
    out = list(
        get_reader("parquet")(io.BytesIO(bad.getvalue()), SourceFile("/b.parquet", "b.parquet", "news", "parquet"))
    )
    assert len(out) == 1 and isinstance(out[0], Failure) and "no 'text' column" in out[0].error
    junk = list(
        get_reader("parquet")(
            io.BytesIO(b"not parquet at all"), SourceFile("/j.parquet", "j.parquet", "news", "parquet")
        )
    )
    assert len(junk) == 1 and isinstance(junk[0], Failure)


def test_parquet_text_over_the_cap_is_a_counted_skip_at_its_row():
    texts = lee_articles()[:6]
    long = " ".join(texts)  # several articles in one row: over a 2,000-byte cap
    buf = io.BytesIO()
    pq.write_table(pa.table({"text": [texts[0], long, texts[1]]}), buf, row_group_size=2)
    items = list(
        get_reader("parquet")(
            io.BytesIO(buf.getvalue()),
            SourceFile("/p.parquet", "p.parquet", "news", "parquet"),
            {"max_document_bytes": 2000},
        )
    )
    assert [(d.id, d.reason) for d in items] == [
        ("news/p.parquet#1", None),
        ("news/p.parquet#2", "read.too_large"),
        ("news/p.parquet#3", None),
    ]
    assert items[1].meta["nbytes"] == len(long.encode()) and items[1].text == ""
