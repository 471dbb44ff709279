"""Reader and extractor throughput on the shared samples, each against a named baseline measured in the same run.

Usage: .venv/bin/python bench/bench_readers.py [--data ../shared/data] [--repeat 3]
           [--only sources,extractors,ranges,compare] [--compare OTHER_CHECKOUT] [--workers 2]

Each figure is the best of `--repeat` samples; a sample repeats the work for at least 0.3 s (small inputs).
Per source: documents/s and MB/s (input bytes on disk, and decoded text bytes) for our reader, and the
ratio to a baseline that does only the raw work (warcio iteration, bz2+mwparserfromhell.strip_code, gzip
decode, tarfile iteration, line iteration, json.loads per line, pyarrow to_pylist). `--compare DIR` times the
same reader cases with the code of another checkout (e.g. the previous commit) in interleaved subprocesses
and prints this tree / that tree. Ranges: one big generated file per splittable format read as 1 range
and as N ranges on N worker processes (docs/s and speed-up; outputs checked equal), and the cost of
finding the first record of each range (the alignment scan). Memory: peak RSS added while reading one
file that holds one record of 8 MB (under the 16 MiB cap) and of 20 MB (over it), per format. Extractors: resiliparse vs trafilatura on the 60 trafilatura
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
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import mwparserfromhell
from warcio.archiveiterator import ArchiveIterator

REPO = Path(__file__).resolve().parents[1]
if __name__ == "__main__" and "--worker-tree" in sys.argv:  # time another checkout's readers
    sys.path.insert(0, sys.argv[sys.argv.index("--worker-tree") + 1])
else:
    sys.path.insert(0, str(REPO))

import pyarrow.parquet as pq  # noqa: E402
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
            relpath = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
            for item in reader(fh, SourceFile(str(path), relpath, source, fmt)):
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


def baseline_jsonl(paths: list[Path]) -> tuple[int, int]:
    """`for line in file` (gzip.open for .gz) + json.loads of every line."""
    docs = nbytes = 0
    for path in paths:
        with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as fh:
            for line in fh:
                if line.strip():
                    text = json.loads(line)["text"]
                    docs += 1
                    nbytes += len(text.encode())
    return docs, nbytes


def baseline_parquet(paths: list[Path]) -> tuple[int, int]:
    """pyarrow iter_batches + to_pylist of every row."""
    docs = nbytes = 0
    for path in paths:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
            for row in batch.to_pylist():
                docs += 1
                nbytes += len(row["text"].encode())
    return docs, nbytes


def size_mb(paths: Iterable[Path]) -> float:
    """Total on-disk size in MB."""
    return sum(p.stat().st_size for p in paths) / 1e6


def lee_texts(data: Path) -> list[str]:
    """The 300 Lee background news articles (real text)."""
    raw = (data / "news" / "lee" / "lee_background.cor").read_bytes().decode("utf-8", "replace")
    return [line.strip() for line in raw.splitlines() if line.strip()]


def generated_inputs(data: Path, out: Path, copies: int = 40) -> dict[str, Path]:
    """Bigger inputs built from the shared data (deterministic): JSONL, Parquet, a crawl WARC, a multistream dump."""
    import pyarrow as pa

    sys.path.insert(0, str(REPO / "tests"))
    from wiki_multistream import build_multistream

    paths = {
        "jsonl": out / "lee.jsonl",
        "parquet": out / "lee.parquet",
        "warc": out / "crawl.warc.gz",
        "wikipedia": out / "enwiki-multistream.xml.bz2",
    }
    if all(p.exists() for p in paths.values()):
        return paths
    texts = lee_texts(data)
    records = [
        {"id": f"lee-{c}-{i}", "text": t, "url": f"https://news.example/{c}/{i}", "source": "lee"}
        for c in range(copies)
        for i, t in enumerate(texts)
    ]
    paths["jsonl"].write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records))
    pq.write_table(pa.Table.from_pylist(records), paths["parquet"], row_group_size=1000)
    web = data / "web"
    crawl = [web / "warc" / "dolma" / "sample-0000.warc.gz", web / "warc" / "dolma" / "sample-0001.warc.gz"]
    crawl.append(web / "commoncrawl" / "resiliparse" / "warcfile.warc.gz")
    # Per-record gzip files concatenate into one per-record gzip file (as Common Crawl's segments are).
    paths["warc"].write_bytes(b"".join(p.read_bytes() for p in crawl) * (copies // 4))
    source = data / "wikipedia" / "gensim" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    paths["wikipedia"].write_bytes(build_multistream(bz2.decompress(source.read_bytes()), 100)[0])
    return paths


def source_cases(data: Path, generated: dict[str, Path]) -> list[tuple]:
    """(label, format, source, paths, baseline, baseline name) for every reader measured."""
    web = data / "web"
    warcs = sorted((web / "warc" / "dolma").glob("*.warc.gz")) + sorted((web / "commoncrawl").glob("*/*.warc.gz"))
    return [
        ("web WARC", "warc", "web", warcs, baseline_warc, "warcio iterate+read"),
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
        (
            "jsonl.gz dolma",
            "jsonl",
            "web",
            sorted((web / "commoncrawl" / "dolma").glob("*.gz")),
            baseline_jsonl,
            "gzip+json.loads",
        ),
        ("jsonl news", "jsonl", "news", [generated["jsonl"]], baseline_jsonl, "for-line+json.loads"),
        ("parquet news", "parquet", "news", [generated["parquet"]], baseline_parquet, "pyarrow to_pylist"),
    ]


def bench_sources(data: Path, repeat: int, generated: dict[str, Path]) -> None:
    """Throughput per source, ours vs baseline."""
    print(
        f"{'source':<15} {'files':>5} {'in MB':>7} {'docs':>6} {'docs/s':>9} {'MB/s in':>8} {'MB/s text':>9}"
        f" {'baseline':<22} {'base s':>7} {'ours s':>7} {'ours/base':>9}"
    )
    for label, fmt, source, paths, baseline, base_name in source_cases(data, generated):
        seconds, docs, nbytes = best_of(repeat, lambda f=fmt, s=source, p=paths: run_reader(f, s, p, data))
        base_seconds, _, _ = best_of(repeat, lambda b=baseline, p=paths: b(p))
        mb = size_mb(paths)
        print(
            f"{label:<15} {len(paths):>5} {mb:>7.2f} {docs:>6} {docs / seconds:>9.1f} {mb / seconds:>8.2f}"
            f" {nbytes / 1e6 / seconds:>9.2f} {base_name:<22} {base_seconds:>7.3f} {seconds:>7.3f}"
            f" {seconds / base_seconds:>8.2f}x"
        )


def worker_time(case: str, data: Path, generated: Path, repeat: int) -> dict[str, object]:
    """(Subprocess, whichever tree is first on sys.path) best time of one reader case."""
    import curation

    label, fmt, source, files, _, _ = next(
        c for c in source_cases(data, generated_inputs(data, generated)) if c[0] == case
    )
    run_reader(fmt, source, files, data)  # warm-up: imports, caches
    seconds, docs, _ = best_of(repeat, lambda: run_reader(fmt, source, files, data))
    return {"seconds": seconds, "docs": docs, "tree": str(Path(curation.__file__).resolve().parents[1])}


def bench_compare(data: Path, other: Path, repeat: int, generated: Path) -> None:
    """Every reader case timed with this tree and with `other` in alternating subprocesses (best of `repeat`)."""
    script = Path(__file__).resolve()
    trees = {"this": REPO, "other": other.resolve()}
    print(f"this tree: {trees['this']}\nother tree: {trees['other']}")
    print(f"{'source':<15} {'docs':>6} {'other s':>8} {'this s':>8} {'this/other':>10}")
    for case in [c[0] for c in source_cases(data, generated_inputs(data, generated))]:
        best: dict[str, float] = {}
        docs: dict[str, int] = {}
        for _ in range(repeat):
            for name, tree in trees.items():
                command = [sys.executable, str(script), "--worker-tree", str(tree), "--worker-case", case]
                command += ["--data", str(data), "--generated", str(generated), "--repeat", "3"]
                out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                result = json.loads(out.strip().splitlines()[-1])
                assert Path(result["tree"]) == tree, (result["tree"], tree)
                best[name] = min(best.get(name, float("inf")), float(result["seconds"]))
                docs[name] = int(result["docs"])
        differ = "" if docs["this"] == docs["other"] else f"  (other tree: {docs['other']} docs)"
        print(
            f"{case:<15} {docs['this']:>6} {best['other']:>8.3f} {best['this']:>8.3f}"
            f" {best['this'] / best['other']:>9.2f}x{differ}"
        )


def _read_range(job: tuple[str, str, int, int | None, int]) -> tuple[int, int, float]:
    """(Worker process) read one byte range: (documents, failures, CPU seconds)."""
    from curation.readers import read_source

    path, fmt, start, end, first_line = job
    docs = failures = 0
    cpu = time.process_time()
    with open(path, "rb") as fh:
        for item in read_source(fh, SourceFile(path, Path(path).name, "bench", fmt, start, end, first_line)):
            if isinstance(item, Document):
                docs += 1
            else:
                failures += 1
    return docs, failures, time.process_time() - cpu


def _align_seconds(path: Path, fmt: str, ranges: list[tuple[int, int]]) -> float:
    """Time to find the first record of every range after the first (what a range reader does first)."""
    from curation.readers.compression import codec_of
    from curation.readers.split import next_bz2_stream, next_record, skip_partial_line

    start_time = time.perf_counter()
    with path.open("rb") as fh:
        for start, _ in ranges[1:]:
            if fmt == "jsonl":
                skip_partial_line(fh, start)
            elif fmt == "warc":
                next_record(fh, start, codec_of(str(path)))
            elif fmt == "wikipedia":
                next_bz2_stream(fh, start)
            else:  # a Parquet range reads the footer to pick its row groups
                pq.ParquetFile(fh).metadata  # noqa: B018
    return time.perf_counter() - start_time


def bench_ranges(data: Path, generated: Path, workers: int, repeat: int) -> None:
    """One big file per splittable format: 1 range in-process vs N ranges on N processes; alignment cost.

    Wall-clock speed-up needs idle cores; the CPU columns do not: `CPU sum/whole` is the total work of
    all ranges over the work of one whole-file read (the cost of splitting), `CPU max/whole` the largest
    range's share (with N idle cores the speed-up is about 1 / that).
    """
    from curation.readers import count_line_starts, needs_line_numbers, split_ranges

    paths = generated_inputs(data, generated)
    print(f"{workers} worker processes, {os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.1f}")
    print(
        f"{'format':<10} {'MB':>6} {'ranges':>6} {'docs':>6} {'1 range s':>9} {'N ranges s':>10} {'speed-up':>8}"
        f" {'CPU sum/whole':>13} {'CPU max/whole':>13} {'align ms/range':>14} {'line count MB/s':>15}"
    )
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_read_range, [(str(paths["jsonl"]), "jsonl", 0, 0, 1)] * workers))  # start the workers
        for fmt in ("jsonl", "parquet", "warc", "wikipedia"):
            path = paths[fmt]
            size = path.stat().st_size
            ranges = split_ranges(fmt, str(path), size, max(size // (workers * 4), 1))  # a few ranges per worker
            jobs, line, counting = [], 1, 0.0
            for start, end in ranges:
                first = line
                if needs_line_numbers(fmt, str(path)):
                    t0 = time.perf_counter()
                    with path.open("rb") as fh:
                        line += count_line_starts(fh, start, end)
                    counting += time.perf_counter() - t0
                jobs.append((str(path), fmt, start, end, first))
            one = many = whole_cpu = parts_cpu = max_cpu = float("inf")
            for _ in range(repeat):  # interleaved: the machine is shared
                t0 = time.perf_counter()
                whole = _read_range((str(path), fmt, 0, None, 1))
                one, whole_cpu = min(one, time.perf_counter() - t0), min(whole_cpu, whole[2])
                t0 = time.perf_counter()
                parts = list(pool.map(_read_range, jobs))
                many = min(many, time.perf_counter() - t0)
                parts_cpu = min(parts_cpu, sum(p[2] for p in parts))
                max_cpu = min(max_cpu, max(p[2] for p in parts))
                assert (sum(p[0] for p in parts), sum(p[1] for p in parts)) == whole[:2], (fmt, parts, whole)
            align = min(_align_seconds(path, fmt, ranges) for _ in range(repeat))
            per_range = align / max(len(ranges) - 1, 1)
            count_rate = f"{size / 1e6 / counting:>15.0f}" if counting else f"{'-':>15}"
            print(
                f"{fmt:<10} {size / 1e6:>6.1f} {len(ranges):>6} {whole[0]:>6} {one:>9.2f} {many:>10.2f}"
                f" {one / many:>7.2f}x {parts_cpu / whole_cpu:>13.2f} {max_cpu / whole_cpu:>13.2f}"
                f" {per_range * 1e3:>14.2f} {count_rate}"
            )


_MEMORY_CASES = ("jsonl", "jsonl-cjk", "lines", "text", "html", "warc", "wikipedia", "parquet")


def _one_record_file(case: str, size: int, out: Path) -> tuple[Path, str]:
    """A file holding one record of about `size` bytes of real-looking text: (path, format)."""
    unit = "数据集的质量 " if case == "jsonl-cjk" else "words of text "
    text = (unit * (size // len(unit.encode()) + 1))[: size // len(unit.encode()) * len(unit)]
    names = {"jsonl": "one.jsonl", "jsonl-cjk": "cjk.jsonl", "lines": "one.cor", "text": "one.txt", "html": "one.html"}
    names.update(warc="one.warc.gz", wikipedia="one.xml", parquet="one.parquet")
    path = out / f"{size}-{names[case]}"
    fmt = {"jsonl-cjk": "jsonl"}.get(case, case)
    if path.exists():
        return path, fmt
    if case.startswith("jsonl"):
        path.write_bytes(json.dumps({"text": text}, ensure_ascii=False).encode() + b"\n")
    elif case == "lines":
        path.write_bytes(text.encode() + b"\n")
    elif case == "text":
        path.write_bytes(text.encode())
    elif case == "html":
        path.write_bytes(b"<html><body><p>" + text.encode() + b"</p></body></html>")
    elif case == "warc":
        http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>" + text.encode()
        head = b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:1>\r\nWARC-Target-URI: http://x/\r\n"
        head += b"Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n" % len(http)
        path.write_bytes(gzip.compress(head + http + b"\r\n\r\n", mtime=0))
    elif case == "wikipedia":
        page = b"<page><title>T</title><ns>0</ns><id>1</id><revision><text>" + text.encode() + b"</text>"
        path.write_bytes(b"<mediawiki>" + page + b"</revision></page></mediawiki>")
    else:
        import pyarrow as pa

        pq.write_table(pa.table({"text": [text]}), path)
    return path, fmt


def _status_kb(key: str) -> int:
    """A field of /proc/self/status in kB (Linux)."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key))


