"""Decontamination quality and speed: eval passages planted in real documents, plus negatives.

Index: every eval set in ../shared/data/evalsets (10 benchmarks, ~19.6k items). Hosts: Project
Gutenberg book pieces (300-2000 words) and Lee news articles. Positives (one planted passage per
host): a full item or a 13-40-word span of one, verbatim or lightly edited (1 word in 10 replaced by
a random host word; for spans also 1 word in 10 deleted or inserted: `span_indel`). Negatives: hosts with short pieces (3-8 words) of eval items and common phrases
planted, and the clean hosts themselves. Reports recall per kind and false-positive rate for the
overlap policy (exact index, fuzzy=masked and fuzzy=seeds indexes) and the Gopher Jaccard policy, index build time and
size, and docs/s against a named baseline measured in the same run: a pure-Python `set` of 13-word
tuples (the obvious implementation), on the clean hosts.

    .venv/bin/python bench/bench_decontam.py [--per-kind 300] [--seed 0]
    .venv/bin/python bench/bench_decontam.py --scale 8   # index size scaling only (8x the eval words)
"""

from __future__ import annotations

import argparse
import gzip
import random
import re
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from corpus_path import SHARED_DATA  # noqa: E402

from curation.config import load_config  # noqa: E402
from curation.decontam import EvalItem, build_index, decontaminate_document, match_text  # noqa: E402
from curation.evalsets import load_evalsets, parse_evalset_spec  # noqa: E402
from curation.ngrams import ngram_word_string  # noqa: E402
from curation.schema import Document  # noqa: E402


def ngram_words(text: str) -> list[str]:
    """The decontamination words of a text."""
    return ngram_word_string(text).split()


SHARED = SHARED_DATA
EVAL = SHARED / "evalsets"
SPECS = [
    f"gsm8k={EVAL}/gsm8k/test.jsonl",
    f"humaneval={EVAL}/humaneval/HumanEval.jsonl.gz",
    f"lambada={EVAL}/llm-foundry/language_understanding/lambada_openai.jsonl.gz",
    f"piqa={EVAL}/llm-foundry/commonsense_reasoning/piqa.jsonl",
    f"arc_easy={EVAL}/llm-foundry/world_knowledge/arc_easy.jsonl",
    f"arc_challenge={EVAL}/llm-foundry/world_knowledge/arc_challenge.jsonl",
    f"triviaqa={EVAL}/llm-foundry/world_knowledge/triviaqa_sm_sub.jsonl.gz",
    f"boolq={EVAL}/llm-foundry/reading_comprehension/boolq.jsonl.gz",
    f"winogrande={EVAL}/llm-foundry/language_understanding/winogrande.jsonl",
    f"wikitext2={EVAL}/wikitext-2/test.txt.gz",
]
COMMON_PHRASES = [
    "in the United States of America",
    "at the end of the day",
    "one of the most important",
    "for the first time in",
    "on the other hand",
    "as a result of the",
    "the rest of the world",
    "Which of the following",
]


def detokenise(text: str) -> str:
    """WikiText tokenisation back to plain text, as a web copy would have it."""
    text = re.sub(r" @(.)@ ", r"\1", text)
    return re.sub(r" ([.,;:!?')])", r"\1", text).replace(" 's", "'s").replace("( ", "(")


def load_hosts(rng: random.Random) -> list[str]:
    """Real host documents: Gutenberg book pieces and Lee news articles."""
    hosts = []
    for path in sorted((SHARED / "books" / "gutenberg").glob("*.txt.gz")):
        if path.name == "106.txt.gz":  # duplicate of 105
            continue
        text = gzip.decompress(path.read_bytes()).decode("utf-8", "replace").replace("\r\n", "\n")
        body = text.split("*** START OF", 1)[-1].split("*** END OF", 1)[0]
        paras = [p for p in body.split("\n\n") if p.strip()]
        i = 0
        while i < len(paras):
            target = rng.randint(300, 2000)
            piece, words = [], 0
            while i < len(paras) and words < target:
                piece.append(paras[i])
                words += len(paras[i].split())
                i += 1
            hosts.append("\n\n".join(piece))
    news = (SHARED / "news" / "lee" / "lee_background.cor").read_text("utf-8", "replace").splitlines()
    hosts.extend(line for line in news if len(line.split()) > 50)
    return hosts


