"""Local runner choice: Beam flags for the Python DirectRunner picked from input size and cores.

Beam 2.77's `DirectRunner` is a switching runner: it first tries the Prism runner, which downloads a Go
binary from GitHub at start (fails offline, after a DNS/HTTP attempt), then falls back to the FnApiRunner.
The Prism attempt is skipped when the pipeline sets `allow_unsafe_triggers` (direct_runner.py,
`_PrismRunnerSupportVisitor.accept`); that flag only relaxes a check on non-default triggers, which a
batch pipeline in the global window never uses. Going through `DirectRunner` (instead of constructing an
`FnApiRunner` directly) matters for multi-processing: the switching runner hands the pipeline options to
the worker processes (provision info), so e.g. `--s3_endpoint_url` reaches them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

# Below this much (uncompressed-equivalent) input, one in-process worker wins: worker processes cost a few
# seconds to start. Measured on the 2-core VM with bench/bench_runners.py (BENCHMARKS.md, "## Runners") on
# the graph that never ships documents between stages: the demo corpus x4 (18.5 MiB) ties, x16 (74 MiB)
# runs 1.35x faster in two processes; one 9 MB JSONL file already 1.14x.
MULTIPROCESS_MIN_BYTES = 16 * 2**20

# Flags that stop the DirectRunner's Prism attempt (no network access at start).
NO_PRISM_FLAGS = ("--runner=DirectRunner", "--allow_unsafe_triggers")

# Runner names that are the switching DirectRunner, whatever the spelling.
_DIRECT_RUNNER_NAMES = {"direct", "directrunner", "switchingdirectrunner"}


def _flag_value(flags: Sequence[str], name: str) -> str | None:
    """Value of `--name=value` / `--name value` among the flags (`""` for a bare `--name`), else None."""
    for i, flag in enumerate(flags):
        if flag.startswith(f"--{name}="):
            return flag.split("=", 1)[1]
        if flag == f"--{name}":
            nxt = flags[i + 1] if i + 1 < len(flags) else ""
            return "" if nxt.startswith("--") else nxt
    return None


def available_cores() -> int:
    """CPU cores this process may use (its affinity mask, which containers and taskset restrict)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def choose_local_mode(input_bytes: int, cores: int, workers: int | None) -> tuple[str, int]:
    """(direct_running_mode, num_workers) for a local run.

    `workers` (the CLI's --workers) wins: 1 means in-process, N > 1 means N worker processes. Otherwise
    small inputs or one core run in-process and larger inputs get one worker process per core.
    multi_threading is never chosen: CPU-bound Python DoFns do not gain from threads (the GIL).
    """
    if workers is not None:
        if workers < 1:
            raise ValueError(f"--workers must be >= 1, got {workers}")
        return ("in_memory", 1) if workers == 1 else ("multi_processing", workers)
    if cores <= 1 or input_bytes < MULTIPROCESS_MIN_BYTES:
        return ("in_memory", 1)
    return ("multi_processing", cores)


def local_runner_flags(input_bytes: int, cores: int, workers: int | None, user_flags: Sequence[str]) -> list[str]:
    """Beam flags for a run: the user's flags unchanged, plus a local DirectRunner mode if they chose none.

    - The user named a runner other than the DirectRunner (Dataflow, Portable, Flink, ...): their flags
      are returned unchanged.
    - No runner: `--runner=DirectRunner --allow_unsafe_triggers` (never tries Prism, so no download) and
      a running mode from `choose_local_mode` unless the user set `--direct_running_mode` /
      `--direct_num_workers` themselves (theirs are kept; a missing companion flag is filled in).
    - The user named the DirectRunner: their flags are kept; only the no-Prism flag and missing mode
      flags are added.
    """
    flags = list(user_flags)
    runner = _flag_value(flags, "runner")
    if runner is not None and runner.strip().lower() not in _DIRECT_RUNNER_NAMES:
        return flags
    if runner is None:
        flags.append(NO_PRISM_FLAGS[0])
    if _flag_value(flags, "allow_unsafe_triggers") is None:
        flags.append(NO_PRISM_FLAGS[1])

    user_mode = _flag_value(flags, "direct_running_mode")
    user_workers = _flag_value(flags, "direct_num_workers")
    if user_mode is None and user_workers is None:
        mode, count = choose_local_mode(input_bytes, cores, workers)
        flags.append(f"--direct_running_mode={mode}")
        if count > 1:
            flags.append(f"--direct_num_workers={count}")
    elif user_mode is None:
        assert user_workers is not None
        # Beam ignores direct_num_workers != 1 in in_memory mode; processes are what the user asked for.
        if user_workers.strip() not in ("", "1"):
            flags.append("--direct_running_mode=multi_processing")
    elif user_workers is None and user_mode.strip() != "in_memory":
        flags.append(f"--direct_num_workers={workers or cores}")
    return flags


def guard_local_runner_streams() -> None:
    """Turn off the local FnApiRunner's timed gRPC flush, which drops bundle input (docs/beam-local-runner-loss.md).

    Beam 2.77's runner flushes each data stream from a timer thread every second without locking out the
    writer: chunks written while the timer fires are cleared unsent, so multi-process runs silently lose
    documents. With the limit at 0 the runner's streams flush by size only. Harmless for other runners
    (the constant is read only by the local runner's worker handlers).
    """
    from apache_beam.runners.portability.fn_api_runner import worker_handlers

    worker_handlers.DATA_BUFFER_TIME_LIMIT_MS = 0


def describe_runner(flags: Sequence[str]) -> str:
    """One line naming the runner and local mode the flags select, for the CLI to print before a run."""
    runner = _flag_value(flags, "runner") or "DirectRunner"
    if runner.strip().lower() not in _DIRECT_RUNNER_NAMES:
        return f"runner: {runner}"
    mode = _flag_value(flags, "direct_running_mode") or "in_memory"
    workers = _flag_value(flags, "direct_num_workers") or "1"
    return f"runner: DirectRunner ({mode}, {workers} worker{'s' if workers != '1' else ''})"
