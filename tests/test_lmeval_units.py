"""Fast checks of the lm-eval glue: capabilities, sample conversion, model mapping, file discovery."""

from __future__ import annotations

import json

import pytest

from harness.errors import HarnessError
from harness.lmeval.capabilities import parse_task_spec
from harness.lmeval.convert import TaskOutput, convert
from harness.lmeval.importer import find_results_file, task_capabilities
from harness.models.spec import parse_model_spec


def test_task_specs_and_default_capabilities():
    assert parse_task_spec("gsm8k") == ("gsm8k", "math")
    assert parse_task_spec("arc_challenge") == ("arc_challenge", "knowledge")
    assert parse_task_spec("ifeval") == ("ifeval", "format")
    assert parse_task_spec("mmlu_abstract_algebra") == ("mmlu_abstract_algebra", "knowledge")
    assert parse_task_spec("gsm8k:logic") == ("gsm8k", "logic")
    assert parse_task_spec("my_task", required=False) == ("my_task", None)
    with pytest.raises(HarnessError, match="no default capability"):
        parse_task_spec("my_task")
    with pytest.raises(HarnessError, match="unknown capability 'maths'"):
        parse_task_spec("gsm8k:maths")


def test_group_overrides_reach_subtasks():
    data = {
        "configs": {"mmlu_anatomy": {}, "mine_a": {}, "mine_b": {}},
        "group_subtasks": {"mmlu": ["mmlu_medical"], "mmlu_medical": ["mmlu_anatomy"], "mine": ["mine_a", "mine_b"]},
    }
    assert task_capabilities(data, {}) == {"mmlu_anatomy": "knowledge", "mine_a": None, "mine_b": None}
    caps = task_capabilities(data, {"mmlu": "logic", "mine": "code", "mine_b": "style"})
    assert caps == {"mmlu_anatomy": "logic", "mine_a": "code", "mine_b": "style"}


def gsm8k_like_samples():
    """What lm-eval logs for a generative task with two filters: one sample per (doc, filter)."""
    rows = []
    for doc_id, (text, strict, flexible) in enumerate([("... #### 42", 1.0, 1.0), ("it is 7", 0.0, 1.0), ("no idea", 0.0, 0.0)]):
        for name, value in (("strict-match", strict), ("flexible-extract", flexible)):
            rows.append({
                "doc_id": doc_id, "doc": {"q": doc_id}, "target": "42" if doc_id == 0 else "7",
                "arguments": {"gen_args_0": {"arg_0": "prompt", "arg_1": {"until": ["Q:"]}}},
                "resps": [[text]], "filtered_resps": [text.split()[-1]], "filter": name,
                "metrics": ["exact_match"], "doc_hash": f"d{doc_id}", "prompt_hash": "p", "target_hash": f"t{doc_id}",
                "exact_match": value,
            })
    return rows


def test_generic_task_takes_first_filter_and_first_metric():
    config = {"filter_list": [{"name": "strict-match"}, {"name": "flexible-extract"}],
              "metric_list": [{"metric": "exact_match"}], "test_split": "test"}
    out = convert([TaskOutput("gsm8k", "math", gsm8k_like_samples(), config, 3, 5, {})])
    assert [r.correct for r in out.records] == [True, False, False]
    assert [r.output for r in out.records] == ["... #### 42", "it is 7", "no idea"]
    assert out.records[1].item_id == "lm-eval:gsm8k/1" and out.records[1].reason == "exact_match (strict-match) = 0"
    info = out.suites["lm-eval:gsm8k"]
    assert (info.version, info.n_items, info.capability) == ("3+5shot", 3, "math")
    # a different filter order is a different measurement: the item-set hash differs
    config2 = {**config, "filter_list": list(reversed(config["filter_list"]))}
    other = convert([TaskOutput("gsm8k", "math", gsm8k_like_samples(), config2, 3, 5, {})])
    assert [r.correct for r in other.records] == [True, True, False]
    assert other.suites["lm-eval:gsm8k"].hash != info.hash