def plant(host: str, passage: str, rng: random.Random) -> str:
    """Insert `passage` at a random paragraph or sentence boundary of `host`."""
    cuts = [m.end() for m in re.finditer(r"(\n\n|\. )", host)] or [len(host)]
    at = rng.choice(cuts)
    return host[:at] + " " + passage + " " + host[at:]


def edit(words: list[str], vocab: list[str], rng: random.Random) -> list[str]:
    """Replace max(1, round(len/10)) random words by random host words (1 word in 10)."""
    out = list(words)
    for pos in rng.sample(range(len(out)), max(1, round(len(out) / 10))):
        new = rng.choice(vocab)
        while new.lower() == out[pos].lower():
            new = rng.choice(vocab)
        out[pos] = new
    return out


def edit_indel(words: list[str], vocab: list[str], rng: random.Random) -> list[str]:
    """Delete or insert a word at max(1, round(len/10)) random places (edits that shift alignment)."""
    out = list(words)
    for pos in sorted(rng.sample(range(len(out)), max(1, round(len(out) / 10))), reverse=True):
        if rng.random() < 0.5:
            del out[pos]
        else:
            out.insert(pos, rng.choice(vocab))
    return out


def item_words(item) -> list[str]:
    """Whitespace words of an item's longest segment (punctuation kept, as a copy would show it)."""
    seg = max(item.segments, key=lambda s: len(s.split()))
    return detokenise(seg).split()


def make_cases(items, hosts, per_kind: int, rng: random.Random):
    """(kind, text, benchmark-or-None) test documents."""
    vocab = sorted({w for h in hosts[:200] for w in re.findall(r"[A-Za-z]{3,}", h)})
    long_items = [it for it in items if len(ngram_words(" ".join(item_words(it)))) >= 13]
    matchable = [it for it in items if len(ngram_words(max(it.segments, key=len))) >= 8]
    cases = []
    for kind in ("full_verbatim", "full_edited", "span_verbatim", "span_edited", "span_indel"):
        pool = matchable if kind.startswith("full") else long_items
        for _ in range(per_kind):
            item = rng.choice(pool)
            words = item_words(item)
            if kind.startswith("span"):
                length = rng.randint(min(13, len(words)), min(40, len(words)))
                start = rng.randint(0, len(words) - length)
                end = start + length
                while len(ngram_words(" ".join(words[start:end]))) < 13:  # code/punctuation-only tokens
                    start, end = (start - 1, end) if end == len(words) else (start, end + 1)
                words = words[start:end]
            if kind.endswith("edited"):
                words = edit(words, vocab, rng)
            elif kind.endswith("indel"):
                words = edit_indel(words, vocab, rng)
            size = len(ngram_words(" ".join(words)))
            cases.append((kind, plant(rng.choice(hosts), " ".join(words), rng), size))
    for _ in range(per_kind):  # the whole document is one eval item (what the Jaccard rule targets)
        item = rng.choice(long_items)
        cases.append(("item_alone", " ".join(item_words(item)), len(ngram_words(" ".join(item_words(item))))))
    for _ in range(per_kind):
        text = rng.choice(hosts)
        for _ in range(3):
            words = item_words(rng.choice(long_items))
            length = rng.randint(3, 8)
            start = rng.randint(0, len(words) - length)
            piece = words[start : start + length]
            while len(ngram_words(" ".join(piece))) > 8:  # at most 8 n-gram words ("don't" is 2)
                piece = piece[:-1]
            text = plant(text, " ".join(piece), rng)
        text = plant(text, rng.choice(COMMON_PHRASES), rng)
        cases.append(("negative_short_phrases", text, 0))
    cases.extend(("negative_clean_host", h, 0) for h in hosts)
    return cases


