"""harness train: assistant-only masks, packing without cross-attention, resume, LoRA, CLI end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.trainers.config import TrainConfig

CONVERSATIONS = [
    [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is 2 + 2?"},
        {"role": "assistant", "content": "2 + 2 = 4.\nThe answer is 4."},
    ],
    [
        {"role": "user", "content": "Chloe has 55 marbles and buys 9 bags."},
        {"role": "assistant", "content": "That is 55 + 36 = 91.\nThe answer is 91."},
        {"role": "user", "content": "And if she gives 11 away?"},
        {"role": "assistant", "content": "<think>\n91 - 11\n</think>\nThe answer is 80."},
    ],
    [
        {"role": "user", "content": "If A > B and B > C then?"},
        {"role": "assistant", "content": "A > C"},
    ],
]


def assistant_turns() -> list[str]:
    return [m["content"] + "<|im_end|>" for conv in CONVERSATIONS for m in conv if m["role"] == "assistant"]


@pytest.fixture(scope="module")
def chat_data(tmp_path_factory) -> Path:
    from datasets import Dataset

    path = tmp_path_factory.mktemp("chat-data")
    Dataset.from_list([{"messages": conv, "id": str(i)} for i, conv in enumerate(CONVERSATIONS * 4)]).save_to_disk(str(path))
    return path


def small_config(**kw) -> TrainConfig:
    defaults = dict(per_device_train_batch_size=2, max_length=256, logging_steps=1, save_steps=2, eval=False, warmup_ratio=0.0)
    return TrainConfig(**{**defaults, **kw})


def label_runs(trainer) -> list[str]:
    from harness.trainers.masking import assistant_text_from_labels

    runs = []
    for row in trainer.train_dataset:
        runs += assistant_text_from_labels(trainer.processing_class, row["input_ids"], row["labels"])
    return runs


@pytest.mark.parametrize("packing", [False, True])
def test_labels_are_exactly_the_assistant_turns(tiny_model_dir, chat_data, tmp_path, packing):
    from harness.trainers.sft import build_trainer

    trainer, _, _ = build_trainer(small_config(packing=packing), tiny_model_dir, chat_data, tmp_path)
    runs = label_runs(trainer)
    # Every assistant turn (with its end-of-turn token) is trained, nothing else: no system, user or
    # role-header token, and the multi-turn conversation's first answer is not lost.
    assert sorted(runs) == sorted(assistant_turns() * 4)
    if packing:
        assert len(trainer.train_dataset) < len(CONVERSATIONS) * 4  # rows were really packed


@pytest.mark.slow
def test_masks_with_the_real_smollm2_template(embedded_model_dir):
    """SmolLM2's template adds a default system prompt and has no {% generation %} markers."""
    from transformers import AutoTokenizer

    from harness.trainers.masking import assistant_text_from_labels, tokenize_with_assistant_mask

    from trl.chat_template_utils import has_generation_markers

    tokenizer = AutoTokenizer.from_pretrained(embedded_model_dir)
    assert not has_generation_markers(tokenizer.chat_template)  # TRL's assistant_only_loss could not mask it
    for conv in CONVERSATIONS:
        enc = tokenize_with_assistant_mask(tokenizer, conv)
        labels = [t if m else -100 for t, m in zip(enc["input_ids"], enc["assistant_masks"], strict=True)]
        expected = [m["content"] + "<|im_end|>" for m in conv if m["role"] == "assistant"]
        assert assistant_text_from_labels(tokenizer, enc["input_ids"], labels) == expected
        assert "You are a helpful AI assistant named SmolLM" in tokenizer.decode(enc["input_ids"]) or conv[0]["role"] == "system"


