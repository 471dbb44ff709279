"""The bundled demo corpus (small real samples; origins and licenses in README.md here)."""

from __future__ import annotations

from importlib import resources

# (source, glob relative to this package)
DEMO_INPUTS = [
    ("web", "web/*"),
    ("wikipedia", "wikipedia/*"),
    ("books", "books/*"),
    ("news", "news/*"),
    ("code", "code/*"),
]


def sample_dir() -> str:
    """Filesystem path of the installed sample corpus."""
    return str(resources.files("curation.sample"))


def demo_inputs() -> list[str]:
    """`SOURCE=GLOB` strings for `curation run` covering the whole sample corpus."""
    root = sample_dir()
    return [f"{source}={root}/{glob}" for source, glob in DEMO_INPUTS]


# (benchmark preset, file) pairs indexed for the demo's decontamination stage.
DEMO_EVALSETS = [("humaneval", "evalsets/HumanEval.jsonl.gz"), ("wikitext", "evalsets/test.txt.gz")]


def demo_evalset_specs() -> list[str]:
    """`NAME=PATH` strings for `curation decontam-index` over the bundled evaluation sets."""
    root = sample_dir()
    return [f"{name}={root}/{path}" for name, path in DEMO_EVALSETS]
