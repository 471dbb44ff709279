"""Shared pytest fixtures. Each helper keeps its fixtures in its own marked block."""

from __future__ import annotations

import contextlib
import io
import itertools
from pathlib import Path
from typing import NamedTuple

import pytest
from cloud_servers import LocalServer, ServerUnavailable, gcs_emulator, moto_s3_server
from shared_data import SHARED_DATA, corpus_available, corpus_required

# ---- development corpus: one marker, one fixture ----------------------------------------------------------


def pytest_configure(config):
    config.addinivalue_line("markers", "corpus: needs the development corpus ../shared/data (skipped without it)")
    if corpus_required() and not corpus_available():
        raise pytest.UsageError(f"CURATION_REQUIRE_CORPUS is set but {SHARED_DATA} is missing")


@pytest.hookimpl(tryfirst=True)  # before `-m` selection, so `-m corpus` sees the added markers
def pytest_collection_modifyitems(config, items):
    """A test that uses the `shared_data` fixture (directly or through another fixture) is a corpus test."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()) and "corpus" not in item.keywords:
            item.add_marker(pytest.mark.corpus)
    if corpus_available():
        return
    skip = pytest.mark.skip(reason=f"needs the development corpus at {SHARED_DATA} (absent in this clone)")
    for item in items:
        if "corpus" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With CURATION_REQUIRE_CORPUS set, a skipped corpus test is a failure: CI must run them all."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and corpus_required() and "corpus" in item.keywords:
        report.outcome = "failed"
        report.longrepr = f"corpus test skipped while CURATION_REQUIRE_CORPUS is set: {report.longrepr}"


@pytest.fixture(scope="session")
def shared_data():
    """Path of ../shared/data; the test is skipped (or, in CI, fails) when it is absent."""
    if not corpus_available():
        pytest.skip(f"needs the development corpus at {SHARED_DATA}")
    return SHARED_DATA


# ---- end development corpus -------------------------------------------------------------------------------

# ---- demo output: one `curation demo` run per session, shared read-only -----------------------------------


class DemoRun(NamedTuple):
    """A finished `curation demo` run: its output folder, exit code and what it printed."""

    out: Path
    exit_code: int
    stdout: str


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> DemoRun:
    """`curation demo` on the bundled corpus, run once; tests read its output and must not change it."""
    from pipeline_helpers import run_cli

    out = tmp_path_factory.mktemp("demo") / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = run_cli("demo", "--output", out)
    return DemoRun(out, code, printed.getvalue())


# ---- end demo output ----------------------------------------------------------------------------------------

# ---- runners/cloud fixtures: local S3 and GCS servers -------------------------------------------------------
_bucket_numbers = itertools.count()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> LocalServer:
    """A moto S3 server on 127.0.0.1 for the whole session (skips the test if moto[server] is missing)."""
    try:
        with moto_s3_server(tmp_path_factory.mktemp("moto")) as server:
            yield server
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory) -> LocalServer:
    """A gcp-storage-emulator on 127.0.0.1 for the whole session (skips if it is not installed)."""
    try:
        with gcs_emulator(tmp_path_factory.mktemp("gcs")) as server:
            yield server
    except ServerUnavailable as exc:
        pytest.skip(str(exc))


def _use_server(server: LocalServer, monkeypatch) -> str:
    """Route this test's process (and its subprocesses) to `server`; return a fresh, empty bucket root."""
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions

    for key, value in server.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(FileSystems, "_pipeline_options", PipelineOptions(server.beam_options))
    return server.create_bucket(f"test-bucket-{next(_bucket_numbers)}")


@pytest.fixture
def s3_bucket(s3_server, monkeypatch) -> str:
    """`s3://<fresh bucket>` on the local moto server, with Beam's FileSystems pointed at it."""
    return _use_server(s3_server, monkeypatch)


@pytest.fixture
def gcs_bucket(gcs_server, monkeypatch) -> str:
    """`gs://<fresh bucket>` on the local GCS emulator, with the environment pointing google-cloud-storage at it."""
    return _use_server(gcs_server, monkeypatch)


# ---- end runners/cloud fixtures ------------------------------------------------------------------------------

# ---- training fixtures: one curated demo run, a small tokenizer trained on it, its tokenized export ----------


@pytest.fixture(scope="session")
def curated_demo(demo_run):
    """A finished `curation demo` output: the session's shared demo run."""
    assert demo_run.exit_code == 0
    out = demo_run.out
    assert (out / "_SUCCESS").exists()
    return out


@pytest.fixture(scope="session")
def demo_tokenizer(curated_demo, tmp_path_factory):
    """A 1,000-piece SentencePiece model trained on the demo run by `curation tokenizer train`."""
    from pipeline_helpers import run_cli

    model = tmp_path_factory.mktemp("tokenizer") / "demo.model"
    args = ("tokenizer", "train", curated_demo, "--output", model, "--vocab-size", "1000", "--mixture", "chinchilla")
    assert run_cli(*args, "--renormalize") == 0
    return model


@pytest.fixture(scope="session")
def tokenized_demo(curated_demo, demo_tokenizer, tmp_path_factory):
    """`curation tokenize` of the demo run with the demo tokenizer."""
    from pipeline_helpers import run_cli

    tok = tmp_path_factory.mktemp("tokenized") / "TOK"
    assert run_cli("tokenize", curated_demo, "--tokenizer", demo_tokenizer, "--output", tok) == 0
    return tok


# ---- end training fixtures -------------------------------------------------------------------------------
# ---- demo run: one `curation demo` output shared by the whole session (inspect, report) -------------------


@pytest.fixture(scope="session")
def demo_out(demo_run):
    """A finished `curation demo` run (the session's shared one; tests must not modify it)."""
    assert demo_run.exit_code == 0, demo_run.stdout
    return demo_run.out


# ---- end demo run -------------------------------------------------------------------------------------------
