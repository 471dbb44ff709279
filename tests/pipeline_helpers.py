"""Helpers for end-to-end tests: run the CLI in-process and read a run's output back."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.dataset as ds

from curation.cli import main
from curation.sample import sample_dir

SAMPLE = Path(sample_dir())


def run_cli(*args: str) -> int:
    """Run `curation ARGS...` in this process and return its exit code."""
    return main([str(a) for a in args])


def write_jsonl_gz(path: Path, records: list[dict] | list[bytes]) -> Path:
    """Write records (dicts, or raw byte lines for malformed cases) as a gzip JSONL file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        for r in records:
            f.write(r if isinstance(r, bytes) else (json.dumps(r) + "\n").encode("utf-8"))
    return path


def read_docs(out: Path, kind: str = "data") -> list[dict]:
    """All rows of `OUT/<kind>` (data or removed) as dicts, sorted by id."""
    base = out / kind
    if not base.exists():
        return []
    rows = ds.dataset(str(base), format="parquet").to_table().to_pylist()
    return sorted(rows, key=lambda r: r["id"])


def read_failed(out: Path) -> list[dict]:
    """Dead-letter records of a run."""
    rows = []
    for p in sorted((out / "failed").glob("*.jsonl")):
        rows += [json.loads(line) for line in p.read_text("utf-8").splitlines()]
    return rows


def stats(out: Path) -> dict:
    """The run's stats.json."""
    return json.loads((out / "stats.json").read_text("utf-8"))


def real_paragraphs(limit: int, books: Path = SAMPLE / "books") -> list[str]:
    """Real English documents: Lee news articles, then paragraphs (60+ words) of the Gutenberg books in `books`.

    The bundled sample (the default) gives 1,582; pass the development corpus's `books/gutenberg` for more.
    """
    with gzip.open(SAMPLE / "news" / "lee_background.cor.gz", "rt", encoding="utf-8") as f:
        docs = [t for t in f.read().splitlines() if t.strip()]
    for book in sorted(books.glob("*.txt.gz")):
        with gzip.open(book, "rt", encoding="utf-8") as f:
            text = f.read().replace("\r\n", "\n")
        for para in text.split("\n\n"):
            para = " ".join(para.split())
            if len(para.split()) >= 60:
                docs.append(para)
        if len(docs) >= limit:
            break
    return docs[:limit]
