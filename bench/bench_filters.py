"""Benchmark: Gopher quality + repetition here vs datatrove, and fastText vs langdetect language ID.

Run in the bench venv (datatrove and spaCy live only there):
    python3 -m venv .venv-bench && .venv-bench/bin/pip install -e . -r bench/requirements-bench.txt
    .venv-bench/bin/python bench/bench_filters.py [--data ../shared/data] [--max-docs 6000]

Builds a mixed corpus of real documents from the shared sample data (see `build_corpus`), then, in one
single-process run, prints docs/s and MB/s of both implementations, their ratio, and for each reading
profile (`gopher`, the default; `datatrove`) the keep/drop agreement with datatrove, the disagreements
by rule (our reason vs datatrove's) and the documents removed by each rule beside datatrove's.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import random
import re
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from corpus_path import SHARED_DATA  # noqa: E402

from curation import text as text_module  # noqa: E402
from curation.config import load_config  # noqa: E402
from curation.profiles import PROFILES  # noqa: E402
from curation.punctuation import DATATROVE_PUNCTUATION  # noqa: E402
from curation.schema import Document  # noqa: E402
from filters.quality import decide_quality, quality_signals  # noqa: E402
from filters.repetition import decide_repetition, repetition_signals  # noqa: E402

# datatrove's reason names -> ours (same rules, same order: quality first, then repetition).
DATATROVE_REASONS = {
    "gopher_short_doc": "quality.word_count",
    "gopher_long_doc": "quality.word_count",
    "gopher_below_avg_threshold": "quality.mean_word_length",
    "gopher_above_avg_threshold": "quality.mean_word_length",
    "gopher_too_many_hashes": "quality.hash_to_word_ratio",
    "gopher_too_many_ellipsis": "quality.ellipsis_to_word_ratio",
    "gopher_too_many_bullets": "quality.bullet_lines",
    "gopher_too_many_end_ellipsis": "quality.ellipsis_lines",
    "gopher_below_alpha_threshold": "quality.alpha_words",
    "gopher_enough_stop_words": "quality.stop_words",
    **{k: f"repetition.{k}" for k in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac")},
    **{f"top_{n}_gram": f"repetition.top_{n}gram_char_frac" for n in (2, 3, 4)},
    **{f"duplicated_{n}_n_grams": f"repetition.dup_{n}gram_char_frac" for n in range(5, 11)},
}


def _jsonl(path: Path):
    """Rows of a (possibly gzipped) JSON-lines file."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _book_windows(text: str, rng: random.Random, n: int) -> list[str]:
    """`n` windows of 1-16 consecutive paragraphs from a book (varied lengths around the 50-word limit)."""
    paras = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    out = []
    for _ in range(n):
        size = rng.choice([1, 2, 3, 4, 6, 10, 16])
        start = rng.randrange(0, max(1, len(paras) - size))
        out.append("\n\n".join(paras[start : start + size]))
    return out


