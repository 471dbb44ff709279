"""Where the development corpus lives, for bench scripts: the path tests/shared_data.py computes.

One definition for tests and benchmarks (`CURATION_SHARED_DATA` overrides it in both). Bench scripts run as
`python bench/<script>.py`, so this module is importable as `corpus_path`.
"""

from __future__ import annotations

import runpy
from pathlib import Path

SHARED_DATA: Path = runpy.run_path(str(Path(__file__).resolve().parents[1] / "tests" / "shared_data.py"))["SHARED_DATA"]
