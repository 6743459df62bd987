"""The style metric: a model compared with itself retains ~1.0, an off-topic model scores
low, style-only changes land in between, and each stylometric feature reacts to what it
claims to measure."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from harness.retention import paired_scores
from harness.scoring.style import compare, feature_similarity, features, relative_scores
from harness.suite import get_suite
from harness.types import SampleRecord

N = 12


@pytest.fixture(scope="module")
def items():
    return get_suite("style").items("test", variants=["canonical"])[:N]


def record(item, output, samples=()):
    return SampleRecord(
        item_id=item.id, suite="style", capability="style", split="test", variant=item.variant.kind,
        output=output, correct=True, score=1.0, samples=[{"output": s} for s in samples],
    )  # fmt: skip


def retention(teacher, student):
    t, s = paired_scores(list(zip(teacher, student, strict=True)))
    return sum(s) / sum(t)


def restyle(text: str) -> str:
    """Same content, different style: hedged bullet points under a bold heading."""
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    return "**Key points**\n" + "\n".join(f"- It seems that, perhaps, {s[0].lower()}{s[1:]}" for s in sentences)


def test_suite_is_relative_with_default_shape():
    suite = get_suite("style")
    assert suite.relative
    counts = suite.counts()["test"]
    assert counts == {"canonical": 40, "rephrased": 40, "brief": 40}
    assert {it.metadata["genre"] for it in suite.items("test")} == {"explain", "summary", "essay", "advice"}


def test_model_compared_with_itself_retains_one(items):
    teacher = [record(it, it.reference_response) for it in items]
    student = [record(it, it.reference_response) for it in items]
    assert retention(teacher, student) == pytest.approx(1.0)


def test_sampled_teacher_uses_its_self_similarity(items):
    # Two teacher samples that differ (the second restyled): the denominator is their
    # similarity, so a student that reproduces the teacher's samples retains ~1.0.
    outs = [(it.reference_response, restyle(it.reference_response)) for it in items]
    teacher = [record(it, a, samples=(a, b)) for it, (a, b) in zip(items, outs)]
    student = [record(it, a, samples=(b, a)) for it, (a, b) in zip(items, outs)]
    t, s, _ = relative_scores([[a, b] for a, b in outs], [[b, a] for a, b in outs])
    assert all(ti < 0.95 for ti in t)  # the samples differ, so self-similarity is below 1
    assert retention(teacher, student) == pytest.approx(sum(s) / sum(t))
    assert 0.9 < retention(teacher, student) < 1.2


def test_off_topic_model_scores_low_and_restyled_model_in_between(items):
    teacher = [record(it, it.reference_response) for it in items]
    off_topic = [record(it, items[(i + 5) % N].reference_response) for i, it in enumerate(items)]
    restyled = [record(it, restyle(it.reference_response)) for it in items]
    off, mid = retention(teacher, off_topic), retention(teacher, restyled)
    assert off < 0.5
    assert off < mid < 0.95


def test_eval_time_score_compares_with_reference(items):
    suite = get_suite("style")
    item = items[0]
    same, other, empty = suite.score_many([item] * 3, [item.reference_response, items[3].reference_response, ""])
    assert same.value == 1.0 and same.correct
    assert other.value < 0.5 and not other.correct
    assert empty.value == 0.0 and not empty.correct
    assert set(other.details) >= {"embedding", "features", "length", "markdown", "hedging", "lexical_diversity", "sentence_length"}


def test_features_measure_what_they_claim():
    plain = "Tides rise and fall twice a day. The Moon pulls the oceans."
    hedged = "Tides might rise and fall twice a day. Perhaps the Moon probably pulls the oceans."
    marked = "## Tides\n- Tides rise and fall twice a day.\n- The **Moon** pulls the oceans."
    fp, fh, fm = features(plain), features(hedged), features(marked)
    assert fp.hedges_per_100 == 0 and fh.hedges_per_100 > 10
    assert fm.heading_lines > 0 and fm.list_lines > 0 and fm.emphasis > 0 and fp.list_lines == 0
    assert feature_similarity(fp, fh)["hedging"] < 0.5 < feature_similarity(fp, fp)["hedging"]
    assert feature_similarity(fp, fm)["markdown"] < 1.0
    long = " ".join([plain] * 6)
    assert feature_similarity(fp, features(long))["length"] == pytest.approx(1 / 6, abs=0.01)
    assert compare(plain, plain).total == 1.0


@pytest.mark.slow
def test_the_embedding_models_load_offline_without_touching_the_process_environment(monkeypatch):
    # HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE used to be set for the whole process on the first load
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    code = ("import json, os; before = dict(os.environ); import harness.scoring.style, harness.scoring.semantic; "
            "print(json.dumps(dict(os.environ) == before))")
    assert json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    from harness.scoring import semantic, style

    before = dict(os.environ)
    style.embedding_model.cache_clear()
    semantic._load_model.cache_clear()
    for module in (style, semantic):
        assert module.embedding_model().encode(["a sentence"]).shape == (1, 384)
    assert dict(os.environ) == before


def test_eval_all_three_suites_on_the_embedded_model(cli, embedded_model_dir, tmp_path):
    from harness.results import load_results

    out = tmp_path / "run"
    proc = cli(
        "eval", "--suite", "format", "--suite", "style", "--suite", "knowledge",
        "--limit", "6", "--max-new-tokens", "96", "--out", str(out), "--no-progress",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    results, records = load_results(out / "results.json")
    assert set(results.suites) == {"format", "style", "knowledge"}
    for cap in ("format", "style", "knowledge"):
        summary = results.capabilities[cap]
        assert summary.n == 6 and 0.0 <= summary.score <= 1.0
    by_suite = {name: [r for r in records if r.suite == name] for name in results.suites}
    # format records keep per-constraint [strict, loose] results
    assert all(set(r.answer) == {c["id"] for c in r.reference_answer} for r in by_suite["format"])
    # the real model answers on topic: its style similarity to the references is far from zero
    assert results.capabilities["style"].score > 0.4
    assert all(r.output.strip() for r in by_suite["style"])
    # a model compared with itself retains exactly 1.0 of its style
    style_pairs = [(r, r) for r in by_suite["style"]]
    t, s = paired_scores(style_pairs)
    assert sum(s) / sum(t) == pytest.approx(1.0)
