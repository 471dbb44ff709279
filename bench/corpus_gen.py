"""Seeded generator of a realistic large web-like JSONL corpus, built from real sentences.

Each document is 8-40 real sentences (news, books, web text) in paragraphs of 2-6 sentences, about 3.4 kB.
One document in 50 is an exact copy and one in 25 a one-word-changed copy of an earlier original, so the
dedup stages have real work. Sentences come from the development corpus (`../shared/data`) when it is
there, else from the sample corpus bundled in the package (so the scale test also runs in a bare clone).

    python bench/corpus_gen.py --docs 100000 --seed 0 --output /tmp/web-100k.jsonl
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ helpers, also when imported from a test
from corpus_path import SHARED_DATA  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = SHARED_DATA
SAMPLE = REPO / "curation" / "sample"

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_GUTENBERG_START = re.compile(r"\*\*\* ?START OF.*?\*\*\*", re.S)
_GUTENBERG_END = re.compile(r"\*\*\* ?END OF")
EXACT_EVERY, NEAR_EVERY = 50, 25


def _open_text(path: Path) -> str:
    """Text of a plain, .gz or .bz2 file."""
    opener = gzip.open if path.suffix == ".gz" else bz2.open if path.suffix == ".bz2" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        return f.read()


def _book_body(text: str) -> str:
    """A Gutenberg book without its licence header and footer."""
    start = _GUTENBERG_START.search(text)
    end = _GUTENBERG_END.search(text)
    return text[start.end() if start else 0 : end.start() if end else len(text)]


def _source_texts(root: Path | None) -> Iterator[str]:
    """Real English text: news lines, book bodies and web documents."""
    if root is not None:
        for path in sorted((root / "news" / "lee").glob("*.cor")):
            yield from _open_text(path).splitlines()
        for path in sorted((root / "books" / "gutenberg").glob("*.txt.gz")):
            yield _book_body(_open_text(path))
        for path in sorted((root / "web" / "commoncrawl" / "dolma").glob("*.gz")):
            for line in _open_text(path).splitlines():
                yield json.loads(line)["text"]
        return
    for path in sorted((SAMPLE / "news").glob("*.gz")):
        yield from _open_text(path).splitlines()
    for path in sorted((SAMPLE / "books").glob("*.gz")):
        yield _book_body(_open_text(path))
    for path in sorted((SAMPLE / "web").glob("*.jsonl.gz")):
        for line in _open_text(path).splitlines():
            yield json.loads(line)["text"]


def load_sentences(root: Path | None = None) -> list[str]:
    """Distinct sentences of 40-300 characters, mostly letters, in a stable order."""
    if root is None and (SHARED / "MANIFEST.md").is_file():
        root = SHARED
    seen: dict[str, None] = {}
    for text in _source_texts(root):
        for raw in _SENTENCE.split(" ".join(text.split())):
            s = raw.strip()
            if 40 <= len(s) <= 300 and sum(c.isalpha() for c in s) >= 0.7 * len(s):
                seen.setdefault(s, None)
    return list(seen)


def generate(n_docs: int, seed: int = 0, sentences: list[str] | None = None) -> Iterator[dict[str, str]]:
    """`n_docs` JSON records {text, url}: originals, exact copies (1/50) and one-word-changed copies (1/25)."""
    pool = sentences if sentences is not None else load_sentences()
    rng = np.random.default_rng(seed)
    words = sorted({w for s in pool[:2000] for w in s.split() if w.isalpha() and len(w) > 3})
    originals: list[np.ndarray] = []  # sentence indices of each original document

    def render(picks: np.ndarray, breaks: np.ndarray) -> str:
        paras, start = [], 0
        for stop in [*breaks.tolist(), len(picks)]:
            paras.append(" ".join(pool[j] for j in picks[start:stop]))
            start = stop
        return "\n\n".join(p for p in paras if p)

    def paragraph_breaks(k: int, r: np.random.Generator) -> np.ndarray:
        cuts, pos = [], 0
        while True:
            pos += int(r.integers(2, 7))
            if pos >= k:
                return np.asarray(cuts, dtype=np.int64)
            cuts.append(pos)

    layouts: list[np.ndarray] = []
    for i in range(n_docs):
        roll = rng.random()
        if originals and roll < 1 / EXACT_EVERY:
            j = int(rng.integers(0, len(originals)))
            text = render(originals[j], layouts[j])
        elif originals and roll < 1 / EXACT_EVERY + 1 / NEAR_EVERY:
            j = int(rng.integers(0, len(originals)))
            tokens = render(originals[j], layouts[j]).split(" ")
            pos = int(rng.integers(0, len(tokens)))
            tail = tokens[pos][len(tokens[pos].rstrip("\n")) :] if "\n" in tokens[pos] else ""
            tokens[pos] = words[int(rng.integers(0, len(words)))] + tail
            text = " ".join(tokens)
        else:
            k = int(rng.integers(8, 41))
            picks = rng.integers(0, len(pool), size=k)
            breaks = paragraph_breaks(k, rng)
            originals.append(picks)
            layouts.append(breaks)
            text = render(picks, breaks)
        yield {"text": text, "url": f"https://news.example.org/{seed}/{i}"}


def write_jsonl(path: Path, n_docs: int, seed: int = 0) -> Path:
    """Write the generated corpus as one JSONL file (created with its parent folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for record in generate(n_docs, seed):
            f.write(json.dumps(record, ensure_ascii=False))
            f.write("\n")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--output", type=Path, required=True)
    args = ap.parse_args(argv)
    write_jsonl(args.output, args.docs, args.seed)
    print(f"{args.output}: {args.docs} documents, {args.output.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
