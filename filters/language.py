"""Language filter (Gopher: non-English documents removed from every subset, GOPHER_SPEC §4)."""

from __future__ import annotations

from curation.langid import detect_language, detect_languages, load_backend
from curation.schema import Document
from filters.base import FilterStage, Section, Signals

SIGNAL_NAMES = ("language.score",)


def language_signals(doc: Document, cfg: Section) -> Signals:
    """Detect the language; sets `doc.language`/`doc.language_score` and returns the top score."""
    lang, score = detect_language(doc.text, cfg["backend"], cfg["model_path"], cfg["max_chars"])
    doc.language = lang
    doc.language_score = score
    return {"language.score": score}


def language_signals_batch(docs: list[Document], cfg: Section) -> list[Signals]:
    """Batch form of `language_signals` (one fastText call for all docs; same results, faster)."""
    results = detect_languages([d.text for d in docs], cfg["backend"], cfg["model_path"], cfg["max_chars"])
    out = []
    for doc, (lang, score) in zip(docs, results, strict=True):
        doc.language = lang
        doc.language_score = score
        out.append({"language.score": score})
    return out


def decide_language(doc: Document, cfg: Section) -> str | None:
    """`language.not_kept` unless the detected language is in `keep`; `language.low_score` if unsure."""
    keep = cfg["keep"]
    if keep and doc.language not in keep:
        return "language.not_kept"
    score = doc.language_score if doc.language_score is not None else doc.signals.get("language.score", 0.0)
    if score < cfg["min_score"]:
        return "language.low_score"
    return None


def prepare_language(cfg: Section) -> None:
    """Load the configured language-ID model once per process."""
    load_backend(cfg["backend"], cfg["model_path"])


STAGE = FilterStage(
    name="language",
    signal_names=SIGNAL_NAMES,
    compute=language_signals,
    decide=decide_language,
    prepare=prepare_language,
)
