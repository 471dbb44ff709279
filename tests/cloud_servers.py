"""Real local object-storage servers for tests: moto (S3) and gcp-storage-emulator (GCS) on 127.0.0.1.

Each server runs as a subprocess on a free port; the helpers wait until it answers HTTP, hand back its
endpoint, the Beam pipeline options and environment variables that route Beam's filesystems to it, and
stop it afterwards. Nothing here talks to the internet.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

S3_ACCESS_KEY = "testing"
S3_SECRET_KEY = "testing"
S3_REGION = "us-east-1"
GCS_PROJECT = "test-project"


class ServerUnavailable(RuntimeError):
    """The server binary is missing or the server did not become ready in time."""


@dataclass
class LocalServer:
    """A running local storage server: its endpoint, Beam options and the environment it needs."""

    scheme: str
    endpoint: str
    process: subprocess.Popen
    log_path: Path
    beam_options: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def create_bucket(self, name: str) -> str:
        """Create bucket `name` on this server and return its `scheme://name` root."""
        if self.scheme == "s3":
            _s3_client(self.endpoint).create_bucket(Bucket=name)
        else:
            _gcs_create_bucket(self.endpoint, name)
        return f"{self.scheme}://{name}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_binary(name: str) -> str | None:
    """A console script installed beside this interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def wait_until_ready(url: str, process: subprocess.Popen, log_path: Path, timeout_s: float = 30.0) -> None:
    """Poll `url` until it answers with any HTTP status; fail fast if the process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerUnavailable(f"server exited with {process.returncode}: {log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            time.sleep(0.1)
    raise ServerUnavailable(f"{url} not ready after {timeout_s}s: {log_path.read_text(errors='replace')}")


def stop_process(process: subprocess.Popen) -> None:
    """Terminate a server we started (by its own handle), killing it if it ignores SIGTERM."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def write_fake_gcp_credentials(path: Path) -> Path:
    """An authorized_user credentials file with a static token and far expiry.

    google-auth then never tries to refresh (or probe the GCE metadata server), which otherwise stalls
    every process that opens a gs:// path for ~25 s.
    """
    creds = {
        "type": "authorized_user",
        "client_id": "fake-client-id",
        "client_secret": "fake-client-secret",
        "refresh_token": "fake-refresh-token",
        "token": "fake-access-token",
        "expiry": "2999-01-01T00:00:00Z",
        "quota_project_id": GCS_PROJECT,
    }
    path.write_text(json.dumps(creds), "utf-8")
    return path


@contextmanager
def moto_s3_server(workdir: Path) -> Iterator[LocalServer]:
    """Run `moto_server` (S3 and friends) on a free port for the duration of the block."""
    binary = find_binary("moto_server")
    if binary is None:
        raise ServerUnavailable("moto_server not installed (pip install 'moto[server]')")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log_path = workdir / "moto_server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(f"{endpoint}/moto-api/", process, log_path)
        yield LocalServer(
            scheme="s3",
            endpoint=endpoint,
            process=process,
            log_path=log_path,
            beam_options=[
                f"--s3_endpoint_url={endpoint}",
                f"--s3_access_key_id={S3_ACCESS_KEY}",
                f"--s3_secret_access_key={S3_SECRET_KEY}",
                f"--s3_region_name={S3_REGION}",
            ],
            # boto3 outside Beam (e.g. test assertions, other libraries) must not find real credentials.
            env={
                "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
                "AWS_DEFAULT_REGION": S3_REGION,
            },
        )
    finally:
        stop_process(process)


@contextmanager
def gcs_emulator(workdir: Path) -> Iterator[LocalServer]:
    """Run `gcp-storage-emulator` in memory on a free port for the duration of the block."""
    binary = find_binary("gcp-storage-emulator")
    if binary is None:
        raise ServerUnavailable("gcp-storage-emulator not installed (pip install gcp-storage-emulator)")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log_path = workdir / "gcs_emulator.log"
    credentials = write_fake_gcp_credentials(workdir / "fake_gcp_credentials.json")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [binary, "start", "--host=127.0.0.1", f"--port={port}", "--in-memory"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_ready(f"{endpoint}/storage/v1/b?project={GCS_PROJECT}", process, log_path)
        yield LocalServer(
            scheme="gs",
            endpoint=endpoint,
            process=process,
            log_path=log_path,
            beam_options=[f"--project={GCS_PROJECT}"],
            # google-cloud-storage (which Beam's gcsio uses) routes every call to STORAGE_EMULATOR_HOST.
            env={
                "STORAGE_EMULATOR_HOST": endpoint,
                "GOOGLE_APPLICATION_CREDENTIALS": str(credentials),
                "GOOGLE_CLOUD_PROJECT": GCS_PROJECT,
            },
        )
    finally:
        stop_process(process)


def _s3_client(endpoint: str):
    """A boto3 S3 client bound to the local moto server."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        region_name=S3_REGION,
    )


def _gcs_create_bucket(endpoint: str, name: str) -> None:
    """Create a bucket through the emulator's JSON API (no client library state involved)."""
    request = urllib.request.Request(
        f"{endpoint}/storage/v1/b?project={GCS_PROJECT}",
        data=json.dumps({"name": name}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status >= 300:
            raise ServerUnavailable(f"bucket {name}: HTTP {response.status}")


def object_listing(server: LocalServer, root: str) -> dict[str, bytes]:
    """Every object under `root` (scheme://bucket/prefix) with its bytes, read through Beam's FileSystems."""
    from apache_beam.io.filesystems import FileSystems

    matches = FileSystems.match([root.rstrip("/") + "/**"])[0].metadata_list
    out = {}
    for meta in sorted(matches, key=lambda m: m.path):
        with FileSystems.open(meta.path, compression_type="uncompressed") as handle:
            out[meta.path] = handle.read()
    return out


def env_for(*servers: LocalServer) -> dict[str, str]:
    """A copy of os.environ plus every server's variables (for subprocesses such as the CLI)."""
    env = dict(os.environ)
    for server in servers:
        env.update(server.env)
    return env
