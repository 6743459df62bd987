"""harness train --method grpo: rewards are harness eval's verdicts, GRPO moves the policy toward them,
the data guard keeps test items out, and the CLI writes a model harness eval loads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.backends.base import Backend
from harness.models.spec import ModelSpec
from harness.trainers.config import TrainConfig
from harness.types import Generation, GenerationParams, Item

SUITES = ["arithmetic", "math", "logic", "knowledge", "format", "code", "edge_cases"]


def outputs_for(items: Sequence[Item]) -> dict[str, str]:
    """Right, wrong, empty and another item's answer, in turn: verdicts of every kind."""
    out = {}
    for i, item in enumerate(items):
        kind = i % 4
        if kind == 0:
            out[item.id] = item.reference_response
        elif kind == 1:
            out[item.id] = "The answer is 987654321."
        elif kind == 2:
            out[item.id] = ""
        else:
            out[item.id] = items[(i + 1) % len(items)].reference_response
    return out


class FixedBackend(Backend):
    """Answers each item with a fixed output (by item id)."""

    name = "fixed"

    def __init__(self, outputs: dict[str, str]):
        super().__init__(ModelSpec(scheme="fixed", target="f", raw="fixed:f"))
        self.outputs = outputs

    def fingerprint(self):
        return {"backend": "fixed", "n": len(self.outputs)}

    def generate(self, items: Sequence[Item], params: GenerationParams, progress: bool = True):
        return [[Generation(text=self.outputs[item.id])] for item in items]


def test_reward_is_harness_evals_verdict_item_for_item(tmp_path):
    """The same outputs scored by harness eval (run_eval, the code behind the command) and by the GRPO
    reward function give the same value for every item, in every scored suite (code runs in the sandbox)."""
    from harness.evaluate import EvalConfig, run_eval
    from harness.suite import get_suite
    from harness.trainers.grpo import SuiteReward

    items = [it for name in SUITES for it in get_suite(name).items("train", limit=8)]
    outputs = {}
    for name in SUITES:
        outputs.update(outputs_for([it for it in items if it.suite == name]))
    config = EvalConfig(suites=SUITES, split="train", limit=8, progress=False, use_cache=False)
    _, records = run_eval(config, tmp_path / "eval", backend=FixedBackend(outputs))
    assert len(records) == len(items)

    reward = SuiteReward(items)
    by_id = {it.id: it for it in items}
    ids = [r.item_id for r in records]
    completions = [[{"role": "assistant", "content": outputs[i]}] for i in ids]  # TRL's conversational completions
    prompts = [[m.model_dump() for m in by_id[i].messages] for i in ids]
    values = reward(prompts=prompts, completions=completions, item_id=ids)
    assert values == [r.score for r in records]
    assert [s.correct for s in reward.scores(ids, [outputs[i] for i in ids])] == [r.correct for r in records]
    # the comparison means something: right and wrong answers in every suite
    for name in SUITES:
        verdicts = {r.correct for r in records if r.suite == name}
        assert verdicts == {True, False}, name
    assert reward.history[-1]["completions"] == len(items)


def test_reward_scores_the_answer_after_a_thinking_trace(tmp_path):
    """A model with native think tokens is scored on its answer alone, as eval's hf backend splits it."""
    from tiny_model import build_thinking_model

    from harness.suite import get_suite
    from harness.trainers.grpo import SuiteReward

    template = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}{% endfor %}"
                "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(build_thinking_model(tmp_path / "thinking", template))
    item = get_suite("arithmetic").items("train")[0]
    right, wrong = f"The answer is {item.answer}.", f"The answer is {item.answer + 1}."
    reward = SuiteReward([item], tokenizer)
    thought = f"<think>\nmaybe {item.answer + 1}\n</think>\n"
    assert [s.correct for s in reward.scores([item.id] * 3, [thought + right, thought + wrong, f"<think>\n{right}"])] == [True, False, False]
    plain = SuiteReward([item])  # no tokenizer (or one without think tokens): the text is scored as it is
    assert [s.correct for s in plain.scores([item.id] * 2, [right, wrong])] == [True, False]