def test_list_metrics_are_averaged_and_out_of_range_refused():
    sample = {"doc_id": 0, "doc": {}, "target": "", "arguments": {}, "resps": [["x"]], "filtered_resps": ["x"],
              "filter": "none", "metrics": ["prompt_level_strict_acc", "inst_level_strict_acc"],
              "prompt_level_strict_acc": False, "inst_level_strict_acc": [True, False, True, True]}
    config = {"metric_list": [{"metric": "inst_level_strict_acc"}]}
    out = convert([TaskOutput("ifeval", "format", [sample], config)])
    assert out.records[0].score == 0.75 and out.records[0].correct is False
    bad = {**sample, "metrics": ["perplexity"], "perplexity": 12.5}
    with pytest.raises(HarnessError, match="in \\[0, 1\\]"):
        convert([TaskOutput("wiki", "knowledge", [bad], {"metric_list": [{"metric": "perplexity"}]})])
    with pytest.raises(HarnessError, match="no samples|--log_samples"):
        convert([TaskOutput("wiki", "knowledge", [], {})])


def test_model_specs_map_to_lm_eval_model_classes():
    from harness.lmeval.run import lm_eval_model

    openai = lm_eval_model(parse_model_spec("openai:http://localhost:8000/v1/#qwen"), None, 1)
    assert openai.model == "local-chat-completions" and openai.apply_chat_template
    assert openai.model_args["base_url"] == "http://localhost:8000/v1/chat/completions" and openai.model_args["model"] == "qwen"
    claude = lm_eval_model(parse_model_spec("anthropic:claude-sonnet-4-5"), None, 1)
    assert claude.model == "anthropic-chat-completions" and claude.model_args == {"model": "claude-sonnet-4-5"}
    with pytest.raises(HarnessError, match="cannot run lm-eval tasks"):
        lm_eval_model(parse_model_spec("reference"), None, 1)


def test_results_discovery(tmp_path):
    with pytest.raises(HarnessError, match="not found"):
        find_results_file(tmp_path / "nope")
    with pytest.raises(HarnessError, match="no lm-eval results"):
        find_results_file(tmp_path)
    for model in ("m1", "m2"):
        (tmp_path / model).mkdir()
        for stamp in ("2026-01-01T10-00-00.1", "2026-01-02T10-00-00.1"):
            (tmp_path / model / f"results_{stamp}.json").write_text(json.dumps({}))
    with pytest.raises(HarnessError, match="several models"):
        find_results_file(tmp_path)
    assert find_results_file(tmp_path / "m1").name == "results_2026-01-02T10-00-00.1.json"


def test_import_refuses_foreign_files_and_missing_samples(tmp_path, cli):
    (tmp_path / "results_2026-01-01T10-00-00.1.json").write_text(json.dumps({"hello": 1}))
    result = cli("import", "lm-eval", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "not an lm-eval results file" in result.stderr
    (tmp_path / "results_2026-01-01T10-00-00.1.json").write_text(json.dumps({"results": {}, "configs": {"gsm8k": {}}}))
    result = cli("import", "lm-eval", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "--log_samples" in result.stderr
    result = cli("import", "lm-eval", str(tmp_path), "--out", str(tmp_path / "out"), "--capability", "gsm8k")
    assert result.returncode == 2 and "TASK=CAPABILITY" in result.stderr


def test_exported_task_refuses_a_different_suite_version():
    from harness.lmeval.export import item_doc
    from harness.lmeval.task_utils import process_results
    from harness.suite import get_suite

    suite = get_suite("arithmetic")
    item = suite.items("test", limit=1)[0]
    doc = item_doc(suite, item)
    assert process_results(doc, [item.reference_response]) == {"acc": 1.0, "score": 1.0}
    with pytest.raises(HarnessError, match="re-export"):
        process_results({**doc, "suite_version": "0-old"}, [item.reference_response])
