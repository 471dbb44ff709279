"""Vega-Lite charts of the report (Altair), rendered to static SVG by vl-convert: no script, no fetch, small."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import vl_convert

# vl-convert lays text out with its bundled Liberation Sans, metric-compatible with Arial and Helvetica:
# naming them first keeps labels inside their boxes in the browser too.
FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
KEPT_COLOR, THIS_RULE_COLOR, OTHER_RULE_COLOR, FAILED_COLOR = "#3a8a5c", "#d1495b", "#bdbdbd", "#7b4f9d"
OUTCOME_DOMAIN = ["kept", "removed by this rule", "removed by another rule"]
OUTCOME_RANGE = [KEPT_COLOR, THIS_RULE_COLOR, OTHER_RULE_COLOR]
CONFIG = {
    "font": FONT,
    "padding": 8,
    "view": {"stroke": None},
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "titleFontWeight": "normal", "gridColor": "#eeeeee"},
    "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom"},
    "title": {"fontSize": 13, "anchor": "start", "fontWeight": 600},
    "header": {"labelFontSize": 12, "titleFontSize": 12},
    "range": {"category": {"scheme": "tableau10"}},
}


def _vl_version() -> str | None:
    """vl-convert's Vega-Lite version matching the installed Altair's schema (None: its default)."""
    major_minor = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return major_minor if major_minor in vl_convert.get_vegalite_versions() else None


def to_svg(chart: alt.TopLevelMixin) -> str:
    """Static SVG of a chart (rendered in-process by vl-convert; no browser, no network)."""
    spec = chart.to_dict(validate=False)  # the specs are built here, not typed by users: skip jsonschema
    spec["config"] = {**CONFIG, **spec.get("config", {})}
    return vl_convert.vegalite_to_svg(spec, vl_version=_vl_version())


def _data(rows: Sequence[Mapping[str, Any]]) -> alt.Data:
    return alt.Data(values=[dict(r) for r in rows])


def funnel_chart(steps: Sequence[Mapping[str, Any]], measure: str, title: str) -> alt.Chart:
    """Share of input remaining after each stage, one line per source (`measure`: docs or bytes)."""
    order = [s["step"] for s in sorted(steps, key=lambda s: s["position"])]
    order = list(dict.fromkeys(order))
    base = alt.Chart(_data(steps), title=title).encode(
        x=alt.X("step:N", sort=order, title=None, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y(
            f"{measure}_share:Q", title="share of input", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])
        ),
        color=alt.Color("source:N", title="source"),
    )
    return (base.mark_line(strokeWidth=2) + base.mark_point(filled=True, size=45)).properties(width=380, height=220)


def removal_bars(rows: Sequence[Mapping[str, Any]], title: str) -> alt.Chart:
    """Documents removed per rule and source (horizontal stacked bars, largest rule first)."""
    return (
        alt.Chart(_data(rows), title=title)
        .mark_bar()
        .encode(
            y=alt.Y("step:N", sort="-x", title=None),
            x=alt.X("sum(docs):Q", title="documents"),
            color=alt.Color("source:N", title="source"),
        )
        .properties(width=380, height=alt.Step(16))
    )


def _decades(bins: Sequence[Mapping[str, Any]]) -> list[float]:
    """Powers of ten inside the binned range: the tick values of a log axis."""
    lo = min(b["start"] for b in bins)
    hi = max(b["end"] for b in bins)
    return [10.0**k for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1) if lo <= 10.0**k <= hi]


def histogram(
    bins: Sequence[Mapping[str, Any]],
    thresholds: Sequence[Mapping[str, Any]],
    title: str,
    subtitle: str,
    log: bool,
    y_title: str,
) -> alt.LayerChart | alt.FacetChart:
    """Pre-binned stacked histogram of kept vs removed documents with each threshold as a dashed rule."""
    x_scale = alt.Scale(type="log") if log else alt.Scale(zero=False, nice=False)
    x_axis = alt.Axis(format="~s", values=_decades(bins)) if log else alt.Axis(format=",~r", labelOverlap=True)
    bars = (
        alt.Chart(_data(bins))
        .mark_bar(stroke="white", strokeWidth=0.3)
        .encode(
            x=alt.X("start:Q", bin="binned", title=None, scale=x_scale, axis=x_axis),
            x2="end:Q",
            y=alt.Y("count:Q", stack="zero", title=y_title),
            color=alt.Color("outcome:N", title=None, scale=alt.Scale(domain=OUTCOME_DOMAIN, range=OUTCOME_RANGE)),
            order=alt.Order("order:Q"),
        )
    )
    layers = [bars]
    if thresholds:
        rules = alt.Chart(_data(thresholds))
        layers.append(rules.mark_rule(color="#222222", strokeDash=[5, 3], strokeWidth=1.5).encode(x="value:Q"))
        layers.append(
            rules.mark_text(align="left", dx=4, dy=-2, baseline="top", fontSize=10, color="#222222").encode(
                x="value:Q", y=alt.value(0), text="label:N"
            )
        )
    heading = alt.TitleParams(title, subtitle=subtitle, fontSize=12, subtitleFontSize=11, subtitleColor="#656d76")
    return alt.layer(*layers, title=heading).properties(width=250, height=120)


def grid(charts: Sequence[alt.LayerChart | alt.FacetChart], columns: int) -> alt.ConcatChart:
    """Small multiples in rows of `columns`, one shared legend."""
    return alt.concat(*charts, columns=columns).resolve_scale(color="shared").configure_concat(spacing=24)


def language_chart(rows: Sequence[Mapping[str, Any]], title: str) -> alt.Chart:
    """Documents per detected language, kept vs removed, one panel per source."""
    return (
        alt.Chart(_data(rows), title=title)
        .mark_bar()
        .encode(
            y=alt.Y("language:N", sort=alt.EncodingSortField("total", order="descending"), title=None),
            x=alt.X("count:Q", title="documents"),
            color=alt.Color(
                "kind:N", title=None, scale=alt.Scale(domain=["kept", "removed"], range=[KEPT_COLOR, THIS_RULE_COLOR])
            ),
            order=alt.Order("kind:N"),
            facet=alt.Facet("source:N", columns=3, title=None),
        )
        .properties(width=200, height=alt.Step(13))
        .resolve_scale(y="independent", x="independent")
    )


def length_chart(bins: Sequence[Mapping[str, Any]], title: str, y_title: str) -> alt.Chart:
    """Document length (characters, log bins), kept vs removed, one panel per source."""
    return (
        alt.Chart(_data(bins), title=title)
        .mark_bar(stroke="white", strokeWidth=0.3)
        .encode(
            x=alt.X(
                "start:Q",
                bin="binned",
                title="characters",
                scale=alt.Scale(type="log"),
                axis=alt.Axis(format="~s", values=_decades(bins)),
            ),
            x2="end:Q",
            y=alt.Y("count:Q", stack="zero", title=y_title),
            color=alt.Color(
                "kind:N", title=None, scale=alt.Scale(domain=["kept", "removed"], range=[KEPT_COLOR, THIS_RULE_COLOR])
            ),
            order=alt.Order("kind:N", sort="descending"),
            facet=alt.Facet("source:N", columns=3, title=None),
        )
        .properties(width=200, height=110)
        .resolve_scale(y="independent")
        .resolve_axis(x="independent")
    )


def cluster_size_chart(rows: Sequence[Mapping[str, Any]], order: Sequence[str], title: str) -> alt.Chart:
    """Number of duplicate clusters per size bucket, exact and near clusters side by side."""
    return (
        alt.Chart(_data(rows), title=title)
        .mark_bar()
        .encode(
            x=alt.X(
                "bucket:N", scale=alt.Scale(domain=list(order)), title="members in cluster", axis=alt.Axis(labelAngle=0)
            ),
            y=alt.Y("clusters:Q", title="clusters"),
            color=alt.Color(
                "kind:N", title="cluster kind", scale=alt.Scale(domain=["exact", "near"], range=["#4c78a8", "#f58518"])
            ),
            xOffset=alt.XOffset("kind:N", scale=alt.Scale(domain=["exact", "near"])),
        )
        .properties(width=420, height=180)
    )


def contamination_chart(rows: Sequence[Mapping[str, Any]], field: str, title: str, percent: bool) -> alt.Chart:
    """One bar per benchmark: the contamination rate (or the number of items found)."""
    fmt = ".1%" if percent else ",d"
    base = alt.Chart(_data(rows), title=title).encode(
        y=alt.Y("benchmark:N", title=None, sort="-x"),
        x=alt.X(
            f"{field}:Q",
            title="items found in the corpus" + (" (share of benchmark)" if percent else ""),
            axis=alt.Axis(format=".0%" if percent else ",d"),
        ),
    )
    bars = base.mark_bar(color=THIS_RULE_COLOR)
    labels = base.mark_text(align="left", dx=3, fontSize=11).encode(text=alt.Text(f"{field}:Q", format=fmt))
    return (bars + labels).properties(width=380, height=alt.Step(22))


def delta_chart(rows: Sequence[Mapping[str, Any]], title: str) -> alt.Chart:
    """Change in documents per rule against the baseline run (positive: this run removes more)."""
    return (
        alt.Chart(_data(rows), title=title)
        .mark_bar()
        .encode(
            y=alt.Y("rule:N", sort=alt.EncodingSortField("delta", order="descending"), title=None),
            x=alt.X("delta:Q", title="documents: this run - baseline", axis=alt.Axis(format=",d", tickMinStep=1)),
            color=alt.condition(alt.datum.delta > 0, alt.value(THIS_RULE_COLOR), alt.value(KEPT_COLOR)),
        )
        .properties(width=380, height=alt.Step(16))
    )


def epochs_chart(
    rows: Sequence[Mapping[str, Any]],
    sources: Sequence[str],
    cap: float,
    absent: Sequence[str],
    title: str,
) -> alt.LayerChart | alt.FacetChart:
    """Epochs per source under the requested mixture and the suggested re-weighting, the cap as a dashed line.

    A log axis is used once some source is repeated more than ten times the cap; sources the mixture weights
    but the corpus lacks are labelled instead of drawn.
    """
    top = max([cap, *(r["epochs"] for r in rows)])
    log = top > 10 * cap
    if log:  # bars start at a decade below the smallest value: a log axis has no zero
        lo = 10.0 ** math.floor(math.log10(min([cap, *(r["epochs"] for r in rows)])))
        hi = 10.0 ** math.ceil(math.log10(top * 1.5))
        cap_at = math.log(cap / lo) / math.log(hi / lo)
        scale = alt.Scale(type="log", domain=[lo, hi], nice=False)
        axis = alt.Axis(format="~s", values=[10.0**k for k in range(round(math.log10(lo)), round(math.log10(hi)) + 1)])
    else:
        lo = 0.0
        scale = alt.Scale(domain=[lo, top * 1.15], nice=False)
        axis = alt.Axis(format="~g")
        cap_at = cap / (top * 1.15)
    y = alt.Y("source:N", sort=list(sources), scale=alt.Scale(domain=list(sources)), title=None)
    base = alt.Chart(_data(rows)).encode(
        y=y,
        x=alt.X(
            "epochs:Q",
            title="epochs (times each source is seen)" + (", log scale" if log else ""),
            scale=scale,
            axis=axis,
        ),
        yOffset=alt.YOffset("group:N", scale=alt.Scale(domain=["requested", "suggested"])),
    )
    bars = base.mark_bar().encode(
        x2=alt.X2(datum=lo),
        color=alt.Color(
            "series:N",
            title=None,
            scale=alt.Scale(
                domain=["requested mixture", "requested, over the cap", "suggested re-weighting"],
                range=["#4c78a8", THIS_RULE_COLOR, KEPT_COLOR],
            ),
        ),
    )
    labels = base.mark_text(align="left", dx=3, fontSize=10, color="#333333").encode(
        text=alt.Text("epochs:Q", format=".2f" if not log else ".3~s")
    )
    cap_rows = [{"cap": cap, "label": f"cap: {cap:g} epochs"}]
    cap_rule = (
        alt.Chart(_data(cap_rows)).mark_rule(color="#222222", strokeDash=[5, 3], strokeWidth=1.5).encode(x="cap:Q")
    )
    cap_text = (
        alt.Chart(_data(cap_rows))
        .mark_text(
            align="right" if cap_at > 0.5 else "left",
            dx=-4 if cap_at > 0.5 else 4,
            dy=-4,
            baseline="bottom",
            fontSize=10,
            color="#222222",
        )
        .encode(x="cap:Q", y=alt.value(0), text="label:N")
    )
    layers = [bars, labels, cap_rule, cap_text]
    if absent:
        missing = [{"source": s, "label": "weighted, but the corpus holds no tokens"} for s in absent]
        layers.append(
            alt.Chart(_data(missing))
            .mark_text(align="left", dx=4, fontSize=10, fontStyle="italic", color=THIS_RULE_COLOR)
            .encode(y=y, x=alt.value(0), text="label:N")
        )
    return alt.layer(*layers, title=title).properties(width=460, height=alt.Step(26))
