"""Build the bundled demo corpus `curation/sample/` from ../shared/data (run once; output is committed)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
OUT = Path(__file__).resolve().parents[1] / "curation" / "sample"


def gz_jsonl(path: Path, records: list[dict]) -> None:
    """Write records as gzip JSONL with a fixed mtime so the file is reproducible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for r in records:
            gz.write((json.dumps(r, ensure_ascii=False) + "\n").encode("utf-8"))


def main() -> None:
    news = (SHARED / "news/lee/lee_background.cor").read_text("utf-8").splitlines()
    gz_jsonl(OUT / "news/lee_background.jsonl.gz", [{"text": t} for t in news if t.strip()])
    for name in ("cc_en_head-0091.jsonl.gz", "cc_en_head-0174.jsonl.gz"):
        (OUT / "web").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHARED / "web/commoncrawl/dolma" / name, OUT / "web" / name)
    books = []
    for name in ("105.txt.gz", "106.txt.gz", "pg42.txt.gz"):
        with gzip.open(SHARED / "books/gutenberg" / name, "rt", encoding="utf-8") as f:
            books.append({"text": f.read(), "title": name.split(".")[0]})
    gz_jsonl(OUT / "books/gutenberg.jsonl.gz", books)


if __name__ == "__main__":
    main()
