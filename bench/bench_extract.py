"""HTML main-text extractors scored on two gold yardsticks, with pages per CPU second, trafilatura as baseline.

Usage: .venv/bin/python bench/bench_extract.py [--data ../shared/data] [--limit N] [--repeat 2] [--configs "name;name"]

Yardstick 1 ("trafilatura-eval"): trafilatura's published evaluation set, read straight from
`web/extraction-eval/trafilatura-eval.tar.xz` (never unpacked): every `evaldata.json` entry whose page is in
`tests/eval/` (884 pages). A `with` snippet found in the extract is a true positive, a missing one a false
negative, a `without` snippet found a false positive; precision, recall and F1 over all snippets (trafilatura's
own scoring; whitespace runs are collapsed on both sides so a snippet spanning a line break still matches).
trafilatura's defaults were tuned on this set.

Yardstick 2 ("dev-58"): the 60 pages of `web/html/trafilatura`, with gold main text annotated by hand for this
bench in `bench/data/extract_gold_pages.json` (58 pages; a template-only page and a portal home page have no main
text). Each entry names the first line of the main text, the first line after it and the boilerplate blocks
inside it (`[from, to)`, `[line]`, or `[from, null]` = to the end), all as snippets of the page's *full visible
text* (resiliparse without main-content detection, i.e. every rendered line, so no extractor's choice is involved). Scored like the article-extraction benchmarks: bag of
lower-cased word tokens of the extract against the gold text, precision / recall / F1 per page, then averaged.

Speed: pages per CPU second of this process (time.process_time) over the yardstick-1 pages, i.e. per core;
configurations interleaved, best of --repeat passes. Every configuration is the default `extract` config section
with a few keys overridden, run through the pipeline's own `extract_config_args` + `extract_detailed`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import tarfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_path import SHARED_DATA  # noqa: E402

from curation.config import default_config  # noqa: E402
from curation.extract import Extraction, extract_config_args, extract_detailed  # noqa: E402
from curation.readers.html import decode_html, page_url  # noqa: E402

GOLD_FILE = Path(__file__).resolve().parent / "data" / "extract_gold_pages.json"
EVAL_TAR = Path("web") / "extraction-eval" / "trafilatura-eval.tar.xz"
DEV_PAGES = Path("web") / "html" / "trafilatura"
_WS = re.compile(r"\s+")
_TOKEN = re.compile(r"\w+")
_SOFT_HYPHEN = "\u00ad"

# Overrides of the default `extract` section, one per configuration.
CONFIGS: dict[str, dict[str, Any]] = {
    "trafilatura (baseline)": {"backend": "trafilatura", "fallback_backend": None},
    "trafilatura, resiliparse if < 200 chars (default)": {"backend": "trafilatura", "fallback_backend": "auto"},
    "resiliparse": {"backend": "resiliparse", "fallback_backend": None},
    "resiliparse, trafilatura if < 200 chars (fast option)": {"backend": "resiliparse", "fallback_backend": "auto"},
    "resiliparse, trafilatura if < 200 chars or short lines > 0.5": {
        "backend": "resiliparse",
        "fallback_backend": "auto",
        "resiliparse_max_short_line_frac": 0.5,
    },
    "resiliparse, trafilatura if < 200 chars or short lines > 0.4": {
        "backend": "resiliparse",
        "fallback_backend": "auto",
        "resiliparse_max_short_line_frac": 0.4,
    },
}
BASELINE = "trafilatura (baseline)"


@dataclass
class Page:
    """One benchmark page: its HTML and URL with either gold snippets or a gold text."""

    name: str
    url: str | None
    html: str
    with_: list[str] | None = None
    without: list[str] | None = None
    gold: str | None = None


def load_eval_pages(data: Path, limit: int | None = None) -> list[Page]:
    """Yardstick 1: evaldata.json entries whose page is in the tarball's tests/eval/ (bytes decoded as a run does)."""
    pages: dict[str, bytes] = {}
    with tarfile.open(data / EVAL_TAR, "r:xz") as tar:
        evaldata = None
        for member in tar:
            if member.name == "tests/evaldata.json":
                evaldata = json.load(tar.extractfile(member))
            elif member.name.startswith("tests/eval/") and member.isfile():
                pages[member.name.removeprefix("tests/eval/")] = tar.extractfile(member).read()
    assert evaldata is not None, "tests/evaldata.json missing from the eval tarball"
    out = []
    for url, entry in evaldata.items():
        body = pages.get(entry["file"])
        if body is None:
            continue  # a trafilatura cache page, not shipped in the eval set
        html, _ = decode_html(body)
        out.append(Page(entry["file"], url, html, with_=entry["with"], without=entry["without"]))
    return out[:limit] if limit else out


def visible_lines(html: str) -> list[str]:
    """Every rendered non-empty line of a page (resiliparse, no main-content detection), whitespace normalised."""
    from resiliparse.extract.html2text import extract_plain_text

    text = extract_plain_text(
        html, preserve_formatting=True, main_content=False, alt_texts=False, form_fields=False, noscript=False
    )
    return [" ".join(line.replace(_SOFT_HYPHEN, "").split()) for line in text.split("\n") if line.strip()]


def _find(lines: list[str], snippet: str, start: int) -> int:
    """Index of the first line at or after `start` containing `snippet`."""
    for i in range(start, len(lines)):
        if snippet in lines[i]:
            return i
    raise ValueError(f"gold snippet not found: {snippet!r}")


