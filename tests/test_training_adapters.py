"""Framework adapters and the example training loop on the tokenized demo output."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from shared_data import REPO

from curation.loader import TokenLoader


def _example():
    spec = importlib.util.spec_from_file_location("train_tiny_lm", REPO / "examples" / "train_tiny_lm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_example_training_loop_loss_falls(tokenized_demo, capsys):
    losses = _example().main([str(tokenized_demo), "--steps", "30", "--batch-size", "8", "--seq-len", "32"])
    assert len(losses) == 30 and all(np.isfinite(losses))
    assert np.mean(losses[-5:]) < losses[0] - 0.5
    assert "loss" in capsys.readouterr().out


def test_jax_device_batches_match_the_loader(tokenized_demo):
    import jax

    from curation.jax_data import device_batches

    plain = TokenLoader(tokenized_demo, 4, 16, mixture="chinchilla", renormalize=True, seed=9)
    expected = [next(plain) for _ in range(5)]
    plain.close()
    placed = TokenLoader(tokenized_demo, 4, 16, mixture="chinchilla", renormalize=True, seed=9)
    got = []
    for batch in device_batches(placed):
        assert isinstance(batch, jax.Array) and batch.dtype == np.int32
        got.append(np.asarray(batch))
        if len(got) == 5:
            break
    placed.close()
    assert all((a == b).all() for a, b in zip(expected, got, strict=True))


def test_torch_dataset_yields_the_loader_batches_and_resumes(tokenized_demo):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    from curation.torch_data import TokenDataset

    kwargs = {"mixture": "chinchilla", "renormalize": True, "seed": 9}
    dataset = TokenDataset(tokenized_demo, 4, 16, **kwargs)
    it = iter(DataLoader(dataset, batch_size=None))
    first = [next(it) for _ in range(3)]
    state = dataset.state_dict()
    following = [next(it) for _ in range(2)]
    plain = TokenLoader(tokenized_demo, 4, 16, **kwargs)
    expected = [next(plain) for _ in range(5)]
    plain.close()
    assert all(isinstance(t, torch.Tensor) and t.dtype == torch.int32 for t in first)
    assert all((t.numpy() == e).all() for t, e in zip(first + following, expected, strict=True))
    resumed = TokenDataset(tokenized_demo, 4, 16, **kwargs)
    resumed.load_state_dict(state)
    again = iter(DataLoader(resumed, batch_size=None))
    assert all((next(again).numpy() == e).all() for e in expected[3:])


def test_adapters_say_which_extra_to_install_when_the_framework_is_missing(monkeypatch):
    for module, extra in (("curation.torch_data", "torch"), ("curation.jax_data", "jax")):
        monkeypatch.setitem(sys.modules, extra, None)
        monkeypatch.delitem(sys.modules, module, raising=False)
        with pytest.raises(ImportError, match=rf"massivetext-curation\[{extra}\]"):
            importlib.import_module(module)
        monkeypatch.delitem(sys.modules, module, raising=False)
