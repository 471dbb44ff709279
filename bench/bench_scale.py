"""Scale bench: the default web chain on 100k / 300k / 1M generated documents, against datatrove in the same run.

For each size: wall time, docs/s, peak RSS summed over every process of the run (sampled from /proc), and
per-phase time (plan+read+filter+hash, dedup, apply+commit, from the run's progress files). Then datatrove's
full local pipeline on the same documents (JsonlReader -> GopherRepetitionFilter -> GopherQualityFilter ->
its 4-step MinHash dedup -> ParquetWriter), with as many tasks as cores; datatrove cannot split a file, so it
gets the same documents cut into one file per task. The ratio is docs/s (ours) / docs/s (datatrove) at the
datatrove size. `--variant KEY=VALUE` (repeatable) adds, at every size, a second run of ours with those
settings (e.g. `signal_readings=profile`), with its own ratio.

    python bench/bench_scale.py --sizes 100000,300000,1000000 --datatrove-docs 30000 \
        --datatrove-python .venv-bench/bin/python
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from corpus_gen import generate, write_jsonl  # noqa: E402


def tree_rss(pid: int) -> tuple[int, int]:
    """RSS in bytes of a process and all its descendants: (summed, largest single process)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE")
    total, largest, stack = 0, 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        largest = max(largest, rss.get(p, 0))
        stack.extend(children.get(p, []))
    return total, largest


def progress_phases(out: Path, state: dict, input_bytes: int | None = None) -> None:
    """Record when reading finished and when writing started, from the run's progress files.

    With `input_bytes` (a plain input's size, which the items' work bytes add up to), reading has finished
    when the finished items cover it; without, when every item seen so far is done (which can also hold for
    a moment between items).
    """
    folder = out / "_temporary" / "progress"
    try:
        names = os.listdir(folder)
    except OSError:
        return
    now = time.monotonic()
    done = {"process": 0, "apply": 0}
    total = {"process": 0, "apply": 0}
    done_bytes = 0
    for name in names:
        phase = name.split("-", 1)[0]
        if phase not in total or not name.endswith(".json"):
            continue
        total[phase] += 1
        with contextlib.suppress(OSError, ValueError):
            data = json.loads((folder / name).read_text())
            done[phase] += data.get("done", False)
            if phase == "process" and data.get("done"):
                done_bytes += data.get("bytes", 0)
    if total["apply"] and "apply_start" not in state:
        state["apply_start"] = now
    if input_bytes is not None:
        if "process_end" not in state and (done_bytes >= input_bytes or total["apply"]):
            state["process_end"], state["process_items"] = now, total["process"]
        return
    all_done = total["process"] and done["process"] == total["process"] and not total["apply"]
    if all_done and state.get("process_items") != total["process"]:  # first moment all items seen so far are done
        state["process_end"], state["process_items"] = now, total["process"]


def measure(cmd: list[str], out: Path | None = None, env: dict | None = None, input_bytes: int | None = None) -> dict:
    """Run a command, sampling the summed RSS of its process tree and (for our runs) its phases."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    peak, state = 0, {}
    phase_peaks: dict[str, list[int]] = {}  # phase -> [summed peak, largest single process peak]
    while proc.poll() is None:
        summed, largest = tree_rss(proc.pid)
        peak = max(peak, summed)
        if out is not None:
            progress_phases(out, state, input_bytes)
            phase = "apply+commit" if "apply_start" in state else "dedup" if "process_end" in state else "read"
            row = phase_peaks.setdefault(phase, [0, 0])
            row[0], row[1] = max(row[0], summed), max(row[1], largest)
        time.sleep(0.2)
    stdout, stderr = proc.communicate()
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{stderr[-3000:]}")
    phases = {}
    if "process_end" in state:
        phases["read+filter+hash"] = state["process_end"] - start
        if "apply_start" in state:
            phases["dedup"] = state["apply_start"] - state["process_end"]
            phases["apply+commit"] = wall - (state["apply_start"] - start)
    rss_by_phase = {k: [round(v / 1e9, 2) for v in row] for k, row in phase_peaks.items()}
    return {"wall_s": wall, "peak_rss_gb": peak / 1e9, "phases": phases, "rss_by_phase": rss_by_phase, "stdout": stdout}


def run_ours(corpus: Path, work: Path, docs: int, workers: int, settings: list[str] = ()) -> dict:
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(Path(sys.executable).parent / "curation"), "run", "--input", f"web={corpus}", "--output", str(out)]
    cmd += ["--workers", str(workers)]
    for setting in settings:
        cmd += ["--set", setting]
    result = measure(cmd, out, input_bytes=corpus.stat().st_size)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["invariant_ok"] and stats["sources"]["web"]["input"]["docs"] == docs
    result["docs_per_s"] = docs / result["wall_s"]
    result["kept"] = stats["sources"]["web"]["kept"]["docs"]
    return result


DATATROVE_SCRIPT = r"""
import sys
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup import MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupBuckets
from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter, ParquetWriter

def run(name, pipeline, n_tasks):
    LocalPipelineExecutor(
        pipeline=pipeline, tasks=n_tasks, workers=min(n_tasks, TASKS), logging_dir=f"{WORK}/logs/{name}",
        skip_completed=False,
    ).run()


