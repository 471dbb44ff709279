"""Tokenizers: Gopher-style SentencePiece training on a run, local .model / tokenizer.json loading, lossless round trip."""

from __future__ import annotations

import gzip
import json

import pytest
from pipeline_helpers import run_cli

from curation.config import load_config
from curation.extract import extract_text
from curation.tokenizer import HuggingFaceTokenizer, SentencePieceTokenizer, TokenizerError, load_tokenizer
from curation.tokenizer_train import TrainError, choose_sample, train_sentencepiece


def multilingual_and_code(shared_data) -> list[str]:
    """Real text in many languages and scripts (extracted web pages, raw HTML) and real source files."""
    texts = []
    for page in sorted((shared_data / "web/html/trafilatura").glob("*.html.gz")):
        html = gzip.decompress(page.read_bytes()).decode("utf-8", "replace")
        texts.append(extract_text(html, None))
        texts.append(html[:20000])
    for path in sorted((shared_data / "code/linguist/samples").rglob("*")):
        if path.is_file():
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    texts += ["", " ", "\n\n\t x  y ", "中文 русский العربية हिन्दी 🎉 ﬁ ① Ǆ", "a\u2581b", "\r\n\x00\x07"]
    return texts


def test_small_vocab_trains_deterministically_with_gopher_settings(curated_demo):
    cfg = load_config()
    sample = choose_sample(curated_demo, cfg, "chinchilla", sample_bytes=400_000, renormalize=True)
    assert any("c4" in n and "absent" in n for n in sample.notes)
    assert sum(sample.bytes_per_source.values()) <= 400_000 + max(len(t.encode()) for t in sample.texts)
    first = train_sentencepiece(sample, cfg, vocab_size=400)
    assert train_sentencepiece(sample, cfg, vocab_size=400) == first
    tok = SentencePieceTokenizer(first)
    assert tok.vocab_size == 400 and tok.eos_id == 2
    pieces = [tok.sp.id_to_piece(i) for i in range(tok.vocab_size)]
    assert sum(p.startswith("<0x") for p in pieces) == 256  # byte fallback
    # Digits are split: no piece holds two digits.
    assert not any(sum(c.isdigit() for c in p) > 1 for p in pieces if not p.startswith("<0x"))
    # NFKC: the ligature and the circled digit come back normalised.
    assert tok.normalize("ﬁ①") == "fi1" == tok.decode(tok.encode_batch(["ﬁ①"])[0])


def test_sample_is_chosen_by_id_hash_not_file_order(curated_demo):
    cfg = load_config()
    a = choose_sample(curated_demo, cfg, {"news": 1.0}, sample_bytes=50_000)
    b = choose_sample(curated_demo, cfg, {"news": 1.0}, sample_bytes=50_000)
    assert a.texts == b.texts and 0 < len(a.texts) < 292
    assert a.docs_per_source == {"news": len(a.texts)}
    other_seed = choose_sample(
        curated_demo, load_config(overrides=["tokenizer.seed=7"]), {"news": 1.0}, sample_bytes=50_000
    )
    assert other_seed.texts != a.texts


def test_too_small_vocab_is_a_clear_error(curated_demo, tmp_path, capsys):
    code = run_cli(
        "tokenizer", "train", curated_demo, "--output", tmp_path / "t.model", "--vocab-size", "200", "--renormalize"
    )
    assert code == 2
    assert "--vocab-size 200 is too small" in capsys.readouterr().err
    assert not (tmp_path / "t.model").exists()


def test_mixture_source_missing_from_run_is_an_error_without_renormalize(curated_demo, tmp_path, capsys):
    code = run_cli("tokenizer", "train", curated_demo, "--output", tmp_path / "t.model", "--vocab-size", "500")
    assert code == 2
    assert "c4" in capsys.readouterr().err


@pytest.mark.corpus
def test_sentencepiece_round_trip_multilingual_and_code(shared_data, demo_tokenizer):
    tok = load_tokenizer(demo_tokenizer)
    texts = multilingual_and_code(shared_data)
    byte_pieces = {i for i in range(tok.vocab_size) if tok.sp.id_to_piece(i).startswith("<0x")}
    used_bytes = 0
    for text, ids in zip(texts, tok.encode_batch(texts), strict=True):
        assert tok.decode(ids) == tok.normalize(text)
        used_bytes += len(byte_pieces.intersection(ids.tolist()))
    assert used_bytes > 1000  # scripts the 1,000-piece English-heavy vocabulary lacks went through byte fallback
    assert len(texts) > 450


@pytest.mark.corpus
def test_huggingface_tokenizer_json_loads_locally_and_round_trips(shared_data, tmp_path, curated_demo):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    sample = choose_sample(curated_demo, load_config(), {"books": 0.5, "code": 0.5}, sample_bytes=200_000)
    hf = Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    hf.train_from_iterator(sample.texts, trainer)
    path = tmp_path / "tokenizer.json"
    hf.save(str(path))
    tok = load_tokenizer(path)
    assert isinstance(tok, HuggingFaceTokenizer)
    assert tok.eos_id == hf.token_to_id("<|endoftext|>") and tok.identity()["eos_token"] == "<|endoftext|>"
    texts = multilingual_and_code(shared_data)
    for text, ids in zip(texts, tok.encode_batch(texts), strict=True):
        assert tok.decode(ids) == tok.normalize(text)
    with pytest.raises(TokenizerError, match="--eos-token"):
        load_tokenizer(path, eos_token="<nope>")


def test_unusable_tokenizer_files_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"\x00\x01 not a model")
    with pytest.raises(TokenizerError, match="SentencePiece"):
        load_tokenizer(bad)
    broken_json = tmp_path / "tokenizer.json"
    broken_json.write_text(json.dumps({"version": "1.0", "model": {"type": "Nope"}}))
    with pytest.raises(TokenizerError, match="tokenizer.json"):
        load_tokenizer(broken_json)
    with pytest.raises(TokenizerError, match="cannot read"):
        load_tokenizer(tmp_path / "missing.model")


def test_train_error_when_run_has_no_documents(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"shards": []}))
    with pytest.raises(TrainError, match="no kept documents"):
        choose_sample(tmp_path, load_config())