def test_packed_rows_do_not_attend_to_each_other(tiny_model_dir, chat_data, tmp_path):
    import torch

    from harness.trainers.sft import build_trainer

    trainer, _, _ = build_trainer(small_config(packing=True), tiny_model_dir, chat_data, tmp_path)
    batch = trainer.data_collator([trainer.train_dataset[0]])
    assert "attention_mask" not in batch and (batch["position_ids"][0] == 0).sum() >= 2  # several rows in one sequence
    model = trainer.model.eval()
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with torch.no_grad():
        packed_logits = model(**inputs).logits[0]
        starts = (batch["position_ids"][0] == 0).nonzero().flatten().tolist() + [batch["input_ids"].shape[1]]
        for start, end in zip(starts, starts[1:], strict=False):
            alone = model(input_ids=batch["input_ids"][:, start:end]).logits[0]
            torch.testing.assert_close(packed_logits[start:end], alone, atol=1e-4, rtol=1e-4)


def _weights(model_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


@pytest.mark.slow  # trains
def test_resume_continues_exactly_where_it_stopped(tiny_model_dir, chat_data, tmp_path):
    import torch

    from harness.trainers.sft import train

    config = dict(lr_scheduler_type="constant", learning_rate=1e-3, packing=False)
    straight = train(small_config(max_steps=4, **config), f"hf:{tiny_model_dir}", chat_data, tmp_path / "straight")
    first = train(small_config(max_steps=2, **config), f"hf:{tiny_model_dir}", chat_data, tmp_path / "resumed")
    assert first.global_step == 2 and (tmp_path / "resumed" / "checkpoints" / "checkpoint-2").is_dir()
    resumed = train(small_config(max_steps=4, **config), f"hf:{tiny_model_dir}", chat_data, tmp_path / "resumed", resume=True)
    assert straight.global_step == resumed.global_step == 4
    assert resumed.resumed_from.endswith("checkpoint-2")
    summary = json.loads((tmp_path / "resumed" / "train_summary.json").read_text())
    assert [h["step"] for h in summary["loss_history"]] == [1, 2, 3, 4]  # steps 1-2 come from the checkpoint's log
    a, b = _weights(straight.model_dir), _weights(resumed.model_dir)
    base = _weights(tiny_model_dir)
    for name in a:
        torch.testing.assert_close(a[name], b[name], atol=1e-5, rtol=1e-4)
    assert any(not torch.equal(a[n], base[n]) for n in a)  # it did train


def test_resume_without_checkpoint_is_a_clear_error(tiny_model_dir, chat_data, tmp_path):
    from harness.errors import HarnessError
    from harness.trainers.sft import train

    with pytest.raises(HarnessError, match="no checkpoint"):
        train(small_config(max_steps=1), f"hf:{tiny_model_dir}", chat_data, tmp_path / "fresh", resume=True)


@pytest.mark.slow  # trains
def test_lora_adapters_are_merged_into_a_plain_checkpoint(tiny_model_dir, chat_data, tmp_path):
    import torch

    from harness.trainers.sft import train

    outcome = train(small_config(max_steps=2, lora=True, learning_rate=5e-2), f"hf:{tiny_model_dir}", chat_data, tmp_path / "lora")
    merged, base = _weights(outcome.model_dir), _weights(tiny_model_dir)
    assert not any("lora" in name for name in merged) and set(merged) == set(base)
    changed = [n for n in merged if not torch.equal(merged[n], base[n])]
    assert changed and all("proj" in n for n in changed)  # only the adapted linear layers moved
    adapter_dir = tmp_path / "lora" / "checkpoints" / "checkpoint-2"
    assert (adapter_dir / "adapter_config.json").is_file()  # checkpoints hold the adapters


def test_config_file_and_flags(tmp_path):
    from harness.errors import HarnessError

    path = tmp_path / "sft.yaml"
    path.write_text("learning_rate: 3.0e-4\nlora: true\nlora_settings: {r: 4}\nsave_steps: 7\n")
    config = TrainConfig.load(path, {"save_steps": 9, "max_steps": None})
    assert config.learning_rate == 3e-4 and config.lora and config.lora_settings.r == 4 and config.save_steps == 9
    sample = Path(__file__).resolve().parent.parent / "trainers" / "sft.yaml"
    assert TrainConfig.load(sample).packing is True
    path.write_text("learnin_rate: 1\n")
    with pytest.raises(HarnessError, match="learnin_rate"):
        TrainConfig.load(path)


@pytest.mark.slow  # trains
def test_cli_distill_train_eval_retention_end_to_end(cli, tiny_model_dir, tmp_path):
    data, run = tmp_path / "data", tmp_path / "run"
    proc = cli("distill", "--teacher", "reference", "--suite", "arithmetic", "--n", "16", "--out", str(data),
               "--tokenizer", f"hf:{tiny_model_dir}", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    proc = cli("train", "--student", f"hf:{tiny_model_dir}", "--data", str(data), "--out", str(run), "--max-steps", "2",
               "--batch-size", "2", "--max-length", "256", "--save-steps", "1", "--eval-limit", "8", "--max-new-tokens", "6")
    assert proc.returncode == 0, proc.stderr[-3000:]
    # The retention table against the reference teacher is printed; the random tiny model scores 0.
    assert "retention" in proc.stdout and "math" in proc.stdout and "0.0%" in proc.stdout
    assert (run / "model" / "config.json").is_file() and (run / "checkpoints" / "checkpoint-2").is_dir()
    retention = json.loads((run / "retention.json").read_text())
    assert retention["rows"][0]["capability"] == "math" and retention["rows"][0]["teacher"] == 1.0
    assert retention["rows"][0]["student"] == 0.0 and retention["global_step"] == 2
    proc = cli("retention", "--teacher", str(run / "eval-teacher"), "--student", str(run / "eval"))
    assert proc.returncode == 0 and "math" in proc.stdout, proc.stderr
    proc = cli("eval", "--model", f"hf:{run / 'model'}", "--suite", "arithmetic", "--limit", "2", "--max-new-tokens", "4",
               "--out", str(tmp_path / "again"), "--no-progress")
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_cli_train_refuses_bad_input(cli, tmp_path):
    proc = cli("train", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--student", "reference")
    assert proc.returncode == 2 and "student must be a local transformers checkpoint" in proc.stderr
    proc = cli("train", "--data", str(tmp_path / "nothing"), "--out", str(tmp_path / "run"), "--student", "hf:/nonexistent/x")
    assert proc.returncode == 2


@pytest.mark.slow  # trains
def test_report_to_tensorboard_writes_event_files(tiny_model_dir, chat_data, tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    from harness.trainers.sft import train

    monkeypatch.delenv("TENSORBOARD_LOGGING_DIR", raising=False)
    train(small_config(max_steps=2, report_to=["tensorboard"]), f"hf:{tiny_model_dir}", chat_data, tmp_path / "tb")
    events = list((tmp_path / "tb" / "logs").rglob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0


def test_templates_that_rewrite_earlier_turns_are_refused(tiny_model_dir):
    """Qwen3-style templates drop earlier turns' <think> blocks: masks from prefixes would be wrong."""
    from transformers import AutoTokenizer

    from harness.errors import HarnessError
    from harness.trainers.masking import tokenize_with_assistant_mask

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.chat_template = (
        "{% for m in messages %}{% set c = m['content'] %}"
        "{% if m['role'] == 'assistant' and not loop.last %}{% set c = c.split('</think>')[-1] %}{% endif %}"
        "{{ '<|im_start|>' + m['role'] + '\n' + c + '<|im_end|>\n' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    )
    thinking_first = [
        {"role": "user", "content": "2 + 2?"},
        {"role": "assistant", "content": "<think>\nadd\n</think>\nThe answer is 4."},
        {"role": "user", "content": "3 + 3?"},
        {"role": "assistant", "content": "The answer is 6."},
    ]
    with pytest.raises(HarnessError, match="prefix-preserving"):
        tokenize_with_assistant_mask(tokenizer, thinking_first)
    assert sum(tokenize_with_assistant_mask(tokenizer, CONVERSATIONS[0])["assistant_masks"]) > 0  # one turn is fine
