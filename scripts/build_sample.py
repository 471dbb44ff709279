"""Build the bundled demo corpus `curation/sample/` from ../shared/data (run once; the output is committed).

Files are copied byte for byte in their native formats, so the demo exercises every reader.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
OUT = Path(__file__).resolve().parents[1] / "curation" / "sample"

COPIES = {
    "web": [
        "web/warc/dolma/sample-0000.warc.gz",
        "web/commoncrawl/resiliparse/warcfile.warc.gz",
        "web/commoncrawl/whirlwind/whirlwind.warc.wet.gz",
        "web/commoncrawl/dolma/cc_en_head-0091.jsonl.gz",
        "web/commoncrawl/dolma/cc_en_head-0174.jsonl.gz",
        "web/malformed/resiliparse/clipped.warc.gz",
    ],
    "wikipedia": ["wikipedia/gensim/enwiki-table-markup.xml.bz2", "wikipedia/wikiextractor/test.xml"],
    "books": ["books/gutenberg/105.txt.gz", "books/gutenberg/106.txt.gz", "books/gutenberg/pg42.txt.gz"],
    "code": ["code/repos/go-isatty-9a68506e2394.tar.gz", "code/repos/markupsafe-1251593f6b0e.tar.gz"],
    "evalsets": ["evalsets/humaneval/HumanEval.jsonl.gz", "evalsets/wikitext-2/test.txt.gz"],
}


def gzip_file(src: Path, dst: Path) -> None:
    """gzip with mtime 0 and no stored name, so the output is reproducible."""
    with (
        open(src, "rb") as fin,
        open(dst, "wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz,
    ):
        shutil.copyfileobj(fin, gz)


def main() -> None:
    for folder, files in COPIES.items():
        (OUT / folder).mkdir(parents=True, exist_ok=True)
        for rel in files:
            shutil.copyfile(SHARED / rel, OUT / folder / Path(rel).name)
    (OUT / "news").mkdir(parents=True, exist_ok=True)
    gzip_file(SHARED / "news/lee/lee_background.cor", OUT / "news/lee_background.cor.gz")


if __name__ == "__main__":
    main()
