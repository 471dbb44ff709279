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


def write_documents(folder: Path, docs) -> dict[str, Path]:
    """Write Documents as one Parquet file per source in the output schema (ids kept); returns source -> file."""
    import pyarrow.parquet as pq

    from curation.schema import document_schema, documents_to_table

    by_source: dict[str, list] = {}
    for doc in docs:
        by_source.setdefault(doc.source, []).append(doc)
    files = {}
    for source, group in by_source.items():
        path = folder / source / "docs.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(documents_to_table(group, document_schema(["dummy"])), path)
        files[source] = path
    return files


def run_documents(docs, work: Path, *flags: str, stages: str = "dedup") -> tuple[int, Path]:
    """Run `curation run` over in-memory Documents (one Parquet input per source); returns (exit code, OUT)."""
    files = write_documents(work / "in", docs)
    out = work / "out"
    args = ["run", "--output", out, "--stages", stages, "--overwrite", *flags]
    for source, path in sorted(files.items()):
        args += ["--input", f"{source}:parquet={path}"]
    return run_cli(*args), out


def outcome(out: Path) -> dict[str, list[dict]]:
    """kept/removed rows (id, reason, meta as dict, text), cluster rows and dead letters of a run, sorted."""
    import pyarrow.parquet as pq

    def simple(rows):
        return [
            {"id": r["id"], "reason": r.get("reason"), "meta": json.loads(r["meta"] or "{}"), "text": r["text"]}
            for r in rows
        ]

    clusters = out / "dedup" / "clusters.parquet"
    return {
        "kept": simple(read_docs(out, "data")),
        "removed": simple(read_docs(out, "removed")),
        "clusters": sorted(pq.read_table(clusters).to_pylist(), key=lambda r: (r["cluster_id"], r["id"]))
        if clusters.exists()
        else [],
        "failed": read_failed(out),
    }
