"""Run a test's subprocess with its network guarded: attempts fail at once and are logged for the test to check."""

from __future__ import annotations

import os
from pathlib import Path

GUARD_DIR = Path(__file__).resolve().parent / "offline"  # holds the guard's sitecustomize.py


def guarded_env(env: dict[str, str], log: Path, allow_loopback: bool) -> dict[str, str]:
    """`env` for a subprocess in which every connection and name lookup (but loopback, if allowed) fails and is logged."""
    log.write_text("", "utf-8")
    path = os.pathsep.join(p for p in (str(GUARD_DIR), env.get("PYTHONPATH", "")) if p)
    guarded = {**env, "PYTHONPATH": path, "CURATION_TEST_NET_LOG": str(log)}
    if allow_loopback:
        guarded["CURATION_TEST_NET_ALLOW"] = "loopback"
    else:
        guarded.pop("CURATION_TEST_NET_ALLOW", None)
    return guarded


def network_attempts(log: Path) -> list[str]:
    """The blocked connections and lookups the guarded processes made (`<pid> connect (...)` lines)."""
    return log.read_text("utf-8").splitlines()
