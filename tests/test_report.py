"""`curation report` on real runs: numbers equal the Parquet rows, the page works in a real browser, what-if diff."""

from __future__ import annotations

import html as htmllib
import json
import os
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from browser import chromium_path, visit
from pipeline_helpers import read_failed, run_cli

from curation.plan import plan_for_output
from curation.report.budget import budget_section
from curation.report.collect import collect_sample
from curation.report.dedup import cluster_sizes
from curation.report.page import build_report
from curation.report.thresholds import RULES, bounds, signal_of, stage_section
from curation.schema import row_to_document
from filters.registry import decide
from pipelines.outputs import MARKER, SUCCESS

REPO = Path(__file__).resolve().parents[1]
GSM8K = REPO / "tests" / "data" / "decontam" / "gsm8k_test_head40.jsonl"
ARTIFACTS = Path(os.environ.get("CURATION_TEST_ARTIFACTS") or REPO / "test-artifacts")
QUIZ_ITEMS = 4  # items of the synthetic "news quiz" benchmark quoting kept news articles of the demo
# The tokenized demo holds about 590k tokens: at 1.5M training tokens under chinchilla, web is drawn more than
# 4 times (over the cap), c4 is weighted but absent, and a capped re-weighting exists.
BUDGET = ("--train-tokens", "1.5e6", "--mixture", "chinchilla")
OTHER_RUN = "TOK does not hold this run's kept documents"
UNITS = {"k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def parquet_counts(out: Path) -> dict[tuple[str, str], int]:
    """(source, "kept" or removal reason) -> rows, read straight from the Parquet files."""
    counts: Counter[tuple[str, str]] = Counter()
    for kind in ("data", "removed"):
        if (out / kind).is_dir():
            columns = ["source", "reason"] if kind == "removed" else ["source"]
            for row in ds.dataset(str(out / kind), format="parquet").to_table(columns=columns).to_pylist():
                counts[(row["source"], row.get("reason") or "kept")] += 1
    return dict(counts)


class FunnelTable(HTMLParser):
    """The rows of the report's funnel table: (source, step, documents)."""

    def __init__(self) -> None:
        super().__init__()
        self.in_funnel = self.in_cell = False
        self.rows: list[list[str]] = []
        self.source = ""

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.in_funnel = dict(attrs).get("id") == "funnel"
        elif self.in_funnel and tag == "tr":
            self.rows.append([])
        elif self.in_funnel and tag == "td":
            self.in_cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self.in_cell = False
        elif tag == "section":
            self.in_funnel = False

    def handle_data(self, data):
        if self.in_cell:
            self.rows[-1][-1] += data.strip()

    def steps(self) -> dict[tuple[str, str], int]:
        out = {}
        for row in self.rows:
            if len(row) < 3:
                continue
            self.source = row[0] or self.source
            out[(self.source, row[1].removeprefix("removed: "))] = int(row[2].replace(",", ""))
        return out


class BudgetSection(HTMLParser):
    """The data-budget section: per source and field the exact value (data-value) and the text shown."""

    def __init__(self) -> None:
        super().__init__()
        self.in_budget = False
        self.rows: dict[str, dict[str, tuple[str, str]]] = {}
        self.values: list[str] = []  # data-value of the cards and the model-size table, in page order
        self.source: str | None = None
        self.cell: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.in_budget = a.get("id") == "budget"
        if not self.in_budget:
            return
        if tag == "tr":
            self.source = a.get("data-source")
            if self.source:
                self.rows[self.source] = {}
        if "data-field" in a:
            self.cell = [a["data-field"], a["data-value"], ""]
        elif "data-value" in a:
            self.values.append(a["data-value"])

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            field, value, text = self.cell
            self.rows[self.source][field] = (value, text.strip())
            self.cell = None
        elif tag == "section":
            self.in_budget = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[2] += data
        if self.in_budget:
            self.text.append(data)


def exact(value: str) -> float | None:
    """A data-value attribute: Python's float text (round-trips exactly) or null."""
    return None if value == "null" else float(value)


def shown_count(text: str) -> float:
    """`450k`, `1.5M`, `630` -> the number it shows."""
    return float(text[:-1]) * UNITS[text[-1]] if text[-1] in UNITS else float(text)


def shown_percent(text: str) -> float:
    return float(text.removesuffix("%")) / 100


@pytest.fixture(scope="module")
def quiz_index(demo_out, tmp_path_factory) -> tuple[Path, list[str]]:
    """A decontamination index of a small benchmark quoting three kept demo news articles, plus GSM8K items."""
    tmp = tmp_path_factory.mktemp("quiz")
    news = sorted(
        (
            r
            for r in ds.dataset(str(demo_out / "data" / "news"), format="parquet")
            .to_table(columns=["id", "text"])
            .to_pylist()
        ),
        key=lambda r: r["id"],
    )
    quoted = [r for r in news if len(r["text"].split()) > 80][:3]
    items = [" ".join(r["text"].split()[10:60]) for r in quoted]
    items.append("A question about geometry that appears nowhere in the corpus, asked only to count as an item.")
    quiz = tmp / "quiz.jsonl"
    quiz.write_text("".join(json.dumps({"question": q}) + "\n" for q in items), "utf-8")
    index = tmp / "index.npz"
    assert (
        run_cli(
            "decontam-index", "--evalset", f"quiz={quiz}:question", "--evalset", f"gsm8k={GSM8K}", "--output", index
        )
        == 0
    )
    return index, [r["id"] for r in quoted]


@pytest.fixture(scope="module")
def whatif_out(demo_out, quiz_index, tmp_path_factory) -> Path:
    """`curation rethreshold` of the demo with a stricter word minimum, decontaminated against the quiz index."""
    out = tmp_path_factory.mktemp("whatif") / "what-if"
    index, _ = quiz_index
    code = run_cli(
        "rethreshold", demo_out, "--set", "quality.min_words=100", "--decontam-index", index, "--output", out
    )
    assert code == 0
    return out


def test_report_and_stats_numbers_equal_parquet_row_counts(demo_out, tmp_path, capsys):
    parquet = parquet_counts(demo_out)
    assert run_cli("stats", demo_out, "--json") == 0
    stats = json.loads(capsys.readouterr().out)
    failed = Counter(f["source"] for f in read_failed(demo_out))
    for source, s in stats["sources"].items():
        assert s["kept"]["docs"] == parquet.get((source, "kept"), 0)
        for reason, v in s["removed"]["by_reason"].items():
            assert v["docs"] == parquet[(source, reason)], (source, reason)
        assert s["removed"]["total"]["docs"] == sum(
            n for (src, r), n in parquet.items() if src == source and r != "kept"
        )
        assert s["failed"]["total"]["docs"] == failed.get(source, 0)
        assert s["input"]["docs"] == s["kept"]["docs"] + s["removed"]["total"]["docs"] + failed.get(source, 0)

    html = tmp_path / "report.html"
    assert run_cli("report", demo_out, "--output", html) == 0
    page = html.read_text("utf-8")
    table = FunnelTable()
    table.feed(page)
    shown = table.steps()
    expected = dict(parquet)
    expected |= {
        (src, f"failed: {stage}"): v["docs"]
        for src, s in stats["sources"].items()
        for stage, v in s["failed"]["by_stage"].items()
    }
    expected |= {(src, "input"): s["input"]["docs"] for src, s in stats["sources"].items()}
    assert shown == expected
    assert "stats.json matches the Parquet row counts" in page and "every document read" in page
    total_input = sum(s["input"]["docs"] for s in stats["sources"].values())
    assert f'<div class="value">{total_input:,}</div>' in page
    # Without --tokenized the data-budget section says how to get it.
    budget = BudgetSection()
    budget.feed(page)
    assert budget.rows == {} and "curation tokenize" in "".join(budget.text)
    assert f"curation report {demo_out} --tokenized TOK" in "".join(budget.text)


def test_report_opens_offline_in_headless_chromium(demo_out, whatif_out, quiz_index, tokenized_demo, tmp_path):
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    html = ARTIFACTS / "report.html"
    index, _ = quiz_index
    args = ("--baseline", demo_out, "--decontam-index", index, "--tokenized", tokenized_demo, *BUDGET)
    assert run_cli("report", whatif_out, "--output", html, *args) == 0
    screenshot = ARTIFACTS / "report.png"
    seen = visit(html, screenshot, executable)

    assert seen.title.startswith("Curation report")
    assert [m for m in seen.console if m[0] in ("error", "warning")] == [] and seen.page_errors == []
    assert seen.requests == [seen.url]  # the page itself and nothing else: no script, style or font fetched
    # funnel (2), removals, 5 histogram grids, languages, lengths, dedup, decontamination, data budget, baseline delta
    assert len(seen.charts) >= 13
    for chart in seen.charts:
        assert chart["width"] > 100 and chart["height"] > 60 and chart["marks"] > 0, chart
    tokens = json.loads((tokenized_demo / "manifest.json").read_text("utf-8"))["sources"]
    [epochs] = [c for c in seen.charts if c["section"] == "budget"]
    assert epochs["marks"] >= 2 * len(tokens)  # requested and suggested epochs of every source with tokens
    # TOK was tokenized from the demo run, whose kept documents the stricter what-if run no longer all keeps.
    assert OTHER_RUN in htmllib.unescape(html.read_text("utf-8"))
    assert screenshot.stat().st_size > 50_000  # kept in ARTIFACTS for people to look at


def test_baseline_shows_what_changed_rule_by_rule(demo_out, whatif_out, tmp_path):
    context = build_report(whatif_out, tmp_path / "r.html", baseline=demo_out)
    before, after = parquet_counts(demo_out), parquet_counts(whatif_out)
    rules = {r["rule"]: r for r in context["baseline"]["rules"]}
    word_count = rules["quality.word_count"]
    assert word_count["baseline"] == sum(n for (_, r), n in before.items() if r == "quality.word_count")
    assert word_count["this"] == sum(n for (_, r), n in after.items() if r == "quality.word_count")
    assert word_count["delta"] > 0
    assert {"key": "quality.min_words", "baseline": 50, "this run": 100} in context["baseline"]["config"]
    newly = context["baseline"]["changed"]["quality.word_count"]["newly_removed"]
    assert newly
    removed_before = {
        r["id"]: r["reason"]
        for r in ds.dataset(str(demo_out / "removed"), format="parquet").to_table(columns=["id", "reason"]).to_pylist()
    }
    assert newly[0]["baseline"] == "kept"  # documents the baseline kept are shown first
    for doc in newly:
        assert doc["baseline"] == removed_before.get(doc["id"], "kept") != "quality.word_count"
        assert 50 <= doc["signal:quality.word_count"] < 100


def test_decontamination_rate_per_benchmark(whatif_out, quiz_index, tmp_path):
    index, quoted_ids = quiz_index
    context = build_report(whatif_out, tmp_path / "r.html", decontam_index=index)
    rows = {r["benchmark"]: r for r in context["decontam"]["rows"]}
    matches = pq.read_table(whatif_out / "decontam" / "matches.parquet").to_pylist()
    quiz_items = {m["item_id"] for m in matches if m["benchmark"] == "quiz"}
    assert rows["quiz"]["items"] == QUIZ_ITEMS and rows["quiz"]["items_found"] == len(quiz_items) == 3
    assert rows["quiz"]["rate"] == pytest.approx(3 / QUIZ_ITEMS)
    assert {m["id"] for m in matches if m["benchmark"] == "quiz"} >= set(quoted_ids)
    assert rows["gsm8k"]["items"] == len(GSM8K.read_text("utf-8").splitlines()) and rows["gsm8k"]["items_found"] == 0
    page = (tmp_path / "r.html").read_text("utf-8")
    assert rows["quiz"]["examples"] and all(e["span"][:40] in page for e in rows["quiz"]["examples"])


def set_signal(doc, name: str, value: float) -> None:
    """Change one stored signal (the language score is also a document field, which the filter reads)."""
    doc.signals[name] = value
    if name == "language.score":
        doc.language_score = value


def test_threshold_table_agrees_with_the_filters(demo_out):
    """Push each signal of a real kept document just past its bound: the filters must name that rule."""
    cfg = json.loads((demo_out / "manifest.json").read_text("utf-8"))["config"]
    kept = {
        source: row_to_document(ds.dataset(str(demo_out / "data" / source), format="parquet").head(1).to_pylist()[0])
        for source in ("web", "code")
    }
    checked = 0
    for rule in RULES:
        doc = kept["code" if rule.stage == "code" else "web"]
        chain = cfg["sources"][doc.source]["stages"]
        assert decide(doc, chain, cfg) is None
        name = signal_of(rule, stage_section(cfg, rule.stage, doc.source))
        original = doc.signals[name]
        marks = bounds(rule, cfg, [doc.source]) or [None]
        for bound in marks:
            if bound is None:  # a 0/1 flag rule
                set_signal(doc, name, 1.0)
            else:
                set_signal(doc, name, bound.value)
                assert decide(doc, chain, cfg) is None, (rule.reason, "ties keep")
                step = max(abs(bound.value) * 1e-6, 1e-9)
                set_signal(doc, name, bound.value - step if bound.kind == "min" else bound.value + step)
            assert decide(doc, chain, cfg) == rule.reason, (rule.reason, name, bound)
            checked += 1
        set_signal(doc, name, original)
    assert checked >= len(RULES)


def _synthetic_shards(out: Path, groups: int, rows_per_group: int) -> None:
    """`data/web` shards with many small row groups (the shape of a large run, at a small size)."""
    signals = pa.struct([("quality.word_count", pa.float64())])
    for shard in range(2):
        ids = [f"web/doc#{shard:02d}{i:06d}" for i in range(groups * rows_per_group)]
        table = pa.table(
            {
                "id": ids,
                "source": ["web"] * len(ids),
                "text": ["word " * (i % 50 + 1) for i in range(len(ids))],
                "language": ["en"] * len(ids),
                "signals": pa.array([{"quality.word_count": float(i % 50 + 1)} for i in range(len(ids))], signals),
            }
        )
        path = out / "data" / "web" / f"part-{shard:05d}-of-00002.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, row_group_size=rows_per_group)


def test_sample_reads_a_bounded_number_of_whole_row_groups(tmp_path):
    _synthetic_shards(tmp_path, groups=20, rows_per_group=100)  # 4,000 rows in 40 row groups
    sample = collect_sample(tmp_path, ["web"], max_rows=250, seed=3)
    assert sample.total[("kept", "web")] == 4000
    assert sample.sampled[("kept", "web")] == sample.table.num_rows == 300  # three whole groups reach the budget
    assert not sample.complete
    again = collect_sample(tmp_path, ["web"], max_rows=250, seed=3)
    assert again.table.column("id").to_pylist() == sample.table.column("id").to_pylist()
    lengths = sample.table.column("length").to_pylist()
    words = sample.table.column("signal:quality.word_count").to_pylist()
    assert lengths == [5 * int(w) for w in words]
    whole = collect_sample(tmp_path, ["web"], max_rows=10_000)
    assert whole.complete and whole.table.num_rows == 4000


def test_cluster_sizes_stream_sorted_tables_and_count_unsorted_ones(tmp_path):
    rows = [
        {"id": f"d{i}", "cluster_id": f"{'near' if c % 3 else 'exact'}-{c:04d}", "kept": i % (c + 2) == 0}
        for c in range(60)
        for i in range(c % 7 + 2)
    ]
    ordered = sorted(rows, key=lambda r: (r["cluster_id"], r["id"]))
    pq.write_table(pa.Table.from_pylist(ordered), tmp_path / "sorted.parquet", row_group_size=17)
    pq.write_table(pa.Table.from_pylist(ordered[::-1]), tmp_path / "unsorted.parquet", row_group_size=17)
    expected = Counter(r["cluster_id"] for r in rows)
    for name in ("sorted.parquet", "unsorted.parquet"):
        summary = cluster_sizes(tmp_path / name, top=5)
        assert summary["clusters"] == len(expected) and summary["members"] == len(rows)
        assert summary["removed"] == sum(1 for r in rows if not r["kept"])
        assert sum(h["clusters"] * h["size"] for h in summary["histogram"]) == len(rows)
        assert [size for _, size in summary["largest"]] == sorted(expected.values(), reverse=True)[:5]


def test_report_cli_writes_into_the_run_by_default_and_rejects_non_runs(whatif_out, tmp_path, capsys):
    assert run_cli("report", whatif_out, "--sample-rows", "50") == 0
    assert (whatif_out / "report.html").stat().st_size > 10_000
    assert "report.html" in capsys.readouterr().out
    assert run_cli("report", tmp_path) == 2
    assert "not a finished run" in capsys.readouterr().err
    assert run_cli("report", whatif_out, "--baseline", tmp_path / "missing") == 2
    assert run_cli("report", whatif_out, "--sample-rows", "0") == 2
    capsys.readouterr()
    unfinished = tmp_path / "unfinished"
    shutil.copytree(whatif_out, unfinished)
    (unfinished / MARKER).write_text("{}")  # written under the commit protocol, never committed
    (unfinished / SUCCESS).unlink(missing_ok=True)
    assert run_cli("report", unfinished) == 2
    assert "unfinished output" in capsys.readouterr().err
    (unfinished / SUCCESS).write_text("")
    assert run_cli("report", unfinished, "--output", tmp_path / "r.html") == 0


def test_budget_section_numbers_equal_plan_json(curated_demo, tokenized_demo, tmp_path, capsys):
    assert run_cli("plan", tokenized_demo, *BUDGET, "--json") == 0
    plan = json.loads(capsys.readouterr().out)
    html = tmp_path / "report.html"
    assert run_cli("report", curated_demo, "--tokenized", tokenized_demo, *BUDGET, "--output", html) == 0
    page = html.read_text("utf-8")
    section = BudgetSection()
    section.feed(page)

    assert sorted(section.rows) == [r["source"] for r in plan["rows"]]
    for r in plan["rows"]:
        shown = section.rows[r["source"]]
        for field in ("unique_tokens", "weight", "tokens_drawn", "epochs", "suggested_weight", "suggested_epochs"):
            assert exact(shown[field][0]) == r[field], (r["source"], field)
        assert exact(shown["effective_tokens"][0]) == r["effective_tokens"]
        assert int(shown["unique_tokens"][1].replace(",", "")) == r["unique_tokens"]
        for field in ("weight", "suggested_weight"):
            assert shown_percent(shown[field][1]) == pytest.approx(r[field], abs=5e-4), (r["source"], field)
        for field in ("epochs", "suggested_epochs"):
            text = shown[field][1]
            if r[field] is None:
                assert text == "∞", (r["source"], field)
            else:
                assert float(text) == pytest.approx(r[field], abs=5e-3), (r["source"], field)
        for field in ("tokens_drawn", "effective_tokens"):
            assert shown_count(shown[field][1]) == pytest.approx(r[field], rel=5e-3, abs=0.5), (r["source"], field)
    models = plan["models"]
    card_values = [plan["train_tokens"], plan["unique_tokens_total"]]
    model_values = [models[k]["value"] for k in ("compute_optimal_params", "max_params_without_overfitting")]
    model_values.append(models["effective_tokens"]["value"])
    assert [exact(v) for v in section.values] == card_values + model_values + model_values

    text = htmllib.unescape(page)
    over = [r["source"] for r in plan["rows"] if r["over_cap"] and r["unique_tokens"] > 0]
    assert over == ["web"] and plan["warnings"] and plan["suggestion"]["feasible"]
    for line in [*plan["warnings"], *plan["notes"], plan["suggestion"]["objective"]]:
        assert line in text
    for model in models.values():
        assert model["formula"] in text and model["source"] in text
    assert f"curation plan {tokenized_demo} --train-tokens 1500000 --mixture chinchilla --json" in text
    assert OTHER_RUN not in text  # TOK was tokenized from this run


def test_budget_defaults_to_one_pass_and_flags_a_tok_of_another_run(curated_demo, whatif_out, tokenized_demo):
    manifest = json.loads((tokenized_demo / "manifest.json").read_text("utf-8"))
    stats = json.loads((curated_demo / "stats.json").read_text("utf-8"))
    cfg = json.loads((curated_demo / "manifest.json").read_text("utf-8"))["config"]
    section = budget_section(tokenized_demo, stats, cfg)
    unique = manifest["totals"]["tokens"]
    assert section["default_budget"] and section["plan"]["train_tokens"] == unique
    assert section["plan"] == plan_for_output(tokenized_demo, unique)
    assert section["mismatches"] == []
    assert section["documents"] == sum(s["kept"]["docs"] for s in stats["sources"].values())

    other = json.loads((whatif_out / "stats.json").read_text("utf-8"))
    differ = sorted(
        s for s, v in manifest["sources"].items() if v["input_documents"] != other["sources"][s]["kept"]["docs"]
    )
    flagged = budget_section(tokenized_demo, other, cfg, 1e6)["mismatches"]
    assert differ and [m.split(":")[0] for m in flagged] == differ
    assert all(
        f"this run kept {other['sources'][s]['kept']['docs']:,}" in m for s, m in zip(differ, flagged, strict=True)
    )


def test_report_budget_options_are_checked_before_any_work(curated_demo, tokenized_demo, tmp_path, capsys):
    html = tmp_path / "r.html"
    base = ("report", curated_demo, "--output", html)
    assert run_cli(*base, "--train-tokens", "1e9") == 2
    assert "--train-tokens needs --tokenized" in capsys.readouterr().err
    assert run_cli(*base, "--tokenized", tmp_path / "missing") == 2
    assert "not a finished tokenize output" in capsys.readouterr().err
    assert run_cli(*base, "--tokenized", curated_demo) == 2  # a curation run, not a tokenize output
    assert "not the manifest of a `curation tokenize` output" in capsys.readouterr().err
    for bad in ("0", "-1", "nan", "inf"):
        assert run_cli(*base, "--tokenized", tokenized_demo, "--train-tokens", bad) == 2
        assert "--train-tokens must be a positive number" in capsys.readouterr().err
    assert run_cli(*base, "--tokenized", tokenized_demo, "--mixture", "no-such-mixture") == 2
    assert "unknown mixture" in capsys.readouterr().err
    assert not html.exists()
