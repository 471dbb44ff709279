"""Import what a run's driver and workers load, so Python caches their bytecode once (`make` runs this).

Run with .pyc writing allowed (`PYTHONDONTWRITEBYTECODE` empty). A module missing here is only compiled at
each start instead: slower, never wrong. It also runs the filters' compiled (numba) kernels once, so their
machine code is cached beside the modules (`__pycache__`) instead of compiled in every worker process.
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
    from curation.ngram_stats import ngram_fractions
    from curation.token_arrays import cumulative_lengths, datatrove_token_arrays

    sample = "Warm-up text: the kernels compile once -- here, not in every worker. The end... The end."
    tokens = datatrove_token_arrays(sample)
    for convention in ("all_occurrences", "repeats"):
        ngram_fractions(tokens.hashes, cumulative_lengths(tokens.lengths), len(sample), convention)
    sketch(sample, MinHashParams())


if __name__ == "__main__":
    main()
