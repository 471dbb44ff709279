"""Import what a run's driver and workers load, so Python caches their bytecode once (`make` runs this), and
compile the numba kernels of `curation.minhash` once, so numba caches them too.

Run with .pyc writing allowed (`PYTHONDONTWRITEBYTECODE` empty). A module missing here is only compiled at
each start instead: slower, never wrong.
"""

from __future__ import annotations

import importlib

MODULES = (
    "curation.cli",
    "pipelines.massivetext",
    "pipelines.process",
    "pipelines.dedup",
    "pipelines.apply",
    "pipelines.write",
    "pipelines.decontam",
    "filters.registry",
    "curation.langid",
    "curation.extract",
    "curation.readers",
    "curation.report",
    "trafilatura",
    "fasttext",
    "pyarrow.parquet",
    "pyarrow.dataset",
    "apache_beam.runners.direct.direct_runner",
    "apache_beam.runners.portability.fn_api_runner.fn_runner",
    "apache_beam.runners.worker.sdk_worker_main",
)


def main() -> None:
    """Import every module of MODULES (and so everything they import)."""
    for name in MODULES:
        importlib.import_module(name)
    from curation.minhash import MinHashParams, sketch

    sketch("one call compiles every minhash kernel into numba's on-disk cache", MinHashParams())


if __name__ == "__main__":
    main()