def _drop_end(body: list[str], snippet: str | None, start: int) -> int:
    """End (exclusive) of a dropped block: the line containing `snippet` after `start`, or the end of the body."""
    return len(body) if snippet is None else _find(body, snippet, start + 1)


def gold_text(html: str, spec: Mapping[str, Any]) -> str:
    """The annotated main text: lines from `start` up to (not including) `stop`, minus the `drop` blocks."""
    lines = visible_lines(html)
    first = _find(lines, spec["start"], 0)
    last = _find(lines, spec["stop"], first + 1) if spec["stop"] else len(lines)
    body = lines[first:last]
    keep = [True] * len(body)
    pos = 0
    for drop in spec["drop"]:
        a = _find(body, drop[0], pos)
        b = a + 1 if len(drop) == 1 else _drop_end(body, drop[1], a)
        keep[a:b] = [False] * (b - a)
        pos = b
    return "\n".join(line for line, k in zip(body, keep, strict=True) if k)


def load_dev_pages(data: Path) -> list[Page]:
    """Yardstick 2: the hand-annotated development pages with their gold main text."""
    specs = json.loads(GOLD_FILE.read_text(encoding="utf-8"))
    out = []
    for name, spec in specs.items():
        html, _ = decode_html(gzip.decompress((data / DEV_PAGES / f"{name}.html.gz").read_bytes()))
        out.append(Page(name, page_url(html), html, gold=gold_text(html, spec)))
    return out


def _norm(text: str) -> str:
    """Whitespace runs collapsed to one space (snippet matching across line breaks)."""
    return _WS.sub(" ", text).strip()


def snippet_scores(pages: list[Page], outputs: list[str]) -> tuple[float, float, float]:
    """trafilatura's scoring: (precision, recall, F1) over all with/without snippets."""
    tp = fn = fp = 0
    for page, out in zip(pages, outputs, strict=True):
        text = _norm(out)
        for snippet in page.with_ or []:
            if _norm(snippet) in text:
                tp += 1
            else:
                fn += 1
        fp += sum(1 for snippet in page.without or [] if _norm(snippet) in text)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def tokens(text: str) -> Counter[str]:
    """Bag of lower-cased word tokens."""
    return Counter(_TOKEN.findall(text.replace(_SOFT_HYPHEN, "").lower()))


def token_scores(pages: list[Page], outputs: list[str]) -> tuple[float, float, float]:
    """Mean per-page (precision, recall, F1) of extract tokens against gold tokens."""
    ps, rs, fs = [], [], []
    for page, out in zip(pages, outputs, strict=True):
        gold, got = tokens(page.gold or ""), tokens(out)
        common = sum((gold & got).values())
        p = common / sum(got.values()) if got else 0.0
        r = common / sum(gold.values()) if gold else 0.0
        ps.append(p)
        rs.append(r)
        fs.append(2 * p * r / (p + r) if p + r else 0.0)
    n = len(pages)
    return sum(ps) / n, sum(rs) / n, sum(fs) / n


def run(pages: list[Page], overrides: Mapping[str, Any]) -> tuple[list[Extraction], float]:
    """Extractions of every page under the default `extract` config with `overrides`, and their CPU seconds."""
    kwargs = extract_config_args({**default_config()["extract"], **overrides})
    start = time.process_time()
    outputs = [extract_detailed(page.html, page.url, **kwargs) for page in pages]
    return outputs, time.process_time() - start


def main() -> None:
    """Score every configuration on both yardsticks and print the table (markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--limit", type=int, default=None, help="only the first N yardstick-1 pages (quick runs)")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved timed passes (best counts)")
    parser.add_argument("--configs", default="", help="semicolon-separated names from CONFIGS (default: all)")
    args = parser.parse_args()
    names = [n.strip() for n in args.configs.split(";") if n.strip()] if args.configs else list(CONFIGS)
    eval_pages = load_eval_pages(args.data, args.limit)
    dev_pages = load_dev_pages(args.data)
    print(f"yardstick 1: {len(eval_pages)} pages; yardstick 2: {len(dev_pages)} pages")
    run(dev_pages[:1], CONFIGS[BASELINE])  # trafilatura's lazy imports outside the timings
    best: dict[str, float] = {}
    outputs: dict[str, list[Extraction]] = {}
    for round_ in range(args.repeat):  # configurations interleaved, best pass counts
        for name in names:
            outputs[name], seconds = run(eval_pages, CONFIGS[name])
            best[name] = min(best.get(name, float("inf")), seconds)
            print(f"  round {round_ + 1} {name}: {len(eval_pages) / seconds:.1f} pages/CPU-s", file=sys.stderr)
    base = len(eval_pages) / best[BASELINE] if BASELINE in best else None
    print("\n| configuration | Y1 P | Y1 R | Y1 F1 | Y2 P | Y2 R | Y2 F1 | pages/CPU-s | x trafilatura | Y1 routed |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        p1, r1, f1 = snippet_scores(eval_pages, [e.text for e in outputs[name]])
        p2, r2, f2 = token_scores(dev_pages, [e.text for e in run(dev_pages, CONFIGS[name])[0]])
        speed = len(eval_pages) / best[name]
        ratio = f"{speed / base:.2f}x" if base else "-"
        routed = sum(1 for e in outputs[name] if e.routed)
        print(
            f"| {name} | {p1:.3f} | {r1:.3f} | **{f1:.3f}** | {p2:.3f} | {r2:.3f} | **{f2:.3f}** |"
            f" {speed:.1f} | {ratio} | {routed} |"
        )


if __name__ == "__main__":
    main()
