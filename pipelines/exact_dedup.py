"""ExactDedup: one copy per normalised text across all sources, chosen by source priority then id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from curation.config import source_priority
from curation.schema import Document, id_sort_key
from curation.text import exact_dedup_key


def choose_exact(group: tuple[str, Iterable[Document]], cfg: Mapping[str, Any]):
    """Keep the best-priority, smallest-id member of a group; tag the rest `dedup.exact`."""
    key, docs = group
    members = sorted(docs, key=lambda d: (source_priority(cfg, d.source), id_sort_key(d.id)))
    winner = members[0]
    yield pvalue.TaggedOutput("kept", winner)
    if len(members) == 1:
        return
    cluster_id = f"exact-{key}"
    yield pvalue.TaggedOutput("clusters", {"id": winner.id, "cluster_id": cluster_id, "kept": True})
    for dup in members[1:]:
        dup.reason = "dedup.exact"
        dup.meta["duplicate_of"] = winner.id
        yield pvalue.TaggedOutput("removed", dup)
        yield pvalue.TaggedOutput("clusters", {"id": dup.id, "cluster_id": cluster_id, "kept": False})


class ExactDedup(beam.PTransform):
    """Documents -> {kept, removed (reason dedup.exact), clusters} by exact normalised-text hash."""

    def __init__(self, cfg: Mapping[str, Any]):
        super().__init__()
        self.cfg = cfg

    def expand(self, docs):
        return (
            docs
            | "KeyByText" >> beam.Map(lambda d: (exact_dedup_key(d.text), d))
            | "GroupByText" >> beam.GroupByKey()
            | "Choose" >> beam.FlatMap(choose_exact, self.cfg).with_outputs("kept", "removed", "clusters")
        )
