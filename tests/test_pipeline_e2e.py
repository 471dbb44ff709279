"""End-to-end runs of `curation run` through Beam on real documents: layout, accounting, dedup, determinism."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from pipeline_helpers import read_docs, read_failed, real_paragraphs, run_cli, stats, write_jsonl_gz


@pytest.fixture(scope="module")
def news_runs(tmp_path_factory, shared_data):
    """5,000 real documents (with planted exact duplicates) run twice with --stages quality,dedup."""
    tmp = tmp_path_factory.mktemp("news")
    texts = real_paragraphs(5000, shared_data / "books" / "gutenberg")
    assert len(texts) == 5000
    records = [{"text": t, "id": f"n{i}", "url": f"https://news.example/{i}"} for i, t in enumerate(texts)]
    records += [{"text": texts[i] + "  \n", "id": f"dup{i}"} for i in range(0, 50)]  # whitespace-only variants
    src = write_jsonl_gz(tmp / "in" / "x.jsonl.gz", records)
    outs = []
    for name in ("out1", "out2"):
        out = tmp / name
        assert run_cli("run", "--input", f"news={src}", "--output", out, "--stages", "quality,dedup") == 0
        outs.append(out)
    return texts, records, outs


@pytest.mark.corpus
def test_layout_and_readers(news_runs):
    texts, records, (out, _) = news_runs
    assert sorted(p.name for p in out.iterdir()) == [
        "_CURATION_OUTPUT",
        "_SUCCESS",
        "data",
        "dedup",
        "manifest.json",
        "removed",
        "stats.json",
    ]
    shards = sorted((out / "data" / "news").glob("part-*-of-*.parquet"))
    assert shards and all(p.name.endswith(f"-of-{len(shards):05d}.parquet") for p in shards)
    table = ds.dataset(str(out / "data")).to_table()
    s = stats(out)["sources"]["news"]
    assert table.num_rows == s["kept"]["docs"]
    assert set(table.column_names) >= {
        "id",
        "source",
        "text",
        "url",
        "title",
        "meta",
        "language",
        "language_score",
        "signals",
    }
    n = duckdb.sql(f"select count(*) from read_parquet('{out}/data/**/*.parquet')").fetchall()[0][0]
    assert n == table.num_rows
    removed = ds.dataset(str(out / "removed")).to_table()
    assert "reason" in removed.column_names
    # every quality removal really is outside the word-count / mean-length window
    for row in removed.to_pylist():
        sig = row["signals"]
        if row["reason"] == "quality.word_count":
            assert not 50 <= sig["quality.word_count"] <= 100000
    pf = pq.ParquetFile(shards[0])
    assert pf.metadata.num_row_groups >= 1 and pf.metadata.row_group(0).num_rows <= 2000


@pytest.mark.corpus
def test_accounting_and_exact_dedup(news_runs):
    texts, records, (out, _) = news_runs
    s = stats(out)["sources"]["news"]
    assert s["input"]["docs"] == len(records)
    assert s["input"]["docs"] == s["kept"]["docs"] + s["removed"]["total"]["docs"] + s["failed"]["total"]["docs"]
    assert stats(out)["invariant_ok"]
    removed = {r["meta"] and json.loads(r["meta"]).get("source_id"): r for r in read_docs(out, "removed")}
    # each planted whitespace variant is removed as an exact duplicate of its original (smaller id kept)
    for i in range(50):
        r = removed[f"dup{i}"]
        assert r["reason"] == "dedup.exact"
        assert json.loads(r["meta"])["duplicate_of"] == f"news/x.jsonl.gz#{i + 1}"
    clusters = pq.read_table(out / "dedup" / "clusters.parquet").to_pylist()
    exact = [c for c in clusters if c["cluster_id"].startswith("exact-")]
    dedup_removed = {r["id"]: r["reason"] for r in read_docs(out, "removed") if r["reason"].startswith("dedup.")}
    assert {c["id"] for c in clusters if not c["kept"]} == set(dedup_removed)  # kept: survives dedup
    exact_removed = sum(1 for c in exact if dedup_removed.get(c["id"]) == "dedup.exact")
    assert exact_removed == s["removed"]["by_reason"]["dedup.exact"]["docs"]


@pytest.mark.corpus
def test_manifest_describes_every_file(news_runs):
    _, _, (out, _) = news_runs
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["quality"]["min_words"] == 50
    listed = {e["path"] for e in manifest["shards"]}
    markers = {"manifest.json", "stats.json", "_CURATION_OUTPUT", "_SUCCESS"}
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - markers
    assert listed == on_disk
    for e in manifest["shards"]:
        data = (out / e["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == e["sha256"] and len(data) == e["bytes"]


@pytest.mark.corpus
def test_rerun_is_byte_identical(news_runs):
    _, _, (out1, out2) = news_runs
    files1 = sorted(p.relative_to(out1) for p in out1.rglob("*") if p.is_file())
    files2 = sorted(p.relative_to(out2) for p in out2.rglob("*") if p.is_file())
    assert files1 == files2
    for rel in files1:
        assert (out1 / rel).read_bytes() == (out2 / rel).read_bytes(), rel


def test_dedup_keeps_by_source_priority(tmp_path):
    texts = real_paragraphs(3)
    shared_text = texts[0]
    web = write_jsonl_gz(tmp_path / "web" / "w.jsonl.gz", [{"text": shared_text}, {"text": texts[1]}])
    news = write_jsonl_gz(tmp_path / "news" / "n.jsonl.gz", [{"text": shared_text + "\n"}, {"text": texts[2]}])
    books = write_jsonl_gz(tmp_path / "books" / "b.jsonl.gz", [{"text": " " + shared_text}])
    out = tmp_path / "out"
    code = run_cli(
        "run",
        "--input",
        f"web={web}",
        "--input",
        f"news={news}",
        "--input",
        f"books={books}",
        "--output",
        out,
        "--stages",
        "dedup",
    )
    assert code == 0
    kept = {r["id"] for r in read_docs(out)}
    assert "books/b.jsonl.gz#1" in kept  # books (priority 2) beats news (3) and web (6)
    assert "web/w.jsonl.gz#1" not in kept and "news/n.jsonl.gz#1" not in kept
    removed = {r["id"]: r for r in read_docs(out, "removed")}
    assert {k: v["reason"] for k, v in removed.items()} == {
        "web/w.jsonl.gz#1": "dedup.exact",
        "news/n.jsonl.gz#1": "dedup.exact",
    }
    assert all(json.loads(v["meta"])["duplicate_of"] == "books/b.jsonl.gz#1" for v in removed.values())


def test_bad_records_go_to_failed_with_location(tmp_path):
    texts = real_paragraphs(300)
    lines = [
        (json.dumps({"text": texts[0]}) + "\n").encode(),
        b'{"text": "unterminated\n',
        b'{"text": "caf\xe9 latin-1 bytes"}\n',
        (json.dumps({"title": "no text field"}) + "\n").encode(),
        (json.dumps({"text": texts[1]}) + "\n").encode(),
    ]
    write_jsonl_gz(tmp_path / "in" / "bad.jsonl.gz", lines)
    # a truncated gzip file: the readable prefix is kept, the break is dead-lettered
    good = write_jsonl_gz(tmp_path / "tmp" / "t.jsonl.gz", [{"text": t} for t in texts[2:]])
    trunc = tmp_path / "in" / "trunc.jsonl.gz"
    trunc.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    out = tmp_path / "out"
    assert run_cli("run", "--input", f"news={tmp_path}/in/*.jsonl.gz", "--output", out, "--stages", "dedup") == 0
    failed = read_failed(out)
    by_loc = {f["source_location"].rsplit("/", 1)[-1]: f for f in failed}
    assert "invalid JSON" in by_loc["bad.jsonl.gz:line=2"]["error"]
    assert "invalid UTF-8" in by_loc["bad.jsonl.gz:line=3"]["error"]
    assert "text" in by_loc["bad.jsonl.gz:line=4"]["error"]
    assert any(
        k.startswith("trunc.jsonl.gz:line=") and f["error"].startswith("unread from byte 0+") and f["stage"] == "read"
        for k, f in by_loc.items()
    )
    s = stats(out)["sources"]["news"]
    assert s["failed"]["total"]["docs"] == len(failed) == 4
    assert s["input"]["docs"] == s["kept"]["docs"] + s["removed"]["total"]["docs"] + 4
    assert s["kept"]["docs"] >= 2 + 100  # bad.jsonl.gz's two good lines, and the truncated file's readable prefix


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stages", "quality,bogus"], "unknown stage 'bogus'"),
        (["--input", "forum=IN"], "unknown source 'forum'"),
        (["--no_such_beam_option=1"], "unknown option '--no_such_beam_option=1'"),
        (["--set", "novalue"], "key=value"),
        (["--input", "news:nosuchformat=IN"], "unknown format 'nosuchformat'"),
        (["--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, capsys, args, message):
    src = write_jsonl_gz(tmp_path / "in.jsonl.gz", [{"text": "hello"}])
    args = [a.replace("IN", str(src)) for a in args]
    base = ["run", "--output", tmp_path / "out"] + ([] if "--input" in args else ["--input", f"news={src}"])
    assert run_cli(*base, *args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_unreadable_config_and_existing_output(tmp_path, capsys):
    src = write_jsonl_gz(tmp_path / "in.jsonl.gz", [{"text": "hello"}])
    assert (
        run_cli("run", "--input", f"news={src}", "--output", tmp_path / "o", "--config", tmp_path / "missing.yaml") == 2
    )
    assert "cannot read config" in capsys.readouterr().err
    out = tmp_path / "existing"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    for flags in ((), ("--overwrite",)):  # a folder this tool did not write is never touched
        assert run_cli("run", "--input", f"news={src}", "--output", out, *flags) == 2
        assert "not an output of this tool" in capsys.readouterr().err
        assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    earlier = tmp_path / "earlier"
    assert run_cli("run", "--input", f"news={src}", "--output", earlier) == 0
    capsys.readouterr()
    assert run_cli("run", "--input", f"news={src}", "--output", earlier) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert run_cli("run", "--input", f"news={tmp_path}/nothing-*.jsonl", "--output", tmp_path / "o2") == 2
    assert "no files match" in capsys.readouterr().err


@pytest.mark.corpus
def test_stats_and_config_commands(news_runs, capsys):
    _, _, (out, _) = news_runs
    assert run_cli("stats", out) == 0
    table = capsys.readouterr().out
    assert "news" in table and "dedup.exact" in table and "invariant holds" in table
    assert run_cli("config", "show", "--set", "quality.min_words=7") == 0
    assert "min_words: 7" in capsys.readouterr().out


def test_rethreshold_matches_a_full_rerun(tmp_path):
    texts = real_paragraphs(400)
    records = [{"text": t} for t in texts] + [{"text": texts[5]}]
    src = write_jsonl_gz(tmp_path / "in" / "web.jsonl.gz", records)
    base, what_if, full = tmp_path / "base", tmp_path / "whatif", tmp_path / "full"
    assert run_cli("run", "--input", f"web={src}", "--output", base) == 0
    assert run_cli("rethreshold", base, "--set", "quality.min_words=100", "--output", what_if) == 0
    assert run_cli("run", "--input", f"web={src}", "--output", full, "--set", "quality.min_words=100") == 0

    def decisions(out: Path) -> dict[str, str | None]:
        return {r["id"]: None for r in read_docs(out)} | {r["id"]: r["reason"] for r in read_docs(out, "removed")}

    assert decisions(what_if) == decisions(full)
    assert decisions(what_if) != decisions(base)  # the threshold change really changed something
    shutil.rmtree(base)


@pytest.mark.slow
def test_rethreshold_on_the_sample_corpus_matches_a_full_rerun(tmp_path):
    """Every source of the bundled corpus, several thresholds changed at once, no raw data re-read."""
    from curation.sample import demo_inputs

    inputs = [a for spec in demo_inputs() for a in ("--input", spec)]
    changes = [
        "--set", "quality.min_words=120",
        "--set", "quality.min_alpha_words_ratio=0.7",
        "--set", "language.min_score=0.9",
        "--set", "code.max_mean_line_length=40",
        "--set", "profile=datatrove",
    ]  # fmt: skip
    base, what_if, full = tmp_path / "base", tmp_path / "whatif", tmp_path / "full"
    assert run_cli("run", *inputs, "--output", base) == 0
    assert run_cli("rethreshold", base, *changes, "--output", what_if) == 0
    assert run_cli("run", *inputs, "--output", full, *changes) == 0

    def decisions(out: Path) -> dict[str, str | None]:
        return {r["id"]: None for r in read_docs(out)} | {r["id"]: r["reason"] for r in read_docs(out, "removed")}

    assert decisions(what_if) == decisions(full)
    changed = {k for k, v in decisions(base).items() if decisions(full).get(k) != v}
    assert len(changed) >= 10  # the new thresholds really changed decisions across sources
    assert {k.split("/")[0] for k in changed} >= {"web", "code"}
