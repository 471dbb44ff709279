"""Build a Wikipedia multistream dump (and its index) from an ordinary MediaWiki XML dump, as Wikimedia does.

Layout of `*-pages-articles-multistream.xml.bz2`: the first bz2 stream holds `<mediawiki>` and
`<siteinfo>`, then one stream per 100 pages, then a last stream with `</mediawiki>`; the index file
`*-multistream-index.txt.bz2` has one line `stream offset:page id:title` per page.
"""

from __future__ import annotations

import bz2
import re

_PAGE = re.compile(rb"[ \t]*<page>.*?</page>[ \t]*\r?\n?", re.DOTALL)
_ID = re.compile(rb"<id>(\d+)</id>")
_TITLE = re.compile(rb"<title>(.*?)</title>", re.DOTALL)


def build_multistream(xml: bytes, pages_per_stream: int = 100) -> tuple[bytes, bytes]:
    """(multistream .xml.bz2 bytes, index text bytes) holding the same XML as `xml` (UTF-8 dumps)."""
    pages = list(_PAGE.finditer(xml))
    if not pages:
        raise ValueError("no <page> elements")
    header, footer = xml[: pages[0].start()], xml[pages[-1].end() :]
    streams, index = [bz2.compress(header, 9)], []
    offset = len(streams[0])
    for first in range(0, len(pages), pages_per_stream):
        group = pages[first : first + pages_per_stream]
        for page in group:
            body = page.group()
            page_id, title = _ID.search(body), _TITLE.search(body)
            index.append(b"%d:%s:%s" % (offset, page_id.group(1) if page_id else b"", title.group(1) if title else b""))
        streams.append(bz2.compress(b"".join(p.group() for p in group), 9))
        offset += len(streams[-1])
    streams.append(bz2.compress(footer, 9))
    return b"".join(streams), b"\n".join(index) + b"\n"


def stream_offsets(index: bytes) -> list[int]:
    """The distinct stream offsets listed in a multistream index, in file order."""
    return sorted({int(line.split(b":", 1)[0]) for line in index.splitlines() if line})
