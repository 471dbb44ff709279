"""`curation report` on synthetic runs of growing size: wall time and peak memory stay flat (bounded sample).

Baseline, measured in the same run on the same files: a naive report that loads the columns it needs
(`source`, `reason`, `language`, `signals`, `text`) for every row, as `pyarrow.dataset(...).to_table()` does.
Each measurement runs in a fresh process; peak RSS is its `ru_maxrss`.

    .venv/bin/python bench/bench_report.py --docs 250000 1000000 --repeat 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROWS_PER_SHARD = 50_000
ROW_GROUP_ROWS = 2_000
WORDS = np.array(
    ["the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on"]
)

NAIVE = """
import sys, pyarrow.dataset as ds
for kind in ("data", "removed"):
    cols = ["source", "language", "signals", "text"] + (["reason"] if kind == "removed" else [])
    t = ds.dataset(sys.argv[1] + "/" + kind, format="parquet").to_table(columns=cols)
    print(kind, t.num_rows, t.nbytes)
"""


def _texts(rng: np.random.Generator, n: int) -> pa.Array:
    """n synthetic documents of 20-200 words."""
    lengths = rng.integers(20, 200, n)
    words = WORDS[rng.integers(0, len(WORDS), int(lengths.sum()))]
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    return pa.array([" ".join(words[offsets[i] : offsets[i + 1]]) for i in range(n)], pa.large_string())


def make_run(out: Path, docs: int, seed: int = 0) -> None:
    """A run folder of `docs` web documents (80 % kept), with stats, manifest and a cluster table."""
    from curation.config import load_config

    rng = np.random.default_rng(seed)
    signal_names = ["quality.word_count", "quality.mean_word_length", "quality.alpha_words_ratio", "language.score"]
    counts = {"kept": 0, "quality.word_count": 0, "quality.alpha_words": 0}
    nbytes = dict.fromkeys(counts, 0)
    for shard, start in enumerate(range(0, docs, ROWS_PER_SHARD)):
        n = min(ROWS_PER_SHARD, docs - start)
        texts = _texts(rng, n)
        word_count = rng.integers(20, 200, n).astype(float)
        removed = rng.random(n) < 0.2
        reasons = np.where(rng.random(n) < 0.5, "quality.word_count", "quality.alpha_words")
        signals = pa.StructArray.from_arrays(
            [pa.array(word_count), pa.array(rng.normal(4.5, 0.5, n)), pa.array(rng.random(n)), pa.array(rng.random(n))],
            names=signal_names,
        )
        table = pa.table(
            {
                "id": pa.array([f"web/synthetic#{start + i:09d}" for i in range(n)]),
                "source": pa.array(["web"] * n),
                "text": texts,
                "meta": pa.array(["{}"] * n),
                "language": pa.array(["en"] * n),
                "language_score": signals.field(3),
                "signals": signals,
            }
        )
        lengths = np.array([len(t) for t in texts.to_pylist()])
        for kind, mask in (("data", ~removed), ("removed", removed)):
            part = table.filter(pa.array(mask))
            if kind == "removed":
                part = part.append_column("reason", pa.array(reasons[mask]))
                for reason in ("quality.word_count", "quality.alpha_words"):
                    counts[reason] += int((reasons[mask] == reason).sum())
                    nbytes[reason] += int(lengths[mask][reasons[mask] == reason].sum())
            else:
                counts["kept"] += int(mask.sum())
                nbytes["kept"] += int(lengths[mask].sum())
            path = out / kind / "web" / f"part-{shard:05d}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(part, path, row_group_size=ROW_GROUP_ROWS, compression="zstd")
    by_reason = {r: {"docs": counts[r], "bytes": nbytes[r]} for r in ("quality.word_count", "quality.alpha_words")}
    removed_total = {
        "docs": sum(v["docs"] for v in by_reason.values()),
        "bytes": sum(v["bytes"] for v in by_reason.values()),
    }
    source = {
        "input": {"docs": docs, "bytes": nbytes["kept"] + removed_total["bytes"]},
        "kept": {"docs": counts["kept"], "bytes": nbytes["kept"]},
        "removed": {"total": removed_total, "by_reason": by_reason},
        "failed": {"total": {"docs": 0, "bytes": 0}, "by_stage": {}},
        "invariant_ok": True,
    }
    (out / "stats.json").write_text(json.dumps({"sources": {"web": source}, "invariant_ok": True}))
    (out / "manifest.json").write_text(json.dumps({"config": load_config(), "shards": [], "stages": None}))
    members = docs // 10  # one tenth of the documents in duplicate clusters of 2-6 members
    cluster = np.repeat(np.arange(members // 4), 4)[:members]
    ids = [f"web/synthetic#{i:09d}" for i in range(members)]
    (out / "dedup").mkdir(exist_ok=True)
    clusters = pa.table(
        {
            "id": ids,
            "cluster_id": [f"exact-{c:012d}" for c in cluster],
            "kept": np.r_[True, cluster[1:] != cluster[:-1]],
        }
    )
    pq.write_table(clusters, out / "dedup" / "clusters.parquet", row_group_size=100_000)


WRAPPER = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def measure(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one command, run under a fresh wrapper process."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], check=True, capture_output=True, text=True)
    return time.perf_counter() - t0, int(done.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    curation = str(Path(sys.executable).parent / "curation")
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        for docs in sorted(args.docs):
            out = Path(tmp) / f"run-{docs}"
            t0 = time.perf_counter()
            make_run(out, docs)
            print(f"{docs:,} documents: synthetic run written in {time.perf_counter() - t0:.0f} s")
            best: dict[str, tuple[float, float]] = {}
            for _ in range(args.repeat):  # interleaved, best of N
                for name, cmd in (
                    ("naive full load", [sys.executable, "-c", NAIVE, str(out)]),
                    ("curation report", [curation, "report", str(out), "--output", str(out / "report.html")]),
                ):
                    wall, peak = measure(cmd)
                    old = best.get(name, (float("inf"), float("inf")))
                    best[name] = (min(old[0], wall), min(old[1], peak))
            naive, report = best["naive full load"], best["curation report"]
            print(f"  naive full load : {naive[0]:6.1f} s, peak RSS {naive[1]:7.0f} MB")
            print(f"  curation report : {report[0]:6.1f} s, peak RSS {report[1]:7.0f} MB")
            print(f"  report / naive  : time {report[0] / naive[0]:.2f}x, memory {report[1] / naive[1]:.2f}x")


if __name__ == "__main__":
    main()
