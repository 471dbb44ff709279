"""Tokenize throughput per core: our whole shard step vs the tokenizer library's own batch encode on the same texts.

`ours` is `curation.tokenize_docs.tokenize_shard`: read the Parquet shard, check it, encode, and build the token
Parquet, `.bin` and `.idx` bytes (what each tokenize work item does, minus the file write). The baselines are
the libraries' batch encodes on the already-decoded texts: SentencePiece `encode(texts, num_threads=1)` and
Hugging Face `Tokenizer.encode_batch_fast` (one thread: RAYON_NUM_THREADS=1). Documents: real books and news of
the development corpus cut into web-page-sized pieces. Interleaved runs, best of N, one process.

    RAYON_NUM_THREADS=1 .venv/bin/python bench/bench_tokenize.py [--docs 3000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import random
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from corpus_path import SHARED_DATA  # noqa: E402

from curation.config import load_config  # noqa: E402
from curation.mixture import Mixture  # noqa: E402
from curation.tokenize_docs import tokenize_shard  # noqa: E402
from curation.tokenizer import HuggingFaceTokenizer, SentencePieceTokenizer  # noqa: E402
from curation.tokenizer_train import Sample, train_sentencepiece  # noqa: E402

DATA = SHARED_DATA


def documents(count: int, seed: int = 0) -> list[str]:
    """Pieces of 200-2,000 words of real books and news (web-page-sized), seeded."""
    rng = random.Random(seed)
    words: list[str] = []
    for path in sorted((DATA / "books/gutenberg").glob("*.txt.gz")):
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
            words += fh.read().split(" ")
    docs = []
    for _ in range(count):
        size = rng.randint(200, 2000)
        start = rng.randrange(len(words) - size)
        docs.append(" ".join(words[start : start + size]))
    return docs


def shard(docs: list[str]) -> tuple[bytes, dict]:
    table = pa.table(
        {
            "id": [f"bench/{i}" for i in range(len(docs))],
            "source": ["books"] * len(docs),
            "text": pa.array(docs, pa.large_string()),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    data = buf.getvalue()
    return data, {
        "path": "data/books/part-00000-of-00001.parquet",
        "source": "books",
        "rows": len(docs),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def hf_tokenizer(docs: list[str]) -> bytes:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=8000, special_tokens=["<|endoftext|>"], show_progress=False)
    tok.train_from_iterator(docs, trainer)
    return tok.to_str().encode()


def rate(fn, docs: int) -> float:
    t = time.perf_counter()
    fn()
    return docs / (time.perf_counter() - t)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--docs", type=int, default=3000)
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    cfg = load_config()
    docs = documents(a.docs)
    data, entry = shard(docs)
    train_docs = documents(2000, seed=1)
    sp_model = train_sentencepiece(Sample(train_docs, {}, {}, Mixture("bench", {"books": 1.0})), cfg, 8000)
    sp = SentencePieceTokenizer(sp_model)
    hf = HuggingFaceTokenizer(hf_tokenizer(train_docs))
    mb = sum(len(d.encode()) for d in docs) / 1e6
    print(f"{len(docs)} documents, {mb:.1f} MB; SentencePiece BPE and HF byte-level BPE, 8,000 pieces; one core")
    runs = {
        "sentencepiece encode(texts)": lambda: sp.sp.encode(docs, out_type=int, num_threads=1),
        "ours: shard step (sentencepiece)": lambda: tokenize_shard(data, entry, sp, cfg),
        "tokenizers encode_batch_fast": lambda: hf.tok.encode_batch_fast(docs, add_special_tokens=False),
        "ours: shard step (tokenizers)": lambda: tokenize_shard(data, entry, hf, cfg),
    }
    results: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(a.repeats):
        for name, fn in runs.items():
            results[name].append(rate(fn, len(docs)))
    best = {k: max(v) for k, v in results.items()}
    for name, value in best.items():
        base = best["sentencepiece encode(texts)"] if "sentencepiece" in name else best["tokenizers encode_batch_fast"]
        print(f"  {name:<36} {value:9.0f} docs/s  {value / base:5.2f}x  ({value * mb / len(docs):.2f} MB/s)")


if __name__ == "__main__":
    main()
