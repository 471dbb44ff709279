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
