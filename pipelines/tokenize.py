"""The tokenize pipeline: a curated OUT's kept-document shards -> TOK (tokenized Parquet, flat .bin/.idx, failures).

One input shard is one work item (no shuffle of documents: rows keep the shards' order). Every file is staged
and the output is committed at the end with `manifest.json` and `_SUCCESS` (pipelines/outputs.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from curation.tokenize_docs import failed_documents, output_paths, tokenize_shard
from curation.tokenizer import Tokenizer, tokenizer_from_bytes
from curation.tokens import parquet_token_type, token_dtype
from pipelines.io import open_file
from pipelines.outputs import commit, join, read_manifest, write_staged
from pipelines.runner import guard_local_runner_streams

KIND = "tokenize"
# Top-level entries a tokenize output owns (what --overwrite may replace).
OWNED = ("parquet", "flat", "failed", "tokenizer.model", "tokenizer.json")


def input_shards(out: str) -> tuple[list[dict[str, Any]], str]:
    """OUT's kept-document shard entries (sorted by path) and the sha256 of its manifest; OUT must be complete."""
    manifest = read_manifest(out)
    shards = sorted((dict(e) for e in manifest.get("shards", []) if e.get("kind") == "data"), key=lambda e: e["path"])
    listing = json.dumps(sorted(manifest.get("shards", []), key=lambda e: e["path"]), sort_keys=True, default=str)
    return shards, hashlib.sha256(listing.encode()).hexdigest()


class TokenizeShard(beam.DoFn):
    """One input shard -> its staged TOK files; emits (manifest entries, per-shard summary)."""

    def __init__(self, out: str, tok: str, tokenizer_bytes: bytes, eos_token: str | None, cfg: Mapping[str, Any]):
        super().__init__()
        self.out, self.tok = out, tok
        self.tokenizer_bytes, self.eos_token = tokenizer_bytes, eos_token
        self.cfg = dict(cfg)
        self.tokenizer: Tokenizer | None = None

    def setup(self) -> None:
        self.tokenizer = tokenizer_from_bytes(self.tokenizer_bytes, self.eos_token)

    def process(self, entry: Mapping[str, Any]):
        path = join(self.out, entry["path"])
        try:
            with open_file(path) as f:
                data = f.read()
        except Exception as exc:  # noqa: BLE001 - a missing shard fails whole (tokenize_shard counts its rows)
            data = f"unreadable: {type(exc).__name__}: {exc}".encode()
        assert self.tokenizer is not None, "setup() loads the tokenizer"
        result = tokenize_shard(data, entry, self.tokenizer, self.cfg)
        paths = output_paths(entry["path"])
        source = result.source
        files = [
            {**write_staged(self.tok, paths["parquet"], result.parquet), "kind": "parquet", "rows": result.documents},
            {**write_staged(self.tok, paths["bin"], result.bin), "kind": "bin", "rows": result.documents},
            {**write_staged(self.tok, paths["idx"], result.idx), "kind": "idx", "rows": result.documents},
        ]
        for written in files:
            written.update(source=source, tokens=result.tokens)
        failed = failed_documents(result.failures)
        if result.failures:
            files.append(
                {
                    **write_staged(self.tok, paths["failed"], result.failed_jsonl()),
                    "kind": "failed",
                    "source": source,
                    "rows": failed,
                }
            )
        summary = {
            "input": entry["path"],
            "source": source,
            "input_documents": int(entry.get("rows") or 0),
            "documents": result.documents,
            "failed": failed,
            "tokens": result.tokens,
            "text_bytes": result.text_bytes,
        }
        yield files, summary


def summarise(summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per-source counts, bytes per token and the invariant input documents = tokenized + failed."""
    sources: dict[str, dict[str, Any]] = {}
    for s in summaries:
        agg = sources.setdefault(
            s["source"], {"input_documents": 0, "documents": 0, "failed": 0, "tokens": 0, "text_bytes": 0, "shards": 0}
        )
        for key in ("input_documents", "documents", "failed", "tokens", "text_bytes"):
            agg[key] += int(s[key])
        agg["shards"] += 1
    for agg in sources.values():
        text_tokens = agg["tokens"] - agg["documents"]
        agg["text_tokens"] = text_tokens
        agg["bytes_per_token"] = agg["text_bytes"] / text_tokens if text_tokens else None
        agg["invariant_ok"] = agg["input_documents"] == agg["documents"] + agg["failed"]
    return dict(sorted(sources.items()))


def finish(
    _, tok: str, results: list, fixed_entries: list[dict[str, Any]], header: Mapping[str, Any]
) -> dict[str, Any]:
    """Commit TOK: every staged file, then manifest.json (counts, tokenizer identity, invariant), then _SUCCESS."""
    entries = list(fixed_entries)
    summaries = []
    for files, summary in results:
        entries.extend(files)
        summaries.append(summary)
    summaries.sort(key=lambda s: s["input"])
    sources = summarise(summaries)
    manifest = {
        **header,
        "inputs": summaries,
        "sources": sources,
        "totals": {
            k: sum(s[k] for s in sources.values()) for k in ("input_documents", "documents", "failed", "tokens")
        },
        "invariant_ok": all(s["invariant_ok"] for s in sources.values()),
    }
    commit(tok, entries, manifest)
    return manifest


def run_tokenize(
    out: str,
    tok: str,
    tokenizer_file: str,
    tokenizer_bytes: bytes,
    eos_token: str | None,
    cfg: Mapping[str, Any],
    beam_flags: Sequence[str] = (),
) -> None:
    """Tokenize every kept-document shard of OUT into TOK (already prepared with prepare_output) and commit it."""
    shards, input_id = input_shards(out)
    tokenizer = tokenizer_from_bytes(tokenizer_bytes, eos_token)
    identity = tokenizer.identity()
    copy_name = "tokenizer.json" if identity["kind"] == "huggingface" else "tokenizer.model"
    copied = {**write_staged(tok, copy_name, tokenizer_bytes), "kind": "tokenizer", "source": None, "rows": None}
    header = {
        "kind": KIND,
        "input": {"path": out, "shards_sha256": input_id, "shards": len(shards)},
        "tokenizer": {
            **identity,
            "file": copy_name,
            "origin": tokenizer_file,
            "flat_dtype": token_dtype(tokenizer.vocab_size).name,
            "parquet_token_type": str(parquet_token_type(tokenizer.vocab_size)),
        },
        "format": {
            "parquet": "parquet/<source>/part-*.parquet: id, source, tokens (list of token ids, no end token)",
            "flat": "flat/<source>/part-*.bin + .idx: Megatron-LM MMIDIDX v1 (one sequence per document, end token "
            "appended to every document); the .bin alone is a nanoGPT-style raw token stream",
        },
        "config": {"tokenize": dict(cfg["tokenize"])},
    }
    guard_local_runner_streams()
    options = PipelineOptions(list(beam_flags))
    with beam.Pipeline(options=options) as p:
        results = (
            p
            | "Shards" >> beam.Create(shards)
            | "Spread" >> beam.Reshuffle()
            | "Tokenize" >> beam.ParDo(TokenizeShard(out, tok, tokenizer_bytes, eos_token, cfg))
        )
        (
            p
            | "CommitOnce" >> beam.Create([None])
            | "Commit"
            >> beam.Map(finish, tok=tok, results=beam.pvalue.AsList(results), fixed_entries=[copied], header=header)
        )