class TupleSetBaseline:
    """The obvious implementation: a Python set of 13-word tuples; any shared tuple flags."""

    def __init__(self, items, n: int):
        self.n = n
        self.grams = set()
        for item in items:
            for seg in item.segments:
                w = ngram_words(seg)
                self.grams.update(tuple(w[i : i + n]) for i in range(len(w) - n + 1))

    def flags(self, text: str) -> bool:
        w = ngram_words(text)
        return any(tuple(w[i : i + self.n]) in self.grams for i in range(len(w) - self.n + 1))


def evaluate(name, index, section, cases):
    """Recall per positive kind and FP rate per negative kind for one index + policy."""
    results: dict[str, list[int]] = {}
    jaccards = []
    for kind, text, size in cases:
        doc = Document(id="b#0", source="web", text=text)
        removed, _ = decontaminate_document(doc, index, section)
        results.setdefault(kind, []).append(int(removed))
        if kind == "full_edited":
            results.setdefault("(full_edited, item >= 13 words)" if size >= 13 else "(full_edited, < 13)", []).append(
                int(removed)
            )
        if kind == "full_verbatim" and section.get("policy") == "jaccard":
            m = match_text(index, text, section)
            jaccards.append(max((x.jaccard for x in m), default=0.0))
    row = {k: float(np.mean(v)) for k, v in results.items()}
    counts = {k: len(v) for k, v in results.items()}
    print(f"{name}:\n    " + "  ".join(f"{k}={v:.3f}" for k, v in row.items() if not k.startswith("(")))
    print("    " + "  ".join(f"{k}={v:.3f} (n={counts[k]})" for k, v in sorted(row.items()) if k.startswith("(")))
    return row, jaccards


def throughput(fns: dict, docs: list[str], repeats: int = 3) -> dict[str, float]:
    """Best-of-`repeats` docs/s of each fn over docs, runs interleaved (the VM is shared and noisy)."""
    best = dict.fromkeys(fns, 0.0)
    for _ in range(repeats):
        for label, fn in fns.items():
            started = time.perf_counter()
            for text in docs:
                fn(text)
            best[label] = max(best[label], len(docs) / (time.perf_counter() - started))
    mb_per_doc = sum(len(t.encode("utf-8")) for t in docs) / 1e6 / len(docs)
    for label, rate in best.items():
        print(f"  {label:<44} {rate:7.0f} docs/s  {rate * mb_per_doc:6.2f} MB/s")
    return best


