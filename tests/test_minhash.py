"""Shingling, MinHash signatures, band keys and the LSH S-curve, checked against independent references."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datasketch.lsh import _optimal_param
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.config import default_config
from curation.minhash import (
    MinHashParams,
    band_hashes,
    candidate_probability,
    estimated_jaccard,
    jaccard,
    normalize_words,
    optimal_bands_rows,
    params_from_config,
    shingle_hashes,
    signature,
    token_hashes,
)
from curation.sample import sample_dir

BOOK = Path(sample_dir()) / "books" / "105.txt.gz"  # Persuasion (Project Gutenberg), bundled with the demo
PARAMS = MinHashParams()


@pytest.fixture(scope="module")
def words() -> list[str]:
    with gzip.open(BOOK, "rt", encoding="utf-8") as fh:
        return fh.read().split()[2000:]


def reference_grams(text: str, n: int = 13) -> set[tuple[str, ...]]:
    toks = re.sub(r"[^\w\s]+", "", text.lower()).split()
    return {tuple(toks[i : i + n]) for i in range(max(1, len(toks) - n + 1))} if toks else set()


def test_whitespace_case_and_punctuation_are_ignored():
    a = "The quick, brown fox -- jumps over\n\tthe lazy dog!"
    b = "the quick brown fox jumps   over the lazy dog"
    assert normalize_words(a, PARAMS) == " ".join(b.split())
    assert np.array_equal(shingle_hashes(a, PARAMS), shingle_hashes(b, PARAMS))


def test_fewer_words_than_n_is_one_shingle_and_no_words_is_none():
    assert shingle_hashes("only four words here", PARAMS).size == 1
    assert shingle_hashes("only four words there", PARAMS)[0] != shingle_hashes("only four words here", PARAMS)[0]
    assert shingle_hashes(" ... !? ", PARAMS).size == 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet=st.characters(blacklist_categories=("Zs", "Cc", "Zl", "Zp")), min_size=1), max_size=30)
)
def test_token_hashes_equal_iff_tokens_equal(tokens):
    tokens = [t for t in tokens if t.split() == [t]]
    hashes = token_hashes(" ".join(tokens)).tolist()
    assert len(hashes) == len(tokens)
    for i, ti in enumerate(tokens):
        for j, tj in enumerate(tokens):
            assert (hashes[i] == hashes[j]) == (ti == tj)


def test_shingle_count_and_jaccard_match_plain_python_sets(words):
    for shift in (0, 7, 40, 150, 399):
        a = " ".join(words[1000:1400])
        b = " ".join(words[1000 + shift : 1400 + shift])
        ga, gb = reference_grams(a), reference_grams(b)
        sa, sb = shingle_hashes(a, PARAMS), shingle_hashes(b, PARAMS)
        assert sa.size == len(ga) and sb.size == len(gb)
        assert jaccard(sa, sb) == pytest.approx(len(ga & gb) / len(ga | gb), abs=1e-12)


def test_signature_estimates_jaccard(words):
    errors = []
    for k, shift in enumerate((10, 30, 60, 100, 200)):
        start = 3000 + 1000 * k
        a, b = " ".join(words[start : start + 500]), " ".join(words[start + shift : start + shift + 500])
        truth = jaccard(shingle_hashes(a, PARAMS), shingle_hashes(b, PARAMS))
        errors.append(abs(estimated_jaccard(signature(a, PARAMS), signature(b, PARAMS)) - truth))
    # standard error at 128 permutations is <= 0.044; allow ~3 sigma per pair and 1.5 sigma on average
    assert max(errors) < 0.13 and np.mean(errors) < 0.066


def test_signature_is_seeded_and_identical_in_another_process():
    text = "Call me Ishmael. Some years ago never mind how long precisely having little or no money in my purse"
    here = signature(text, PARAMS).tolist()
    code = "from curation.minhash import signature, MinHashParams; import sys; print(signature(sys.argv[1], MinHashParams()).tolist())"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    there = subprocess.run([sys.executable, "-c", code, text], capture_output=True, text=True, env=env, check=True)
    assert eval(there.stdout) == here
    assert signature(text, MinHashParams(seed=2)).tolist() != here


def test_band_hashes_change_only_in_the_band_that_changed():
    sig = signature("one two three four five six seven eight nine ten eleven twelve thirteen fourteen", PARAMS)
    other = sig.copy()
    other[PARAMS.rows * 3] ^= 1
    keys, changed = band_hashes(sig, PARAMS), band_hashes(other, PARAMS)
    assert len(keys) == PARAMS.bands and len(set(keys.tolist())) == PARAMS.bands
    assert np.flatnonzero(keys != changed).tolist() == [3]


def test_band_hashes_of_equal_rows_in_two_bands_differ():
    sig = np.zeros(PARAMS.num_perm, dtype=np.uint32)  # every band's rows equal
    assert len(set(band_hashes(sig, PARAMS).tolist())) == PARAMS.bands


@pytest.mark.parametrize(("threshold", "num_perm"), [(0.8, 128), (0.8, 256), (0.5, 64)])
def test_optimal_bands_rows_agrees_with_datasketch(threshold, num_perm):
    assert optimal_bands_rows(threshold, num_perm, 0.5) == _optimal_param(threshold, num_perm, 0.5, 0.5)


def test_s_curve_matches_simulation():
    rng = np.random.default_rng(0)
    bands, rows, sim = 20, 6, 0.8
    agree = rng.random((20000, bands, rows)) < sim  # each row agrees with probability J
    simulated = np.mean(agree.all(axis=2).any(axis=1))
    assert simulated == pytest.approx(float(candidate_probability(sim, bands, rows)), abs=0.005)


def test_params_from_config_picks_optimal_when_bands_rows_are_null():
    dedup = default_config()["dedup"]
    params = params_from_config({**dedup, "num_perm": 128, "bands": None, "rows": None, "threshold": 0.8})
    assert (params.bands, params.rows) == _optimal_param(0.8, 128, 0.5, 0.5)
    with pytest.raises(ValueError):
        params_from_config({**dedup, "num_perm": 64, "bands": 20, "rows": 6})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)), st.text(max_size=20))
def test_ascii_fast_path_equals_the_regex_rule(ascii_text, other_text):
    import unicodedata

    for text in (ascii_text, ascii_text + other_text):
        expected = " ".join(re.sub(r"[^\w\s]+", "", unicodedata.normalize("NFC", text).lower()).split())
        assert normalize_words(text, PARAMS) == expected