def test_data_guard_refuses_test_items_and_drops_near_copies():
    from harness.errors import HarnessError
    from harness.suite import get_suite
    from harness.trainers.grpo import guard_prompts

    suite = get_suite("arithmetic")
    train, test = suite.items("train")[:6], suite.items("test")
    with pytest.raises(HarnessError, match="refusing to train on test-split items"):
        guard_prompts([*train, test[0]], test)
    # a train item that copies a test prompt (word n-grams) and a repeated prompt are dropped
    copy = train[0].model_copy(update={"id": "arithmetic/train/copy", "messages": test[3].messages})
    kept, report = guard_prompts([*train, copy, train[1].model_copy(update={"id": "arithmetic/train/again"})], test)
    assert [it.id for it in kept] == [it.id for it in train]
    assert report["duplicates_dropped"] == 1 and report["dropped"] == 1
    assert report["dropped_rows"][0]["id"] == "arithmetic/train/copy" and report["dropped_rows"][0]["test_id"] == test[3].id


def test_prompts_are_the_guarded_train_split_shared_by_capability():
    from harness.suite import get_suite
    from harness.trainers.grpo import prompt_dataset, prompt_items

    items, report = prompt_items(TrainConfig(method="grpo", suites=["arithmetic", "logic"], rows=10))
    assert len(items) == 10 and {it.split for it in items} == {"train"}
    assert sum(it.suite == "logic" for it in items) == 5  # math and logic: five prompts each
    test_ids = {it.id for name in ("arithmetic", "logic") for it in get_suite(name).items("test")}
    assert not test_ids & {it.id for it in items}
    assert report["candidates"] > 10 and report["threshold"] == 0.8
    row = prompt_dataset(items)[0]
    assert row["item_id"] == items[0].id and row["prompt"] == [m.model_dump() for m in items[0].messages]


def test_config_and_inputs_are_checked(tmp_path):
    from harness.errors import HarnessError
    from harness.trainers.grpo import grpo_config
    from harness.trainers.run import check_inputs

    path = tmp_path / "grpo.yaml"
    path.write_text("method: grpo\nsuites: [arithmetic]\nnum_generations: 2\nbeta: 0.04\n")
    config = TrainConfig.load(path, {"rows": 8})
    assert config.method == "grpo" and config.suites == ["arithmetic"] and config.rows == 8 and config.beta == 0.04
    path.write_text("method: grpo\nnum_generations: 1\n")
    with pytest.raises(HarnessError, match="num_generations"):
        TrainConfig.load(path)
    with pytest.raises(HarnessError, match="multiple of --num-generations"):
        grpo_config(TrainConfig(method="grpo", per_device_train_batch_size=6, num_generations=4), tmp_path, 8)
    from harness.suite import get_suite
    from harness.trainers.grpo import completion_budget

    items = get_suite("arithmetic").items("train")[:3] + get_suite("code").items("train")[:3]
    budget = max(get_suite(it.suite).token_budget(it) for it in items)
    assert completion_budget(TrainConfig(method="grpo"), items) == budget  # the suites' own, as harness eval
    assert completion_budget(TrainConfig(method="grpo"), items, thinking=True) == 4 * budget  # REASONING_FACTOR
    assert completion_budget(TrainConfig(method="grpo", max_completion_length=7), items) == 7
    with pytest.raises(HarnessError, match="--data"):
        check_inputs(TrainConfig(method="grpo", suites=["arithmetic"]), "runs/data")
    with pytest.raises(HarnessError, match="--data DIR is required"):
        check_inputs(TrainConfig(), None)
    with pytest.raises(HarnessError, match="GRPO's prompts"):
        check_inputs(TrainConfig(suites=["arithmetic"]), "runs/data")
    with pytest.raises(HarnessError, match="--suite"):
        from harness.trainers.grpo import prompt_items

        prompt_items(TrainConfig(method="grpo"))


