"""Wall time of the demo pipeline (`curation run` on the bundled sample corpus) in each local Beam mode.

Baseline: `in_memory` (one in-process worker: what Beam's DirectRunner falls back to). Also shown: Beam's
plain `--runner=DirectRunner` (tries Prism first, which fails offline and falls back) and the mode
`pipelines.runner.local_runner_flags` picks by default. Inputs: the demo corpus copied SCALE times under
bench/_work/runners/ (copies of a file are new files, so every copy is read, filtered, deduplicated).

    .venv/bin/python bench/bench_runners.py [--scales 1 16] [--repeats 1] [--max-workers N]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / "_work" / "runners"
sys.path.insert(0, str(REPO))

from curation.sample import DEMO_INPUTS, sample_dir  # noqa: E402
from curation.workitems import work_bytes  # noqa: E402
from pipelines.runner import available_cores, local_runner_flags  # noqa: E402


def build_corpus(scale: int) -> tuple[list[str], int]:
    """Copy the demo corpus `scale` times; returns the --input specs and the corpus's work bytes."""
    root = WORK / f"corpus-x{scale}"
    if root.exists():
        shutil.rmtree(root)
    specs, files = [], []
    for source, glob in DEMO_INPUTS:
        dest = root / source
        dest.mkdir(parents=True)
        for copy in range(scale):
            for src in sorted(Path(sample_dir()).glob(glob)):
                target = dest / f"c{copy:03d}-{src.name}"
                shutil.copyfile(src, target)
                files.append((str(target), target.stat().st_size))
        specs.append(f"{source}={dest}/*")
    return specs, work_bytes(files)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(specs: list[str], flags: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one `curation run` (a fresh process, as a user runs it); raises if it fails."""
    out = WORK / "out"
    cmd = [str(REPO / ".venv" / "bin" / "curation"), "run", "--output", str(out), "--overwrite"]
    for spec in specs:
        cmd += ["--input", spec]
    cpu_before, started = _children_cpu(), time.perf_counter()
    result = subprocess.run(cmd + flags, capture_output=True, text=True, cwd=REPO)
    elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(flags)} failed with exit code {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        )
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--max-workers", type=int, default=None, help="largest multi_processing pool (default: cores)")
    parser.add_argument("--only", nargs="+", default=None, help="run only modes whose name starts with these")
    args = parser.parse_args()
    cores = available_cores()
    no_prism = ["--runner=DirectRunner", "--allow_unsafe_triggers"]
    modes = {
        "in_memory (baseline)": no_prism + ["--direct_running_mode=in_memory"],
        "beam DirectRunner as-is": ["--runner=DirectRunner"],
        "multi_threading x2": no_prism + ["--direct_running_mode=multi_threading", "--direct_num_workers=2"],
    }
    for n in sorted({2, cores, args.max_workers or cores}):
        modes[f"multi_processing x{n}"] = no_prism + [
            "--direct_running_mode=multi_processing",
            f"--direct_num_workers={n}",
        ]
    if args.only:
        modes = {name: flags for name, flags in modes.items() if name.startswith(tuple(args.only))}
    print(f"cores={cores} python={sys.version.split()[0]} load average: {os.getloadavg()[0]:.1f}")
    for scale in args.scales:
        specs, nbytes = build_corpus(scale)
        chosen = local_runner_flags(nbytes, cores, None, [])
        print(f"\n== scale x{scale}: {nbytes / 2**20:.1f} MiB work bytes; default picks {' '.join(chosen[2:])}")
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in modes}
        for _ in range(args.repeats):  # interleaved, so load changes on a shared machine hit every mode
            for name, flags in modes.items():
                runs[name].append(run_once(specs, flags))
        baseline = None
        for name, flags in modes.items():
            wall = statistics.median(r[0] for r in runs[name])
            cpu = statistics.median(r[1] for r in runs[name])
            baseline = baseline or wall
            default = "  <- default" if flags == chosen else ""
            print(
                f"{name:26s} wall {wall:7.2f} s  cpu {cpu:7.2f} s  speed-up vs in_memory {baseline / wall:5.2f}x{default}"
            )
        print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
