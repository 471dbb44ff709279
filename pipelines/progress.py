"""Live progress of a local run: workers drop small progress files, the CLI shows their sum.

Workers of the local runners are other processes, and Beam's metrics reach the driver only at the end, so
each worker writes `OUT/_temporary/progress/<phase>-<item>.json` (documents and work bytes done) at most
every few seconds, and `ProgressMonitor`, a thread in the CLI, polls the folder: a live bar on a terminal,
a plain line every `line_every` seconds otherwise (CI logs stay short). On remote outputs (Dataflow) nothing
is written: Beam metrics counters show the same numbers on the job page.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from pipelines.io import is_remote
from pipelines.outputs import STAGING

PHASES = ("process", "apply")
WRITE_EVERY_S = 2.0


def progress_dir(out: str) -> str:
    """Where workers drop progress files."""
    return os.path.join(out, STAGING, "progress")


class ProgressWriter:
    """Rate-limited progress reporting of one item in one phase (a no-op for remote outputs)."""

    def __init__(self, out: str, phase: str, key: str, work: int):
        self.enabled = not is_remote(out)
        self.path = os.path.join(progress_dir(out), f"{phase}-{key}.json")
        self.work = work
        self.last = 0.0

    def update(self, docs: int, nbytes: int, done: bool = False) -> None:
        """Record documents and bytes done so far (written at most every WRITE_EVERY_S, and when done)."""
        now = time.monotonic()
        if not self.enabled or (not done and now - self.last < WRITE_EVERY_S):
            return
        self.last = now
        data = {"docs": docs, "bytes": min(nbytes, self.work) if not done else self.work, "done": done}
        tmp = f"{self.path}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(data, f)
            os.replace(tmp, self.path)
        except OSError:
            self.enabled = False  # progress is best effort: never fail a run for it


def read_progress(out: str) -> dict[str, dict[str, int]]:
    """Per phase: documents, work bytes and finished items, summed over the progress files."""
    totals = {phase: {"docs": 0, "bytes": 0, "items": 0} for phase in PHASES}
    try:
        names = os.listdir(progress_dir(out))
    except OSError:
        return totals
    for name in names:
        phase = name.split("-", 1)[0]
        if phase not in totals or not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(progress_dir(out), name), encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue
        totals[phase]["docs"] += int(data.get("docs", 0))
        totals[phase]["bytes"] += int(data.get("bytes", 0))
        totals[phase]["items"] += 1 if data.get("done") else 0
    return totals


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def describe(totals: dict[str, dict[str, int]], total_bytes: int, elapsed: float) -> str:
    """One progress line: documents read and written, rate, ETA of the reading phase."""
    proc, app = totals["process"], totals["apply"]
    parts = [f"read {proc['docs']:,} docs"]
    if total_bytes > 0:
        share = min(1.0, proc["bytes"] / total_bytes)
        parts[0] += f" ({share:.0%} of input)"
    rate = proc["docs"] / elapsed if elapsed > 0 else 0.0
    parts.append(f"{rate:,.0f} docs/s")
    if total_bytes > 0 and 0 < proc["bytes"] < total_bytes:
        parts.append(f"ETA {_duration(elapsed * (total_bytes / proc['bytes'] - 1))}")
    elif total_bytes > 0 and proc["bytes"] >= total_bytes and not app["items"]:
        parts.append("dedup")
    parts.append(f"written {app['docs']:,} docs")
    return "progress: " + ", ".join(parts)


class ProgressMonitor(threading.Thread):
    """Polls a local run's progress files and shows them until stopped."""

    def __init__(self, out: str, total_bytes: int, stream: TextIO | None = None, line_every: float = 30.0):
        super().__init__(daemon=True)
        self.out = out
        self.total_bytes = total_bytes
        self.stream = stream or sys.stderr
        self.line_every = line_every
        self.stop_event = threading.Event()
        self.start_time = time.monotonic()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.lines = 0

    def run(self) -> None:
        show: Callable[[str], None] = self._show_tty if self.tty else self._show_line
        interval = 1.0 if self.tty else self.line_every
        seen = read_progress(self.out)
        while not self.stop_event.wait(interval):
            # Counts never go back (the commit removes the progress files just before the run ends).
            now = read_progress(self.out)
            seen = {phase: {k: max(v, now[phase][k]) for k, v in seen[phase].items()} for phase in seen}
            show(describe(seen, self.total_bytes, time.monotonic() - self.start_time))
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def _show_tty(self, line: str) -> None:
        self.stream.write("\r\033[K" + line)
        self.stream.flush()

    def _show_line(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()
        self.lines += 1

    def stop(self) -> None:
        """Stop polling (and clear the live line on a terminal)."""
        self.stop_event.set()
        self.join(timeout=5)