def _html_texts(data: Path) -> list[str]:
    """Main text of the sample HTML pages and WARC responses, extracted with resiliparse."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    out = []
    for path in sorted((data / "web" / "html").rglob("*.html.gz")):
        raw = gzip.decompress(path.read_bytes())
        out.append(extract_plain_text(bytes_to_str(raw, detect_encoding(raw)), main_content=True))
    for path in sorted((data / "web").rglob("*.warc.gz")):
        if "malformed" in path.parts:
            continue
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, record_types=WarcRecordType.response):
                raw = rec.reader.read()
                body = raw.split(b"\r\n\r\n", 1)[-1]
                out.append(extract_plain_text(bytes_to_str(body, detect_encoding(body)), main_content=True))
    return out


def _wikipedia_texts(data: Path) -> list[str]:
    """Plain text of the English Wikipedia sample pages (mwparserfromhell strip_code)."""
    import mwparserfromhell

    out = []
    for path in sorted((data / "wikipedia" / "gensim").glob("enwiki*.bz2")):
        with bz2.open(path) as fh:
            for _, elem in ET.iterparse(fh):
                if elem.tag.endswith("}text") and elem.text and not elem.text.lower().startswith("#redirect"):
                    out.append(mwparserfromhell.parse(elem.text).strip_code())
                if elem.tag.endswith("}page"):
                    elem.clear()
    return out


def _code_texts(data: Path, rng: random.Random, n: int) -> list[str]:
    """Source files from linguist samples and the repo tarballs (web pages are sometimes code too)."""
    files = sorted(p for p in (data / "code" / "linguist").rglob("*") if p.is_file())
    out = [p.read_text("utf-8", errors="replace") for p in rng.sample(files, min(n, len(files)))]
    for tar in sorted((data / "code" / "repos").glob("*.tar.gz")):
        with tarfile.open(tar) as tf:
            for m in tf.getmembers():
                if m.isfile() and m.size < 200_000 and not m.name.endswith(".png"):
                    out.append(tf.extractfile(m).read().decode("utf-8", errors="replace"))
    return out


def build_corpus(data: Path, max_docs: int, seed: int = 0) -> list[tuple[str, str]]:
    """(kind, text) pairs: web JSONL + extracted HTML, Wikipedia, book windows, news, eval-set passages, code.

    CRLF is normalised to LF (as the readers do); empty texts are dropped.
    """
    rng = random.Random(seed)
    ev = data / "evalsets" / "llm-foundry"
    corpus: list[tuple[str, str]] = []
    for path in sorted((data / "web" / "commoncrawl" / "dolma").glob("*.gz")):
        corpus += [("web-jsonl", r["text"]) for r in _jsonl(path)]
    corpus += [("web-html", t) for t in _html_texts(data)]
    corpus += [("wikipedia", t) for t in _wikipedia_texts(data)]
    wt = gzip.decompress((data / "evalsets" / "wikitext-2" / "test.txt.gz").read_bytes()).decode("utf-8")
    corpus += [("wikitext", t) for t in re.split(r"\n (?== [^=])", wt) if t.strip()]
    for path in sorted((data / "books" / "gutenberg").glob("*.txt.gz")):
        book = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace").replace("\r\n", "\n")
        corpus += [("books", t) for t in _book_windows(book, rng, 110)]
    for path in sorted((data / "news" / "lee").glob("*.cor")):
        corpus += [("news", line) for line in path.read_text("utf-8", errors="replace").splitlines()]
    lambada = [
        r["context"] + " " + r["continuation"]
        for r in _jsonl(ev / "language_understanding" / "lambada_openai.jsonl.gz")
    ]
    corpus += [("lambada", t) for t in rng.sample(lambada, 1800)]
    boolq = [r["query"] for r in _jsonl(ev / "reading_comprehension" / "boolq.jsonl.gz")]
    corpus += [("boolq", t) for t in rng.sample(boolq, 900)]
    trivia = [r["context"] for r in _jsonl(ev / "world_knowledge" / "triviaqa_sm_sub.jsonl.gz")]
    corpus += [("triviaqa", t) for t in rng.sample(trivia, 200)]
    gsm = [r["question"] + "\n" + r["answer"] for r in _jsonl(data / "evalsets" / "gsm8k" / "test.jsonl")]
    corpus += [("gsm8k", t) for t in rng.sample(gsm, 400)]
    corpus += [("code", t) for t in _code_texts(data, rng, 400)]
    # Pages over 40k characters are skipped to keep the datatrove side of the run within a few minutes.
    corpus = [(k, t.replace("\r\n", "\n")) for k, t in corpus if t and t.strip() and len(t) <= 40_000]
    rng.shuffle(corpus)
    return corpus[:max_docs]


def decide_ours(signals: dict, cfg: dict, profile: str) -> str | None:
    """Our quality-then-repetition decision from stored signals under a reading profile."""
    doc = Document(id="", source="web", text="", signals=signals)
    return decide_quality(doc, {**cfg["quality"], "profile": profile}) or decide_repetition(
        doc, {**cfg["repetition"], "profile": profile}
    )


def run_ours(
    texts: list[str], cfg: dict, profiles: tuple[str, ...] = ("gopher", "datatrove")
) -> tuple[tuple[float, float], list[dict]]:
    """Signals for every document (both stages, every signal of `profiles`) and the default decision."""
    from curation import datatrove_tokens

    rows = []
    text_module.tokens.cache_clear()
    text_module.words.cache_clear()
    datatrove_tokens.datatrove_tokens.cache_clear()
    t0, c0 = time.perf_counter(), time.process_time()
    for i, text in enumerate(texts):
        doc = Document(id=str(i), source="web", text=text)
        doc.signals.update(quality_signals(text, profiles))
        doc.signals.update(repetition_signals(text, profiles))
        doc.reason = decide_ours(doc.signals, cfg, cfg["profile"])
        rows.append(doc.signals)
    return (time.perf_counter() - t0, time.process_time() - c0), rows


def run_datatrove(texts: list[str], chained: bool) -> tuple[tuple[float, float], list[str | None]]:
    """datatrove's GopherQualityFilter then GopherRepetitionFilter (only on survivors when `chained`)."""
    from datatrove.data import Document as DtDocument
    from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter
    from datatrove.utils.text import split_into_words

    split_into_words("warm up the spaCy tokenizer.")
    quality, repetition = GopherQualityFilter(), GopherRepetitionFilter()
    reasons: list[str | None] = []
    t0, c0 = time.perf_counter(), time.process_time()
    for i, text in enumerate(texts):
        doc = DtDocument(text=text, id=str(i))
        q = quality.filter(doc)
        reason = None if q is True else q[1]
        if reason is None or not chained:
            r = repetition.filter(doc)
            reason = reason or (None if r is True else r[1])
        reasons.append(reason)
    return (time.perf_counter() - t0, time.process_time() - c0), reasons


