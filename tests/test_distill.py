"""harness distill: verification, mixing, contamination guard, dataset + data card."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from conftest import fresh_harness_cache

from harness.backends.base import Backend
from harness.models.spec import parse_model_spec
from harness.suite import get_suite
from harness.trainers.contamination import ContaminationIndex, item_text
from harness.trainers.distill import DistillConfig, Distiller, distill
from harness.trainers.focus import focus_from_records
from harness.trainers.mixing import EDGE, apportion, dedup, plan_mix
from harness.types import Generation, GenerationParams, Item, Message, SampleRecord, Variant


class ScriptedTeacher(Backend):
    """Answers with `answer(item, sample_index)`: lets tests plant wrong or leaking answers."""

    name = "scripted"

    def __init__(self, answer):
        super().__init__(parse_model_spec("reference"))
        self.answer = answer
        self.asked: list[str] = []

    def fingerprint(self):
        return {"backend": "scripted"}

    def generate(self, items: Sequence[Item], params: GenerationParams, progress: bool = True):
        self.asked += [it.id for it in items]
        return [[Generation(text=self.answer(it, k), prompt_tokens=10, completion_tokens=5) for k in range(params.samples)] for it in items]


def wrong(item: Item) -> str:
    return f"The answer is {item.answer + 1}."


@pytest.fixture(scope="module")
def arithmetic():
    return get_suite("arithmetic")


def config(**kw) -> DistillConfig:
    # no response cache unless asked: every scripted teacher here answers differently under the same fingerprint
    return DistillConfig(**{"suites": ["arithmetic"], "progress": False, "tokenizer": "words", "use_cache": False, **kw})


def test_keep_verified_rejects_wrong_answers_and_tops_up(tmp_path, arithmetic):
    # The teacher is wrong on every item whose answer is odd: those prompts are rejected and replaced.
    teacher = ScriptedTeacher(lambda it, k: it.reference_response if it.answer % 2 == 0 else wrong(it))
    card = distill(config(n=20, keep="verified"), tmp_path / "d", backend=teacher)
    from datasets import load_from_disk

    rows = load_from_disk(str(tmp_path / "d"))
    assert len(rows) == 20 and all(rows["verified"])
    by_id = {it.id: it for it in arithmetic.items("train")}
    assert all(by_id[i].answer % 2 == 0 for i in rows["id"])
    rejected = sum(by_id[i].answer % 2 == 1 for i in teacher.asked)
    assert rejected > 0 and card["prompts_rejected"] == rejected
    assert card["rejection_rate"] == pytest.approx(rejected / len(teacher.asked))
    assert card["teacher_usage"]["prompt_tokens"] == 10 * len(teacher.asked)


def test_keep_all_keeps_wrong_answers(tmp_path):
    teacher = ScriptedTeacher(lambda it, k: wrong(it))
    card = distill(config(n=6, keep="all"), tmp_path / "d", backend=teacher)
    assert card["rows"] == 6 and card["verified_rows"] == 0 and card["prompts_rejected"] == 0


def test_best_of_k_picks_the_verified_sample(tmp_path):
    teacher = ScriptedTeacher(lambda it, k: it.reference_response if k == 2 else wrong(it))
    distill(config(n=5, keep="best", samples=3), tmp_path / "d", backend=teacher)
    from datasets import load_from_disk

    rows = load_from_disk(str(tmp_path / "d"))
    by_id = {it.id: it for it in get_suite("arithmetic").items("train")}
    assert [r["messages"][-1]["content"] for r in rows] == [by_id[r["id"]].reference_response for r in rows]


def test_reasoning_is_kept_in_think_tags(tmp_path):
    class Thinking(ScriptedTeacher):
        def generate(self, items, params, progress=True):
            return [[Generation(text=it.reference_response, reasoning="Let me add carefully.")] for it in items]

    distill(config(n=2), tmp_path / "d", backend=Thinking(None))
    from datasets import load_from_disk

    content = load_from_disk(str(tmp_path / "d"))[0]["messages"][-1]["content"]
    assert content.startswith("<think>\nLet me add carefully.\n</think>\n") and "The answer is" in content


def test_contamination_index_scores_copies_high_and_train_items_low(arithmetic):
    index = ContaminationIndex.build(arithmetic.items("test"), n=13)
    test_item = arithmetic.items("test")[5]
    copied = index.overlap("Here is some preamble. " + item_text(test_item) + " And a reply.")
    assert copied.score == 1.0 and copied.test_id == test_item.id
    train_scores = [index.overlap(item_text(it) + "\n" + it.reference_response).score for it in arithmetic.items("train")]
    assert max(train_scores) < 0.8  # same story templates, different numbers: not a leak


def test_planted_contaminated_rows_are_dropped_and_reported(tmp_path, arithmetic):
    leaked = arithmetic.items("test")[3]
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(
        json.dumps({"prompt": item_text(leaked), "capability": "math", "id": "planted-prompt"}) + "\n"
        + json.dumps({"prompt": "Name three colours of the rainbow.", "id": "benign"}) + "\n"
    )

    def answer(item: Item, k: int) -> str:
        if item.id == "arithmetic/train/00000":  # the answer leaks a test question verbatim
            return f"Compare: {item_text(arithmetic.items('test')[9])}\n{item.reference_response}"
        return item.reference_response or "Red, orange and yellow."

    card = distill(config(n=10, prompts_file=str(prompts), quotas={"math": 1, "general": 1}), tmp_path / "d", backend=ScriptedTeacher(answer))
    dropped = {d["id"]: d for d in card["contamination"]["dropped_rows"]}
    assert dropped["planted-prompt"]["stage"] == "prompt" and dropped["planted-prompt"]["test_id"] == leaked.id
    assert card["contamination"]["dropped"] == len(dropped)
    from datasets import load_from_disk

    rows = load_from_disk(str(tmp_path / "d"))
    assert "planted-prompt" not in rows["id"] and "benign" in rows["id"]
    if "arithmetic/train/00000" in dropped:
        assert dropped["arithmetic/train/00000"]["stage"] == "row" and "arithmetic/train/00000" not in rows["id"]
    assert max(rows["contamination"]) <= 0.8


def test_row_stage_guard_drops_leaking_answers(tmp_path, arithmetic):
    test_items = arithmetic.items("test")
    teacher = ScriptedTeacher(lambda it, k: f"{item_text(test_items[0])}\n{it.reference_response}")
    distiller = Distiller(config(n=3))
    with pytest.raises(Exception, match="no training rows survived"):
        distiller.run(teacher)
    assert {d["stage"] for d in distiller.contaminated} == {"row"}
    assert len(distiller.contaminated) == len(arithmetic.items("train"))  # it kept asking to top up, then gave up


def _item(i: int, cap: str, kind: str = "canonical", prompt: str | None = None) -> Item:
    variant = Variant() if kind == "canonical" else Variant(kind=kind, level=1, canonical_id=f"{cap}/0")
    return Item(id=f"{cap}/{kind}/{i}", suite="s", capability=cap, split="train", variant=variant,
                messages=[Message(role="user", content=prompt or f"{cap} {kind} question number {i}")])


def test_apportion_respects_weights_and_capacity():
    assert apportion(10, {"a": 1, "b": 1}, {"a": 100, "b": 100}) == {"a": 5, "b": 5}
    assert apportion(10, {"a": 3, "b": 1}, {"a": 100, "b": 100}) == {"a": 8, "b": 2} or apportion(10, {"a": 3, "b": 1}, {"a": 100, "b": 100}) == {"a": 7, "b": 3}
    assert apportion(10, {"a": 1, "b": 1}, {"a": 2, "b": 100}) == {"a": 2, "b": 8}  # a's surplus goes to b
    assert apportion(10, {"a": 1, "b": 0}, {"a": 4, "b": 100}) == {"a": 4, "b": 0}  # zero quota stays zero


def test_edge_ratio_quotas_and_focus():
    items = [_item(i, "math") for i in range(50)] + [_item(i, "logic") for i in range(50)]
    items += [_item(i, "edge_cases") for i in range(20)] + [_item(i, "math", "numbers") for i in range(20)]
    _, targets = plan_mix(items, 40, edge_ratio=0.25)
    assert targets[EDGE] == 10 and targets["math"] + targets["logic"] == 30 and abs(targets["math"] - targets["logic"]) <= 1
    _, targets = plan_mix(items, 40, quotas={"math": 3, "logic": 1})
    assert targets == {"edge_cases": 0, "logic": 10, "math": 30}
    _, targets = plan_mix(items, 40, focus={"math": 1.0, "logic": 0.1, "edge_cases": 0.1})
    assert targets["math"] > 3 * targets["logic"]
    pools, _ = plan_mix(items, 40, variant_focus={"math/numbers": 50.0, "math/canonical": 0.1})
    assert sum(it.variant.kind == "numbers" for it in pools["math"][:20]) >= 15


def test_dedup_drops_repeated_prompts():
    a, b, c = _item(1, "math", prompt="What is two plus two?"), _item(2, "math", prompt="what is  two plus two"), _item(3, "math", prompt="What is 3+3?")
    kept, dropped = dedup([a, b, c])
    assert kept == [a, c] and dropped == 1


def _record(item_id: str, cap: str, variant: str, correct: bool) -> SampleRecord:
    return SampleRecord(item_id=item_id, suite="arithmetic", capability=cap, split="test", variant=variant,
                        output="", correct=correct, score=float(correct))


def test_focus_weights_follow_low_retention():
    teacher = [_record(f"{c}{i}{v}", c, v, True) for c in ("math", "logic") for v in ("canonical", "numbers") for i in range(10)]
    student = [_record(r.item_id, r.capability, r.variant, r.capability == "logic" or (r.variant == "canonical" and int(r.item_id[4]) < 8)) for r in teacher]
    focus = focus_from_records(teacher, student)
    assert focus.retention["logic"] == 1.0 and focus.retention["math"] == pytest.approx(0.4)
    assert focus.capabilities["math"] > focus.capabilities["logic"] > 0
    assert focus.variants["math/numbers"] > focus.variants["math/canonical"]


def test_cli_distill_writes_dataset_and_card(cli, tmp_path):
    out = tmp_path / "data"
    proc = cli("distill", "--teacher", "reference", "--suite", "arithmetic", "--n", "12", "--out", str(out), "--tokenizer", "words", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "rows: 12" in proc.stdout
    from datasets import load_from_disk

    rows = load_from_disk(str(out))
    assert len(rows) == 12 and rows[0]["messages"][-1]["role"] == "assistant"
    card = json.loads((out / "data_card.json").read_text())
    assert card["per_capability"] == {"math": 12} and card["rejection_rate"] == 0.0
    assert card["token_lengths"]["unit"] == "words" and card["token_lengths"]["max"] > 20
    assert (out / "README.md").read_text().startswith("# Distilled SFT data")


def test_cli_distill_refuses_bad_input(cli, tmp_path):
    proc = cli("distill", "--suite", "arithmetic", "--out", str(tmp_path / "d"), "--quota", "math")
    assert proc.returncode == 2 and "--quota expects" in proc.stderr
    proc = cli("distill", "--suite", "arithmetic", "--out", str(tmp_path / "d"), "--prompts", str(tmp_path / "missing.jsonl"))
    assert proc.returncode == 2 and "prompts file not found" in proc.stderr


class FlakyTeacher(ScriptedTeacher):
    """The worked solution, except the very first item asked, which fails after the backend's retries."""

    def __init__(self):
        super().__init__(lambda it, k: it.reference_response)

    def generate(self, items, params, progress=True):
        answers = super().generate(items, params, progress)
        if len(self.asked) == len(items):  # the first call
            answers[0] = [Generation(text="", error="HTTP 529 after 4 retries") for _ in range(params.samples)]
        return answers


