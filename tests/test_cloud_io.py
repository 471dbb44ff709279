"""Beam's FileSystems and a small Beam pipeline work against real local S3 (moto) and GCS (emulator) servers."""

from __future__ import annotations

import gzip
import subprocess
import sys

import apache_beam as beam
import pytest
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions
from cloud_servers import env_for, object_listing
from offline_guard import guarded_env, network_attempts


@pytest.fixture(params=["s3", "gcs"])
def bucket(request) -> str:
    """Run each test once against S3 and once against GCS."""
    return request.getfixturevalue(f"{request.param}_bucket")


def _write(path: str, data: bytes) -> None:
    with FileSystems.create(path) as handle:
        handle.write(data)


def test_write_list_read_rename_delete(bucket):
    _write(f"{bucket}/in/a.txt", b"alpha\n")
    _write(f"{bucket}/in/sub/b.txt", b"beta\n")
    listed = sorted(m.path for m in FileSystems.match([f"{bucket}/in/**"])[0].metadata_list)
    assert listed == [f"{bucket}/in/a.txt", f"{bucket}/in/sub/b.txt"]
    assert [m.path for m in FileSystems.match([f"{bucket}/in/*.txt"])[0].metadata_list] == [f"{bucket}/in/a.txt"]

    FileSystems.rename([f"{bucket}/in/a.txt"], [f"{bucket}/moved/a.txt"])
    assert not FileSystems.exists(f"{bucket}/in/a.txt")
    with FileSystems.open(f"{bucket}/moved/a.txt") as handle:
        assert handle.read() == b"alpha\n"

    FileSystems.delete([f"{bucket}/moved/a.txt"])
    assert not FileSystems.exists(f"{bucket}/moved/a.txt")


def test_gzip_compression_is_inferred_from_extension(bucket):
    lines = [f'{{"text": "line {i}"}}'.encode() for i in range(100)]
    _write(f"{bucket}/x.jsonl.gz", b"\n".join(lines) + b"\n")  # AUTO compression: gzipped on write
    with FileSystems.open(f"{bucket}/x.jsonl.gz", compression_type="uncompressed") as handle:
        assert gzip.decompress(handle.read()).splitlines() == lines
    with FileSystems.open(f"{bucket}/x.jsonl.gz") as handle:  # ... and gunzipped on read
        assert handle.read().splitlines() == lines


def test_multipart_sized_object_round_trips(bucket):
    """Large enough (12 MiB) to need S3 multipart upload and GCS resumable upload."""
    payload = bytes(range(256)) * (12 * 4096)
    _write(f"{bucket}/big.bin", payload)
    assert FileSystems.match([f"{bucket}/big.bin"])[0].metadata_list[0].size_in_bytes == len(payload)
    with FileSystems.open(f"{bucket}/big.bin", compression_type="uncompressed") as handle:
        assert handle.read() == payload


def test_beam_text_pipeline_bucket_to_bucket(bucket, request):
    server = request.getfixturevalue("s3_server" if bucket.startswith("s3://") else "gcs_server")
    words = [f"word{i % 37}" for i in range(2000)]
    _write(f"{bucket}/in/words.txt", "\n".join(words).encode() + b"\n")
    options = PipelineOptions(
        ["--runner=DirectRunner", "--allow_unsafe_triggers", "--direct_running_mode=in_memory", *server.beam_options]
    )
    with beam.Pipeline(options=options) as p:
        (
            p
            | beam.io.ReadFromText(f"{bucket}/in/*.txt")
            | beam.combiners.Count.PerElement()
            | beam.MapTuple(lambda w, n: f"{w}\t{n}")
            | beam.io.WriteToText(f"{bucket}/out/counts", file_name_suffix=".tsv", num_shards=2)
        )
    outputs = object_listing(server, f"{bucket}/out")
    assert len(outputs) == 2 and all(path.endswith(".tsv") for path in outputs)
    counts = dict(line.split("\t") for blob in outputs.values() for line in blob.decode().splitlines())
    assert counts == {w: str(words.count(w)) for w in set(words)}


def test_gcs_subprocess_reaches_only_the_emulator(gcs_bucket, gcs_server, tmp_path):
    """A fresh process reading gs:// must not refresh credentials or probe the GCE metadata server.

    Either would leave this machine (and stall ~25 s without a network): every connection or name lookup
    beyond loopback fails at once in the child and is logged. Its start-up time is in bench/bench_offline.py.
    """
    _write(f"{gcs_bucket}/probe.txt", b"probe")
    code = (
        "from apache_beam.io.filesystems import FileSystems;"
        f"print(FileSystems.open('{gcs_bucket}/probe.txt').read().decode())"
    )
    log = tmp_path / "network.log"
    env = guarded_env(env_for(gcs_server), log, allow_loopback=True)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "probe"
    assert network_attempts(log) == []
