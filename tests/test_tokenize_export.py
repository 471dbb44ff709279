"""`curation tokenize` on the demo run: layout, formats agree, lossless, invariant, failures, byte-identical re-runs."""

from __future__ import annotations

import hashlib
import io
import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pipeline_helpers import read_docs, run_cli

from curation.loader import TokenLoader
from curation.tokenizer import load_tokenizer
from curation.tokens import document_tokens, open_bin, read_idx


def manifest(tok) -> dict:
    return json.loads((tok / "manifest.json").read_text("utf-8"))


def files_digest(root) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "_CURATION_OUTPUT"
    }


def test_layout_counts_and_invariant(tokenized_demo, curated_demo, demo_tokenizer):
    m = manifest(tokenized_demo)
    assert (tokenized_demo / "_SUCCESS").exists()
    kept = {}
    for e in json.loads((curated_demo / "manifest.json").read_text())["shards"]:
        if e["kind"] == "data":
            kept[e["source"]] = kept.get(e["source"], 0) + e["rows"]
    assert {s: v["input_documents"] for s, v in m["sources"].items()} == kept
    for v in m["sources"].values():
        assert v["input_documents"] == v["documents"] + v["failed"] and v["invariant_ok"]
        assert 1.0 < v["bytes_per_token"] < 8.0
    assert m["invariant_ok"]
    tok = m["tokenizer"]
    assert tok["sha256"] == hashlib.sha256(demo_tokenizer.read_bytes()).hexdigest()
    assert (tok["vocab_size"], tok["eos_id"], tok["flat_dtype"]) == (1000, 2, "uint16")
    assert (tokenized_demo / "tokenizer.model").read_bytes() == demo_tokenizer.read_bytes()
    kinds = {e["kind"] for e in m["shards"]}
    assert {"parquet", "bin", "idx", "tokenizer"} <= kinds
    for e in m["shards"]:  # every file as the manifest describes it
        assert hashlib.sha256((tokenized_demo / e["path"]).read_bytes()).hexdigest() == e["sha256"]


