"""Import what a run's driver and workers load, so Python caches their bytecode once (`make` runs this).

Run with .pyc writing allowed (`PYTHONDONTWRITEBYTECODE` empty). A module missing here is only compiled at
each start instead: slower, never wrong. It also runs the filters' compiled (numba) kernels once, so their
machine code is cached beside the modules (`__pycache__`) instead of compiled in every worker process.
"""

from __future__ import annotations

import importlib
from concurrent.futures import ProcessPoolExecutor

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


_SAMPLE = "Warm-up text: the kernels compile once -- here, not in every worker. The end... The end."


def _compile_tokenizer() -> None:
    """Compile (and cache) the tokenizer and token-array kernels."""
    from curation.token_arrays import datatrove_token_arrays

    datatrove_token_arrays(_SAMPLE)


def _compile_ngrams_and_minhash() -> None:
    """Compile (and cache) the n-gram signal and MinHash kernels."""
    from curation.minhash import MinHashParams, sketch
    from curation.ngram_stats import ngram_fractions, sequence_arrays

    hashes, cum = sequence_arrays(_SAMPLE.split())
    for convention in ("all_occurrences", "repeats"):
        ngram_fractions(hashes, cum, len(_SAMPLE), convention)
    sketch(_SAMPLE, MinHashParams())


def main() -> None:
    """Import every module of MODULES (and so everything they import); compile the kernels, two at a time."""
    with ProcessPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(_compile_tokenizer), pool.submit(_compile_ngrams_and_minhash)]
        for name in MODULES:
            importlib.import_module(name)
        for job in jobs:
            job.result()


if __name__ == "__main__":
    main()
