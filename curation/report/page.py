"""`curation report OUT`: gather every section from the run's own files and write one self-contained HTML page."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from curation.config import STAGES, load_config
from curation.report import charts
from curation.report.baseline import changed_documents, config_changes, rule_deltas, step_deltas
from curation.report.budget import budget_section
from curation.report.collect import Sample, collect_sample
from curation.report.decontam import decontam_section
from curation.report.dedup import BUCKET_ORDER, bucket_rows, dedup_section
from curation.report.distributions import language_rows, length_bins, length_summary
from curation.report.examples import deciding_signals, examples_section
from curation.report.funnel import count_mismatches, funnel_steps, funnel_table, parquet_counts
from curation.report.signals import signal_histograms
from curation.report.thresholds import threshold_table

DEFAULT_SAMPLE_ROWS = 20000
HISTOGRAM_COLUMNS = 3
MIN_BUCKETS = 5  # cluster-size buckets always shown (2, 3, 4, 5, 6-10)


class ReportError(ValueError):
    """The folder is not a finished run the report can read."""


@dataclass(frozen=True)
class Run:
    """A finished run's summary files."""

    path: Path
    stats: dict[str, Any]
    manifest: dict[str, Any]

    @property
    def config(self) -> dict[str, Any]:
        """The run's effective configuration (from manifest.json)."""
        return self.manifest.get("config") or {}

    @property
    def sources(self) -> list[str]:
        """Source labels of the run, sorted."""
        return sorted(self.stats["sources"])


