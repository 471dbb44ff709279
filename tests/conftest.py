"""Shared pytest fixtures. Each helper keeps its fixtures in its own marked block."""

from __future__ import annotations

import itertools

import pytest
from cloud_servers import LocalServer, ServerUnavailable, gcs_emulator, moto_s3_server
from shared_data import SHARED_DATA, corpus_available, corpus_required

# ---- development corpus: one marker, one fixture ----------------------------------------------------------


def pytest_configure(config):
    config.addinivalue_line("markers", "corpus: needs the development corpus ../shared/data (skipped without it)")
    if corpus_required() and not corpus_available():
        raise pytest.UsageError(f"CURATION_REQUIRE_CORPUS is set but {SHARED_DATA} is missing")


def pytest_collection_modifyitems(config, items):
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

# ---- runners/cloud fixtures (issue 8): local S3 and GCS servers ---------------------------------------------
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
