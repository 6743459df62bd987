"""`harness eval --model hf:RUN` on a `harness train` output: every checkpoint and the final model, LoRA included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_train import chat_data, small_config  # noqa: F401  (chat_data is a fixture)


def _touch_model(path: Path, adapter: bool = False) -> Path:
    path.mkdir(parents=True)
    (path / ("adapter_config.json" if adapter else "config.json")).write_text("{}")
    return path


def test_sweep_points_of_fabricated_layouts(tmp_path):
    from harness.sweep import find_sweep_points, sweep_run_dir

    # harness train: RUN/checkpoints/checkpoint-N (full or adapter) + RUN/model + train_summary.json
    run = tmp_path / "run"
    for step in (10, 2):
        _touch_model(run / "checkpoints" / f"checkpoint-{step}", adapter=step == 2)
    (run / "checkpoints" / "checkpoint-7").mkdir()  # an interrupted save: no config, skipped
    _touch_model(run / "model")
    (run / "train_summary.json").write_text(json.dumps({"global_step": 12}))
    points = find_sweep_points(run)
    assert [(p.step, p.label) for p in points] == [(2, "checkpoint-2"), (10, "checkpoint-10"), (12, "final")]
    assert points[-1].path == run / "model" and sweep_run_dir(f"hf:{run}") == run
    # without a summary the final model sits at the last checkpoint's step
    (run / "train_summary.json").unlink()
    assert find_sweep_points(run)[-1].step == 10

    # a trainer's output_dir: RUN/checkpoint-N only
    flat = tmp_path / "flat"
    _touch_model(flat / "checkpoint-5")
    assert [(p.step, p.label) for p in find_sweep_points(flat)] == [(5, "checkpoint-5")]

    # a model folder itself (full or adapter) is no sweep; nor is an empty folder
    assert sweep_run_dir(f"hf:{run / 'model'}") is None
    assert sweep_run_dir(f"hf:{run / 'checkpoints' / 'checkpoint-2'}") is None
    (tmp_path / "empty").mkdir()
    assert sweep_run_dir(f"hf:{tmp_path / 'empty'}") is None and sweep_run_dir("reference") is None


def test_evaluated_points_read_back_in_step_order(tmp_path):
    from harness.sweep import POINT_FILE, evaluated_points, is_sweep_dir

    out = tmp_path / "out"
    for name in ("checkpoint-4", "checkpoint-2", "final", "checkpoint-9"):
        (out / name).mkdir(parents=True)
        if name != "checkpoint-9":  # not evaluated yet
            (out / name / "results.json").write_text("{}")
    (out / "final" / POINT_FILE).write_text(json.dumps({"step": 4}))
    assert [(p.step, p.label) for p in evaluated_points(out)] == [(2, "checkpoint-2"), (4, "checkpoint-4"), (4, "final")]
    assert is_sweep_dir(out)


def test_directory_with_neither_is_a_clear_exit_2(cli, tmp_path):
    (tmp_path / "run" / "logs").mkdir(parents=True)
    proc = cli("eval", "--model", f"hf:{tmp_path / 'run'}", "--suite", "arithmetic", "--limit", "2",
               "--out", str(tmp_path / "out"), "--no-progress")
    assert proc.returncode == 2
    assert "not a model checkpoint" in proc.stderr and "nor a training output" in proc.stderr


@pytest.fixture(scope="module")
def train_runs(tiny_model_dir, chat_data, tmp_path_factory):  # noqa: F811
    from harness.trainers.sft import train

    root = tmp_path_factory.mktemp("train-runs")
    runs = {}
    for name, lora in (("full", False), ("lora", True)):
        config = small_config(max_steps=2, save_steps=1, lora=lora, learning_rate=5e-2, packing=False)
        train(config, f"hf:{tiny_model_dir}", chat_data, root / name)
        runs[name] = root / name
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["full", "lora"])
def test_eval_sweeps_a_train_output(cli, train_runs, tiny_model_dir, tmp_path, kind):
    run = train_runs[kind]
    adapter = run / "checkpoints" / "checkpoint-1"
    assert (adapter / ("adapter_config.json" if kind == "lora" else "config.json")).is_file()
    out = tmp_path / "sweep"
    args = ("eval", "--model", f"hf:{run}", "--suite", "arithmetic", "--limit", "2", "--max-new-tokens", "4",
            "--out", str(out), "--no-progress", "--no-cache")
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint-1", "checkpoint-2", "final"]
    for name in ("checkpoint-1", "checkpoint-2", "final"):
        results = json.loads((out / name / "results.json").read_text())
        assert results["capabilities"]["math"]["n"] == 2
    assert json.loads((out / "final" / "sweep_point.json").read_text())["step"] == 2
    final = json.loads((out / "final" / "results.json").read_text())
    assert final["model"]["spec"] == f"hf:{run / 'model'}"
    ckpt = json.loads((out / "checkpoint-1" / "results.json").read_text())["model"]["fingerprint"]
    if kind == "lora":  # the adapter is keyed with its base model
        assert ckpt["base"]["path"] == str(tiny_model_dir.resolve()) and ckpt["hash"] and ckpt["base"]["hash"]
    # rerun: everything is skipped (resume by skipping)
    again = cli(*args)
    assert again.returncode == 0 and again.stderr.count("already evaluated") == 3, again.stderr[-2000:]
    # the report reads the sweep back in step order, final model included
    teacher = tmp_path / "teacher"
    proc = cli("eval", "--model", "reference", "--suite", "arithmetic", "--limit", "2", "--max-new-tokens", "4", "--out", str(teacher),
               "--no-progress")  # the student's budget: retention refuses runs at different budgets
    assert proc.returncode == 0, proc.stderr[-2000:]
    from harness.sweep import load_sweep

    assert [step for step, _, _ in load_sweep(out)] == [1, 2, 2]
    proc = cli("report", "--teacher", str(teacher), str(out), "--out", str(tmp_path / "r.html"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Checkpoint sweep" in (tmp_path / "r.html").read_text()


@pytest.mark.slow
def test_lora_adapter_loads_on_its_base(train_runs, tiny_model_dir):
    """The adapter checkpoint generates what the merged final model generates (same step, same weights)."""
    from harness.backends.hf import HFBackend
    from harness.models.checkpoint import adapter_base
    from harness.models.spec import parse_model_spec
    from harness.suite import get_suite
    from harness.types import GenerationParams

    run = train_runs["lora"]
    adapter = run / "checkpoints" / "checkpoint-2"
    assert not (adapter / "config.json").exists() and adapter_base(adapter) == tiny_model_dir.resolve()
    items = get_suite("arithmetic").items(limit=3)
    params = GenerationParams(temperature=0.0, max_new_tokens=6)
    on_base = HFBackend(parse_model_spec(f"hf:{adapter}"), device="cpu")
    merged = HFBackend(parse_model_spec(f"hf:{run / 'model'}"), device="cpu")
    base = HFBackend(parse_model_spec(f"hf:{tiny_model_dir}"), device="cpu")
    assert on_base.fingerprint()["base"]["hash"] == base.fingerprint()["hash"]
    assert on_base.fingerprint()["hash"] != base.fingerprint()["hash"]
    texts = [[g[0].text for g in backend.generate(items, params, progress=False)] for backend in (on_base, merged, base)]
    assert texts[0] == texts[1]  # checkpoint-2's adapter on its base is the merged final model
    model, _ = on_base._load()
    assert not any("lora" in name for name, _ in model.named_parameters())  # merged for speed