def bench_filters(corpus: list[tuple[str, str]], also_chained: bool) -> None:
    """Throughput, ratio and agreement of quality+repetition, ours vs datatrove."""
    texts = [t for _, t in corpus]
    kinds = [k for k, _ in corpus]
    mb = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) / 1e6
    print(f"corpus: {len(texts)} docs, {mb:.2f} MB; by kind: {dict(sorted(Counter(kinds).items()))}")
    cfg = load_config()
    # The bench machine is shared: ours runs once before and twice after datatrove and the fastest
    # (CPU time) counts; datatrove's single run is long enough (tens of seconds) to average the noise.
    ours_runs = [run_ours(texts, cfg)]
    # Baseline: both datatrove filters on every document, the same work ours does (all signals for
    # every document). `--also-chained` adds datatrove as a pipeline runs it (repetition only on
    # quality survivors), a cheaper baseline than the same-work one.
    dt_all_s, dt_reasons = run_datatrove(texts, chained=False)
    dt_chain_s = run_datatrove(texts, chained=True)[0] if also_chained else (float("nan"), float("nan"))
    ours_runs += [run_ours(texts, cfg) for _ in range(2)]
    ours_s, rows = min(ours_runs, key=lambda r: r[0][1])
    # `signal_readings: profile`: only the selected profile's signals (same decisions, less work).
    one_s = min((run_ours(texts, cfg, (cfg["profile"],))[0] for _ in range(2)), key=lambda t: t[1])
    print("ours, CPU seconds of each run:", ", ".join(f"{r[0][1]:.2f}" for r in ours_runs))
    print(f"{'implementation':<44} {'docs/s':>9} {'MB/s':>7} {'cpu s':>7} {'wall s':>7} {'wall docs/s':>11}")
    for name, (wall, cpu) in (
        ("ours: 46 signals (both profiles) + decision", ours_s),
        ("ours: one profile's signals + decision", one_s),
        ("datatrove, both filters on every doc", dt_all_s),
        ("datatrove chained (repetition on survivors)", dt_chain_s),
    ):
        print(
            f"{name:<44} {len(texts) / cpu:>9.1f} {mb / cpu:>7.3f} {cpu:>7.2f} {wall:>7.2f} {len(texts) / wall:>11.1f}"
        )
    print(
        f"speed-up per core (CPU time) vs datatrove both filters on every doc (baseline, same work):"
        f" {dt_all_s[1] / ours_s[1]:.1f}x (wall-clock {dt_all_s[0] / ours_s[0]:.1f}x);"
        f" vs datatrove chained: {dt_chain_s[1] / ours_s[1]:.1f}x;"
        f" one profile's signals: {dt_all_s[1] / one_s[1]:.1f}x"
    )

    report_profiles(texts, kinds, rows, dt_reasons, cfg)
    check_dash_chunks(texts)