def test_flat_and_parquet_agree_and_decode_to_the_normalised_text(tokenized_demo, curated_demo):
    tokenizer = load_tokenizer(tokenized_demo / "tokenizer.model")
    texts = {d["id"]: d["text"] for d in read_docs(curated_demo)}
    checked = 0
    for path in sorted((tokenized_demo / "parquet").rglob("*.parquet")):
        table = pq.read_table(path)
        assert table.schema.field("tokens").type == pa.list_(pa.uint16())
        rel = path.relative_to(tokenized_demo / "parquet").with_suffix("")
        index = read_idx(str(tokenized_demo / "flat" / f"{rel}.idx"))
        stream = open_bin(str(tokenized_demo / "flat" / f"{rel}.bin"), index)
        assert len(index.sizes) == table.num_rows
        assert (index.document_indices == np.arange(table.num_rows + 1)).all()
        ends = (np.asarray(index.pointers) // 2) + np.asarray(index.sizes) - 1
        assert (np.asarray(stream)[ends] == tokenizer.eos_id).all()  # one end token after every document
        for i, (doc_id, tokens) in enumerate(
            zip(table.column("id").to_pylist(), table.column("tokens").to_pylist(), strict=True)
        ):
            assert document_tokens(stream, index, i).tolist() == tokens
            assert tokenizer.decode(tokens) == tokenizer.normalize(texts[doc_id])
            checked += 1
    assert checked == len(texts)


def test_rows_keep_the_input_shard_order(tokenized_demo, curated_demo):
    for path in sorted((curated_demo / "data").rglob("*.parquet")):
        rel = path.relative_to(curated_demo / "data")
        ids_in = pq.read_table(path, columns=["id"]).column("id").to_pylist()
        ids_out = pq.read_table(tokenized_demo / "parquet" / rel, columns=["id"]).column("id").to_pylist()
        assert ids_in == ids_out


def test_rerun_is_byte_identical_and_refuses_to_clobber(tokenized_demo, curated_demo, demo_tokenizer, tmp_path, capsys):
    again = tmp_path / "TOK2"
    assert run_cli("tokenize", curated_demo, "--tokenizer", demo_tokenizer, "--output", again) == 0
    assert files_digest(again) == files_digest(tokenized_demo)
    assert run_cli("tokenize", curated_demo, "--tokenizer", demo_tokenizer, "--output", again) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert run_cli("tokenize", curated_demo, "--tokenizer", demo_tokenizer, "--output", again, "--overwrite") == 0
    assert files_digest(again) == files_digest(tokenized_demo)


def _rewrite_shard(out, source: str, change) -> None:
    """Apply `change(table) -> table` to OUT's first `source` shard and update its manifest entry."""
    m = json.loads((out / "manifest.json").read_text())
    entry = next(e for e in m["shards"] if e["kind"] == "data" and e["source"] == source)
    path = out / entry["path"]
    buf = io.BytesIO()
    pq.write_table(change(pq.read_table(path)), buf)
    path.write_bytes(buf.getvalue())
    entry.update(bytes=len(buf.getvalue()), sha256=hashlib.sha256(buf.getvalue()).hexdigest())
    (out / "manifest.json").write_text(json.dumps(m))


def test_bad_documents_and_shards_become_failures_with_reasons(curated_demo, demo_tokenizer, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(curated_demo, out)

    def null_first_text(table):
        texts = table.column("text").to_pylist()
        texts[0] = None
        return table.set_column(table.schema.get_field_index("text"), "text", pa.array(texts, pa.large_string()))

    _rewrite_shard(out, "news", null_first_text)
    code_shard = next(p for p in (out / "data" / "code").glob("*.parquet"))
    code_shard.write_bytes(code_shard.read_bytes()[:-100])  # truncated after the manifest was written
    tok = tmp_path / "TOK"
    args = (
        "tokenize",
        out,
        "--tokenizer",
        demo_tokenizer,
        "--output",
        tok,
        "--set",
        "tokenize.max_document_bytes=20000",
    )
    assert run_cli(*args) == 0
    m = manifest(tok)
    assert m["invariant_ok"]
    failures = [
        json.loads(line) for p in sorted((tok / "failed").rglob("*.jsonl")) for line in p.read_text().splitlines()
    ]
    reasons = {(f["source"], f["error"].split(":")[0]) for f in failures}
    assert ("news", "document has no text (null)") in reasons
    assert ("code", "shard unreadable") in reasons
    assert any(f["error"].startswith("document is") and "max_document_bytes=20000" in f["error"] for f in failures)
    assert (
        m["sources"]["code"]["documents"] == 0
        and m["sources"]["code"]["failed"] == m["sources"]["code"]["input_documents"] > 0
    )
    news = m["sources"]["news"]
    assert news["failed"] >= 1 and news["documents"] + news["failed"] == news["input_documents"]
    assert all(f["source_location"].startswith("data/") for f in failures)


def test_incomplete_run_or_bad_tokenizer_are_usage_errors(curated_demo, tmp_path, capsys):
    unfinished = tmp_path / "unfinished"
    shutil.copytree(curated_demo, unfinished)
    (unfinished / "_SUCCESS").unlink()
    model = tmp_path / "junk.model"
    model.write_bytes(b"junk")
    assert run_cli("tokenize", unfinished, "--tokenizer", model, "--output", tmp_path / "T") == 2
    assert run_cli("tokenize", curated_demo, "--tokenizer", model, "--output", tmp_path / "T") == 2
    err = capsys.readouterr().err
    assert "SentencePiece" in err
    assert not (tmp_path / "T").exists()


def test_realised_mixture_on_a_million_tokens_is_within_one_percent(tokenized_demo):
    loader = TokenLoader(tokenized_demo, batch_size=32, seq_len=255, mixture="chinchilla", renormalize=True, seed=4)
    assert any("c4" in n for n in loader.notes)
    tokens = dict.fromkeys(loader.sources, 0)
    rows = 0
    while rows * 256 < 1_000_000:
        next(loader)
        rows += 32
    consumed = loader.state_dict()["consumed"]
    loader.close()
    for s in tokens:
        share = consumed[s] * 256 / (rows * 256)
        assert abs(share - loader.mixture.weights[s]) < 0.01, (s, share)


def test_plan_reads_token_counts_from_the_manifest_only(tokenized_demo, tmp_path, capsys):
    only_manifest = tmp_path / "TOK"
    only_manifest.mkdir()
    shutil.copy(tokenized_demo / "manifest.json", only_manifest / "manifest.json")
    (only_manifest / "_SUCCESS").touch()
    assert run_cli("plan", only_manifest, "--train-tokens", "2e7", "--mixture", "chinchilla", "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    counts = {s: v["tokens"] for s, v in manifest(tokenized_demo)["sources"].items()}
    rows = {r["source"]: r for r in plan["rows"]}
    assert {s: r["unique_tokens"] for s, r in rows.items() if r["unique_tokens"]} == counts
    assert rows["books"]["epochs"] == pytest.approx(0.3 * 2e7 / counts["books"])
    assert rows["c4"]["unique_tokens"] == 0 and any("c4" in w for w in plan["warnings"])
    assert any("wikipedia" in w and "exceeds" in w for w in plan["warnings"])
    assert plan["models"]["compute_optimal_params"]["value"] == pytest.approx(1e6)
    assert run_cli("plan", only_manifest, "--train-tokens", "2e6") == 0
    table = capsys.readouterr().out
    assert "Hoffmann" in table and "Kaplan" in table and "Muennighoff" in table
