"""Per-process RSS with the current Beam stage, for finding which step of a run holds the memory.

Loaded by every Python process of a run when this folder is on PYTHONPATH; does nothing unless
STAGE_RSS_DIR is set. Each process appends `<unix time> <RSS MB> <stage>` every 0.25 s to
`$STAGE_RSS_DIR/rss-<pid>.txt`: workers label a sample with the transforms of the bundle they run, the
local runner's driver with the stage it executes. `bench/stage_rss/report.py DIR` summarises.

    STAGE_RSS_DIR=/tmp/rss PYTHONPATH=bench/stage_rss curation run --input web=FILE --output OUT
"""

import os
import sys
import threading
import time

_DIR = os.environ.get("STAGE_RSS_DIR")
_stage = ["-"]
_patched = {"worker": False, "driver": False}


def _rss_mb() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1_000_000


def _patch_worker(bundle_processor) -> None:
    original = bundle_processor.BundleProcessor.process_bundle

    def process_bundle(self, instruction_id, *args, **kwargs):
        names = [t.unique_name for t in self.process_bundle_descriptor.transforms.values()]
        tops = sorted({"/".join(n.split("/")[:2]) for n in names if n and not n.startswith("ref_")})
        _stage[0] = ",".join(tops)[:200] or "?"
        try:
            return original(self, instruction_id, *args, **kwargs)
        finally:
            _stage[0] = "-"

    bundle_processor.BundleProcessor.process_bundle = process_bundle


def _patch_driver(fn_runner) -> None:
    original = fn_runner.FnApiRunner._execute_bundle

    def _execute_bundle(self, context, bundle_manager, *args, **kwargs):
        _stage[0] = "D:" + bundle_manager.stage.name[:400]
        try:
            return original(self, context, bundle_manager, *args, **kwargs)
        finally:
            _stage[0] = "D:-"

    fn_runner.FnApiRunner._execute_bundle = _execute_bundle


def _patch() -> None:
    """Wrap Beam's bundle entry points once their modules are imported (never import Beam here)."""
    # A module still being imported lacks its classes: try again at the next sample.
    worker = sys.modules.get("apache_beam.runners.worker.bundle_processor")
    if hasattr(worker, "BundleProcessor") and not _patched["worker"]:
        _patch_worker(worker)
        _patched["worker"] = True
    driver = sys.modules.get("apache_beam.runners.portability.fn_api_runner.fn_runner")
    if hasattr(driver, "FnApiRunner") and not _patched["driver"]:
        _patch_driver(driver)
        _patched["driver"] = True


def _sample() -> None:
    with open(os.path.join(_DIR, f"rss-{os.getpid()}.txt"), "a", buffering=1) as f:
        f.write(f"# {' '.join(sys.argv)[:200]}\n")
        while True:
            try:
                _patch()
            except Exception as exc:  # noqa: BLE001 - a Beam version without these methods: RSS only
                f.write(f"# not patched: {exc}\n")
                _patched.update(worker=True, driver=True)
            f.write(f"{time.time():.2f} {_rss_mb()} {_stage[0]}\n")
            time.sleep(0.25)


if _DIR:
    os.makedirs(_DIR, exist_ok=True)
    threading.Thread(target=_sample, daemon=True, name="stage-rss").start()