if __name__ == "__main__":  # datatrove's executor starts workers with forkserver: they re-import this file
    inp, WORK, TASKS = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cfg = MinhashConfig()
    run("filter", [JsonlReader(inp), GopherRepetitionFilter(), GopherQualityFilter(), JsonlWriter(f"{WORK}/filtered")], TASKS)
    run("signatures", [JsonlReader(f"{WORK}/filtered"), MinhashDedupSignature(output_folder=f"{WORK}/sigs", config=cfg)], TASKS)
    run("buckets", [MinhashDedupBuckets(f"{WORK}/sigs", f"{WORK}/buckets", config=cfg)], cfg.num_buckets)
    run("cluster", [MinhashDedupCluster(f"{WORK}/buckets", f"{WORK}/remove_ids", config=cfg)], 1)
    run(
        "dedup",
        [JsonlReader(f"{WORK}/filtered"), MinhashDedupFilter(f"{WORK}/remove_ids"), ParquetWriter(f"{WORK}/out")],
        TASKS,
    )
"""


def run_datatrove(records: list[dict], work: Path, python: str, tasks: int) -> dict:
    inp = work / "dt-in"
    shutil.rmtree(inp, ignore_errors=True)
    inp.mkdir(parents=True)
    per = -(-len(records) // tasks)
    for t in range(tasks):
        with open(inp / f"part{t}.jsonl", "w", encoding="utf-8") as f:
            for r in records[t * per : (t + 1) * per]:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    dt_work = work / "dt-work"
    shutil.rmtree(dt_work, ignore_errors=True)
    script = work / "dt_pipeline.py"
    script.write_text(DATATROVE_SCRIPT)
    result = measure([python, str(script), str(inp), str(dt_work), str(tasks)])
    result["docs_per_s"] = len(records) / result["wall_s"]
    return result


def _line(name: str, docs: int, r: dict) -> str:
    """One result line: wall time, docs/s and peak RSS of a run."""
    return f"{name:<9} {docs:>9,} docs  {r['wall_s']:8.1f} s  {r['docs_per_s']:8.1f} docs/s  peak RSS {r['peak_rss_gb']:.2f} GB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,300000,1000000")
    ap.add_argument("--datatrove-docs", type=int, default=30000, help="0 = skip datatrove")
    ap.add_argument("--datatrove-python", default=sys.executable)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--baseline-docs",
        type=int,
        default=0,
        help="also run this size in-process (--workers 1): the parallel speed-up",
    )
    ap.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE", help="also run ours with these")
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    rows = []
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.baseline_docs and args.baseline_docs not in sizes:
        sizes = [args.baseline_docs, *sizes]
    if args.datatrove_docs and args.datatrove_docs not in sizes:
        sizes = [args.datatrove_docs, *sizes]
    for n in sizes:
        corpus = write_jsonl(work / f"web-{n}.jsonl", n, args.seed)
        r = run_ours(corpus, work, n, args.workers)
        rows.append(("curation", n, r))
        print(
            _line("curation", n, r) + f"  phases {json.dumps({k: round(v, 1) for k, v in r['phases'].items()})}",
            flush=True,
        )
        print(f"{'':<9} peak RSS GB by phase [summed, largest process]: {json.dumps(r['rss_by_phase'])}", flush=True)
        if n == args.baseline_docs:
            b = run_ours(corpus, work, n, 1)
            rows.append(("in-process", n, b))
            print(
                _line("in-proc", n, b)
                + f"   speed-up with {args.workers} workers: {r['docs_per_s'] / b['docs_per_s']:.2f}x"
                + f"  phases {json.dumps({k: round(v, 1) for k, v in b['phases'].items()})}",
                flush=True,
            )
        variant = None
        if args.variant:
            variant = run_ours(corpus, work, n, args.workers, args.variant)
            rows.append(("variant", n, variant))
            print(_line("variant", n, variant) + f"  ({' '.join(args.variant)})", flush=True)
        if n == args.datatrove_docs:
            d = run_datatrove(list(generate(n, args.seed)), work, args.datatrove_python, args.workers)
            rows.append(("datatrove", n, d))
            ratio = r["docs_per_s"] / d["docs_per_s"]
            print(_line("datatrove", n, d) + f"   ratio (curation/datatrove docs/s): {ratio:.1f}x", flush=True)
            if variant:
                print(f"{'':<9} variant/datatrove docs/s: {variant['docs_per_s'] / d['docs_per_s']:.1f}x", flush=True)
        corpus.unlink()
    ours = {n: r for name, n, r in rows if name == "curation"}
    big = [n for n in sorted(ours) if n >= 100000]
    if len(big) >= 2:
        lo, hi = big[0], big[-1]
        print(
            f"scaling {lo:,} -> {hi:,}: time x{ours[hi]['wall_s'] / ours[lo]['wall_s']:.2f} for x{hi / lo:.0f} docs, "
            f"peak RSS x{ours[hi]['peak_rss_gb'] / ours[lo]['peak_rss_gb']:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
