"""Run statistics: the per-source funnel (input, kept, removed by rule, failed) and its invariant."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

OUTCOMES = ("input", "kept", "removed", "failed")


def _zero() -> dict[str, int]:
    return {"docs": 0, "bytes": 0}


def build_stats(rows: Iterable[tuple[tuple[str, str, str], tuple[int, int]]]) -> dict[str, Any]:
    """Fold `((source, outcome, reason), (docs, bytes))` rows into the stats.json structure."""
    sources: dict[str, dict[str, Any]] = {}
    for (source, outcome, reason), (docs, nbytes) in rows:
        s = sources.setdefault(
            source,
            {
                "input": _zero(),
                "kept": _zero(),
                "removed": {"total": _zero(), "by_reason": {}},
                "failed": {"total": _zero(), "by_stage": {}},
            },
        )
        if outcome in ("input", "kept"):
            target = s[outcome]
        elif outcome == "removed":
            target = s["removed"]["by_reason"].setdefault(reason or "unknown", _zero())
            s["removed"]["total"]["docs"] += docs
            s["removed"]["total"]["bytes"] += nbytes
        elif outcome == "failed":
            target = s["failed"]["by_stage"].setdefault(reason or "unknown", _zero())
            s["failed"]["total"]["docs"] += docs
            s["failed"]["total"]["bytes"] += nbytes
        else:
            raise ValueError(f"unknown outcome {outcome!r}")
        target["docs"] += docs
        target["bytes"] += nbytes
    for s in sources.values():
        s["invariant_ok"] = invariant_holds(s)
    return {
        "sources": dict(sorted(sources.items())),
        "invariant_ok": all(s["invariant_ok"] for s in sources.values()),
    }


def invariant_holds(source_stats: Mapping[str, Any]) -> bool:
    """input = kept + removed + failed, in documents."""
    s = source_stats
    return s["input"]["docs"] == s["kept"]["docs"] + s["removed"]["total"]["docs"] + s["failed"]["total"]["docs"]


def invariant_violations(stats: Mapping[str, Any]) -> list[str]:
    """Human-readable lines for every source whose counts do not add up."""
    out = []
    for name, s in stats["sources"].items():
        if not invariant_holds(s):
            out.append(
                f"{name}: input {s['input']['docs']} != kept {s['kept']['docs']} + removed "
                f"{s['removed']['total']['docs']} + failed {s['failed']['total']['docs']}"
            )
    return out


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)


def funnel_rows(stats: Mapping[str, Any]) -> list[tuple[str, str, int, str, str]]:
    """Rows `(source, step, docs, bytes, share of input)` for printing the funnel."""
    rows = []
    for name, s in stats["sources"].items():
        total = s["input"]["docs"] or 1
        rows.append((name, "input", s["input"]["docs"], _fmt_bytes(s["input"]["bytes"]), "100.0%"))
        for reason, v in sorted(s["removed"]["by_reason"].items(), key=lambda kv: (-kv[1]["docs"], kv[0])):
            rows.append(
                (name, f"removed: {reason}", v["docs"], _fmt_bytes(v["bytes"]), f"{100 * v['docs'] / total:.1f}%")
            )
        for stage, v in sorted(s["failed"]["by_stage"].items()):
            rows.append(
                (name, f"failed: {stage}", v["docs"], _fmt_bytes(v["bytes"]), f"{100 * v['docs'] / total:.1f}%")
            )
        rows.append(
            (name, "kept", s["kept"]["docs"], _fmt_bytes(s["kept"]["bytes"]), f"{100 * s['kept']['docs'] / total:.1f}%")
        )
    return rows


def render_funnel(stats: Mapping[str, Any]) -> str:
    """The funnel as a table (rich when available, plain text otherwise)."""
    rows = funnel_rows(stats)
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich is a dependency
        lines = [f"{'source':<12} {'step':<40} {'docs':>10} {'bytes':>10} {'share':>7}"]
        lines += [f"{a:<12} {b:<40} {c:>10} {d:>10} {e:>7}" for a, b, c, d, e in rows]
        return "\n".join(lines)
    table = Table(title="Funnel: input = kept + removed + failed", show_lines=False)
    for col in ("source", "step"):
        table.add_column(col, justify="left")
    for col in ("docs", "bytes", "share"):
        table.add_column(col, justify="right")
    last = None
    for source, step, docs, nbytes, share in rows:
        if last is not None and source != last:
            table.add_section()
        style = "bold green" if step == "kept" else ("bold" if step == "input" else None)
        table.add_row(source if source != last else "", step, f"{docs:,}", nbytes, share, style=style)
        last = source
    console = Console(record=True, width=110, force_terminal=False, color_system=None)
    with console.capture() as cap:
        console.print(table)
    verdict = (
        "invariant holds"
        if stats.get("invariant_ok")
        else "INVARIANT VIOLATED: " + "; ".join(invariant_violations(stats))
    )
    return cap.get().rstrip() + "\n" + verdict