def check_dash_chunks(texts: list[str]) -> None:
    """How often `datatrove_tokens` cuts a whitespace chunk holding `--` exactly as spaCy does."""
    from datatrove.utils.text import split_into_words

    from curation.datatrove_tokens import spacy_chunk_tokens

    chunks = sorted({c for t in texts if "--" in t for c in re.findall(r"\S*--\S*", t)})
    same = sum(spacy_chunk_tokens(c) == split_into_words(c) for c in chunks)
    print(f"\n`--` chunks cut as spaCy cuts them: {same}/{len(chunks)} distinct chunks")


def _whitespace_alpha(text: str) -> float:
    """Fraction of whitespace-separated words holding a letter (a check of the paper's wording)."""
    ws = text.split()
    return sum(any(c.isalpha() for c in w) for w in ws) / len(ws) if ws else 0.0


def report_profiles(texts: list[str], kinds: list[str], rows: list[dict], dt_reasons: list, cfg: dict) -> None:
    """Agreement with datatrove, disagreements and removals by rule, under each reading profile."""
    from datatrove.utils.text import PUNCTUATION_SET

    print(
        f"\ncuration.punctuation.DATATROVE_PUNCTUATION == datatrove's PUNCTUATION_SET: {DATATROVE_PUNCTUATION == PUNCTUATION_SET}"
    )
    dt = [DATATROVE_REASONS.get(r, r) if r else None for r in dt_reasons]
    ours = {p: [decide_ours(sig, cfg, p) for sig in rows] for p in PROFILES}
    for profile, reasons in ours.items():
        agree = sum((a is None) == (b is None) for a, b in zip(reasons, dt, strict=True))
        same_rule = sum(a == b for a, b in zip(reasons, dt, strict=True))
        kept_o = sum(r is None for r in reasons)
        kept_d = sum(r is None for r in dt)
        print(
            f"\nprofile={profile}: keep/drop agreement {agree}/{len(texts)} = {agree / len(texts):.2%}"
            f" (same first rule or both kept: {same_rule}; kept: ours {kept_o}, datatrove {kept_d})"
        )
        dis = Counter(
            (o or "KEEP", d or "KEEP", k)
            for o, d, k in zip(reasons, dt, kinds, strict=True)
            if (o is None) != (d is None)
        )
        if dis:
            print(f"  {'ours':<36} {'datatrove':<36} {'kind':<10} n")
            for (o, d, k), n in dis.most_common():
                print(f"  {o:<36} {d:<36} {k:<10} {n}")
    print("\ndocuments removed, by first failing rule:")
    columns = {f"profile={p}": reasons for p, reasons in ours.items()} | {"datatrove": dt}
    counts = {name: Counter(r for r in reasons if r) for name, reasons in columns.items()}
    rules = sorted(set().union(*counts.values()), key=lambda r: (r.split(".")[0] != "quality", r))
    print(f"  {'rule':<36}" + "".join(f" {name:>18}" for name in counts))
    for rule in rules:
        print(f"  {rule:<36}" + "".join(f" {c[rule]:>18}" for c in counts.values()))
    print(f"  {'total removed':<36}" + "".join(f" {sum(c.values()):>18}" for c in counts.values()))
    alpha = [i for i, r in enumerate(dt) if r == "quality.alpha_words"]
    ws_ok = [i for i in alpha if _whitespace_alpha(texts[i]) >= 0.8]
    kept = [i for i in ws_ok if ours["gopher"][i] is None]
    print(
        f"\ndatatrove removes {len(alpha)} documents with its alpha-words rule; in {len(ws_ok)} of them 80% or more of"
        f" the whitespace-separated words hold a letter; profile=gopher keeps {len(kept)} of those"
        f" ({len([i for i in ws_ok if ours['gopher'][i] == 'quality.alpha_words'])} still fail its alpha-words rule)"
        f"; by kind: {dict(sorted(Counter(kinds[i] for i in ws_ok).items()))}"
    )