def memory_worker(case: str, size: int, generated: Path) -> dict[str, object]:
    """(Fresh subprocess) peak RSS added while one reader reads a file holding one record."""
    import gc

    small, fmt = _one_record_file(case, 1000, generated)
    reader = get_reader(fmt)
    with small.open("rb") as fh:  # warm-up on a small record (imports, caches; nothing big left in the heap)
        list(reader(fh, SourceFile(str(small), small.name, "bench", fmt)))
    path, _ = _one_record_file(case, size, generated)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as fh:  # reset the RSS high-water mark (Linux)
        fh.write("5")
    before = _status_kb("VmRSS:")
    with path.open("rb") as fh:
        items = list(reader(fh, SourceFile(str(path), path.name, "bench", fmt)))
    peak = _status_kb("VmHWM:")
    outcome = [getattr(i, "reason", None) or type(i).__name__ for i in items]
    return {"case": case, "bytes": path.stat().st_size, "peak_mb": (peak - before) / 1024, "outcome": outcome}


def bench_memory(generated: Path, sizes: tuple[int, ...] = (8_000_000, 20_000_000)) -> None:
    """Peak memory to read one record of each size (under and over the 16 MiB cap), one fresh process each."""
    script = Path(__file__).resolve()
    print(f"{'format':<10} " + " ".join(f"{f'{s / 1e6:.0f} MB record':>22}" for s in sizes))
    for case in _MEMORY_CASES:
        cells = []
        for size in sizes:
            command = [sys.executable, str(script), "--memory-case", case, "--memory-size", str(size)]
            out = subprocess.run(command + ["--generated", str(generated)], check=True, capture_output=True, text=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            cells.append(f"{result['peak_mb']:>6.1f} MB {result['outcome'][0]:>14}")
        print(f"{case:<10} " + " ".join(f"{c:>22}" for c in cells))


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
    """Run the selected benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--only", default="sources,ranges,memory,extractors", help="comma list of: " + ",".join(SECTIONS)
    )
    parser.add_argument("--compare", type=Path, help="another checkout to time the same readers with")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="processes for the ranges section")
    parser.add_argument("--generated", type=Path, help="where generated inputs are kept (default: a temp dir)")
    parser.add_argument("--worker-tree", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-case", help=argparse.SUPPRESS)
    parser.add_argument("--memory-case", help=argparse.SUPPRESS)
    parser.add_argument("--memory-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    reader_options()  # load the packaged defaults once, outside the timings
    with tempfile.TemporaryDirectory(prefix="bench-readers-") as tmp:
        generated = args.generated or Path(tmp)
        generated.mkdir(parents=True, exist_ok=True)
        if args.worker_case:
            print(json.dumps(worker_time(args.worker_case, args.data, generated, args.repeat)))
            return
        if args.memory_case:
            print(json.dumps(memory_worker(args.memory_case, args.memory_size, generated)))
            return
        sections = set(args.only.split(",")) | ({"compare"} if args.compare else set())
        if "sources" in sections:
            print("== readers (best of", args.repeat, "runs) ==")
            bench_sources(args.data, args.repeat, generated_inputs(args.data, generated))
        if "compare" in sections:
            if args.compare is None:
                parser.error("--only compare needs --compare OTHER_CHECKOUT")
            print("\n== this tree vs another checkout (same inputs, alternating subprocesses) ==")
            bench_compare(args.data, args.compare, args.repeat, generated)
        if "ranges" in sections:
            print("\n== byte ranges: one big file, 1 range vs N ranges ==")
            bench_ranges(args.data, generated, args.workers, args.repeat)
        if "memory" in sections:
            print("\n== peak memory to read one big record (fresh process per cell; cap 16 MiB) ==")
            bench_memory(generated)
        if "extractors" in sections:
            print("\n== HTML extractors on web/html/trafilatura (60 pages) ==")
            bench_extractors(args.data, args.repeat)


SECTIONS = ("sources", "compare", "ranges", "memory", "extractors")


if __name__ == "__main__":
    main()
