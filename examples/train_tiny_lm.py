"""Train a tiny decoder-only language model on a `curation tokenize` output, on CPU, with JAX.

    python examples/train_tiny_lm.py TOK --steps 300

It reads (batch, seq_len + 1) int32 batches from `curation.loader.TokenLoader` (mixture, packing, prefetch),
places them with `curation.jax_data.device_batches`, and prints the training loss, which falls within a few
hundred steps. The model (one causal self-attention block) and Adam are written out in plain JAX so the example
needs nothing beyond `pip install 'massivetext-curation[jax]'`.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from curation.jax_data import device_batches
from curation.loader import TokenLoader


def init_params(key: jax.Array, vocab: int, d: int, seq_len: int) -> dict[str, jax.Array]:
    """Embeddings, one attention block, one MLP; small normal initialisation."""
    ks = jax.random.split(key, 6)
    s = 0.02
    return {
        "embed": jax.random.normal(ks[0], (vocab, d)) * s,
        "pos": jax.random.normal(ks[1], (seq_len, d)) * s,
        "qkv": jax.random.normal(ks[2], (d, 3 * d)) * s,
        "out": jax.random.normal(ks[3], (d, d)) * s,
        "mlp_in": jax.random.normal(ks[4], (d, 4 * d)) * s,
        "mlp_out": jax.random.normal(ks[5], (4 * d, d)) * s,
    }


def _norm(x: jax.Array) -> jax.Array:
    return (x - x.mean(-1, keepdims=True)) * jax.lax.rsqrt(x.var(-1, keepdims=True) + 1e-5)


def forward(params: dict[str, jax.Array], tokens: jax.Array) -> jax.Array:
    """Logits (batch, seq, vocab) of a one-block causal transformer with tied embeddings."""
    b, t = tokens.shape
    x = params["embed"][tokens] + params["pos"][:t]
    q, k, v = jnp.split(_norm(x) @ params["qkv"], 3, axis=-1)
    scores = (q @ k.transpose(0, 2, 1)) / math.sqrt(q.shape[-1])
    scores = jnp.where(jnp.tril(jnp.ones((t, t), bool)), scores, -1e9)
    x = x + (jax.nn.softmax(scores, axis=-1) @ v) @ params["out"]
    x = x + jax.nn.gelu(_norm(x) @ params["mlp_in"]) @ params["mlp_out"]
    return _norm(x) @ params["embed"].T


def loss_fn(params: dict[str, jax.Array], batch: jax.Array) -> jax.Array:
    """Next-token cross-entropy: inputs batch[:, :-1], targets batch[:, 1:]."""
    logits = forward(params, batch[:, :-1])
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.take_along_axis(logp, batch[:, 1:, None], axis=-1).mean()


def make_step(lr: float, b1: float = 0.9, b2: float = 0.99):
    """A jitted Adam step: (params, m, v, t, batch) -> (params, m, v, loss)."""

    @jax.jit
    def step(params, m, v, t, batch):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        m = jax.tree.map(lambda a, g: b1 * a + (1 - b1) * g, m, grads)
        v = jax.tree.map(lambda a, g: b2 * a + (1 - b2) * g * g, v, grads)
        scale = lr * jnp.sqrt(1 - b2**t) / (1 - b1**t)
        params = jax.tree.map(lambda p, a, c: p - scale * a / (jnp.sqrt(c) + 1e-8), params, m, v)
        return params, m, v, loss

    return step


def train(
    tok_dir: str | Path,
    steps: int = 300,
    batch_size: int = 16,
    seq_len: int = 64,
    d_model: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
    mixture: str | None = None,
    log_every: int = 25,
) -> list[float]:
    """Train for `steps` steps; returns the loss of every step."""
    vocab = int(json.loads((Path(tok_dir) / "manifest.json").read_text())["tokenizer"]["vocab_size"])
    loader = TokenLoader(tok_dir, batch_size, seq_len, mixture=mixture, seed=seed, renormalize=True)
    for note in loader.notes:
        print(f"note: {note}")
    params = init_params(jax.random.PRNGKey(seed), vocab, d_model, seq_len)
    m = jax.tree.map(jnp.zeros_like, params)
    v = jax.tree.map(jnp.zeros_like, params)
    step = make_step(lr)
    losses: list[float] = []
    try:
        for t, batch in enumerate(device_batches(loader), start=1):
            params, m, v, loss = step(params, m, v, t, batch)
            losses.append(float(loss))
            if t == 1 or t % log_every == 0 or t == steps:
                print(f"step {t:5d}  loss {losses[-1]:.4f}")
            if t == steps:
                break
    finally:
        loader.close()
    return losses


def main(argv: Sequence[str] | None = None) -> list[float]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("tok", help="a `curation tokenize` output folder")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mixture", help="gopher | chinchilla | a YAML file (default: the config's mixture.default)")
    a = p.parse_args(argv)
    losses = train(a.tok, a.steps, a.batch_size, a.seq_len, a.d_model, a.lr, a.seed, a.mixture)
    head, tail = np.mean(losses[:10]), np.mean(losses[-10:])
    print(f"mean loss of the first 10 steps {head:.3f}, of the last 10 steps {tail:.3f}")
    return losses


if __name__ == "__main__":
    main()