def load_run(path: Path) -> Run:
    """Read stats.json and manifest.json of a finished run (ReportError when either is missing)."""
    try:
        stats = json.loads((path / "stats.json").read_text("utf-8"))
        manifest = json.loads((path / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path} is not a finished run (no readable stats.json and manifest.json: {exc})") from None
    return Run(path, stats, manifest)


def _svg(chart) -> Markup:
    return Markup(charts.to_svg(chart))


def _totals(stats: Mapping[str, Any]) -> dict[str, int]:
    t = {"input_docs": 0, "input_bytes": 0, "kept_docs": 0, "kept_bytes": 0, "removed_docs": 0, "failed_docs": 0}
    for s in stats["sources"].values():
        t["input_docs"] += s["input"]["docs"]
        t["input_bytes"] += s["input"]["bytes"]
        t["kept_docs"] += s["kept"]["docs"]
        t["kept_bytes"] += s["kept"]["bytes"]
        t["removed_docs"] += s["removed"]["total"]["docs"]
        t["failed_docs"] += s["failed"]["total"]["docs"]
    return t


def _coverage(sample: Sample) -> list[dict[str, Any]]:
    return [
        {"kind": kind, "source": source, "total": total, "sampled": sample.sampled[(kind, source)]}
        for (kind, source), total in sorted(sample.total.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]


def _histogram_charts(histograms: Mapping[str, list[dict[str, Any]]], y_title: str) -> list[dict[str, Any]]:
    groups = []
    for stage in [s for s in STAGES if s in histograms] + sorted(set(histograms) - set(STAGES)):
        items = histograms[stage]
        panels = [charts.histogram(h["bins"], h["thresholds"], *_panel_title(h), h["log"], y_title) for h in items]
        groups.append({"stage": stage, "svg": _svg(charts.grid(panels, HISTOGRAM_COLUMNS)), "histograms": items})
    return groups


def _panel_title(h: Mapping[str, Any]) -> tuple[str, str]:
    """Panel title (signal without its stage) and a subtitle with what the panel counts."""
    name = h["signal"].split(".", 1)[1] + (" (log scale)" if h["log"] else "")
    return name, f"{h['documents']:,} documents, {h['removed_here']:,} removed by {h['rule'].split('.', 1)[1]}"


def _baseline_section(run: Run, base: Run, sample: Sample) -> dict[str, Any]:
    steps = step_deltas(base.stats, run.stats)
    rules = rule_deltas(steps)
    changed_rules = [r["rule"] for r in rules if r["rule"] != "kept" and not r["rule"].startswith("failed: ")]
    return {
        "path": str(base.path),
        "config": config_changes(base.config, run.config),
        "steps": [s for s in steps if s["delta"] or s["kind"] in ("input", "kept")],
        "rules": rules,
        "chart": _svg(charts.delta_chart([r for r in rules if r["rule"] != "kept"], "Change in documents per rule"))
        if rules
        else None,
        "changed": {
            rule: {
                kind: [{**d, "deciding": deciding_signals(rule, d, run.config)} for d in docs]
                for kind, docs in sides.items()
            }
            for rule, sides in changed_documents(run.path, base.path, sample, changed_rules).items()
        },
    }


def build_report(
    out: Path,
    output: Path,
    baseline: Path | None = None,
    decontam_index: Path | None = None,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    seed: int = 0,
    tokenized: Path | None = None,
    train_tokens: float | None = None,
    mixture: str | None = None,
    max_epochs: float | None = None,
) -> dict[str, Any]:
    """Write the HTML report of the run at `out` to `output`; returns the numbers it shows (for tests).

    With `tokenized` (the run's `curation tokenize` output) the page holds the data-budget plan of
    `train_tokens` under `mixture`, the same data `curation plan --json` prints.
    """
    run = load_run(out)
    base = load_run(baseline) if baseline else None
    cfg, sources = run.config, run.sources
    budget = _budget(run, tokenized, train_tokens, mixture, max_epochs) if tokenized else None
    counts = parquet_counts(out, sources)
    sample = collect_sample(out, sources, sample_rows, seed)
    y_title = "documents" if sample.complete else "documents in sample"
    steps = funnel_steps(run.stats, cfg.get("stage_order") or STAGES)
    table = funnel_table(run.stats)
    histograms = signal_histograms(sample, cfg, sources)
    dedup = dedup_section(out)
    decontam = decontam_section(out, run.stats, decontam_index)
    languages = language_rows(sample)
    lengths = length_bins(sample)
    removals = [r for r in table if r["kind"] in ("removed", "failed")]
    context = {
        "out": str(out),
        "stats": run.stats,
        "totals": _totals(run.stats),
        "sources": sources,
        "stages": run.manifest.get("stages"),
        "mismatches": count_mismatches(run.stats, counts),
        "counts": counts,
        "sample": {
            "complete": sample.complete,
            "rows": sample.table.num_rows,
            "coverage": _coverage(sample),
            "budget": sample_rows,
        },
        "funnel": {
            "table": table,
            "svg": _svg(
                charts.alt.hconcat(
                    charts.funnel_chart(steps, "docs", "Documents remaining after each stage"),
                    charts.funnel_chart(steps, "bytes", "Bytes remaining after each stage"),
                ).resolve_scale(color="shared")
            ),
            "removals_svg": _svg(charts.removal_bars(removals, "Documents removed, by rule and source"))
            if removals
            else None,
        },
        "thresholds": threshold_table(cfg, sources),
        "histograms": _histogram_charts(histograms, y_title),
        "languages_svg": _svg(charts.language_chart(languages, "Detected language per source")) if languages else None,
        "lengths_svg": _svg(charts.length_chart(lengths, "Document length per source", y_title)) if lengths else None,
        "length_summary": length_summary(sample),
        "dedup": dedup,
        "dedup_svg": _svg(
            charts.cluster_size_chart(bucket_rows(dedup["histogram"]), BUCKET_ORDER, "Duplicate clusters by size")
        )
        if dedup and dedup["histogram"]
        else None,
        "decontam": decontam,
        "decontam_svg": _decontam_chart(decontam),
        "examples": examples_section(out, sample, run.stats, cfg),
        "baseline": _baseline_section(run, base, sample) if base else None,
        "budget": budget,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(context), "utf-8")
    return context


def _budget(
    run: Run, tok: Path, train_tokens: float | None, mixture: str | None, max_epochs: float | None
) -> dict[str, Any]:
    """The data-budget section with its chart; presets and the cap come from the run's configuration."""
    cfg = run.config if "mixture" in run.config else load_config()
    try:
        section = budget_section(tok, run.stats, cfg, train_tokens, mixture, max_epochs)
    except (ValueError, OSError) as exc:
        raise ReportError(f"--tokenized {tok}: {exc}") from None
    plan = section["plan"]
    absent = [r["source"] for r in plan["rows"] if r["unique_tokens"] <= 0 and r["weight"] > 0]
    chart = charts.epochs_chart(
        section["epochs"],
        [r["source"] for r in plan["rows"]],
        plan["max_epochs"],
        absent,
        "Epochs per source: requested mixture and suggested re-weighting against the cap",
    )
    return {**section, "svg": _svg(chart)}


def _cluster_chart(dedup: dict[str, Any] | None) -> Markup | None:
    """Cluster counts per size bucket, the axis running from 2 members to the largest bucket in use."""
    if not dedup or not dedup["histogram"]:
        return None
    rows = bucket_rows(dedup["histogram"])
    last = max(BUCKET_ORDER.index(r["bucket"]) for r in rows)
    order = BUCKET_ORDER[: max(last + 1, MIN_BUCKETS)]
    return _svg(charts.cluster_size_chart(rows, order, "Duplicate clusters by size"))


def _decontam_chart(decontam: dict[str, Any] | None) -> Markup | None:
    rows = [r for r in decontam["rows"] if r["items"] is not None or r["items_found"]] if decontam else []
    if not rows:
        return None
    percent = all(r["rate"] is not None for r in rows)
    field = "rate" if percent else "items_found"
    title = (
        "Contamination rate: share of each benchmark's items found"
        if percent
        else "Benchmark items found in the corpus"
    )
    return _svg(
        charts.contamination_chart([{k: r[k] for k in ("benchmark", field)} for r in rows], field, title, percent)
    )


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


def _fmt_count(x: float | None) -> str:
    """A large count in three significant figures with a unit (k, M, B, T): 1.24B."""
    if x is None:
        return "–"
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= size:
            return f"{x / size:.3g}{unit}"
    return f"{x:.3g}"


def _fmt_epochs(e: float | None) -> str:
    """Epochs to two decimals (three significant figures with a unit from 1,000 on); None is unbounded."""
    if e is None:
        return "∞"
    return f"{e:.2f}" if e < 1000 else _fmt_count(e)


def render(context: Mapping[str, Any]) -> str:
    """The page from the packaged Jinja template (auto-escaped; charts are trusted SVG)."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda n: f"{n:,}" if isinstance(n, int) else (f"{n:,.0f}" if n is not None else "–")
    env.filters["bytes"] = _fmt_bytes
    env.filters["pct"] = lambda x, digits=1: f"{100 * x:.{digits}f}%" if x is not None else "–"
    env.filters["signed"] = lambda n: f"{n:+,}"
    env.filters["count"] = _fmt_count
    env.filters["shell"] = shlex.quote
    env.filters["epochs"] = _fmt_epochs
    env.filters["docs"] = lambda n: f"{n:,} document" + ("" if n == 1 else "s")
    template = resources.files("curation").joinpath("data/report.html.j2").read_text("utf-8")
    return env.from_string(template).render(**context)