def scale_run(items, hosts, section, copies: int) -> None:
    """Build time, memory and docs/s for an index over `copies` variants of every eval item."""
    rng = random.Random(1)
    big = []
    for c in range(copies):
        for it in items:  # a marker word every 7 words makes each copy's n-grams and seeds distinct
            words = " ".join(it.segments).split()
            marked = [w if i % 7 else f"{w} v{c}x{i}" for i, w in enumerate(words)]
            big.append(EvalItem(it.benchmark, f"{it.item_id}#{c}", [" ".join(marked)]))
    n_words = sum(len(ngram_words(s)) for it in big for s in it.segments)
    docs = rng.sample(hosts, 300)
    for mode in ("false", "seeds"):
        t0 = time.perf_counter()
        index = build_index(big, {**section, "fuzzy": mode if mode != "false" else False})
        build = time.perf_counter() - t0
        rate = throughput(
            {f"fuzzy={mode}": lambda t, ix=index: decontaminate_document(Document("b#0", "web", t), ix, section)},
            docs,
            repeats=2,
        )[f"fuzzy={mode}"]
        print(
            f"scale x{copies}: {len(big)} items, {n_words} words, fuzzy={mode}: build {build:.1f}s, "
            f"{index.nbytes / 1e6:.0f} MB, {index.meta['ngrams']} 13-grams, {rate:.0f} docs/s"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-kind", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scale", type=int, default=0, help="only measure an index over N copies of the items")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    section = load_config()["decontaminate"]

    t0 = time.perf_counter()
    items, titles = load_evalsets([parse_evalset_spec(s) for s in SPECS])
    t_load = time.perf_counter() - t0
    if args.scale:
        scale_run(items, load_hosts(rng), section, args.scale)
        return
    t0 = time.perf_counter()
    exact = build_index(items, {**section, "fuzzy": False}, titles)
    t_exact = time.perf_counter() - t0
    t0 = time.perf_counter()
    fuzzy = build_index(items, {**section, "fuzzy": "masked"}, titles)
    t_fuzzy = time.perf_counter() - t0
    t0 = time.perf_counter()
    seeds = build_index(items, {**section, "fuzzy": "seeds"}, titles)
    t_seeds = time.perf_counter() - t0
    tracemalloc.start()
    t0 = time.perf_counter()
    baseline = TupleSetBaseline(items, exact.n)
    t_base = time.perf_counter() - t0
    base_mem = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    words = sum(len(ngram_words(s)) for it in items for s in it.segments)
    print(f"eval sets: {len(items)} items, {words} words, loaded in {t_load:.1f}s; {len(titles)} protected titles")
    print(f"items matchable (>= 13 words or whole >= 8): {len(items) - sum(exact.meta['items_unmatchable'].values())}")
    print(
        f"index build  exact: {t_exact:.1f}s {exact.nbytes / 1e6:.1f} MB ({exact.meta['ngrams']} 13-grams) | "
        f"fuzzy=masked: {t_fuzzy:.1f}s {fuzzy.nbytes / 1e6:.1f} MB | fuzzy=seeds: {t_seeds:.1f}s "
        f"{seeds.nbytes / 1e6:.1f} MB ({seeds.meta['seeds']} seeds) | baseline tuple set: {t_base:.1f}s "
        f"{base_mem / 1e6:.1f} MB  (exact/baseline memory {exact.nbytes / base_mem:.3f})"
    )

    hosts = load_hosts(rng)
    cases = make_cases(items, hosts, args.per_kind, rng)
    n_words = [len(t.split()) for _, t, _ in cases]
    print(f"cases: {len(cases)} docs ({len(hosts)} clean hosts), median {int(np.median(n_words))} words")
    print("recall (positives) / false-positive rate (negative_*):")
    evaluate("overlap, exact index (fuzzy=false)", exact, section, cases)
    evaluate("overlap, fuzzy=masked index", fuzzy, section, cases)
    evaluate("overlap, fuzzy=seeds index (default)", seeds, section, cases)
    _, jac = evaluate("jaccard > 0.8 (Gopher), exact", exact, {**section, "policy": "jaccard"}, cases)
    base = {}
    for kind, text, _ in cases:
        base.setdefault(kind, []).append(int(baseline.flags(text)))
    print("baseline tuple set (any 13-gram):\n    " + "  ".join(f"{k}={np.mean(v):.3f}" for k, v in base.items()))
    jac = np.array(jac)
    print(
        f"jaccard of full verbatim items planted in hosts: median {np.median(jac):.4f}, "
        f"90th pct {np.percentile(jac, 90):.4f}, max {jac.max():.4f}, share > 0.8: {np.mean(jac > 0.8):.3f}"
    )

    docs = list(hosts)
    print(f"throughput on {len(docs)} clean hosts (median {int(np.median([len(d.split()) for d in docs]))} words):")

    def run(index):
        return lambda t: decontaminate_document(Document(id="b#0", source="web", text=t), index, section)

    rates = throughput(
        {
            "baseline: Python set of 13-word tuples": baseline.flags,
            "text normalisation only (ngram_words)": ngram_words,
            "decontaminate_document, exact index": run(exact),
            "decontaminate_document, fuzzy=masked index": run(fuzzy),
            "decontaminate_document, fuzzy=seeds index": run(seeds),
        },
        docs,
    )
    base_rate = rates["baseline: Python set of 13-word tuples"]
    print(
        f"ratio vs baseline: exact {rates['decontaminate_document, exact index'] / base_rate:.2f}x, "
        f"fuzzy=masked {rates['decontaminate_document, fuzzy=masked index'] / base_rate:.2f}x, "
        f"fuzzy=seeds {rates['decontaminate_document, fuzzy=seeds index'] / base_rate:.2f}x"
    )


if __name__ == "__main__":
    main()
