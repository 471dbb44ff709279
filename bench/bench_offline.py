"""Timings that tests used to assert on, each against a named baseline measured in the same run.

The tests now check the property these timings stood in for (no network touched, no entity expanded); this
script keeps the durations, interleaved best-of-N (the machine is shared):

- `billion_laughs`: refusing a 10**9-expansion entity bomb vs. reading a harmless dump of the same size.
- `gs_fresh_process`: a new process reading one object from the local GCS emulator with fake credentials vs.
  the same process reading the same bytes from a local file (the difference is the gs:// client start).
- `dataflow_dry_run`: `curation run --runner=DataflowRunner --dry_run=True` on the demo inputs (offline) vs. a
  process that only imports the run path.

    .venv/bin/python bench/bench_offline.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from cloud_servers import GCS_PROJECT, env_for, free_port, gcs_emulator, write_fake_gcp_credentials  # noqa: E402

from curation.readers.base import SourceFile  # noqa: E402
from curation.readers.wikipedia import read_wikipedia  # noqa: E402
from curation.sample import DEMO_INPUTS  # noqa: E402


def best(repeats: int, candidate: Callable[[], None], baseline: Callable[[], None]) -> tuple[float, float]:
    """Best-of-`repeats` seconds of (candidate, baseline), interleaved."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, out in ((candidate, times[0]), (baseline, times[1])):
            started = time.perf_counter()
            fn()
            out.append(time.perf_counter() - started)
    return min(times[0]), min(times[1])


def _dump(doctype: str, text: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n{doctype}\n<mediawiki><page><title>T</title><ns>0</ns><id>1</id>'
        f"<revision><text>{text}</text></revision></page></mediawiki>"
    ).encode()


def billion_laughs(repeats: int) -> tuple[float, float]:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    bomb = _dump(f"<!DOCTYPE mediawiki [{entities}]>", "&lol9;")
    harmless = _dump("", "lol " * (len(bomb) // 4))
    file = SourceFile("x.xml", "x.xml", "wikipedia", "wikipedia")

    def read(data: bytes) -> Callable[[], None]:
        return lambda: list(read_wikipedia(io.BytesIO(data), file, None))

    return best(repeats, read(bomb), read(harmless))


def _python(code: str, *args: str, env: dict[str, str] | None = None) -> Callable[[], None]:
    def run() -> None:
        subprocess.run([sys.executable, "-c", code, *args], env=env, check=True, capture_output=True, timeout=600)

    return run


def gs_fresh_process(repeats: int) -> tuple[float, float]:
    read = "from apache_beam.io.filesystems import FileSystems; import sys; FileSystems.open(sys.argv[1]).read()"
    with tempfile.TemporaryDirectory() as tmp, gcs_emulator(Path(tmp)) as server:
        bucket = server.create_bucket("bench")
        local = Path(tmp) / "probe.txt"
        local.write_bytes(b"probe")
        env = env_for(server)
        upload = "from apache_beam.io.filesystems import FileSystems; import sys; "
        upload += "f = FileSystems.create(sys.argv[1]); f.write(b'probe'); f.close()"
        _python(upload, f"{bucket}/probe.txt", env=env)()
        return best(repeats, _python(read, f"{bucket}/probe.txt", env=env), _python(read, str(local), env=env))


def dataflow_dry_run(repeats: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            k: v for k, v in os.environ.items() if k not in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT")
        }
        env["STORAGE_EMULATOR_HOST"] = f"http://127.0.0.1:{free_port()}"  # closed: any gs:// access would fail
        env["GOOGLE_APPLICATION_CREDENTIALS"] = str(write_fake_gcp_credentials(Path(tmp) / "creds.json"))
        args = ["run", "--output", "gs://no-such-bucket/out", "--runner=DataflowRunner", f"--project={GCS_PROJECT}"]
        args += ["--region=us-central1", "--temp_location=gs://no-such-bucket/tmp", "--dry_run=True"]
        for source, glob in DEMO_INPUTS:
            args += ["--input", f"{source}=gs://no-such-bucket/in/{glob}"]
        cli = "import sys; from curation.cli import main; sys.exit(main(sys.argv[1:]))"
        imports = "import curation.cli, pipelines.massivetext, apache_beam.runners.dataflow.dataflow_runner"
        return best(repeats, _python(cli, *args, env=env), _python(imports, env=env))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = {}
    for name, fn in (
        ("billion_laughs", billion_laughs),
        ("gs_fresh_process", gs_fresh_process),
        ("dataflow_dry_run", dataflow_dry_run),
    ):
        candidate, baseline = fn(args.repeats)
        rows[name] = {"ms": round(candidate * 1e3, 2), "baseline_ms": round(baseline * 1e3, 2)}
        rows[name]["ratio"] = round(candidate / baseline, 2)
        print(
            f"{name:18s} {candidate * 1e3:10.2f} ms  baseline {baseline * 1e3:10.2f} ms  ratio {candidate / baseline:6.2f}x"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
