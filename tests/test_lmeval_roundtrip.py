"""The three lm-eval directions end to end, with real lm-eval runs of tiny local models.

One exported harness suite plus two hand-written local lm-eval tasks (a multiple-choice one
and a generative one with two filters) are run by
  A: the `lm_eval` command itself          (→ imported with `harness import lm-eval`)
  B: `harness eval --lm-eval-task ...`     (lm-eval's API inside a harness run)
and compared with `harness eval --suite` on the same items with the same model.
"""

from __future__ import annotations

import re

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("lm_eval")

OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
MAX_NEW = "12"
N_ITEMS = 4

TOY_MC = [
    {"question": "Which is a colour?", "choices": ["red", "seven"], "label": 0},
    {"question": "Which is a number?", "choices": ["blue", "seven"], "label": 1},
    {"question": "Which is an animal?", "choices": ["cat", "table"], "label": 0},
    {"question": "Which is a fruit?", "choices": ["chair", "apple"], "label": 1},
    {"question": "Which is a planet?", "choices": ["Mars", "spoon"], "label": 0},
]
TOY_GEN = [{"question": f"What is {a} plus {b}?", "answer": str(a + b)} for a, b in ((2, 2), (3, 4), (10, 5))]


def write_local_tasks(folder: Path) -> None:
    (folder / "toy_mc.jsonl").write_text("".join(json.dumps(r) + "\n" for r in TOY_MC))
    (folder / "toy_gen.jsonl").write_text("".join(json.dumps(r) + "\n" for r in TOY_GEN))
    (folder / "toy_mc.yaml").write_text(
        f"""task: toy_mc
dataset_path: json
dataset_kwargs:
  data_files:
    test: {folder / 'toy_mc.jsonl'}
test_split: test
output_type: multiple_choice
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_choice: choices
doc_to_target: label
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 2.0
"""
    )
    (folder / "toy_gen.yaml").write_text(
        f"""task: toy_gen
dataset_path: json
dataset_kwargs:
  data_files:
    test: {folder / 'toy_gen.jsonl'}
test_split: test
output_type: generate_until
doc_to_text: "Q: {{{{question}}}}\\nA:"
doc_to_target: answer
generation_kwargs:
  until: ["\\n\\n"]
  do_sample: false
  max_gen_toks: 8
filter_list:
  - name: strict
    filter:
      - function: regex
        regex_pattern: "(\\\\d+)"
      - function: take_first
  - name: loose
    filter:
      - function: take_first
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""
    )


def varied_tiny_model(path: Path, seed: int) -> Path:
    """The tiny fixture model with larger random weights, so greedy outputs differ from item to item."""
    import torch
    from tiny_model import build_tiny_model
    from transformers import AutoModelForCausalLM

    build_tiny_model(path, seed=seed)
    model = AutoModelForCausalLM.from_pretrained(path)
    torch.manual_seed(seed)
    with torch.no_grad():
        for weight in model.parameters():
            if weight.dim() == 2:
                weight.normal_(0.0, 0.5)
    model.save_pretrained(path)
    return path


def lm_eval_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "lm_eval"
    env = {**os.environ, **OFFLINE}
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=600, env=env, cwd=cwd)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from conftest import run_cli

    root = tmp_path_factory.mktemp("lmeval-roundtrip")
    model_a = varied_tiny_model(root / "model-a", seed=1)
    model_b = varied_tiny_model(root / "model-b", seed=2)
    tasks = root / "tasks"
    exported = run_cli("export", "lm-eval", "--suite", "arithmetic", "--out", str(tasks), "--limit", str(N_ITEMS),
                       "--max-new-tokens", MAX_NEW)
    assert exported.returncode == 0, exported.stderr
    write_local_tasks(tasks)

    # A: lm-eval's own command line, as a team already runs it
    run_a = lm_eval_cli("--model", "hf", "--model_args", f"pretrained={model_a}", "--include_path", str(tasks),
                        "--tasks", "harness_arithmetic,toy_mc,toy_gen", "--apply_chat_template", "--batch_size", "1",
                        "--device", "cpu", "--log_samples", "--output_path", str(root / "lm-eval-a"), cwd=root)
    assert run_a.returncode == 0, run_a.stderr[-3000:]

    # the same model and items through harness's own loop, at lm-eval's dtype (its `auto` is the checkpoint's float32;
    # harness's CPU `auto` is bfloat16 on a processor that computes in it)
    native_a = run_cli("eval", "--model", f"hf:{model_a}", "--suite", "arithmetic", "--limit", str(N_ITEMS),
                       "--max-new-tokens", MAX_NEW, "--batch-size", "1", "--device", "cpu", "--dtype", "float32", "--no-cache",
                       "--no-progress", "--out", str(root / "native-a"), env=OFFLINE)
    assert native_a.returncode == 0, native_a.stderr[-3000:]

    # B: lm-eval tasks inside a harness run
    run_b = run_cli("eval", "--model", f"hf:{model_b}", "--lm-eval-task", "harness_arithmetic",
                    "--lm-eval-task", "toy_mc:knowledge", "--lm-eval-task", "toy_gen:knowledge",
                    "--lm-eval-include-path", str(tasks), "--max-new-tokens", MAX_NEW, "--batch-size", "1",
                    "--device", "cpu", "--no-progress", "--out", str(root / "harness-b"), env=OFFLINE)
    assert run_b.returncode == 0, run_b.stderr[-3000:]
    return root


CAPABILITY_ARGS = ("--capability", "toy_mc=knowledge", "--capability", "toy_gen=knowledge")


@pytest.fixture(scope="module")
def imported(world):
    """`harness import lm-eval` of run A's output and of the lm-eval output run B left in OUT/lm-eval/."""
    from conftest import run_cli

    paths = {"a": world / "imported-a", "b": world / "imported-b"}
    for key, source in (("a", world / "lm-eval-a"), ("b", world / "harness-b" / "lm-eval")):
        done = run_cli("import", "lm-eval", str(source), "--out", str(paths[key]), *CAPABILITY_ARGS)
        assert done.returncode == 0, done.stderr
    return paths


def test_same_model_same_items_same_outputs_and_accuracy(world):
    """`lm_eval` on the exported task and `harness eval` on the suite agree item by item."""
    from harness.results import load_results

    lm_eval_samples = read_jsonl(next((world / "lm-eval-a").rglob("samples_harness_arithmetic_*.jsonl")))
    native, native_records = load_results(world / "native-a")
    assert len(lm_eval_samples) == len(native_records) == N_ITEMS
    by_id = {r.item_id: r for r in native_records}
    for sample in lm_eval_samples:
        record = by_id[sample["doc"]["id"]]
        assert sample["resps"][0][0] == record.output  # identical greedy generation
        assert sample["acc"] == float(record.correct)
    assert len({r.output for r in native_records}) > 1, "the model should say different things to different items"
    lm_eval_results = json.loads(next((world / "lm-eval-a").rglob("results_*.json")).read_text())
    lm_eval_acc = lm_eval_results["results"]["harness_arithmetic"]["acc,none"]
    assert lm_eval_acc == pytest.approx(native.capabilities["math"].score)


def test_import_gives_harness_records(world, imported, cli):
    from harness.results import load_results

    missing = cli("import", "lm-eval", str(world / "lm-eval-a"), "--out", str(world / "imported-x"))
    assert missing.returncode == 2 and "toy_mc" in missing.stderr and "--capability" in missing.stderr
    assert not (world / "imported-x").exists()

    results, records = load_results(imported["a"])
    assert set(results.suites) == {"arithmetic", "lm-eval:toy_mc", "lm-eval:toy_gen"}
    assert results.model.backend == "lm-eval:hf"

    # the exported suite comes back as the suite itself: comparable with a native harness run
    native, native_records = load_results(world / "native-a")
    assert results.suites["arithmetic"] == native.suites["arithmetic"]
    arithmetic = {r.item_id: r for r in records if r.suite == "arithmetic"}
    assert {k: (r.output, r.correct, r.variant) for k, r in arithmetic.items()} == {
        r.item_id: (r.output, r.correct, r.variant) for r in native_records
    }
    assert results.extra["lm_eval"]["tasks"]["harness_arithmetic"]["disagreements_with_lm_eval"] == 0

    # multiple choice: the output is the highest-likelihood choice, scored by lm-eval's acc
    mc_samples = {s["doc_id"]: s for s in read_jsonl(next((world / "lm-eval-a").rglob("samples_toy_mc_*.jsonl")))}
    mc = [r for r in records if r.suite == "lm-eval:toy_mc"]
    assert len(mc) == len(TOY_MC)
    for r in mc:
        sample = mc_samples[int(r.item_id.rsplit("/", 1)[1])]
        doc = TOY_MC[sample["doc_id"]]
        lls = [float(x[0]) for x in sample["filtered_resps"]]
        assert r.output == doc["choices"][lls.index(max(lls))] and r.answer == lls.index(max(lls))
        assert r.correct == (r.answer == doc["label"]) == (sample["acc"] == 1.0)
    lm_eval_results = json.loads(next((world / "lm-eval-a").rglob("results_*.json")).read_text())
    assert sum(r.score for r in mc) / len(mc) == pytest.approx(lm_eval_results["results"]["toy_mc"]["acc,none"])

    # generative with two filters: the first filter listed is the one scored
    gen = [r for r in records if r.suite == "lm-eval:toy_gen"]
    assert len(gen) == len(TOY_GEN) and results.extra["lm_eval"]["tasks"]["toy_gen"]["filter"] == "strict"
    assert [r.reference_answer for r in gen] == [d["answer"] for d in TOY_GEN]


def test_harness_eval_runs_lm_eval_tasks_like_an_import(world, imported):
    """The run path's records equal an import of the lm-eval output it left in OUT/lm-eval/."""
    from harness.results import load_results

    results, records = load_results(world / "harness-b")
    assert set(results.suites) == {"arithmetic", "lm-eval:toy_mc", "lm-eval:toy_gen"}
    assert results.model.backend == "hf" and results.generation.max_new_tokens == int(MAX_NEW)
    assert results.capabilities["knowledge"].n == len(TOY_MC) + len(TOY_GEN)
    _, imported_records = load_results(imported["b"])
    assert [r.model_dump() for r in imported_records] == [r.model_dump() for r in records]


def test_retention_between_two_imported_lm_eval_runs(world, imported, cli):
    from harness.results import load_results

    result = cli("retention", "--teacher", str(world / "imported-a"), "--student", str(world / "imported-b"))
    assert result.returncode == 0, result.stderr
    table = result.stdout.split("Retention per capability", 1)[1].split("\n\n", 1)[0]
    # "8 (4 groups)": the n cell carries the problem groups beside the items; compare the items.
    lines = [re.sub(r" \(\d+ groups\)", "", line) for line in table.splitlines()[3:] if line.strip()]
    rows = {line.split()[0]: line.split() for line in lines}
    for name, capability, n in (("imported-a", "knowledge", 8), ("imported-b", "knowledge", 8), ("imported-a", "math", 4)):
        summary = load_results(world / name)[0].capabilities[capability]
        assert summary.n == n
        column = 1 if name == "imported-a" else 2
        assert rows[capability][column] == f"{summary.score:.3f}" and rows[capability][-4] == str(n)  # n, before T only, S only, McNemar p
    # and the release gate judges lm-eval tasks like any capability
    verdict_path = world / "gate.json"
    gate = cli("gate", "--teacher", str(world / "imported-a"), "--student", str(world / "imported-b"),
               "--min-retention", "0.5", "--json", str(verdict_path))
    assert gate.returncode in (0, 1), gate.stderr
    verdict = json.loads(verdict_path.read_text())
    knowledge = next(r for r in verdict["retention"] if r["capability"] == "knowledge")
    teacher = load_results(world / "imported-a")[0].capabilities["knowledge"].score
    student = load_results(world / "imported-b")[0].capabilities["knowledge"].score
    assert knowledge["n"] == 8 and knowledge["teacher"] == pytest.approx(teacher)
    assert knowledge["retention"] == (pytest.approx(student / teacher) if teacher > 0 else None)
    # an imported lm-eval run of an exported suite also compares with a native harness run of it: the same
    # outputs, so the student column equals the teacher's (retention itself needs 5 items; these are 4)
    mixed = cli("retention", "--teacher", str(world / "native-a"), "--student", str(world / "imported-a"), "--intersect",
                "--format", "json")
    assert mixed.returncode == 0, mixed.stderr
    (math_row,) = [r for r in json.loads(mixed.stdout)["rows"] if r["capability"] == "math"]
    native_math = load_results(world / "native-a")[0].capabilities["math"].score
    assert math_row["n"] == N_ITEMS and math_row["teacher"] == math_row["student"] == pytest.approx(native_math)
    assert math_row["retention"] is None and f"only {N_ITEMS} paired items" in math_row["undefined_reason"]


def test_unknown_task_and_reference_model_are_clear_errors(world, cli):
    unknown = cli("eval", "--model", "reference", "--lm-eval-task", "toy_mcq:knowledge",
                  "--lm-eval-include-path", str(world / "tasks"), "--out", str(world / "bad"), env=OFFLINE)
    assert unknown.returncode == 2 and "model reference cannot run lm-eval tasks" in unknown.stderr
    model = world / "model-a"
    unknown = cli("eval", "--model", f"hf:{model}", "--lm-eval-task", "toy_mcq:knowledge",
                  "--lm-eval-include-path", str(world / "tasks"), "--out", str(world / "bad"), env=OFFLINE)
    assert unknown.returncode == 2 and "unknown lm-eval task 'toy_mcq'" in unknown.stderr and "toy_mc" in unknown.stderr
    no_cap = cli("eval", "--model", f"hf:{model}", "--lm-eval-task", "toy_mc", "--lm-eval-task", "bad:colour",
                 "--out", str(world / "bad"), env=OFFLINE)
    assert no_cap.returncode == 2 and "unknown capability 'colour'" in no_cap.stderr


def test_plain_prompt_style_matches_a_model_without_chat_template(world, monkeypatch):
    """Base models: `--prompt-style plain` export ≡ harness's prompt when the tokenizer has no chat template.
    Also runs a harness suite and an lm-eval task in one harness run, sharing one loaded model."""
    import shutil

    from harness.evaluate import EvalConfig, run_eval
    from harness.lmeval.export import export_suite
    from harness.lmeval.run import eval_with_lm_eval
    from harness.types import GenerationParams

    for key, value in OFFLINE.items():
        monkeypatch.setenv(key, value)
    base = world / "model-a-base"
    if not base.exists():
        shutil.copytree(world / "model-a", base)
        config = json.loads((base / "tokenizer_config.json").read_text())
        config.pop("chat_template", None)
        (base / "tokenizer_config.json").write_text(json.dumps(config))
        (base / "chat_template.jinja").unlink(missing_ok=True)
    plain = world / "tasks-plain"
    export_suite("arithmetic", plain, limit=N_ITEMS, max_new_tokens=int(MAX_NEW), prompt_style="plain")

    def config(suites):
        return EvalConfig(model=f"hf:{base}", suites=suites, limit=N_ITEMS, progress=False, use_cache=False,
                          generation=GenerationParams(max_new_tokens=int(MAX_NEW)),
                          backend_options={"batch_size": 1, "device": "cpu"})

    _, native = run_eval(config(["arithmetic"]))
    results, mixed = eval_with_lm_eval(config(["knowledge"]), ["harness_arithmetic"], out_dir=world / "mixed",
                                       include_path=plain)
    assert results.extra["lm_eval"]["apply_chat_template"] is False
    assert set(results.suites) == {"knowledge", "arithmetic"}
    via_lm_eval = [(r.item_id, r.output, r.correct) for r in mixed if r.suite == "arithmetic"]
    assert via_lm_eval == [(r.item_id, r.output, r.correct) for r in native]
    assert len({output for _, output, _ in via_lm_eval}) > 1
