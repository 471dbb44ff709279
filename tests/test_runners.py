"""Runners: local mode choice, same bytes from every local/portable runner, Dataflow graphs offline, bucket I/O.

Integration tests run the real `curation` CLI (or `pipelines.massivetext.run`) in a subprocess on the
bundled demo corpus, so each has fresh Beam global state and the environment a user would have.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, TypeOptions
from apache_beam.testing.util import assert_that, equal_to
from cloud_servers import GCS_PROJECT, env_for, free_port, object_listing, write_fake_gcp_credentials
from offline_guard import guarded_env, network_attempts

from curation.sample import DEMO_INPUTS, sample_dir
from curation.workitems import work_bytes
from pipelines.runner import (
    MULTIPROCESS_MIN_BYTES,
    available_cores,
    choose_local_mode,
    local_runner_flags,
)

CURATION = str(Path(sys.executable).parent / "curation")
# Several shards per source, so shard assignment (not just row order) is compared across runners.
SMALL_SHARDS = ["--set", "output.item_bytes=200000"]


# ---------------------------------------------------------------------------------------------- flag choice


def _parsed(flags: list[str]) -> PipelineOptions:
    return PipelineOptions(flags)


def test_small_input_runs_in_process_without_prism():
    flags = local_runner_flags(1000, cores=8, workers=None, user_flags=[])
    opts = _parsed(flags)
    assert opts.get_all_options()["runner"] == "DirectRunner"
    assert opts.view_as(TypeOptions).allow_unsafe_triggers is True  # the switch that skips Prism
    assert opts.view_as(DirectOptions).direct_running_mode == "in_memory"


def test_large_input_gets_one_process_per_core():
    flags = local_runner_flags(MULTIPROCESS_MIN_BYTES, cores=6, workers=None, user_flags=[])
    direct = _parsed(flags).view_as(DirectOptions)
    assert (direct.direct_running_mode, direct.direct_num_workers) == ("multi_processing", 6)


def test_one_core_never_multiprocesses():
    assert choose_local_mode(100 * MULTIPROCESS_MIN_BYTES, cores=1, workers=None) == ("in_memory", 1)


def test_workers_flag_wins_over_size_and_cores():
    assert choose_local_mode(10, cores=2, workers=5) == ("multi_processing", 5)
    assert choose_local_mode(100 * MULTIPROCESS_MIN_BYTES, cores=16, workers=1) == ("in_memory", 1)
    with pytest.raises(ValueError):
        choose_local_mode(10, cores=2, workers=0)


@pytest.mark.parametrize(
    "user",
    [
        ["--runner=DataflowRunner", "--project=p-123456", "--region=europe-west4", "--temp_location=gs://b/t"],
        ["--runner", "PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"],
        ["--runner=FlinkRunner", "--flink_master=localhost:8081"],
    ],
)
def test_user_runner_flags_pass_through_unchanged(user):
    assert local_runner_flags(10 * MULTIPROCESS_MIN_BYTES, cores=8, workers=4, user_flags=user) == user


def test_user_direct_mode_flags_are_kept_and_completed():
    flags = local_runner_flags(10, cores=4, workers=None, user_flags=["--direct_running_mode=multi_processing"])
    direct = _parsed(flags).view_as(DirectOptions)
    assert (direct.direct_running_mode, direct.direct_num_workers) == ("multi_processing", 4)

    flags = local_runner_flags(10, cores=4, workers=None, user_flags=["--direct_num_workers=3"])
    direct = _parsed(flags).view_as(DirectOptions)
    assert (direct.direct_running_mode, direct.direct_num_workers) == ("multi_processing", 3)

    user = ["--runner=DirectRunner", "--direct_running_mode=multi_threading", "--direct_num_workers=2"]
    flags = local_runner_flags(10**12, cores=16, workers=None, user_flags=user)
    assert flags[: len(user)] == user and flags[len(user) :] == ["--allow_unsafe_triggers"]


def test_compressed_inputs_count_as_more_work():
    assert work_bytes([("a.jsonl", 100), ("b.jsonl.gz", 100), ("c.XML.BZ2", 10)]) > 210
    assert work_bytes([("a.jsonl", 100)]) == 100


def _plan_items(path: Path, cfg: dict) -> list:
    """The work items a run would make of one JSONL file (plan, line counts, packing, as the pipeline does)."""
    from pipelines.massivetext import count_lines, items_from, match_input, plan
    from pipelines.read import InputSpec

    segments = plan(list(match_input(InputSpec("web", str(path)))), cfg)
    return items_from(segments, [count_lines(seg) for _, seg in segments], cfg)


@pytest.mark.parametrize("docs", [4_000, 24_000])
def test_small_input_still_makes_enough_items_for_every_core(tmp_path, docs):
    from curation.config import default_config
    from curation.workitems import MIN_ITEM_BYTES, MIN_ITEMS

    text = gzip.decompress((Path(sample_dir()) / "news" / "lee_background.cor.gz").read_bytes()).decode()[:1500]
    path = tmp_path / "in.jsonl"
    with path.open("w") as f:
        for i in range(docs):
            f.write(json.dumps({"id": str(i), "text": f"{i} {text}"}) + "\n")
    cfg = default_config()
    size = path.stat().st_size
    items = _plan_items(path, cfg)
    # One big file below 16 x item_bytes: MIN_ITEMS items, unless that would make them smaller than 1 MiB.
    assert size < MIN_ITEMS * cfg["output"]["item_bytes"]
    expected = min(MIN_ITEMS, -(-size // MIN_ITEM_BYTES))
    assert expected - 1 <= len(items) <= expected + 1
    assert sum(item.work for item in items) == size
    lines = [seg.first_line for item in items for seg in item.segments]
    assert lines == sorted(lines) and lines[0] == 1
    # A smaller item_bytes from the user still wins.
    cfg["output"]["item_bytes"] = 200_000
    assert len(_plan_items(path, cfg)) >= size // 200_000


def test_large_inputs_make_items_in_multiples_of_min_items():
    from curation.workitems import MIN_ITEM_BYTES, MIN_ITEMS, item_target

    item_bytes = 16 * 2**20
    for total in (314_000_047, 3_400_000_000, 16 * item_bytes, 16 * item_bytes + 1, 17 * item_bytes, 40 * 2**30):
        target = item_target(total, item_bytes)
        assert target <= item_bytes
        assert -(-total // target) % MIN_ITEMS == 0, total  # 2, 4, 8 or 16 workers get equal shares
        assert -(-total // target) < -(-total // item_bytes) + MIN_ITEMS  # no more items than that needs
    assert item_target(3 * 2**20, item_bytes) == MIN_ITEM_BYTES  # small inputs: items of at least 1 MiB
    assert item_target(10**9, 200_000) <= 200_000  # a smaller item_bytes from the user still wins


def test_available_cores_respects_affinity():
    assert 1 <= available_cores() <= (os.cpu_count() or 1)


def _record_prism_attempts(monkeypatch) -> list[str]:
    """Make any PrismRunner start fail loudly (and be recorded) instead of trying to download."""
    from apache_beam.runners.portability import prism_runner

    attempts: list[str] = []

    def refuse(self, pipeline, options):
        attempts.append("prism")
        raise RuntimeError("test: Prism must not be started")

    monkeypatch.setattr(prism_runner.PrismRunner, "run_pipeline", refuse)
    return attempts


def _tiny_pipeline(flags: list[str]) -> list[int]:
    with beam.Pipeline(options=PipelineOptions(flags)) as p:
        total = p | beam.Create(range(10)) | beam.Map(lambda x: x * x) | beam.CombineGlobally(sum)
        assert_that(total, equal_to([285]))
    return [285]


def test_default_local_flags_never_start_prism(monkeypatch):
    attempts = _record_prism_attempts(monkeypatch)
    _tiny_pipeline(local_runner_flags(0, cores=2, workers=None, user_flags=[]))
    assert attempts == []


def test_plain_direct_runner_would_start_prism(monkeypatch):
    """Guards the test above: Beam's DirectRunner as-is does try Prism first (and falls back)."""
    attempts = _record_prism_attempts(monkeypatch)
    _tiny_pipeline(["--runner=DirectRunner"])
    assert attempts == ["prism"]


