"""harness train --method distill-on-policy: a few on-policy steps move the student's next-token distributions
toward the teacher's, teachers that cannot give logits over the student's vocabulary are refused (exit 2), and the
run's checkpoints land where the hf:RUN sweep finds them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.trainers.config import TrainConfig

SHARPEN = 40.0  # the teacher's logits are this much larger than a random tiny model's: peaked, far from the student's


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory) -> Path:
    """The tiny model's tokenizer on other random weights, its final norm scaled so its distributions are peaked."""
    import torch
    from tiny_model import build_tiny_model
    from transformers import AutoModelForCausalLM

    path = build_tiny_model(tmp_path_factory.mktemp("teacher"), seed=1)
    model = AutoModelForCausalLM.from_pretrained(path)
    with torch.no_grad():
        model.model.norm.weight.mul_(SHARPEN)
    model.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def other_tokenizers(tmp_path_factory) -> dict[str, Path]:
    """Teachers the student cannot be distilled from: one token more (as another family's tokenizer), and the same
    tokens with two ids swapped (same size, another map)."""
    from tiny_model import build_tiny_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    extra = build_tiny_model(tmp_path_factory.mktemp("extra-token"))
    tokenizer = AutoTokenizer.from_pretrained(extra)
    tokenizer.add_tokens(["<extra_token>"])
    model = AutoModelForCausalLM.from_pretrained(extra)
    model.resize_token_embeddings(len(tokenizer))
    model.save_pretrained(extra)
    tokenizer.save_pretrained(extra)

    swapped = build_tiny_model(tmp_path_factory.mktemp("swapped-ids"))
    data = json.loads((swapped / "tokenizer.json").read_text())
    vocab = data["model"]["vocab"]
    by_id = {i: token for token, i in vocab.items()}
    a, b = by_id[300], by_id[301]
    vocab[a], vocab[b] = vocab[b], vocab[a]
    (swapped / "tokenizer.json").write_text(json.dumps(data))
    return {"extra": extra, "swapped": swapped}


def first_token_kl(student, teacher, tokenizer, items) -> float:
    """Mean over the items of KL(teacher || student) of the next-token distributions where the answer starts."""
    import torch

    total = 0.0
    with torch.no_grad():
        for item in items:
            ids = tokenizer.apply_chat_template([m.model_dump() for m in item.messages], add_generation_prompt=True,
                                                return_tensors="pt", return_dict=True)["input_ids"]
            t = teacher(ids).logits[0, -1].log_softmax(-1)
            s = student(ids).logits[0, -1].log_softmax(-1)
            total += float((t.exp() * (t - s)).sum())
    return total / len(items)


