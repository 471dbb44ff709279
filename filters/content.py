"""Content filter: URL-domain and word blocklists, the open stand-in for Google SafeSearch (MassiveWeb)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from curation.schema import Document
from curation.token_arrays import string_hashes, word_arrays
from filters.base import FilterStage, Section, Signals

SIGNAL_NAMES = ("content.url_blocked", "content.blocked_word_count", "content.blocked_word_frac")
DEFAULT_DOMAIN_LIST = "blocklists/domains.txt"
DEFAULT_WORD_LIST = "blocklists/words_en.txt"


def _read_list(path: str | None, packaged: str) -> tuple[str, ...]:
    """Entries of a blocklist file (user path, or the packaged default), lower-cased, comments dropped."""
    if path:
        text = Path(path).read_text("utf-8")
    else:
        text = resources.files("curation").joinpath("data", packaged).read_text("utf-8")
    entries = (line.split("#", 1)[0].strip().lower() for line in text.splitlines())
    return tuple(sorted({e for e in entries if e}))


@lru_cache(maxsize=8)
def load_domains(path: str | None = None) -> frozenset[str]:
    """Blocked domains (without a leading `www.`), loaded once per process and path."""
    return frozenset(d.removeprefix("www.").strip(".") for d in _read_list(path, DEFAULT_DOMAIN_LIST))


@lru_cache(maxsize=8)
def _form_hashes(forms: frozenset[str]) -> np.ndarray:
    """Token hashes of the blocked word forms, sorted."""
    return np.sort(string_hashes(sorted(forms)))


@lru_cache(maxsize=8)
def load_word_forms(path: str | None = None) -> frozenset[str]:
    """Blocked words in every casing we match (lower, Capitalised, UPPER), loaded once per process."""
    return frozenset(f for w in _read_list(path, DEFAULT_WORD_LIST) for f in (w, w.capitalize(), w.upper()))


def url_host(url: str | None) -> str:
    """Lower-cased host of a URL without port or `www.` (`""` when there is none or it cannot be parsed)."""
    if not url:
        return ""
    try:
        host = urlsplit(url if "//" in url else "//" + url).hostname or ""
    except ValueError:
        return ""
    return host.strip(".").removeprefix("www.")


def domain_blocked(url: str | None, domains: frozenset[str]) -> bool:
    """True when the URL's host or any parent domain of it is in `domains`."""
    host = url_host(url)
    parts = host.split(".")
    return any(".".join(parts[i:]) in domains for i in range(len(parts))) if host else False


def content_signals(doc: Document, cfg: Section) -> Signals:
    """Whether the URL's domain is listed, and how many (and what fraction of) words are listed."""
    domains = load_domains(cfg["domain_blocklist"])
    forms = load_word_forms(cfg["word_blocklist"])
    w = word_arrays(doc.text)
    # Equal strings have equal hashes, so only the hash hits (few) are compared as strings.
    listed = _form_hashes(forms)
    at = np.minimum(np.searchsorted(listed, w.hashes), len(listed) - 1) if len(listed) else None
    hits = np.flatnonzero(listed[at] == w.hashes) if at is not None else np.zeros(0, dtype=np.int64)
    blocked = sum(doc.text[w.starts[i] : w.ends[i]] in forms for i in hits.tolist())
    n_words = len(w.starts)
    return {
        "content.url_blocked": 1.0 if domain_blocked(doc.url, domains) else 0.0,
        "content.blocked_word_count": float(blocked),
        "content.blocked_word_frac": blocked / n_words if n_words else 0.0,
    }


def decide_content(doc: Document, cfg: Section) -> str | None:
    """`content.url_domain` for a listed domain, `content.blocked_words` above the word limits."""
    s = doc.signals
    if cfg["block_url_domains"] and s["content.url_blocked"] > 0:
        return "content.url_domain"
    if (
        s["content.blocked_word_frac"] > cfg["max_blocked_word_frac"]
        or s["content.blocked_word_count"] > cfg["max_blocked_words"]
    ):
        return "content.blocked_words"
    return None


def prepare_content(cfg: Section) -> None:
    """Read the configured blocklists once per process."""
    load_domains(cfg["domain_blocklist"])
    load_word_forms(cfg["word_blocklist"])


STAGE = FilterStage(
    name="content",
    signal_names=SIGNAL_NAMES,
    compute=content_signals,
    decide=decide_content,
    prepare=prepare_content,
)
