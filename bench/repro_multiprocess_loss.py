"""Pure-Beam reproduction: Beam 2.77's FnApiRunner with gRPC workers silently drops parts of a bundle's input.

The cause (file:line in apache_beam 2.77): the runner's data plane is built with a 1 s time-based flush
(`fn_api_runner/worker_handlers.py:88` DATA_BUFFER_TIME_LIMIT_MS = 1000, passed on at :511), so every
stream the runner opens towards a worker is a `TimeBasedBufferingClosableOutputStream`
(`runners/worker/data_plane.py:117-130`, :190-236). A `PeriodicThread` calls its `flush()` every second,
and `flush()` is `self._flush_callback(self.get()); self._clear()` (:186-187). It holds `_flush_lock`, but
`write()` is the Cython `OutputStream.write` (`coders/stream.pyx:42`), which takes no lock. The runner
sends a bundle's input by calling `data_out.write(chunk)` once per buffered chunk
(`fn_api_runner/fn_runner.py:1214-1222`). When the flush timer fires during that loop, any chunk written
after the timer thread's `get()` and before its `_clear()` is wiped out. Nothing raises: the worker gets
the rest of the input plus `is_last` and processes a shorter bundle.

What it takes:
- the runner talks gRPC to its workers (`direct_running_mode` multi_processing or multi_threading);
  in_memory uses the in-memory channel with no timer and is not affected;
- a bundle part with more than one chunk: a materialised PCollection (`ListBuffer`) is dealt to the
  workers chunk by chunk (`fn_api_runner/execution.py:151`), one chunk per 10 MB the producer emitted.
  GroupByKey outputs (`GroupingBuffer`) reach each worker as a single chunk and are not affected;
- a write loop that lasts past the flush timer's first tick, 1 s after the stream is opened: hundreds of
  MB per part, or tens of MB when the runner process is short of CPU (a loaded machine, or its other
  bundle thread decoding outputs into a GroupByKey buffer at the same time). On a 2-core machine at load
  ~13, 5 chunks (52 MB) per part were enough once; 2 chunks (17 MB) lost nothing in that run.

Whole chunks go missing, the last ones of one worker's part, so the lost elements form chunk-sized runs
(about 10 MB of elements each) at the end of that part.

    python bench/repro_multiprocess_loss.py                        # pipeline, 2 worker processes
    python bench/repro_multiprocess_loss.py --diagnose             # + per runner stream: bytes written vs sent
    python bench/repro_multiprocess_loss.py --runner-flush-ms 0    # the same with the timer off: nothing lost
    python bench/repro_multiprocess_loss.py --mechanism            # the race alone, in seconds, no pipeline

Exit status: 1 if elements were lost, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import worker_handlers
from apache_beam.runners.worker import data_plane

STREAMS: list[dict[str, int]] = []


def install_stream_accounting() -> None:
    """Count, per timed runner stream, bytes written into it and bytes it handed on to be sent."""
    cls = data_plane.TimeBasedBufferingClosableOutputStream
    original_init = cls.__init__

    def __init__(self, close_callback=None, flush_callback=None, *args, **kwargs) -> None:
        acct = {"written": 0, "sent": 0, "timer_flushes": 0}
        STREAMS.append(acct)
        self._acct = acct

        def counted(callback, timer: bool):
            def deliver(data: bytes) -> None:
                acct["sent"] += len(data)
                acct["timer_flushes"] += int(timer and bool(data))
                callback(data)

            return deliver

        original_init(self, counted(close_callback, False), counted(flush_callback, True), *args, **kwargs)

    def write(self, b: bytes, nested: bool = False) -> None:
        self._acct["written"] += len(b)
        data_plane.SizeBasedBufferingClosableOutputStream.write(self, b, nested)

    cls.__init__ = __init__
    cls.write = write


def generate(_, n: int, size: int) -> Iterator[tuple[int, bytes]]:
    """`n` synthetic elements (index, `size` bytes)."""
    for i in range(n):
        yield i, bytes([i % 251]) * size


def missing_runs(ids: list[int], n: int) -> list[list[int]]:
    """Consecutive runs [first, last] of the indices in range(n) that are not in `ids`."""
    runs: list[list[int]] = []
    for i in sorted(set(range(n)) - set(ids)):
        if runs and runs[-1][1] == i - 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return runs


def save_result(ids: list[int], path: str) -> None:
    """Write the indices one consumer received (runs in a worker; the driver reads the file)."""
    Path(path).write_text(json.dumps(sorted(ids)))


def run_pipeline(args: argparse.Namespace) -> int:
    """One producer stage, then `consumers` stages that each re-read the materialised output; count."""
    flags = [
        "--runner=DirectRunner",
        "--allow_unsafe_triggers",  # skips the Prism attempt (a download) of Beam 2.77's DirectRunner
        f"--direct_running_mode={args.mode}",
        f"--direct_num_workers={args.workers}",
    ]
    out = Path(tempfile.mkdtemp(prefix="repro-loss-"))
    start = time.time()
    with beam.Pipeline(options=PipelineOptions(flags)) as p:
        elements = p | "Seed" >> beam.Create([None]) | "Generate" >> beam.FlatMap(generate, args.docs, args.size)
        # A side input computed from the same PCollection keeps each consumer out of the producer's stage,
        # so the producer's output is materialised (a ListBuffer of ~10 MB chunks) and sent to the workers.
        total = elements | "Total" >> beam.combiners.Count.Globally()
        for k in range(args.consumers):
            (
                elements
                | f"Consume{k}"
                >> beam.Map(lambda kv, total: (kv[0] % 1000, kv[0]), total=beam.pvalue.AsSingleton(total))
                | f"Group{k}" >> beam.GroupByKey()
                | f"Ungroup{k}" >> beam.FlatMap(lambda kv: kv[1])
                | f"Collect{k}" >> beam.combiners.ToList()
                | f"Save{k}" >> beam.Map(save_result, str(out / f"consumer{k}.json"))
            )
    lost = 0
    for k in range(args.consumers):
        ids = json.loads((out / f"consumer{k}.json").read_text())
        runs = missing_runs(ids, args.docs)
        missing = sum(b - a + 1 for a, b in runs)
        lost += missing
        print(f"consumer {k}: expected {args.docs}, got {len(ids)}, missing {missing}; missing runs {runs[:8]}")
    print(f"mode {args.mode}, {args.workers} workers, {args.docs} x {args.size} B, {time.time() - start:.0f} s")
    if args.diagnose:
        leaks = [
            (a["written"], a["written"] - a["sent"], a["timer_flushes"]) for a in STREAMS if a["written"] != a["sent"]
        ]
        print(
            f"runner streams {len(STREAMS)}; (bytes written, bytes never sent, timer flushes) where bytes vanished: {leaks}"
        )
    return 1 if lost else 0


def run_mechanism(args: argparse.Namespace) -> int:
    """The race alone: Beam's runner-side channel, written the way `_send_input_to_worker` writes."""
    channel = data_plane._GrpcDataChannel(data_buffer_time_limit_ms=args.runner_flush_ms)
    received = {"bytes": 0}

    def drain() -> None:  # what the gRPC server does with the channel's outgoing messages
        for elements in channel._write_outputs():
            for data in elements.data:
                received["bytes"] += len(data.data)
                if data.is_last:
                    return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    chunk = bytes(args.chunk_mb << 20)
    out = channel.output_stream("bundle_1", "transform_1")
    for _ in range(args.chunks):
        out.write(chunk)
        time.sleep(args.pause_ms / 1000)  # a runner thread sharing the GIL/CPU with others
    out.close()
    reader.join(timeout=60)
    sent = args.chunks * len(chunk)
    print(f"runner flush timer {args.runner_flush_ms} ms: wrote {sent} bytes, the worker side got {received['bytes']}")
    return 1 if received["bytes"] != sent else 0


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the pipeline or the mechanism reproduction."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=100_000, help="elements produced")
    ap.add_argument("--size", type=int, default=3400, help="bytes per element")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--consumers", type=int, default=4, help="stages that re-read the materialised elements")
    ap.add_argument("--mode", default="multi_processing", choices=["multi_processing", "multi_threading", "in_memory"])
    ap.add_argument("--diagnose", action="store_true", help="account bytes written vs sent per runner stream")
    ap.add_argument(
        "--runner-flush-ms",
        type=int,
        default=worker_handlers.DATA_BUFFER_TIME_LIMIT_MS,
        help="runner data-plane flush timer (Beam's default 1000; 0 = size-based streams, no timer thread)",
    )
    ap.add_argument("--mechanism", action="store_true", help="reproduce the race without a pipeline")
    ap.add_argument("--chunks", type=int, default=40, help="--mechanism: chunks written")
    ap.add_argument("--chunk-mb", type=int, default=4, help="--mechanism: MB per chunk")
    ap.add_argument("--pause-ms", type=float, default=40, help="--mechanism: pause between writes")
    args = ap.parse_args(argv)
    worker_handlers.DATA_BUFFER_TIME_LIMIT_MS = args.runner_flush_ms
    if args.diagnose:
        install_stream_accounting()
    return run_mechanism(args) if args.mechanism else run_pipeline(args)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
