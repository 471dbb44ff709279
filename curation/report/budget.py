"""Data-budget section: the `curation plan` of the run's tokenized output (TOK), and whether TOK matches the run."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from curation.plan import plan_for_output

TOK_KIND = "tokenize"  # the `kind` a tokenize output's manifest.json declares
REQUESTED, REQUESTED_OVER, SUGGESTED = "requested mixture", "requested, over the cap", "suggested re-weighting"


def read_tok_manifest(tok: Path) -> dict[str, Any]:
    """TOK/manifest.json of a `curation tokenize` output (ValueError when it is not one)."""
    path = tok / "manifest.json"
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"no readable manifest.json under {tok}: {exc}") from None
    if (
        not isinstance(manifest, dict)
        or manifest.get("kind") != TOK_KIND
        or not isinstance(manifest.get("sources"), dict)
    ):
        raise ValueError(f"{path} is not the manifest of a `curation tokenize` output")
    return manifest


def provenance_mismatches(tok_manifest: Mapping[str, Any], stats: Mapping[str, Any]) -> list[str]:
    """Sources whose tokenized input documents differ from the run's kept documents (TOK made from another run)."""
    tok_docs = {s: int(v["input_documents"]) for s, v in tok_manifest["sources"].items()}
    run_docs = {s: int(v["kept"]["docs"]) for s, v in stats["sources"].items()}
    return [
        f"{s}: TOK tokenized {tok_docs.get(s, 0):,} documents, this run kept {run_docs.get(s, 0):,}"
        for s in sorted(set(tok_docs) | set(run_docs))
        if tok_docs.get(s, 0) != run_docs.get(s, 0)
    ]


def epoch_rows(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Chart rows: per source, the epochs of the requested mixture and of the suggested re-weighting (when drawn)."""
    rows = []
    for r in plan["rows"]:
        if r["epochs"]:
            series = REQUESTED_OVER if r["over_cap"] else REQUESTED
            rows.append({"source": r["source"], "series": series, "group": "requested", "epochs": r["epochs"]})
        if r["suggested_epochs"]:
            rows.append(
                {"source": r["source"], "series": SUGGESTED, "group": "suggested", "epochs": r["suggested_epochs"]}
            )
    return rows


def plan_command(tok: Path, train_tokens: float, mixture: str | None, max_epochs: float | None) -> str:
    """The `curation plan` command line that prints the section's numbers as JSON."""
    args = ["curation", "plan", str(tok), "--train-tokens", f"{train_tokens:.17g}"]
    if mixture is not None:
        args += ["--mixture", mixture]
    if max_epochs is not None:
        args += ["--max-epochs", f"{max_epochs:g}"]
    return shlex.join([*args, "--json"])


def budget_section(
    tok: Path,
    stats: Mapping[str, Any],
    cfg: Mapping[str, Any],
    train_tokens: float | None = None,
    mixture: str | None = None,
    max_epochs: float | None = None,
) -> dict[str, Any]:
    """The plan of TOK for `train_tokens` (default: TOK's unique tokens, one pass) under `mixture`, as plain data.

    Mixture presets and the epoch cap come from `cfg` (the run's configuration). Raises ValueError (a
    MixtureError among them) when TOK or the mixture cannot be used.
    """
    manifest = read_tok_manifest(tok)
    unique = sum(int(v["tokens"]) for v in manifest["sources"].values())
    budget = float(train_tokens) if train_tokens is not None else float(unique)
    plan = plan_for_output(tok, budget, mixture, max_epochs, cfg)
    return {
        "tok": str(tok),
        "plan": plan,
        "default_budget": train_tokens is None,
        "tokenizer": manifest.get("tokenizer"),
        "documents": sum(int(v["documents"]) for v in manifest["sources"].values()),
        "mismatches": provenance_mismatches(manifest, stats),
        "command": plan_command(tok, budget, mixture, max_epochs),
        "epochs": epoch_rows(plan),
    }