# ------------------------------------------------------------------------------------------ helpers for runs


def _demo_input_flags(root: str | None = None) -> list[str]:
    """`--input` flags for the bundled demo corpus, optionally re-rooted at a bucket prefix."""
    base = root or sample_dir()
    flags = []
    for source, glob in DEMO_INPUTS:
        flags += ["--input", f"{source}={base}/{glob}"]
    return flags


def _run_cli(args: list[str], env: dict[str, str] | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    result = subprocess.run([CURATION, *args], capture_output=True, text=True, env=env, timeout=timeout)
    assert result.returncode == 0, f"curation {' '.join(args)}\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result


def _local_tree(root: Path) -> dict[str, bytes]:
    """Every file of a run's output (the run-identity marker aside, which records the run's own inputs)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "_CURATION_OUTPUT"
    }


def _assert_same_tree(actual: dict[str, bytes], expected: dict[str, bytes], input_roots=("", "")) -> None:
    """Byte-identical outputs; dead letters may differ only by the input root in `source_location`."""
    assert sorted(actual) == sorted(expected)
    remote_root, local_root = input_roots
    for name in expected:
        if name.startswith("failed/") and remote_root:
            assert actual[name].replace(remote_root.encode(), local_root.encode()) == expected[name], name
        elif name == "manifest.json" and remote_root:
            assert _manifest_without_failed(actual[name]) == _manifest_without_failed(expected[name])
        else:
            assert actual[name] == expected[name], f"{name} differs from the in-process run"


def _manifest_without_failed(blob: bytes) -> dict:
    manifest = json.loads(blob)
    manifest["shards"] = [s for s in manifest["shards"] if not s["path"].startswith("failed/")]
    manifest.get("decontam", {}).pop("index", None)  # where the index was read from: the bucket or the disk
    return manifest


@pytest.fixture(scope="module")
def decontam_index(tmp_path_factory) -> Path:
    """The demo's decontamination index (bundled eval sets), so every run below exercises that stage too."""
    from curation.sample import demo_evalset_specs

    index = tmp_path_factory.mktemp("decontam") / "index.npz"
    evalsets = [arg for spec in demo_evalset_specs() for arg in ("--evalset", spec)]
    _run_cli(["decontam-index", *evalsets, "--output", str(index)])
    return index


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory, decontam_index) -> dict[str, bytes]:
    """Every output file of the demo run in one in-process worker (the baseline all runners must equal)."""
    out = tmp_path_factory.mktemp("runners") / "in_memory"
    full = ["--decontam-index", str(decontam_index), *SMALL_SHARDS]
    _run_cli(["run", *_demo_input_flags(), "--output", str(out), *full, "--workers", "1"])
    tree = _local_tree(out)
    assert any(name.startswith("data/") for name in tree) and "stats.json" in tree and "manifest.json" in tree
    assert "decontam/matches.parquet" in tree
    assert len([n for n in tree if n.startswith("data/")]) > len(DEMO_INPUTS) - 1, "expected several shards"
    return tree


