"""Reader and extractor throughput on the shared samples, each against a named baseline measured in the same run.

Usage: .venv/bin/python bench/bench_readers.py [--data ../shared/data] [--repeat 3]

Each figure is the best of `--repeat` samples; a sample repeats the work for at least 0.3 s (small inputs).
Per source: documents/s and MB/s (input bytes on disk, and decoded text bytes) for our reader, and the
ratio to a baseline that does only the raw work (warcio iteration, bz2+mwparserfromhell.strip_code, gzip
decode, tarfile iteration, line iteration). Extractors: resiliparse vs trafilatura on the 60 trafilatura
cache pages (speed) and proxy quality figures (no gold annotations are available here):
  * empty    - pages with < 200 characters extracted
  * recall   - share of the page's long lines (>= 15 words in the full visible text) found in the extract
  * short    - share of extracted lines with < 4 words and no end punctuation (menus, buttons, bylines)
  * gopher   - English pages (<html lang="en">) whose extract passes the Gopher quality+repetition rules
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import re
import statistics
import sys
import tarfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import mwparserfromhell
from warcio.archiveiterator import ArchiveIterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus_path import SHARED_DATA  # noqa: E402

from curation.config import default_config  # noqa: E402
from curation.extract import extract_text  # noqa: E402
from curation.readers import get_reader  # noqa: E402
from curation.readers.base import SourceFile  # noqa: E402
from curation.readers.options import reader_options  # noqa: E402
from curation.schema import Document  # noqa: E402


def best_of(repeat: int, fn: Callable[[], tuple[int, int]], min_seconds: float = 0.3) -> tuple[float, int, int]:
    """Best per-call wall time over `repeat` samples; each sample loops fn for >= min_seconds -> (s, docs, bytes)."""
    times, result = [], (0, 0)
    for _ in range(repeat):
        calls, start = 0, time.perf_counter()
        while True:
            result = fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        times.append(elapsed / calls)
    return min(times), result[0], result[1]


def run_reader(fmt: str, source: str, paths: list[Path], root: Path) -> tuple[int, int]:
    """Read every file with our reader: (kept documents, UTF-8 text bytes)."""
    reader = get_reader(fmt)
    docs = nbytes = 0
    for path in paths:
        with path.open("rb") as fh:
            for item in reader(fh, SourceFile(str(path), str(path.relative_to(root)), source, fmt)):
                if isinstance(item, Document) and not item.reason:
                    docs += 1
                    nbytes += len(item.text.encode("utf-8", "replace"))
    return docs, nbytes


def baseline_warc(paths: list[Path]) -> tuple[int, int]:
    """warcio iteration reading every response/resource/conversion payload, no decoding or checks."""
    docs = nbytes = 0
    for path in paths:
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh, arc2warc=True):
                if record.rec_type in ("response", "resource", "conversion"):
                    nbytes += len(record.content_stream().read())
                    docs += 1
    return docs, nbytes


def baseline_wiki(paths: list[Path]) -> tuple[int, int]:
    """bz2 + regex page split + mwparserfromhell strip_code() (the common naive recipe, no safety)."""
    docs = nbytes = 0
    text_re = re.compile(r"<ns>0</ns>.*?<text[^>]*>(.*?)</text>", re.DOTALL)
    for path in paths:
        raw = bz2.decompress(path.read_bytes()).decode("utf-8", "replace")
        for match in text_re.finditer(raw):
            text = mwparserfromhell.parse(match.group(1)).strip_code()
            docs += 1
            nbytes += len(text.encode())
    return docs, nbytes


def baseline_gzip_text(paths: list[Path]) -> tuple[int, int]:
    """gzip decompress + UTF-8 decode of each file."""
    nbytes = 0
    for path in paths:
        nbytes += len(gzip.decompress(path.read_bytes()).decode("utf-8", "replace").encode())
    return len(paths), nbytes


def baseline_lines(paths: list[Path]) -> tuple[int, int]:
    """Plain `for line in file` with decode."""
    docs = nbytes = 0
    for path in paths:
        with path.open("rb") as fh:
            for line in fh:
                if line.strip():
                    docs += 1
                    nbytes += len(line.decode("utf-8", "replace").strip().encode())
    return docs, nbytes


def baseline_tar(paths: list[Path]) -> tuple[int, int]:
    """tarfile streaming iteration reading every regular member."""
    docs = nbytes = 0
    for path in paths:
        with tarfile.open(path, "r|gz") as tar:
            for member in tar:
                if member.isreg():
                    handle = tar.extractfile(member)
                    nbytes += len(handle.read()) if handle else 0
                    docs += 1
    return docs, nbytes


def size_mb(paths: Iterable[Path]) -> float:
    """Total on-disk size in MB."""
    return sum(p.stat().st_size for p in paths) / 1e6


def bench_sources(data: Path, repeat: int) -> None:
    """Throughput per source, ours vs baseline."""
    web = data / "web"
    cases = [
        (
            "web WARC",
            "warc",
            "web",
            sorted((web / "warc" / "dolma").glob("*.warc.gz")) + sorted((web / "commoncrawl").glob("*/*.warc.gz")),
            baseline_warc,
            "warcio iterate+read",
        ),
        (
            "web WET",
            "wet",
            "web",
            sorted((web / "commoncrawl").glob("*/*.wet.gz")),
            baseline_warc,
            "warcio iterate+read",
        ),
        (
            "wikipedia",
            "wikipedia",
            "wikipedia",
            sorted((data / "wikipedia" / "gensim").glob("enwiki*.bz2")),
            baseline_wiki,
            "bz2+regex+strip_code",
        ),
        (
            "books",
            "books",
            "books",
            sorted((data / "books" / "gutenberg").glob("*.txt.gz")),
            baseline_gzip_text,
            "gzip+decode",
        ),
        (
            "news lines",
            "lines",
            "news",
            sorted((data / "news" / "lee").glob("*.cor")),
            baseline_lines,
            "for-line+decode",
        ),
        (
            "code archives",
            "code_archive",
            "code",
            sorted((data / "code" / "repos").glob("*.tar.gz")),
            baseline_tar,
            "tarfile r|gz read",
        ),
    ]
    print(
        f"{'source':<14} {'files':>5} {'in MB':>7} {'docs':>5} {'docs/s':>9} {'MB/s in':>8} {'MB/s text':>9}"
        f" {'baseline':<22} {'base s':>7} {'ours s':>7} {'ours/base':>9}"
    )
    for label, fmt, source, paths, baseline, base_name in cases:
        seconds, docs, nbytes = best_of(repeat, lambda f=fmt, s=source, p=paths: run_reader(f, s, p, data))
        base_seconds, _, _ = best_of(repeat, lambda b=baseline, p=paths: b(p))
        mb = size_mb(paths)
        print(
            f"{label:<14} {len(paths):>5} {mb:>7.2f} {docs:>5} {docs / seconds:>9.1f} {mb / seconds:>8.2f}"
            f" {nbytes / 1e6 / seconds:>9.2f} {base_name:<22} {base_seconds:>7.3f} {seconds:>7.3f}"
            f" {seconds / base_seconds:>8.2f}x"
        )


_WORD = re.compile(r"\w+")
_LANG = re.compile(rb"<html[^>]*\blang\s*=\s*[\"']?([a-zA-Z-]+)", re.IGNORECASE)


def _norm(text: str) -> str:
    """Lower-case words joined by single spaces, for containment checks."""
    return " ".join(_WORD.findall(text.lower()))


def quality_proxies(html: str, extracted: str, full_lines: list[str]) -> tuple[float, float]:
    """(recall of long lines of the full page text, share of short un-punctuated lines in the extract)."""
    extract_norm = _norm(extracted)
    long_lines = [_norm(line) for line in full_lines if len(_WORD.findall(line)) >= 15]
    recall = sum(1 for line in long_lines if line in extract_norm) / len(long_lines) if long_lines else 1.0
    lines = [line.strip() for line in extracted.split("\n") if line.strip()]
    short = sum(1 for line in lines if len(line.split()) < 4 and not line.endswith((".", "!", "?", ":")))
    return recall, (short / len(lines) if lines else 0.0)


def bench_extractors(data: Path, repeat: int) -> None:
    """Extractor speed (pages/s, MB/s of HTML) and proxy quality on the 60 trafilatura cache pages."""
    from resiliparse.extract.html2text import extract_plain_text

    from filters.registry import compute_signals, decide

    cfg = default_config()
    stages = ["quality", "repetition"]
    pages = []
    for path in sorted((data / "web" / "html" / "trafilatura").glob("*.html.gz")):
        raw = gzip.decompress(path.read_bytes())
        lang = _LANG.search(raw[:5000])
        pages.append((path.name, raw.decode("utf-8", "replace"), (lang.group(1).decode().lower()[:2] if lang else "")))
    html_mb = sum(len(h.encode()) for _, h, _ in pages) / 1e6
    full_text = {name: extract_plain_text(html, main_content=False).split("\n") for name, html, _ in pages}
    extract_text(pages[0][1], None, "trafilatura")  # warm up trafilatura's lazy imports outside the timings
    results = {}
    variants = {
        "resiliparse": ("resiliparse", None),
        "trafilatura": ("trafilatura", None),
        "resil+fallback": ("resiliparse", "trafilatura"),
    }
    for backend, (primary, fallback) in variants.items():
        outputs: dict[str, str] = {}

        def run(b: str = primary, f: str | None = fallback, out: dict[str, str] = outputs) -> tuple[int, int]:
            for name, html, _ in pages:
                out[name] = extract_text(html, None, b, fallback=f)
            return len(pages), sum(len(t) for t in out.values())

        seconds, _, _ = best_of(repeat if backend != "trafilatura" else max(1, repeat // 2), run, min_seconds=0.0)
        recalls, shorts = zip(*(quality_proxies(h, outputs[n], full_text[n]) for n, h, _ in pages), strict=True)
        english = [(n, outputs[n]) for n, _, lang in pages if lang == "en"]
        passed = 0
        for name, text in english:
            doc = Document(id=name, source="web", text=text)
            compute_signals(doc, stages, cfg)
            passed += decide(doc, stages, cfg) is None
        results[backend] = seconds
        print(
            f"{backend:<14} {len(pages) / seconds:>8.1f} pages/s {html_mb / seconds:>7.2f} MB/s HTML"
            f"  empty {sum(1 for t in outputs.values() if len(t) < 200):>2}/{len(pages)}"
            f"  recall {statistics.mean(recalls):.3f}  short {statistics.mean(shorts):.3f}"
            f"  gopher-pass(en) {passed}/{len(english)}  chars {sum(len(t) for t in outputs.values())}"
        )
    print(
        f"resiliparse is {results['trafilatura'] / results['resiliparse']:.1f}x faster than trafilatura,"
        f" resiliparse+fallback {results['trafilatura'] / results['resil+fallback']:.1f}x (baseline: trafilatura)"
    )


def main() -> None:
    """Run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    reader_options()  # load the packaged defaults once, outside the timings
    print("== readers (best of", args.repeat, "runs) ==")
    bench_sources(args.data, args.repeat)
    print("\n== HTML extractors on web/html/trafilatura (60 pages) ==")
    bench_extractors(args.data, args.repeat)


if __name__ == "__main__":
    main()
