"""Loader throughput: curation.loader.TokenLoader (mixture + packing + permutation) vs a plain np.memmap slice loop.

Both read the same flat `.bin` files (a synthetic tokenize output: 3 sources x 4 shards, uint16, realistic document
lengths) into (batch, seq_len + 1) int32 arrays. The baseline is the physical anchor: consecutive windows sliced
from `np.memmap` files, one row at a time, no mixture, no permutation, no thread. Runs are interleaved and the
best of N is kept; the ratio is measured in the same run.

    .venv/bin/python bench/bench_loader.py [--tokens 60000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from curation.loader import TokenLoader
from curation.tokens import flat_bytes

SOURCES = {"web": 0.6, "books": 0.3, "code": 0.1}


def build_corpus(root: Path, tokens: int, shards: int = 4, seed: int = 0) -> list[Path]:
    """Write a tokenize-style output with `tokens` tokens split over SOURCES; returns the .bin paths."""
    rng = np.random.default_rng(seed)
    entries, sources, bins = [], {}, []
    for source, share in SOURCES.items():
        total = 0
        for k in range(shards):
            want = int(tokens * share / shards)
            docs = []
            got = 0
            while got < want:
                n = int(min(rng.lognormal(6.0, 1.0) + 1, want - got))
                docs.append(rng.integers(3, 32000, size=n, dtype=np.uint16))
                got += n + 1
            binary, idx = flat_bytes(docs, 2, np.dtype(np.uint16))
            rel = f"flat/{source}/part-{k:05d}-of-{shards:05d}"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / f"{rel}.bin").write_bytes(binary)
            (root / f"{rel}.idx").write_bytes(idx)
            bins.append(root / f"{rel}.bin")
            entries.append({"path": f"{rel}.bin", "kind": "bin", "source": source, "rows": len(docs)})
            total += len(binary) // 2
        sources[source] = {"tokens": total}
    (root / "manifest.json").write_text(json.dumps({"shards": entries, "sources": sources, "tokenizer": {"eos_id": 2}}))
    (root / "_SUCCESS").touch()
    return bins


def baseline(bins: list[Path], batch: int, seq_len: int, batches: int) -> float:
    """Consecutive (seq_len + 1)-token windows sliced from np.memmap files into int32 batches; tokens/s."""
    maps = [np.memmap(p, dtype=np.uint16, mode="r") for p in bins]
    length = seq_len + 1
    f, pos, tokens = 0, 0, 0
    started = time.perf_counter()
    for _ in range(batches):
        out = np.empty((batch, length), dtype=np.int32)
        for row in range(batch):
            if pos + length > len(maps[f]):
                f, pos = (f + 1) % len(maps), 0
            out[row] = maps[f][pos : pos + length]
            pos += length
        tokens += out.size
    return tokens / (time.perf_counter() - started)


def ours(root: Path, batch: int, seq_len: int, batches: int, prefetch: int) -> float:
    """TokenLoader tokens/s in steady state (timed after construction and a first batch, as in a training loop)."""
    tokens = 0
    with TokenLoader(root, batch, seq_len, mixture=SOURCES, seed=1, prefetch=prefetch) as loader:
        next(loader)
        started = time.perf_counter()
        for _ in range(batches):
            tokens += next(loader).size
        return tokens / (time.perf_counter() - started)


def with_step(root: Path, prefetch: int, step_s: float, batches: int = 300) -> float:
    """Training-loop shape: each batch is followed by a GIL-free step of `step_s` (sleep); returns steps/s."""
    with TokenLoader(root, 32, 2048, mixture=SOURCES, seed=1, prefetch=prefetch) as loader:
        next(loader)
        started = time.perf_counter()
        for _ in range(batches):
            next(loader)
            time.sleep(step_s)
        return batches / (time.perf_counter() - started)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tokens", type=int, default=60_000_000)
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-loader-") as tmp:
        root = Path(tmp)
        bins = build_corpus(root, a.tokens)
        print(f"corpus: {a.tokens / 1e6:.0f}M uint16 tokens, {len(bins)} .bin files, mixture {SOURCES}")
        for batch, seq_len in ((32, 2048), (16, 512), (64, 128)):
            n = 3 * 8192 // batch  # three of the loader's 8,192-row planning chunks per run
            results = {"memmap loop": [], "loader prefetch=0": [], "loader prefetch=2": []}
            for _ in range(a.repeats):  # interleaved
                results["memmap loop"].append(baseline(bins, batch, seq_len, n))
                results["loader prefetch=0"].append(ours(root, batch, seq_len, n, 0))
                results["loader prefetch=2"].append(ours(root, batch, seq_len, n, 2))
            base = max(results["memmap loop"])
            print(f"batch {batch} x seq_len {seq_len} ({n} batches, best of {a.repeats}):")
            for name, rates in results.items():
                print(f"  {name:<20} {max(rates) / 1e6:8.1f} M tokens/s  {max(rates) / base:5.2f}x")
        steps = {0: [], 2: []}
        for _ in range(a.repeats):
            for prefetch in steps:
                steps[prefetch].append(with_step(root, prefetch, 0.002))
        print("batch 32 x seq_len 2048 with a 2 ms GIL-free step after each batch (a training loop's shape):")
        for prefetch, rates in steps.items():
            print(f"  loader prefetch={prefetch:<10} {max(rates):8.1f} steps/s  {max(rates) / max(steps[0]):5.2f}x")


if __name__ == "__main__":
    main()
