"""`harness export lm-eval`: the task folder loads in lm-eval and scores with the suite's own scorer."""

from __future__ import annotations

import json

import pytest
import yaml

from harness.errors import HarnessError
from harness.lmeval.export import export_suite
from harness.suite import get_suite

pytest.importorskip("lm_eval")


def load_task(folder, name):
    """The task exactly as `lm_eval --include_path folder --tasks name` builds it."""
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(folder), include_defaults=False)
    return manager.load([name])["tasks"][name]


def record_chat(messages, add_generation_prompt=True):
    return json.dumps(messages)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lm-eval-tasks")
    task = export_suite("arithmetic", folder, limit=3, max_new_tokens=32)
    return folder, task


def test_folder_has_yaml_data_and_utils(exported):
    folder, task = exported
    assert task.task == "harness_arithmetic" and task.n_items == 3
    config = (folder / "harness_arithmetic.yaml").read_text()
    assert "dataset_path: json" in config and "!function utils.process_results" in config.replace("'", "")
    assert (folder / "utils.py").read_text().count("def process_results") == 1
    rows = [json.loads(line) for line in task.data_path.read_text().splitlines()]
    assert [r["id"] for r in rows] == [it.id for it in get_suite("arithmetic").items("test", limit=3)]


def test_lm_eval_builds_the_harness_prompt_and_pins_generation(exported):
    folder, _ = exported
    task = load_task(folder, "harness_arithmetic")
    docs = list(task.test_docs())
    items = get_suite("arithmetic").items("test", limit=3)
    assert len(docs) == 3
    for doc, item in zip(docs, items, strict=True):
        # With --apply_chat_template lm-eval hands the tokenizer's template these messages:
        messages = json.loads(task.fewshot_context(doc, 0, apply_chat_template=True, chat_template=record_chat))
        assert messages == [m.model_dump() for m in item.messages]
    kwargs = task.config.generation_kwargs
    assert kwargs["until"] == [] and kwargs["do_sample"] is False and kwargs["max_gen_toks"] == 32


def test_process_results_is_the_suites_scorer(exported):
    folder, _ = exported
    task = load_task(folder, "harness_arithmetic")
    doc = next(iter(task.test_docs()))
    item = get_suite("arithmetic").items("test", limit=1)[0]
    assert task.process_results(doc, [item.reference_response]) == {"acc": 1.0, "score": 1.0}
    assert task.process_results(doc, [f"The answer is {item.answer + 1}."]) == {"acc": 0.0, "score": 0.0}
    assert task.process_results(doc, ["I do not know."])["acc"] == 0.0


def test_system_message_goes_to_the_system_turn(tmp_path):
    from harness.lmeval import task_utils
    from harness.types import Item, Message

    item = Item(
        id="x/1",
        suite="arithmetic",
        capability="math",
        messages=[Message(role="system", content="Be terse."), Message(role="user", content="2+2?")],
        answer=4,
    )
    doc = {"item_json": item.model_dump_json()}
    assert task_utils.doc_to_system(doc) == "Be terse."
    assert task_utils.doc_to_text(doc) == "2+2?"
    # plain style is what harness sends to a model without a chat template (backends/hf.py render_chat)
    from harness.backends.hf import render_chat

    class NoTemplate:
        chat_template = None

    assert task_utils.doc_to_text_plain(doc) == render_chat(NoTemplate(), item)


def test_plain_style_and_cli(tmp_path, cli):
    result = cli("export", "lm-eval", "--suite", "arithmetic", "--out", str(tmp_path), "--limit", "2", "--prompt-style", "plain")
    assert result.returncode == 0, result.stderr
    assert "harness_arithmetic: 2 items" in result.stdout and "--apply_chat_template" not in result.stdout
    config = yaml.safe_load((tmp_path / "harness_arithmetic.yaml").read_text().replace("!function ", ""))
    assert config["doc_to_text"] == "utils.doc_to_text_plain" and "description" not in config


def test_bad_requests_are_clear(tmp_path, cli):
    with pytest.raises(HarnessError, match="unknown suite|no suite|not registered|unknown"):
        export_suite("no-such-suite", tmp_path)
    with pytest.raises(HarnessError, match="no test items"):
        export_suite("arithmetic", tmp_path, variants=["no-such-variant"])
    result = cli("export", "lm-eval", "--suite", "arithmetic", "--out", str(tmp_path), "--limit", "0")
    assert result.returncode == 2 and "--limit must be positive" in result.stderr


def test_relative_suites_are_refused(tmp_path):
    from harness.suite import SUITES

    relative = [name for name in SUITES.names() if SUITES.get(name).relative]
    assert "style" in relative  # the built-in relative suite: scored against the teacher's own outputs
    for name in relative:
        with pytest.raises(HarnessError, match="teacher"):
            export_suite(name, tmp_path / name)


def test_tag_runs_every_exported_suite(tmp_path):
    from lm_eval.tasks import TaskManager

    export_suite("arithmetic", tmp_path, limit=2)
    export_suite("knowledge", tmp_path, limit=2)
    loaded = TaskManager(include_path=str(tmp_path), include_defaults=False).load(["harness"])
    assert set(loaded["tasks"]) == {"harness_arithmetic", "harness_knowledge"}