# ------------------------------------------------------------------------------------------ local runners


@pytest.mark.slow
def test_multiprocess_output_equals_single_process(reference_run, decontam_index, tmp_path):
    out = tmp_path / "multi"
    full = ["--decontam-index", str(decontam_index), *SMALL_SHARDS]
    _run_cli(["run", *_demo_input_flags(), "--output", str(out), *full, "--workers", "2"])
    _assert_same_tree(_local_tree(out), reference_run)


@pytest.mark.slow
def test_embedded_portable_runner_runs_the_demo(reference_run, decontam_index, tmp_path):
    out = tmp_path / "portable"
    portable = ["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"]
    full = ["--decontam-index", str(decontam_index), *SMALL_SHARDS]
    _run_cli(["run", *_demo_input_flags(), "--output", str(out), *full, *portable])
    _assert_same_tree(_local_tree(out), reference_run)


# ---------------------------------------------------------------------------------------------- Dataflow

_RUN_API = """
import json, sys
from curation.cli import main
args = ["run"]
for source, glob in json.loads(sys.argv[1]):
    args += ["--input", f"{source}={glob}"]
args += ["--output", sys.argv[2]] + (["--decontam-index", sys.argv[3]] if sys.argv[3] else [])
sys.exit(main(args + sys.argv[4:]))
"""


