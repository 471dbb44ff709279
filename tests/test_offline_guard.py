"""The network guard that offline tests run their subprocesses under really blocks and logs what leaves."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from offline_guard import guarded_env, network_attempts

CHILD = """
import json, socket, sys, urllib.request
port = int(sys.argv[1])
outcome = {}
def attempt(name, fn):
    try:
        fn()
        outcome[name] = "ok"
    except OSError as exc:
        outcome[name] = type(exc).__name__
attempt("loopback", lambda: socket.create_connection(("127.0.0.1", port), timeout=5).close())
attempt("lookup", lambda: socket.getaddrinfo("metadata.google.internal", 80))
attempt("remote", lambda: socket.create_connection(("192.0.2.1", 80), timeout=5).close())
attempt("http", lambda: urllib.request.urlopen("http://169.254.169.254/computeMetadata/v1/", timeout=5))
print(json.dumps(outcome))
"""


@pytest.mark.parametrize("allow_loopback", [True, False])
def test_guard_blocks_and_logs_every_connection_beyond_loopback(tmp_path, allow_loopback):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        log = tmp_path / "network.log"
        env = guarded_env(dict(os.environ), log, allow_loopback=allow_loopback)
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(port)], env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["loopback"] == ("ok" if allow_loopback else "OSError")
    assert outcome["lookup"] == "gaierror"
    assert outcome["remote"] == "OSError"
    assert outcome["http"] in ("URLError", "OSError")
    attempts = " ".join(network_attempts(log))
    assert "metadata.google.internal" in attempts and "192.0.2.1" in attempts and "169.254.169.254" in attempts
    assert (f"'127.0.0.1', {port}" in attempts) is not allow_loopback


def test_unguarded_processes_are_untouched(tmp_path):
    code = "import socket; print(socket.socket.connect.__qualname__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "socket.connect"
