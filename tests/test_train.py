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
    defaults = dict(per_device_train_batch_size=2, max_length=256, logging_steps=1, save_steps=2, eval=False, warmup_steps=0.0)
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
    path.write_text("learning_rate: 3.0e-4\nlora: true\nlora_settings: {r: 4}\nsave_steps: 7\nadam_beta2: 0.95\n")
    config = TrainConfig.load(path, {"save_steps": 9, "max_steps": None})
    assert config.learning_rate == 3e-4 and config.lora and config.lora_settings.r == 4 and config.save_steps == 9
    assert config.adam_beta2 == 0.95 and config.packing is True  # any TRL field; sft.yaml's packing under it
    assert TrainConfig.model_validate(config.model_dump()) == config  # dumped flat, as it was written
    for text, message in [("learnin_rate: 1\n", "learnin_rate"), ("learning_rate: fast\n", "learning_rate: expected a number"),
                          ("output_dir: x\n", "set by harness"), ("method: grpo\nnum_generations: 1\n", "num_generations")]:
        path.write_text(text)
        with pytest.raises(HarnessError, match=message):
            TrainConfig.load(path)


def test_harness_defaults_file_only_departs_from_trl():
    """trainers/sft.yaml: every key is a TRL field a training config takes, and none repeats TRL's default
    (read from the imported classes) for every method whose class has it."""
    import dataclasses

    import yaml
    from trl import GRPOConfig, SFTConfig
    from trl.experimental.gkd import GKDConfig

    from harness.trainers.config import HARNESS_DEFAULTS, trl_keys

    written = yaml.safe_load(HARNESS_DEFAULTS.read_text())
    assert written and set(written) <= set(trl_keys())
    defaults = {}
    for cls in (SFTConfig, GRPOConfig, GKDConfig):
        for f in dataclasses.fields(cls):
            defaults.setdefault(f.name, []).append(f.default)
    repeats = [k for k, v in written.items() if all(v == d for d in defaults[k])]
    assert repeats == []
    lines = [line for line in HARNESS_DEFAULTS.read_text().splitlines() if line and not line.startswith("#")]
    assert all("#" in line for line in lines)  # each with its why
    assert TrainConfig().model_dump()["learning_rate"] == written["learning_rate"]  # the layer under every config
    with pytest.raises(ValueError, match="unknown key"):
        TrainConfig(learnig_rate=1e-4)


def test_trl_fields_read_from_source_match_the_imported_classes():
    """The flags and keys come from TRL's source read without importing it: the same fields, defaults and help."""
    import dataclasses

    from trl import GRPOConfig, SFTConfig
    from trl.experimental.gkd import GKDConfig

    from harness.trainers.trl_fields import UNKNOWN, trl_fields

    for cls in (SFTConfig, GRPOConfig, GKDConfig):
        static = trl_fields(cls.__name__)
        real = [f for f in dataclasses.fields(cls) if f.init]
        assert list(static) == [f.name for f in real], cls.__name__
        for f in real:
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            assert static[f.name].default in (default, UNKNOWN), f.name
            assert static[f.name].help == " ".join(f.metadata.get("help", "").split()), f.name
        assert sum(static[f.name].default is UNKNOWN for f in real) <= 1  # optim's default_optim


def test_trl_config_objects_come_from_the_composed_config(tmp_path):
    """training_args builds TRL's own config class from the composed settings: sft.yaml's departures, the file's and
    the flags' values by TRL's names, TRL's defaults for the rest; old harness keys still work with a warning."""
    from trl import SFTConfig

    from harness.trainers.sft import sft_config, training_args

    path = tmp_path / "c.yaml"
    path.write_text("epochs: 2\nwarmup_ratio: 0.1\nadam_beta2: 0.95\nnum_generations: 2\n")
    config = TrainConfig.load(path, {"trl": {"learning_rate": 1e-3, "max_steps": 3}})
    args = sft_config(config, tmp_path)
    assert isinstance(args, SFTConfig) and args.output_dir == str(tmp_path / "checkpoints")
    assert (args.num_train_epochs, args.warmup_steps, args.adam_beta2, args.learning_rate, args.max_steps) == (2.0, 0.1, 0.95, 1e-3, 3)
    assert (args.lr_scheduler_type.value, args.save_steps, args.gradient_checkpointing, args.packing) == ("cosine", 50, False, True)
    assert args.seed == args.data_seed == 0 and args.bf16 is False  # harness's auto precision: no GPU here
    assert args.max_length == SFTConfig.max_length and args.weight_decay == SFTConfig.weight_decay  # TRL's own
    assert training_args(SFTConfig, config, tmp_path, max_steps=7).max_steps == 7  # what the harness sets wins
    # an old distill-on-policy file: beta was GRPO's penalty (0), jsd_beta the divergence; precision a harness key
    path.write_text("method: distill-on-policy\nbeta: 0.0\njsd_beta: 0.3\nprecision: fp32\n")
    old = TrainConfig.load(path)
    assert (old.beta, old.bf16, old.fp16) == (0.3, False, False)


def test_train_flags_are_trl_names_with_the_old_short_ones(capsys):
    """Flags by TRL's names (--learning-rate), the short ones users know as aliases (--lr, --epochs), any other TRL field
    unlisted (--adam-beta2), and --jsd-beta kept as a deprecated name of distill-on-policy's --beta."""
    import argparse

    from harness.cli import build_parser
    from harness.trainers.config import TrainRunConfig, with_yaml_train_config

    parser = build_parser(only="train")
    args = parser.parse_args(["train", "--out", "o", "--method", "distill-on-policy", "--lr", "0.01", "--epochs", "2",
                              "--batch-size", "4", "--grad-accum", "2", "--adam-beta2", "0.9", "--jsd-beta", "0.3", "--no-packing"])
    train = with_yaml_train_config(TrainRunConfig, args).train
    assert (train.learning_rate, train.num_train_epochs, train.per_device_train_batch_size) == (0.01, 2.0, 4)
    assert (train.gradient_accumulation_steps, train.adam_beta2, train.beta, train.packing) == (2, 0.9, 0.3, False)
    assert "--jsd-beta is deprecated; use --beta" in capsys.readouterr().err
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["train"]
    shown = sub.format_help()
    assert "--learning-rate LEARNING_RATE, --lr LEARNING_RATE" in shown and "(default: 5e-05)" in shown
    assert "--adam-beta2" not in shown and "--jsd-beta" not in shown
    assert "(default: grpo: 0.0, distill-on-policy: 0.5)" in shown  # beta: each method's TRL default


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
