"""The semantic judge's encoder as it was before packing (commit 6847240), the baseline that
bench/abstention_judge.py times side by side with harness.scoring.semantic.MiniLM: each batch of
sentences padded to its longest for every step, GELU over whole activations (about twenty passes,
each through memory), layer norms and residuals in fresh arrays. The same weights (the loaded ones,
whose query weights carry the attention's 1/√width) and arithmetic, so the two agree to float32 rounding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.scoring.semantic import _ERF, DIM, MiniLM


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(eps)) * weight + bias


def whole_array_gelu(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    z = a * np.float32(1 / np.sqrt(2))
    p, *c = _ERF
    t = z * np.float32(p)
    t += 1
    np.reciprocal(t, out=t)
    erf = t * np.float32(c[4])
    for k in (3, 2, 1, 0):
        erf += np.float32(c[k])
        erf *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    erf *= z
    np.subtract(1, erf, out=erf)
    erf *= a
    erf += x
    erf *= np.float32(0.5)
    return erf


def padded_forward(model: MiniLM, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    batch, length = ids.shape
    heads, width = model.heads, DIM // model.heads
    x = layer_norm(model.word[ids] + model.position[:length] + model.token_type, *model.embedding_norm, model.eps)
    pad = np.where(mask[:, None, None, :] > 0, np.float32(0), np.float32(-1e30))
    for layer in model.layers:
        h = (x.reshape(batch * length, DIM) @ layer.qkv + layer.qkv_bias).reshape(batch, length, 3, heads, width)
        h = h.transpose(2, 0, 3, 1, 4)
        scores = (h[0] @ h[1].transpose(0, 1, 3, 2)) + pad  # the loaded query weights carry the 1/√width
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        attended = (scores @ h[2]).transpose(0, 2, 1, 3).reshape(batch * length, DIM)
        x = layer_norm((attended @ layer.out + layer.out_bias).reshape(batch, length, DIM) + x, *layer.norm1, model.eps)
        inner = whole_array_gelu(x.reshape(batch * length, DIM) @ layer.up + layer.up_bias)
        x = layer_norm((inner @ layer.down + layer.down_bias).reshape(batch, length, DIM) + x, *layer.norm2, model.eps)
    m = mask[:, :, None].astype(np.float32)
    pooled = (x * m).sum(1) / np.maximum(m.sum(1), np.float32(1e-9))
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))


def padded_encode(model: MiniLM, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    encodings = model.tokenizer.encode_batch(list(texts))
    order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
    vectors = np.zeros((len(texts), DIM), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        chosen = order[start:start + batch_size]
        length = max(len(encodings[i].ids) for i in chosen)
        ids = np.zeros((len(chosen), length), dtype=np.int64)
        mask = np.zeros((len(chosen), length), dtype=np.int64)
        for row, i in enumerate(chosen):
            n = len(encodings[i].ids)
            ids[row, :n] = encodings[i].ids
            mask[row, :n] = 1
        vectors[chosen] = padded_forward(model, ids, mask)
    return vectors