def test_failed_prompts_are_recorded_and_a_rerun_asks_only_for_them(tmp_path):
    settings = dict(n=4, use_cache=True, cache_path=tmp_path / "responses.sqlite", chunk_size=2)
    flaky = FlakyTeacher()
    card = distill(config(**settings), tmp_path / "a", backend=flaky)
    failed = flaky.asked[0]
    from datasets import load_from_disk

    assert card["prompts_failed"] == 1 and card["prompts_rejected"] == 0 and card["rows"] == 4
    assert failed not in load_from_disk(str(tmp_path / "a"))["id"]  # topped up from the pool instead
    assert card["cache"] == {"from_cache": 0, "requested": 5, "failed": 1}

    healed = ScriptedTeacher(lambda it, k: it.reference_response)
    card = distill(config(**settings), tmp_path / "b", backend=healed)
    assert healed.asked == [failed]  # every other answer came from the response cache
    assert card["prompts_failed"] == 0 and card["cache"] == {"from_cache": 3, "requested": 1, "failed": 0}
    assert failed in load_from_disk(str(tmp_path / "b"))["id"]


def test_cli_distill_refuses_a_tokenizer_it_cannot_load_before_the_teacher_runs(cli, tmp_path):
    # a mistyped --tokenizer used to turn the card's token lengths into word counts without a word
    out = tmp_path / "data"
    proc = cli("distill", "--teacher", "reference", "--suite", "arithmetic", "--n", "4", "--out", str(out),
               "--tokenizer", "hf:/nonexistent", "--no-progress")
    assert proc.returncode == 2, proc.stderr
    assert "--tokenizer 'hf:/nonexistent'" in proc.stderr and "words" in proc.stderr
    assert not out.exists()


