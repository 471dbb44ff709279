"""Where the development corpus (`../shared/data`) lives, and the one marker for tests that need it.

A clone without the corpus skips `@pytest.mark.corpus` tests with a reason; CI (which has the corpus)
sets CURATION_REQUIRE_CORPUS=1 and then any skip of such a test is an error (see conftest.py).
A test that uses the `shared_data` fixture is marked `corpus` automatically; one that reads `SHARED_DATA`
directly carries the marker itself. Override the location with CURATION_SHARED_DATA. This is the one place
the path is computed: bench scripts read it through `bench/corpus_path.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CURATION_SHARED_DATA") or REPO.parent / "shared" / "data")


def corpus_available() -> bool:
    """Whether the development corpus is present."""
    return (SHARED_DATA / "MANIFEST.md").is_file()


def corpus_required() -> bool:
    """Whether a missing corpus (or a skipped corpus test) must fail the run (CI)."""
    return os.environ.get("CURATION_REQUIRE_CORPUS", "") not in ("", "0")
