"""Reader-side bad inputs (issue "Reliability" items 3, 5, 6, 7), each with what must come out of it.

Every case is generated from real text (the bundled Lee news sample) and knows, independently of the
readers, how many documents must come through and which failures (exact location, error prefix) must
be dead-lettered. `write_cases(directory)` writes them as files, e.g. for one `curation run` over all.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from curation.sample import sample_dir
from curation.schema import Document, document_schema, documents_to_table

# Over the default readers.max_document_bytes (16 MiB).
OVERSIZE_BYTES = 17 * 1024 * 1024


@dataclass
class BadInput:
    """One input file and its expected outcome: documents (with any skip reasons) and failures."""

    name: bytes  # file name (bytes: one case is not valid UTF-8)
    data: bytes
    fmt: str
    docs: int  # documents that must come through (kept or counted skips)
    reasons: dict[str, int] = field(default_factory=dict)  # skip reason -> count among `docs`
    failures: list[tuple[str, str]] = field(default_factory=list)  # (location label, error prefix)

    @property
    def filename(self) -> str:
        """The file name as Python sees it on this system (surrogate-escaped when not UTF-8)."""
        return os.fsdecode(self.name)


def lee_texts() -> list[str]:
    """The 300 real news articles of the bundled sample (one per line)."""
    with gzip.open(Path(sample_dir()) / "news" / "lee_background.cor.gz", "rt", encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()]


def _jsonl(texts: list[str]) -> bytes:
    """One JSON record per text."""
    return b"".join(json.dumps({"text": t, "id": i}).encode() + b"\n" for i, t in enumerate(texts))


def _position(offset: int) -> str:
    """How a reader writes decompressed byte `offset` of a one-member file (see ReadContext.position)."""
    return f"0+{offset}" if offset else "0"


def _truncated(name: str, raw: bytes, compressed: bytes, prefix: bytes) -> BadInput:
    """A compressed JSONL cut in the middle: the complete lines of the readable prefix, then one Failure."""
    complete = prefix[: prefix.rfind(b"\n") + 1]
    lines = complete.count(b"\n")
    assert lines < raw.count(b"\n")
    return BadInput(
        name.encode(),
        compressed,
        "jsonl",
        docs=lines,
        failures=[(f"line={lines + 1}", f"unread from byte {_position(len(complete))}: TruncatedInputError")],
    )


def truncated_cases(texts: list[str]) -> list[BadInput]:
    """.jsonl.zst/.gz/.bz2 cut at 60%; the readable prefix is found with the codec's own decompressor."""
    raw = _jsonl(texts * 4)
    cases = []
    zst = zstandard.ZstdCompressor().compress(raw)
    cut = zst[: len(zst) * 6 // 10]
    cases.append(_truncated("cut.jsonl.zst", raw, cut, zstandard.ZstdDecompressor().decompressobj().decompress(cut)))
    gz = gzip.compress(raw, mtime=0)
    cut = gz[: len(gz) * 6 // 10]
    cases.append(_truncated("cut.jsonl.gz", raw, cut, zlib.decompressobj(wbits=31).decompress(cut)))
    bz = bz2.compress(raw, 1)  # 100 kB blocks: a cut file still has complete blocks
    cut = bz[: len(bz) * 6 // 10]
    cases.append(_truncated("cut.jsonl.bz2", raw, cut, bz2.BZ2Decompressor().decompress(cut)))
    small_raw = _jsonl(texts[:3])
    small = zstandard.ZstdCompressor().compress(small_raw)[:-5]  # a small file cut: once 0 records, 0 failures
    cases.append(
        _truncated(
            "small-cut.jsonl.zst", small_raw, small, zstandard.ZstdDecompressor().decompressobj().decompress(small)
        )
    )
    return cases


def line_cases(texts: list[str]) -> list[BadInput]:
    """Lines that raise in the JSON parser, an empty file, a BOM, surrogates, an over-long line."""
    good = [json.dumps({"text": t}).encode() for t in texts[:3]]
    deep = b'{"text": "x", "nested": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    huge_int = b'{"text": "x", "n": ' + b"9" * 5000 + b"}"
    surrogates = (
        b'{"id": "s\\ud800", "title": "bad \\ud800", "url": "http://x/\\udfff", "text": "some text \\ud800 here",'
        b' "extra\\udc80": "v\\ud800", "meta": {"k\\ud800": ["\\udc80"]}}'
    )
    over = b'{"text": "' + b"word " * (OVERSIZE_BYTES // 5) + b'"}'
    return [
        BadInput(
            b"raising-lines.jsonl",
            b"\n".join([good[0], deep, good[1], huge_int, good[2]]) + b"\n",
            "jsonl",
            docs=3,
            failures=[("line=2", "invalid JSON: nested too deeply"), ("line=4", "ValueError: Exceeds the limit")],
        ),
        BadInput(b"empty.jsonl", b"", "jsonl", docs=0, failures=[("byte=0", "empty file")]),
        BadInput(b"blank.jsonl", b"\n  \n\n", "jsonl", docs=0, failures=[("byte=0", "empty file")]),
        BadInput(b"bom.jsonl", b"\xef\xbb\xbf" + b"\n".join(good) + b"\n", "jsonl", docs=3),
        BadInput(b"surrogates.jsonl", surrogates + b"\n" + good[0] + b"\n", "jsonl", docs=2),
        BadInput("caf\xe9-latin1-name.jsonl".encode("latin-1"), b"\n".join(good) + b"\n", "jsonl", docs=3),
        BadInput(
            b"oversize.jsonl",
            good[0] + b"\n" + over + b"\n" + good[1] + b"\n",
            "jsonl",
            docs=3,
            reasons={"read.too_large": 1},
        ),
    ]


def parquet_cases(texts: list[str]) -> list[BadInput]:
    """Foreign Parquet with columns of types JSON has no word for (timestamp[ns], decimal, binary, nested)."""
    n = 20
    table = pa.table(
        {
            "text": texts[:n],
            "crawled": pa.array([1_700_000_000_123_456_789 + i for i in range(n)], pa.timestamp("ns")),
            "score": pa.array([f"{i}.5" for i in range(n)]).cast(pa.decimal128(10, 2)),
            "raw": pa.array([bytes([i, 255]) for i in range(n)], pa.binary()),
            "tags": pa.array([{"a": [i, i + 1]} for i in range(n)]),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=7)
    # One of our own shards with a broken meta value in row 2: that row fails (exactly row=2), the rest is read.
    docs = [Document(id=f"web/a.jsonl#{i}", source="web", text=t) for i, t in enumerate(texts[:3], 1)]
    own = documents_to_table(docs, document_schema(["quality.word_count"]))
    own = own.set_column(own.schema.get_field_index("meta"), "meta", pa.array(["{}", "{not json", "{}"]))
    shard = io.BytesIO()
    pq.write_table(own, shard)
    return [
        BadInput(b"foreign-types.parquet", buf.getvalue(), "parquet", docs=n),
        BadInput(b"own-shard.parquet", shard.getvalue(), "parquet", docs=2, failures=[("row=2", "JSONDecodeError")]),
    ]


def reader_cases() -> list[BadInput]:
    """Every reader-side bad input."""
    texts = lee_texts()
    return truncated_cases(texts) + line_cases(texts) + parquet_cases(texts)


def write_cases(directory: Path) -> list[BadInput]:
    """Write every case into `directory` (file names as bytes, so the non-UTF-8 one is exact)."""
    cases = reader_cases()
    for case in cases:
        with open(os.path.join(os.fsencode(directory), case.name), "wb") as fh:
            fh.write(case.data)
    return cases