@pytest.mark.slow  # trains
def test_on_policy_steps_move_the_student_toward_the_teacher(tiny_model_dir, teacher_dir, tmp_path):
    """8 GKD steps (lmbda 1: on the student's own 8-token samples of 8 arithmetic train prompts) bring the student's
    next-token distribution at the start of the answer close to the teacher's on 16 held prompts (test items, never
    trained on): KL(teacher || student) from 5.4 to about 0.6 nats."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.suite import get_suite
    from harness.trainers.onpolicy import build_trainer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    teacher = AutoModelForCausalLM.from_pretrained(teacher_dir)
    held = get_suite("arithmetic").items("test")[:16]
    before = first_token_kl(AutoModelForCausalLM.from_pretrained(tiny_model_dir), teacher, tokenizer, held)
    assert before > 3.0  # the random student is far from the peaked teacher

    config = TrainConfig(method="distill-on-policy", per_device_train_batch_size=4, max_completion_length=8, max_steps=8,
                         learning_rate=2e-2, lr_scheduler_type="constant", warmup_steps=0.0, save_steps=100, logging_steps=1,
                         eval=False, seed=0)
    trainer, _ = build_trainer(config, tiny_model_dir, teacher_dir, get_suite("arithmetic").items("train")[:8], tmp_path / "run")
    assert trainer.args.lmbda == 1.0 and trainer.args.beta == 0.5 and trainer.args.max_new_tokens == 8
    trainer.train()
    after = first_token_kl(trainer.model.eval(), teacher, tokenizer, held)
    assert after < 0.35 * before, (before, after)
    assert trainer.state.global_step == 8


def test_teachers_without_logits_and_other_tokenizers_exit_2(tiny_model_dir, teacher_dir, other_tokenizers, tmp_path, capsys):
    from harness.cli import main

    def train(teacher: str, *extra: str) -> tuple[int, str]:
        code = main(["train", "--method", "distill-on-policy", "--student", f"hf:{tiny_model_dir}", "--teacher", teacher,
                     "--suite", "arithmetic", "--out", str(tmp_path / "run"), *extra])
        return code, capsys.readouterr().err

    code, err = train("reference")
    assert code == 2 and "teacher 'reference'" in err and "cannot provide logits" in err and "--method sft" in err
    for api in ("anthropic:claude-sonnet-4-6", "openai:http://localhost:8000/v1#Qwen/Qwen3-32B"):
        code, err = train(api)
        assert code == 2 and "is an API model and cannot provide logits" in err and "harness distill --teacher" in err, err
    code, err = train(f"vllm:{teacher_dir}")
    assert code == 2 and "cannot provide logits" in err and f"hf:{teacher_dir}" in err
    code, err = train(f"hf:{other_tokenizers['extra']}")
    assert code == 2 and "do not share a tokenizer" in err and "1 only in the teacher's (e.g. '<extra_token>')" in err, err
    code, err = train(f"hf:{other_tokenizers['swapped']}")
    assert code == 2 and "2 tokens with other ids" in err and "same tokenizer" in err, err
    # the method's own inputs
    code, err = train(f"hf:{teacher_dir}", "--beta", "1.5")  # GKDConfig's beta: the JSD's interpolation
    assert code == 2 and "beta must be in [0, 1] for distill-on-policy" in err
    code, err = train(f"hf:{teacher_dir}", "--lmbda", "1.5")
    assert code == 2 and "lmbda must be in [0, 1]" in err
    assert main(["train", "--method", "distill-on-policy", "--suite", "arithmetic", "--out", str(tmp_path / "r")]) == 2
    assert "needs --teacher SPEC" in capsys.readouterr().err
    assert main(["train", "--method", "grpo", "--teacher", f"hf:{teacher_dir}", "--suite", "arithmetic", "--out", str(tmp_path / "r")]) == 2
    assert "--teacher is the model of --method distill-on-policy" in capsys.readouterr().err
    assert not (tmp_path / "run").exists() and not (tmp_path / "r").exists()  # refused before any work


def test_the_guard_also_checks_the_reference_answers():
    """The reference answer is part of a distill-on-policy row (its off-policy sequence): a train item whose answer
    copies a test item's text is dropped, as SFT's rows are; GRPO's prompt guard keeps it."""
    from harness.suite import get_suite
    from harness.trainers.grpo import guard_prompts

    suite = get_suite("arithmetic")
    train, test = suite.items("train")[:4], suite.items("test")
    leak = train[0].model_copy(update={"reference_response": "\n".join(m.content for m in test[2].messages)})
    kept, report = guard_prompts([leak, *train[1:]], test, with_reference=True)
    assert [it.id for it in kept] == [it.id for it in train[1:]]
    assert report["dropped_rows"][0] == {"id": leak.id, "overlap": pytest.approx(1.0, abs=0.05), "test_id": test[2].id, "stage": "row"}
    assert len(guard_prompts([leak, *train[1:]], test)[0]) == 4


@pytest.mark.slow  # trains
def test_cli_run_checkpoints_are_where_the_sweep_finds_them(cli, tiny_model_dir, teacher_dir, tmp_path):
    from harness.sweep import find_sweep_points

    run = tmp_path / "run"
    proc = cli("train", "--method", "distill-on-policy", "--student", f"hf:{tiny_model_dir}", "--teacher", f"hf:{teacher_dir}",
               "--suite", "arithmetic", "--rows", "4", "--batch-size", "2", "--max-completion-length", "6", "--max-steps", "2",
               "--save-steps", "1", "--lmbda", "0.5", "--beta", "0.2", "--eval-limit", "2", "--max-new-tokens", "4",
               "--out", str(run))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "student after 2 steps" in proc.stdout
    points = find_sweep_points(run)  # what `harness eval --model hf:RUN` evaluates
    assert [(p.label, p.step) for p in points] == [("checkpoint-1", 1), ("checkpoint-2", 2), ("final", 2)]
    assert points[-1].path == run / "model" and (run / "model" / "model.safetensors").is_file()
    summary = json.loads((run / "train_summary.json").read_text())
    assert summary["method"] == "distill-on-policy" and summary["teacher"] == f"hf:{teacher_dir}"
    assert summary["trainer"] == "trl.experimental.gkd.GKDTrainer" and summary["global_step"] == 2
    assert summary["distillation"] == {"lmbda": 0.5, "beta": 0.2, "seq_kd": False, "off_policy_sequences": "reference answers",
                                       "temperature": 1.0, "max_new_tokens": 6, "generation_path": "transformers"}
    assert summary["prompts"]["per_suite"] == {"arithmetic": 4} and summary["prompts"]["guard"]["threshold"] == 0.8
    # the evaluation after training: the student, and the teacher on the same test items for retention
    assert (run / "eval" / "results.json").is_file() and (run / "eval-teacher" / "results.json").is_file()
    teacher_results = json.loads((run / "eval-teacher" / "results.json").read_text())
    assert teacher_results["model"]["spec"] == f"hf:{teacher_dir}"
    assert json.loads((run / "retention.json").read_text())["global_step"] == 2