ANTHROPIC_TEACHER = "anthropic:claude-sonnet-4-5"


def test_cli_distill_passes_thinking_budget_and_a_rerun_sends_no_request(anthropic_server, cli, tmp_path):
    args = ("distill", "--teacher", ANTHROPIC_TEACHER, "--suite", "arithmetic", "--n", "3", "--keep", "all",
            "--thinking-budget", "64", "--cache-dir", str(tmp_path / "cache"), "--tokenizer", "words", "--no-progress")
    env = {"HARNESS_CACHE": str(fresh_harness_cache(tmp_path / "harness-cache"))}
    proc = cli(*args, "--out", str(tmp_path / "a"), env=env)
    assert proc.returncode == 0, proc.stderr
    bodies = [seen.body for seen in anthropic_server.messages_seen()]
    assert len(bodies) == 3 and all(body["thinking"]["budget_tokens"] == 64 for body in bodies)
    from datasets import load_from_disk

    first = load_from_disk(str(tmp_path / "a"))
    assert all(m[-1]["content"].startswith(f"<think>\n{anthropic_server.thinking_text}\n</think>\n") for m in first["messages"])
    assert json.loads((tmp_path / "a" / "data_card.json").read_text())["cache"] == {"from_cache": 0, "requested": 3, "failed": 0}

    proc = cli(*args, "--out", str(tmp_path / "b"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert len(anthropic_server.messages_seen()) == 3  # the rerun was answered by the response cache
    assert json.loads((tmp_path / "b" / "data_card.json").read_text())["cache"] == {"from_cache": 3, "requested": 0, "failed": 0}
    assert load_from_disk(str(tmp_path / "b"))["messages"] == first["messages"]


def test_cli_distill_refuses_bad_out_and_foreign_options_before_any_request(anthropic_server, cli, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    base = ("distill", "--teacher", ANTHROPIC_TEACHER, "--suite", "arithmetic", "--n", "2", "--no-progress")
    for extra, message in (
        (("--out", str(taken)), "is not a distilled dataset"),
        (("--out", str(a_file)), "is a file"),
        (("--out", str(tmp_path / "new"), "--batch-size", "4"), "--batch-size is not an option of the anthropic: backend"),
    ):
        proc = cli(*base, *extra)
        assert proc.returncode == 2 and message in proc.stderr, (extra, proc.stderr)
    assert anthropic_server.seen == []
    assert (taken / "notes.txt").read_text() == "mine" and not (tmp_path / "new").exists()
