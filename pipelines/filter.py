"""ApplyFilters: per-document stages (extract, signals, decision) routed to kept / removed / failed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from curation.extract import extract_with_config
from curation.schema import Document, Failure
from filters import registry

KEPT, REMOVED, FAILED = "kept", "removed", "failed"
HTML = "text/html"


def extract_document(doc: Document, cfg: Mapping[str, Any]) -> None:
    """Replace an HTML document's text by its main text (the `extract` stage)."""
    html = doc.text
    doc.text = extract_with_config(html, doc.url, cfg.get("extract") or {})
    doc.meta["content_type"] = "text/plain"
    doc.meta["html_bytes"] = len(html.encode("utf-8", "replace"))


class FilterDoFn(beam.DoFn):
    """Runs each document's stage chain; the first failing rule becomes `reason`."""

    def __init__(self, cfg: Mapping[str, Any], chains: Mapping[str, list[str]]):
        self.cfg = cfg
        self.chains = chains

    def setup(self):
        stages = sorted({s for chain in self.chains.values() for s in chain})
        registry.prepare(stages, self.cfg)

    def process(self, doc: Document):
        # Beam elements are immutable: the input document also feeds the input statistics, which would
        # otherwise count extracted instead of raw bytes whenever this DoFn happens to run first.
        doc = replace(doc, meta=dict(doc.meta), signals=dict(doc.signals))
        if doc.reason:  # decided at read time (e.g. read.non_html) or carried from stored output
            yield pvalue.TaggedOutput(REMOVED, doc)
            return
        chain = self.chains.get(doc.source, [])
        stage = "extract"
        try:
            if "extract" in chain and doc.meta.get("content_type") == HTML:
                extract_document(doc, self.cfg)
                if not doc.text.strip():
                    doc.reason = "extract.empty"
                    yield pvalue.TaggedOutput(REMOVED, doc)
                    return
            stage = "signals"
            registry.compute_signals(doc, chain, self.cfg)
            stage = "decide"
            doc.reason = registry.decide(doc, chain, self.cfg)
        except Exception as exc:  # noqa: BLE001 - dead-letter the document, keep the run going
            yield pvalue.TaggedOutput(
                FAILED, Failure(doc.source, doc.id, f"{type(exc).__name__}: {exc}", stage, doc.nbytes)
            )
            return
        yield pvalue.TaggedOutput(REMOVED if doc.reason else KEPT, doc)


class ApplyFilters(beam.PTransform):
    """Documents -> {kept, removed, failed} after each source's per-document stages."""

    def __init__(self, cfg: Mapping[str, Any], chains: Mapping[str, list[str]]):
        super().__init__()
        self.cfg = cfg
        self.chains = chains

    def expand(self, docs):
        return docs | "Filter" >> beam.ParDo(FilterDoFn(self.cfg, self.chains)).with_outputs(KEPT, REMOVED, FAILED)