def bench_langid(corpus: list[tuple[str, str]], n_langdetect: int) -> None:
    """fastText lid.176 (single-doc and batch API, and the raw C++ call) vs langdetect, short documents.

    Short documents are each corpus document's first 100 or 200 characters; docs/s are per CPU second.
    """
    from curation.langid import _fasttext_model, detect_language, detect_languages, load_backend

    load_backend("fasttext")
    load_backend("langdetect")
    model = _fasttext_model(None)
    for chars in (100, 200):
        short = [t[:chars] for _, t in corpus]
        lines = [t.replace("\n", " ") for t in short]
        rates: dict[str, float] = {}
        for _ in range(3):  # best of 3 interleaved rounds: the machine is shared
            for name, run in (
                ("one", lambda short=short: [detect_language(t) for t in short]),
                ("batch", lambda short=short: detect_languages(short)),
                ("raw", lambda lines=lines: model.multilinePredict(lines, 1, 0.0, "replace")),
            ):
                c0 = time.process_time()
                run()
                rates[name] = max(rates.get(name, 0.0), len(short) / (time.process_time() - c0))
        ft = [detect_language(t) for t in short]
        same_batch = ft == detect_languages(short)
        sample = short[:n_langdetect]
        c0 = time.process_time()
        ld = [detect_language(t, backend="langdetect") for t in sample]
        ld_rate = len(sample) / (time.process_time() - c0)
        same = sum(a[0] == b[0] for a, b in zip(ft, ld, strict=False))
        print(
            f"\nlanguage ID, {len(short)} docs cut to {chars} chars (mean {sum(map(len, short)) / len(short):.0f}), docs per CPU second (best of 3):"
        )
        print(f"  fastText detect_language (one at a time): {rates['one']:>8.0f}")
        print(
            f"  fastText detect_languages (batch):        {rates['batch']:>8.0f}   same labels as one at a time: {same_batch}"
        )
        print(f"  fastText raw C++ multilinePredict:        {rates['raw']:>8.0f}   (floor: no wrapper at all)")
        print(f"  langdetect ({len(sample)} docs, once):            {ld_rate:>8.0f}")
        print(f"  fastText / langdetect: {rates['one'] / ld_rate:.0f}x; same label on {same}/{len(sample)}")


def main() -> None:
    """Parse arguments, build the corpus, run both benchmarks."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED_DATA)
    ap.add_argument("--max-docs", type=int, default=6000)
    ap.add_argument("--langdetect-docs", type=int, default=500)
    ap.add_argument("--skip-datatrove", action="store_true")
    ap.add_argument("--also-chained", action="store_true", help="also time datatrove with repetition on survivors only")
    args = ap.parse_args()
    corpus = build_corpus(args.data, args.max_docs)
    if not args.skip_datatrove:
        bench_filters(corpus, args.also_chained)
    bench_langid(corpus, args.langdetect_docs)


if __name__ == "__main__":
    main()
