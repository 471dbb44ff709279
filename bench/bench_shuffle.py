"""Shuffled bytes per input byte: this checkout's pipeline against another checkout's, on the same generated input.

A shuffle is what a GroupByKey moves between workers: Dataflow bills it per GB (Dataflow Shuffle), and the
local runners hold it in memory. Both runs use the in-process FnApiRunner, whose GroupingBuffer receives every
GroupByKey input already encoded, so the sum of the bytes appended there is exactly what the graph shuffles.

    python bench/bench_shuffle.py --docs 20000 --compare /path/to/old/checkout
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

MEASURE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from apache_beam.runners.portability.fn_api_runner import execution

counts = {"shuffled": 0}
append = execution.GroupingBuffer.append

def counted_append(self, elements_data):
    counts["shuffled"] += len(elements_data)
    return append(self, elements_data)

execution.GroupingBuffer.append = counted_append
from curation.cli import main
code = main(["run", "--input", "web=" + sys.argv[2], "--output", sys.argv[3], "--workers", "1", "--overwrite"])
print(json.dumps({"exit": code, **counts}))
"""


def measure(tree: Path, corpus: Path, out: Path, python: str) -> dict:
    """Shuffled and written bytes of one run of `tree`'s pipeline."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    result = subprocess.run(
        [python, "-c", MEASURE, str(tree), str(corpus), str(out)], capture_output=True, text=True, env=env, check=False
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"run in {tree} failed:\n{result.stderr[-3000:]}")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--compare", type=Path, help="another checkout (the baseline), run on the same input")
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO / "bench"))
    from corpus_gen import write_jsonl

    with tempfile.TemporaryDirectory(prefix="bench-shuffle-") as tmp:
        corpus = write_jsonl(Path(tmp) / "web.jsonl", args.docs, args.seed)
        size = corpus.stat().st_size
        print(f"input: {args.docs:,} generated documents, {size / 1e6:.1f} MB (default web chain, in-process runner)")
        trees = [("this checkout", REPO)] + ([("baseline", args.compare)] if args.compare else [])
        results = {}
        for name, tree in trees:
            r = measure(tree, corpus, Path(tmp) / f"out-{len(results)}", args.python)
            results[name] = r
            print(
                f"{name:14s} shuffled {r['shuffled'] / 1e6:9.2f} MB = {r['shuffled'] / size:.4f} per input byte"
                f" (exit {r['exit']})",
                flush=True,
            )
        if len(results) == 2:
            new, old = results["this checkout"], results["baseline"]
            print(f"shuffle ratio (baseline / this checkout): {old['shuffled'] / max(1, new['shuffled']):.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
