"""`curation inspect OUT --dedup`: the largest duplicate clusters with a side-by-side diff of two members."""

from __future__ import annotations

import difflib
import re
import textwrap
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

COLUMN_WIDTH = 60
MAX_DIFF_LINES = 40


def _member_texts(out_dir: Path, ids: set[str]) -> dict[str, tuple[str, str]]:
    """id -> (source, text) for the wanted ids, read from OUT/data/** and OUT/removed/** Parquet."""
    found: dict[str, tuple[str, str]] = {}
    wanted = pa.array(sorted(ids), type=pa.string())
    for sub in ("data", "removed"):
        files = sorted(str(p) for p in (out_dir / sub).rglob("*.parquet"))
        if not files:
            continue
        table = ds.dataset(files, format="parquet").to_table(
            columns=["id", "source", "text"], filter=pc.field("id").isin(wanted)
        )
        for row in table.to_pylist():
            found.setdefault(row["id"], (row["source"], row["text"]))
    return found


def sentence_units(text: str) -> list[str]:
    """Sentence-like units (split after . ! ? ; and at line breaks): shifts and edits stay local."""
    units = []
    for line in text.splitlines():
        units += [u for u in re.split(r"(?<=[.!?;])\s+", line.strip()) if u]
    return units


def _wrapped(units: list[str]) -> list[str]:
    """Units as fixed-width lines."""
    return [line for unit in units for line in textwrap.wrap(unit, COLUMN_WIDTH) or [""]]


def side_by_side(left: str, right: str, max_lines: int = MAX_DIFF_LINES) -> str:
    """Two texts in two columns aligned sentence by sentence (difflib); `|` changed, `<`/`>` one side only."""
    a, b = sentence_units(left), sentence_units(right)
    rows: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            same = _wrapped(a[i1:i2])
            if len(same) > 4:  # fold long identical runs to their first and last line
                same = [same[0], f"  ... {len(same) - 2} identical lines ...", same[-1]]
            rows += [f"{x:<{COLUMN_WIDTH}}   {x if not x.startswith('  ... ') else ''}" for x in same]
            continue
        left_part, right_part = _wrapped(a[i1:i2]), _wrapped(b[j1:j2])
        marker = "|" if tag == "replace" else ("<" if tag == "delete" else ">")
        for k in range(max(len(left_part), len(right_part))):
            x = left_part[k] if k < len(left_part) else ""
            y = right_part[k] if k < len(right_part) else ""
            rows.append(f"{x:<{COLUMN_WIDTH}} {marker} {y}")
    if len(rows) > max_lines:
        rows = rows[:max_lines] + [f"... {len(rows) - max_lines} more lines"]
    return "\n".join(rows)


def inspect_dedup(out_dir: str, top: int = 5) -> str:
    """Printable report of the `top` largest clusters in OUT/dedup/clusters.parquet with a member diff."""
    out = Path(out_dir)
    path = out / "dedup" / "clusters.parquet"
    if not path.exists():
        return f"no dedup cluster table at {path} (was the dedup stage run?)"
    clusters = pq.read_table(path, columns=["id", "cluster_id", "kept"]).to_pylist()
    if not clusters:
        return f"{path}: no duplicate clusters"
    sizes = Counter(r["cluster_id"] for r in clusters)
    # largest first; on equal size near clusters first (their diff is the informative one)
    largest = sorted(sizes.items(), key=lambda kv: (-kv[1], not kv[0].startswith("near-"), kv[0]))[:top]
    members: dict[str, list[dict]] = {cid: [] for cid, _ in largest}
    for row in clusters:
        if row["cluster_id"] in members:
            members[row["cluster_id"]].append(row)
    chosen: dict[str, tuple[str, str]] = {}
    for cid, rows in members.items():
        rows.sort(key=lambda r: (not r["kept"], r["id"]))
        chosen[cid] = (rows[0]["id"], rows[1]["id"] if len(rows) > 1 else rows[0]["id"])
    listed = {row["id"] for rows in members.values() for row in rows[:10]}
    texts = _member_texts(out, listed | {i for pair in chosen.values() for i in pair})
    kinds = Counter(r["cluster_id"].split("-", 1)[0] for r in clusters)
    lines = [
        f"{len(sizes)} clusters, {len(clusters)} member documents, "
        f"{sum(1 for r in clusters if not r['kept'])} removed "
        f"({', '.join(f'{k}: {v} members' for k, v in sorted(kinds.items()))})",
    ]
    for rank, (cid, size) in enumerate(largest, 1):
        kept_id, other_id = chosen[cid]
        lines.append("")
        lines.append(f"#{rank} cluster {cid}: {size} members")
        for row in members[cid][:10]:
            source = texts.get(row["id"], ("?", ""))[0]
            lines.append(f"   {'KEPT   ' if row['kept'] else 'removed'} {row['id']} ({source})")
        if size > 10:
            lines.append(f"   ... {size - 10} more")
        if kept_id not in texts or other_id not in texts:
            lines.append("   (member texts not found under OUT/data or OUT/removed)")
            continue
        lines.append(f"   diff: {kept_id} (left) vs {other_id} (right)")
        lines.append(textwrap.indent(side_by_side(texts[kept_id][1], texts[other_id][1]), "   "))
    return "\n".join(lines)