def _run_api(inputs: list[tuple[str, str]], output: str, index: str, flags: list[str], env, timeout: int):
    """`curation run` (dry run or template build) in a fresh process."""
    return subprocess.run(
        [sys.executable, "-c", _RUN_API, json.dumps(inputs), output, index, *flags],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def _gs_inputs(bucket: str) -> list[tuple[str, str]]:
    return [(source, f"{bucket}/in/{glob}") for source, glob in DEMO_INPUTS]


@pytest.mark.slow
def test_dataflow_dry_run_validates_full_graph_offline(tmp_path):
    """No credentials and no reachable GCS: any gs:// access at construction time would fail the run.

    The child process may open no connection and look up no host name at all (it would stall on a machine
    without a network); each attempt fails at once and is logged. Its duration is in bench/bench_offline.py.
    """
    env = dict(os.environ)
    for key in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT"):
        env.pop(key, None)
    # A closed port: a glob expansion or output check against gs:// errors out instead of succeeding.
    env["STORAGE_EMULATOR_HOST"] = f"http://127.0.0.1:{free_port()}"
    env["GOOGLE_APPLICATION_CREDENTIALS"] = str(write_fake_gcp_credentials(tmp_path / "creds.json"))
    flags = [
        "--runner=DataflowRunner",
        f"--project={GCS_PROJECT}",
        "--region=us-central1",
        "--temp_location=gs://no-such-bucket/tmp",
        "--dry_run=True",
    ]
    log = tmp_path / "network.log"
    result = _run_api(
        _gs_inputs("gs://no-such-bucket"),
        "gs://no-such-bucket/out",
        "gs://no-such-bucket/decontam.idx",
        flags,
        guarded_env(env, log, allow_loopback=False),
        300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "built" in result.stdout
    assert network_attempts(log) == []


@pytest.mark.slow
def test_dataflow_template_job_json_written_through_gcs_emulator(gcs_bucket, gcs_server):
    image = "europe-docker.pkg.dev/test-project/curation/massivetext-curation:0.1.0"
    flags = [
        "--runner=DataflowRunner",
        f"--project={GCS_PROJECT}",
        "--region=europe-west4",
        f"--temp_location={gcs_bucket}/tmp",
        f"--template_location={gcs_bucket}/templates/massivetext.json",
        f"--sdk_container_image={image}",
        "--sdk_location=container",
    ]
    result = _run_api(_gs_inputs(gcs_bucket), f"{gcs_bucket}/out", "", flags, env_for(gcs_server), 300)
    assert result.returncode == 0, result.stderr[-4000:]

    objects = object_listing(gcs_server, gcs_bucket)
    job = json.loads(objects[f"{gcs_bucket}/templates/massivetext.json"])
    pool = job["environment"]["workerPools"][0]
    assert pool["workerHarnessContainerImage"] == image
    assert job["environment"]["sdkPipelineOptions"]["options"]["region"] == "europe-west4"

    from apache_beam.portability.api import beam_runner_api_pb2

    staged = [path for path in objects if path.endswith("/pipeline.pb")]
    assert len(staged) == 1
    graph = beam_runner_api_pb2.Pipeline.FromString(objects[staged[0]])
    names = {t.unique_name for t in graph.components.transforms.values()}
    for step in ("Plan", "Process", "Dedup", "Apply", "Commit"):
        assert step in names, f"{step} missing from the staged graph"
    assert not any(path.startswith(f"{gcs_bucket}/out/") for path in objects), "a template must not run the job"


@pytest.mark.slow
def test_documented_dataflow_submit_flags_pass_through_the_cli(gcs_bucket, gcs_server):
    """The docs/cloud.md submit command, as a dry run (the CLI checks the gs:// output on the emulator)."""
    image = "europe-west4-docker.pkg.dev/test-project/curation/massivetext-curation:0.1.0"
    args = ["run", "--input", f"web={gcs_bucket}/crawl/*.warc.gz", "--input", f"books={gcs_bucket}/books/*.txt.gz"]
    args += ["--output", f"{gcs_bucket}/curated/run-001", "--runner", "DataflowRunner", "--project", GCS_PROJECT]
    args += ["--region", "europe-west4", "--temp_location", f"{gcs_bucket}/tmp", "--sdk_container_image", image]
    args += [
        "--sdk_location",
        "container",
        "--service_account_email",
        f"curation-worker@{GCS_PROJECT}.iam.gserviceaccount.com",
    ]
    args += ["--machine_type", "n2-standard-8", "--max_num_workers", "50", "--job_name", "curation-run-001"]
    result = _run_cli([*args, "--dry_run=True"], env=env_for(gcs_server), timeout=300)
    assert "dry run" in result.stdout


# -------------------------------------------------------------------------------------------- object storage


def _upload_demo_corpus(bucket: str) -> None:
    """Copy the demo corpus files that DEMO_INPUTS matches to BUCKET/in/, keeping relative paths."""
    from apache_beam.io.filesystems import FileSystems

    root = Path(sample_dir())
    for _, glob in DEMO_INPUTS:
        for path in sorted(p for p in root.glob(glob) if p.is_file()):
            rel = path.relative_to(root).as_posix()
            with FileSystems.create(f"{bucket}/in/{rel}", compression_type="uncompressed") as handle:
                handle.write(path.read_bytes())


def _remote_tree(server, root: str) -> dict[str, bytes]:
    tree = {path[len(root) + 1 :]: blob for path, blob in object_listing(server, root).items()}
    return {name: blob for name, blob in tree.items() if name != "_CURATION_OUTPUT"}


@pytest.mark.slow
@pytest.mark.parametrize("store", ["s3", "gcs"])
def test_bucket_to_bucket_run_equals_local_run(store, request, reference_run, decontam_index):
    from apache_beam.io.filesystems import FileSystems

    bucket = request.getfixturevalue(f"{store}_bucket")
    server = request.getfixturevalue(f"{store}_server")
    _upload_demo_corpus(bucket)
    with FileSystems.create(f"{bucket}/index/decontam.npz", compression_type="uncompressed") as handle:
        handle.write(decontam_index.read_bytes())
    out = f"{bucket}/out"
    # S3 with two worker processes: the endpoint options must reach the workers, not just the launcher.
    workers = ["--workers", "2"] if store == "s3" else ["--workers", "1"]
    full = ["--decontam-index", f"{bucket}/index/decontam.npz", *SMALL_SHARDS]
    args = ["run", *_demo_input_flags(f"{bucket}/in"), "--output", out, *full, *workers]
    _run_cli(args + server.beam_options, env=env_for(server))

    tree = _remote_tree(server, out)
    for required in ("stats.json", "manifest.json"):
        assert required in tree
    assert any(name.startswith("data/") and name.endswith(".parquet") for name in tree)
    stats = json.loads(tree["stats.json"])
    assert stats["invariant_ok"] is True
    _assert_same_tree(tree, reference_run, input_roots=(f"{bucket}/in", sample_dir()))


def test_describe_runner_names_the_chosen_mode():
    from pipelines.runner import describe_runner

    big = local_runner_flags(MULTIPROCESS_MIN_BYTES, cores=4, workers=None, user_flags=[])
    assert describe_runner(big) == "runner: DirectRunner (multi_processing, 4 workers)"
    assert describe_runner(local_runner_flags(0, 4, None, [])) == "runner: DirectRunner (in_memory, 1 worker)"
    assert describe_runner(["--runner", "DataflowRunner"]) == "runner: DataflowRunner"
