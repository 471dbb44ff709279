"""The output protocol: what --overwrite may touch, staged writes, and the `_SUCCESS` commit."""

from __future__ import annotations

import json

import pytest

from pipelines.outputs import (
    MARKER,
    SUCCESS,
    OutputError,
    commit,
    is_complete,
    prepare_output,
    read_manifest,
    require_complete,
    write_staged,
)


def test_overwrite_refuses_a_folder_that_is_not_ours_and_keeps_every_file(tmp_path):
    sandbox = tmp_path / "sb"
    sandbox.mkdir()
    (sandbox / "in.jsonl").write_text('{"text": "x"}\n')
    (sandbox / "precious.txt").write_text("x")
    with pytest.raises(OutputError, match="contains input"):
        prepare_output(str(sandbox), overwrite=True, kind="run", inputs=[str(sandbox / "in.jsonl")])
    with pytest.raises(OutputError, match="not an output of this tool"):
        prepare_output(str(sandbox), overwrite=True, kind="run", inputs=[])
    assert sorted(p.name for p in sandbox.iterdir()) == ["in.jsonl", "precious.txt"]


def test_an_existing_file_as_out_is_never_deleted(tmp_path):
    target = tmp_path / "out"
    target.write_text("mine")
    with pytest.raises(OutputError, match="is a file"):
        prepare_output(str(target), overwrite=True, kind="run")
    assert target.read_text() == "mine"


@pytest.mark.parametrize(
    "out, glob",
    [
        ("data", "data/*.jsonl"),  # OUT equals the input folder
        ("data/out", "data/**/*.jsonl"),  # OUT inside a recursive input
        ("data/in.jsonl/x", "data/in.jsonl"),  # OUT inside an input path
    ],
)
def test_out_overlapping_an_input_is_refused(tmp_path, out, glob):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "in.jsonl").write_text("{}\n")
    with pytest.raises(OutputError):
        prepare_output(str(tmp_path / out), overwrite=False, kind="run", inputs=[str(tmp_path / glob)])


def test_overwrite_replaces_only_an_earlier_output_and_only_its_own_entries(tmp_path):
    out = tmp_path / "out"
    prepare_output(str(out), overwrite=False, kind="run", owned=["data"])
    entry = write_staged(str(out), "data/web/part-00000-of-00001.parquet", b"abc")
    commit(str(out), [entry], {"config": {}})
    assert is_complete(str(out))
    with pytest.raises(OutputError, match="use --overwrite"):
        prepare_output(str(out), overwrite=False, kind="run", owned=["data"])
    (out / "notes.txt").write_text("user file")
    with pytest.raises(OutputError, match="did not write"):
        prepare_output(str(out), overwrite=True, kind="run", owned=["data"])
    assert (out / "notes.txt").read_text() == "user file" and (out / SUCCESS).exists()
    (out / "notes.txt").unlink()
    prepare_output(str(out), overwrite=True, kind="run", owned=["data"])
    assert sorted(p.name for p in out.iterdir()) == [MARKER]


def test_nothing_is_visible_before_commit_and_everything_after(tmp_path):
    out = tmp_path / "out"
    prepare_output(str(out), overwrite=False, kind="run", owned=["data", "stats.json"])
    entries = [
        write_staged(str(out), "data/web/part-00000-of-00002.parquet", b"one"),
        write_staged(str(out), "data/web/part-00001-of-00002.parquet", b"two"),
        write_staged(str(out), "stats.json", b"{}"),
    ]
    assert not (out / "data").exists() and not is_complete(str(out))
    with pytest.raises(OutputError, match="unfinished"):
        require_complete(str(out))
    commit(str(out), entries, {"config": {"a": 1}})
    assert (out / "data" / "web" / "part-00001-of-00002.parquet").read_bytes() == b"two"
    assert not (out / "_temporary").exists()
    manifest = read_manifest(str(out))
    assert [s["path"] for s in manifest["shards"]] == sorted(e["path"] for e in entries)
    assert manifest["config"] == {"a": 1}
    assert json.loads((out / "manifest.json").read_text()) == manifest


def test_an_unwritable_out_is_a_usage_error_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write"):
        prepare_output(str(blocker / "out"), overwrite=False, kind="run")


def test_resume_needs_an_unfinished_output_of_the_same_run(tmp_path):
    out = tmp_path / "out"
    prepare_output(str(out), overwrite=False, kind="run", fingerprint="abc")
    write_staged(str(out), "work/item-0.json", b"{}")
    with pytest.raises(OutputError, match="differ"):
        prepare_output(str(out), overwrite=False, kind="run", resume=True, fingerprint="xyz")
    prepare_output(str(out), overwrite=False, kind="run", resume=True, fingerprint="abc")
    assert (out / "_temporary" / "work" / "item-0.json").exists()