def expected_reward(model_dir: Path, tokenizer, item: Item, rewards) -> float:
    """E[reward] of a one-token completion under the model: sum over the vocabulary of p(token) × reward."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir)
    ids = tokenizer.apply_chat_template([m.model_dump() for m in item.messages], add_generation_prompt=True,
                                        return_tensors="pt", return_dict=True)["input_ids"]
    with torch.no_grad():
        p = model(ids).logits[0, -1].softmax(-1)
    return float((p * rewards).sum())


@pytest.mark.slow  # trains
def test_grpo_moves_the_policy_toward_what_the_suite_scorer_rewards(tiny_model_dir, tmp_path):
    """A real format item ("Use at most 2 sentences") and one-token completions: the format scorer passes
    word tokens and fails punctuation, stray bytes and an empty answer (about half the vocabulary each).
    Eight GRPO steps raise the policy's exact expected reward (summed over the vocabulary, no sampling
    noise) from ~0.46 to ~0.8."""
    import torch
    from transformers import AutoTokenizer

    from harness.suite import get_suite
    from harness.trainers.grpo import build_trainer, SuiteReward

    item = next(it for it in get_suite("format").items("train") if it.id == "format/train/00003")
    assert "at most 2 sentences" in item.messages[-1].content
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))], skip_special_tokens=True)
    rewards = torch.tensor([s.value for s in SuiteReward([item]).scores([item.id] * len(texts), texts)])
    assert 0.3 < float(rewards.mean()) < 0.7  # the task is neither trivial nor hopeless

    config = TrainConfig(method="grpo", num_generations=8, per_device_train_batch_size=8, max_completion_length=1, max_steps=8,
                         learning_rate=5e-2, lr_scheduler_type="constant", warmup_steps=0.0, save_steps=100, logging_steps=1,
                         eval=False, seed=0)
    trainer, _, reward = build_trainer(config, tiny_model_dir, [item] * 16, tmp_path / "run")
    trainer.train()
    trainer.save_model(tmp_path / "run" / "model")
    before = expected_reward(tiny_model_dir, tokenizer, item, rewards)
    after = expected_reward(tmp_path / "run" / "model", tokenizer, item, rewards)
    assert after > before + 0.15, (before, after)
    assert len(reward.history) == 8 and all(h["completions"] == 8 for h in reward.history)


@pytest.mark.slow  # trains
def test_cli_grpo_writes_a_model_harness_eval_loads(cli, tiny_model_dir, tmp_path):
    run = tmp_path / "run"
    (tmp_path / "grpo.yaml").write_text("logging_steps: 1\nnum_generations: 2\n")
    grpo = ("train", "--method", "grpo", "--student", f"hf:{tiny_model_dir}", "--suite", "arithmetic", "--rows", "4",
            "--config", str(tmp_path / "grpo.yaml"), "--batch-size", "2", "--max-completion-length", "4", "--beta", "0.04",
            "--save-steps", "1", "--out", str(run))
    proc = cli(*grpo, "--max-steps", "2", "--eval-limit", "2", "--max-new-tokens", "4")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "student after 2 steps" in proc.stdout
    summary = json.loads((run / "train_summary.json").read_text())
    assert summary["method"] == "grpo" and summary["global_step"] == 2 and summary["train_rows"] == 4
    assert summary["generation"]["path"] == "transformers" and summary["generation"]["use_vllm"] is False
    assert [h["step"] for h in summary["reward_history"]] == [1, 2] and "reward" in summary["reward_history"][0]
    assert summary["reward"]["scorers"] == {"arithmetic": "harness.tasks.arithmetic.ArithmeticSuite.score_many"}
    assert [b["completions"] for b in summary["reward_batches"]] == [2, 2]  # one prompt's group per step
    assert summary["prompts"]["per_suite"] == {"arithmetic": 4} and summary["config"]["beta"] == 0.04
    assert (run / "eval" / "results.json").is_file()  # the evaluation after training, on the test split
    # harness eval loads the final model and sweeps the checkpoints
    out = tmp_path / "sweep"
    proc = cli("eval", "--model", f"hf:{run}", "--suite", "arithmetic", "--limit", "2", "--max-new-tokens", "4",
               "--out", str(out), "--no-progress", "--no-cache")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint-1", "checkpoint-2", "final"]
    final = json.loads((out / "final" / "results.json").read_text())
    assert final["model"]["spec"] == f"hf:{run / 'model'}" and final["capabilities"]["math"]["n"] == 2
    # --resume continues from the last checkpoint
    proc = cli(*grpo, "--max-steps", "3", "--no-eval", "--resume")
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((run / "train_summary.json").read_text())
    assert summary["global_step"] == 3 and summary["resumed_from"].endswith("checkpoint-2")
    assert [h["step"] for h in summary["reward_history"]] == [1, 2, 3]
