"""Test-set decontamination: a compact hashed n-gram index of evaluation items and the matcher.

- `hashing`: the index's keys, hashes of decontamination words (`curation.ngrams.MATCH_WORDS`), of their
  n-grams (13 by default) and of one-word-masked n-grams; Wikipedia title keys.
- `index`: `build_index` from `EvalItem`s, `save_index` / `load_index` (`.npz`, no pickle),
  `read_index_meta` and the compatibility checks a run makes before any compute.
- `seeds`: `fuzzy: seeds`, item s-grams extended and chained into alignments that survive edits.
- `match`: hash lookups and `match_text`: which items a document overlaps, where, and the policy decision.
- `apply`: `decontaminate_document`: remove the document or cut the matched spans out; the match rows.

Fuzzy modes (`fuzzy`, build time) catch lightly edited copies: `masked` (or `true`) indexes each n-gram also
with each one word masked, so a window with one substituted word still matches; `seeds` indexes every word
s-gram (`fuzzy_seed_words`, 5) of an item with its position and the item's word hashes, and matches an item
when an extended, chained alignment has at least `fuzzy_min_words` (12) equal words.
"""

from curation.decontam.apply import decontaminate_document
from curation.decontam.hashing import ngram_hashes, normalize_title, word_string_hashes
from curation.decontam.index import (
    FORMAT_VERSION,
    DecontamIndex,
    EvalItem,
    IndexFormatError,
    build_index,
    check_compatible,
    check_index_meta,
    fuzzy_kind,
    load_index,
    read_index_meta,
    save_index,
)
from curation.decontam.match import ItemMatch, match_text

__all__ = [
    "FORMAT_VERSION",
    "DecontamIndex",
    "EvalItem",
    "IndexFormatError",
    "ItemMatch",
    "build_index",
    "check_compatible",
    "check_index_meta",
    "decontaminate_document",
    "fuzzy_kind",
    "load_index",
    "match_text",
    "ngram_hashes",
    "normalize_title",
    "read_index_meta",
    "save_index",
    "word_string_hashes",
]
