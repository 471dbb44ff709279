"""Every bad input of the suite through one `curation run`: exit 0, every good record accounted for, every bad
one in failed/ at its exact location, ids unique, the invariant true, and nothing outside OUT touched."""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
from bad_inputs.readers import lee_texts, write_cases
from pipeline_helpers import read_docs, read_failed, run_cli, stats


def snapshot(root: Path) -> dict[bytes, tuple[int, int]]:
    """(size, mtime) of every file under root, by raw path (some names are not UTF-8)."""
    out = {}
    for dirpath, _, names in os.walk(os.fsencode(root)):
        for name in names:
            st = os.stat(os.path.join(dirpath, name))
            out[os.path.join(dirpath, name)] = (st.st_size, st.st_mtime_ns)
    return out


def shown(path: str) -> str:
    """A path as failure locations and ids write it (non-UTF-8 bytes escaped)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def test_all_bad_inputs_in_one_run(tmp_path):
    texts = lee_texts()
    cases_dir = tmp_path / "in" / "cases"
    cases_dir.mkdir(parents=True)
    cases = write_cases(cases_dir)

    # failed/ order: bad lines 7 and 59 of one file come out in that order (natural, not string, order)
    ordering = [json.dumps({"text": t}) for t in texts[:70]]
    ordering[6] = '{"text": broken'
    ordering[58] = '{"text": "no end'
    (cases_dir / "ordering.jsonl").write_text("\n".join(ordering) + "\n", encoding="utf-8")

    # the same relative name under two globs, and one file given twice: distinct files get distinct ids,
    # one file is read once
    for sub, chunk in (("x", texts[100:110]), ("y", texts[110:120])):
        (tmp_path / "in" / sub).mkdir()
        (tmp_path / "in" / sub / "same.jsonl").write_text(
            "".join(json.dumps({"text": t}) + "\n" for t in chunk), encoding="utf-8"
        )
    before = snapshot(tmp_path / "in")

    out = tmp_path / "out"
    code = run_cli(
        "run",
        "--input",
        f"web={cases_dir}/*",
        "--input",
        f"web={tmp_path}/in/x/*.jsonl",
        "--input",
        f"web={tmp_path}/in/y/*.jsonl",
        "--input",
        f"web={tmp_path}/in/x/same.jsonl",
        "--output",
        out,
        "--stages",
        "quality,dedup",
    )
    assert code == 0
    assert snapshot(tmp_path / "in") == before  # inputs untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # nothing written beside OUT

    kept, removed, failed = read_docs(out, "data"), read_docs(out, "removed"), read_failed(out)
    ids = [r["id"] for r in kept + removed]
    assert len(ids) == len(set(ids))
    for row in ids:
        row.encode("utf-8")  # no lone surrogate reached the output
    clusters = pq.read_table(out / "dedup" / "clusters.parquet").to_pylist()
    kept_in_clusters = {}
    for r in clusters:  # an id in an exact group and a near cluster has one verdict in both
        assert kept_in_clusters.setdefault(r["id"], r["kept"]) == r["kept"], r
    assert set(kept_in_clusters) <= set(ids)
    dedup_removed = {r["id"] for r in removed if (r.get("reason") or "").startswith("dedup.")}
    assert {i for i, k in kept_in_clusters.items() if not k} == dedup_removed

    def from_file(name: str) -> list[dict]:
        prefix = f"web/cases/{name}#"  # two files named same.jsonl: ids are relative to the folder all share
        return [r for r in kept + removed if r["id"].startswith(prefix)]

    by_location = {f["source_location"]: f for f in failed}
    expected_failures = 2  # ordering.jsonl
    for case in cases:
        rows = from_file(shown(case.filename))
        if case.fmt == "parquet" and "id" in pq.read_schema(io.BytesIO(case.data)).names:  # our own shard: ids kept
            stored = set(pq.read_table(io.BytesIO(case.data), columns=["id"]).column("id").to_pylist())
            rows = [r for r in kept + removed if r["id"] in stored]
        assert len(rows) == case.docs, case.filename
        assert Counter(r.get("reason") for r in rows if r.get("reason") in case.reasons) == Counter(case.reasons)
        for label, error in case.failures:
            failure = by_location[f"{shown(str(cases_dir / case.filename))}:{label}"]
            assert failure["error"].startswith(error), failure
        expected_failures += len(case.failures)
    assert len(failed) == expected_failures
    assert len(from_file("ordering.jsonl")) == 68

    # same relpath under two globs: 20 documents with 20 ids; the file given twice is read once
    same = [r for r in ids if "same.jsonl#" in r]
    assert len(same) == 20
    assert len({i.rsplit("#", 1)[0] for i in same}) == 2

    locations = [f["source_location"] for f in failed if "ordering.jsonl" in f["source_location"]]
    assert [loc.rsplit(":", 1)[1] for loc in locations] == ["line=7", "line=59"]

    web = stats(out)["sources"]["web"]
    assert (
        web["input"]["docs"] == web["kept"]["docs"] + web["removed"]["total"]["docs"] + web["failed"]["total"]["docs"]
    )
    assert web["failed"]["total"]["docs"] == len(failed)
    assert web["kept"]["docs"] == len(kept)
    assert (out / "_SUCCESS").exists()
