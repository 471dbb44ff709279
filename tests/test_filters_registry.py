"""Filter registry: signal names, per-source chains, and what-if re-decision from stored signals."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from shared_data import SHARED_DATA

from curation.config import load_config, source_stages
from curation.schema import Document, document_schema, documents_to_table, table_to_documents
from filters.registry import FILTER_STAGES, compute_signals, decide, prepare, signal_names, stage_section


def test_every_stage_is_registered_and_named():
    assert set(FILTER_STAGES) == {"language", "content", "quality", "repetition", "code"}
    names = signal_names()
    assert len(names) == len(set(names))
    for stage in FILTER_STAGES.values():
        assert all(n.startswith(stage.name + ".") for n in stage.signal_names)
        assert set(stage.signal_names) <= set(names)


def test_compute_returns_exactly_the_declared_signals():
    cfg = load_config()
    doc = Document(
        id="t", source="web", text="The cat sat on the mat. " * 20, url="https://example.com", meta={"license": "MIT"}
    )
    for stage in FILTER_STAGES.values():
        assert set(stage.compute(doc, cfg[stage.name])) == set(stage.signal_names)


def test_default_chains_follow_the_paper_table():
    cfg = load_config()
    assert {"extract", "language", "content", "quality", "repetition"} <= set(source_stages(cfg, "web"))
    for source in ("books", "wikipedia", "news", "c4"):
        chain = source_stages(cfg, source)
        assert "language" in chain and not {"quality", "repetition", "content", "code"} & set(chain)
    assert "code" in source_stages(cfg, "code") and "language" not in source_stages(cfg, "code")


def sample_documents() -> list[Document]:
    """Real web, news, book and code documents, each with the chain its source runs."""
    docs = []
    with gzip.open(SHARED_DATA / "web/commoncrawl/dolma/cc_en_head-0174.jsonl.gz", "rt", encoding="utf-8") as fh:
        docs += [
            Document(id=f"w{i}", source="web", text=json.loads(line)["text"], url=json.loads(line)["id"])
            for i, line in enumerate(fh)
        ]
    lee = (SHARED_DATA / "news/lee/lee_background.cor").read_text("latin-1").splitlines()
    docs += [Document(id=f"n{i}", source="web", text=t) for i, t in enumerate(lee[:80])]
    book = (
        gzip.decompress((SHARED_DATA / "books/gutenberg/pg2097.txt.gz").read_bytes())
        .decode("utf-8")
        .replace("\r\n", "\n")
    )
    paras = [p for p in re.split(r"\n\s*\n", book) if p.strip()]
    docs += [
        Document(id=f"b{i}", source="web", text="\n\n".join(paras[i : i + (i % 7) + 1])) for i in range(0, 600, 10)
    ]
    samples = SHARED_DATA / "code/linguist/samples"
    for i, path in enumerate(sorted(samples.rglob("*.*"))[::8]):
        lic = ["MIT", "GPL-3.0-only", None][i % 3]
        docs.append(
            Document(id=f"c{i}", source="code", text=path.read_text("utf-8", errors="replace"), meta={"license": lic})
        )
    return docs


def run_chain(docs: list[Document], cfg: dict) -> list[str | None]:
    """Compute signals (skipping stored ones) and decide every document under `cfg`."""
    reasons = []
    for doc in docs:
        stages = source_stages(cfg, doc.source)
        prepare(stages, cfg)
        compute_signals(doc, stages, cfg)
        reasons.append(decide(doc, stages, cfg))
    return reasons


@pytest.mark.corpus
def test_what_if_redecision_reproduces_a_full_rerun():
    base = load_config()
    first = sample_documents()
    base_reasons = run_chain(first, base)
    for doc, reason in zip(first, base_reasons, strict=True):
        doc.reason = reason
    # Store as the pipeline does (Arrow table with the signals struct), read back, and drop the raw text:
    # the re-decision must not need it.
    table = documents_to_table(first, document_schema(signal_names(), with_reason=True))
    stored = table_to_documents(table)
    for doc in stored:
        doc.text = ""
    overrides = [
        "quality.min_words=100",
        "quality.min_stop_words=4",
        "profile=datatrove",
        "repetition.max_dup_line_frac=0.1",
        "language.min_score=0.9",
        "content.max_blocked_word_frac=0.0",
        "code.max_line_length=200",
        "code.allowed_licenses=[mit]",
    ]
    what_if = load_config(overrides=overrides)
    redecided = run_chain(stored, what_if)
    rerun = run_chain(sample_documents(), what_if)
    assert redecided == rerun
    assert sum(a != b for a, b in zip(base_reasons, rerun, strict=True)) >= 10  # the overrides matter
    assert {r.split(".")[0] for r in rerun if r} >= {"quality", "code"}


def test_per_source_stage_overrides():
    cfg = load_config(overrides=["sources.books.language={keep: [de, en]}"])
    german = (
        "Der Ausschuss wird seinen Abschlussbericht über die neue Bahnstrecke im nächsten Frühjahr veröffentlichen."
    )
    reasons = {}
    for source in ("web", "books"):
        doc = Document(id=source, source=source, text=german)
        prepare(["language"], cfg)
        compute_signals(doc, ["language"], cfg)
        reasons[source] = decide(doc, ["language"], cfg)
    assert reasons == {"web": "language.not_kept", "books": None}
    assert stage_section(cfg, "language", "web") is cfg["language"]
    assert stage_section(cfg, "language", "books")["min_score"] == cfg["language"]["min_score"]
