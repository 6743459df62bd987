"""The rg:<dataset> suites: reasoning-gym's generators and scorers behind the Suite interface.

The properties every suite shares (reference scores 1.0, disjoint splits, ...) are checked by
test_all_suites.py; this file checks what is particular to the reasoning-gym adapter.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

import pytest

pytest.importorskip("reasoning_gym")

from harness.evaluate import EvalConfig, select_suites  # noqa: E402
from harness.suite import SUITES, get_suite  # noqa: E402
from harness.tasks._rg_catalog import CATALOG  # noqa: E402
from harness.tasks.reasoning_gym import extract_answer  # noqa: E402
from harness.types import CAPABILITIES  # noqa: E402

RG_NAMES = [entry.suite_name for entry in CATALOG]

# Content hashes at seed 0, size 2, under reasoning-gym 0.1.25 (the pinned version). A change here
# means the items changed: a new reasoning-gym, or a catalog edit (then bump the suite version).
PINNED_HASHES = {
    "rg:base_conversion": "72f8374b0601a798",
    "rg:basic_arithmetic": "514257b68ade6af8",
    "rg:chain_sum": "45481d82177543ed",
    "rg:circuit_logic": "3963ff1aadab68f6",
    "rg:color_cube_rotation": "b4bc70ac3477a2c7",
    "rg:complex_arithmetic": "d60e3137be6e2b2a",
    "rg:course_schedule": "271b4da8d3a8931d",
    "rg:family_relationships": "ce6472bfdc8f4fe2",
    "rg:fraction_simplification": "a72526578a96c6a1",
    "rg:gcd": "66a9975f20ad7c8b",
    "rg:knights_knaves": "c7cc222d491c3942",
    "rg:leg_counting": "466c576e0ae9db45",
    "rg:letter_counting": "4a358b6e41df8a04",
    "rg:needle_haystack": "ee184273781020fa",
    "rg:number_sorting": "4cc250c42e93c9e3",
    "rg:prime_factorization": "2e5b32f8281ae646",
    "rg:shortest_path": "1fa968625b79e3b2",
    "rg:simple_equations": "201724204ac269e9",
    "rg:spell_backward": "a8ae2e96f5d4c7ca",
    "rg:syllogism": "b89ec81a1e3a54e0",
    "rg:word_sorting": "925642bcca513868",
}


def test_catalog_is_registered_and_broad():
    assert len(CATALOG) >= 12
    assert {e.category for e in CATALOG} >= {"arithmetic", "algebra", "algorithmic", "graphs", "logic", "cognition"}
    for entry in CATALOG:
        assert entry.suite_name in SUITES
        suite_cls = SUITES.get(entry.suite_name)
        assert suite_cls.capability == entry.capability and entry.capability in CAPABILITIES
        assert suite_cls.default_selection is False
    assert set(PINNED_HASHES) == set(RG_NAMES)


def test_not_in_the_default_selection_but_selectable_by_name():
    default = {s.name for s in select_suites(EvalConfig(model="reference", suite_size=2))}
    assert default and not any(name.startswith("rg:") for name in default)
    assert "arithmetic" in default
    named = select_suites(EvalConfig(model="reference", suites=["rg:gcd"], suite_size=2))
    assert [s.name for s in named] == ["rg:gcd"]


@pytest.mark.parametrize("name", RG_NAMES)
def test_pinned_content_hash(name):
    assert get_suite(name, seed=0, size=2).content_hash() == PINNED_HASHES[name]


def test_items_carry_the_ladder_and_link_to_canonical():
    suite = get_suite("rg:leg_counting", size=4)
    test = suite.items("test")
    assert [it.variant.label for it in test[:3]] == ["canonical", "difficulty@1", "difficulty@2"]
    canonical, *harder = test[:3]
    assert all(it.variant.canonical_id == canonical.id for it in harder)
    entry = suite.entry
    assert [it.metadata["rg"]["level"] for it in test[:3]] == [entry.base_level, entry.base_level + 1, entry.base_level + 2]
    # same seed and index, harder config
    assert len({it.metadata["rg"]["index"] for it in test[:3]}) == 1
    assert "<answer>" in canonical.messages[0].content
    assert not any(it.variant.kind != "canonical" for it in suite.items("train") + suite.items("dev"))


def _mean_by_level(name: str, measure) -> list[float]:
    suite = get_suite(name, size=12)
    by_level: dict[int, list[float]] = {}
    for item in suite.items("test"):
        by_level.setdefault(item.variant.level, []).append(measure(suite, item))
    return [statistics.mean(v) for _, v in sorted(by_level.items())]


KNOBS = {
    # dataset: (what grows with the level, how to measure it on an item)
    "rg:leg_counting": lambda s, it: s.rg_entry(it)["metadata"]["num_animals"],
    "rg:word_sorting": lambda s, it: len(it.answer.split(", ")),
    "rg:spell_backward": lambda s, it: len(it.answer),
    "rg:knights_knaves": lambda s, it: it.answer.count(" is a "),
    "rg:basic_arithmetic": lambda s, it: sum(ch.isdigit() for ch in s.rg_entry(it)["question"]),
    "rg:shortest_path": lambda s, it: len(it.messages[0].content),
    "rg:color_cube_rotation": lambda s, it: s.rg_entry(it)["metadata"]["num_rotations"],
    "rg:family_relationships": lambda s, it: s.rg_entry(it)["metadata"]["family_size"],
}


@pytest.mark.parametrize("name", sorted(KNOBS))
def test_ladder_levels_are_increasingly_hard(name):
    means = _mean_by_level(name, KNOBS[name])
    assert len(means) == 3
    assert means[0] < means[1] < means[2], f"{name}: knob means by level {means}"


@pytest.mark.parametrize("name", RG_NAMES)
def test_every_rung_changes_the_generator_config(name):
    suite = get_suite(name, size=1)
    configs = [repr({k: v for k, v in vars(suite.level_config(level)).items() if k not in ("seed", "size")})
               for level in suite.levels()]
    assert len(set(configs)) == len(configs), f"{name}: two ladder rungs share a config"


def test_right_answers_score_one_in_every_accepted_form():
    suite = get_suite("rg:leg_counting", size=3)
    item = suite.items("test")[0]
    for output in (
        f"<answer>{item.answer}</answer>",
        f"Count each animal's legs and add.\n<answer> {item.answer} </answer>",
        f"<answer>7</answer> wait, recount: <answer>{item.answer}</answer>",  # the last tag counts
        f"Adding up the legs.\nFinal answer: {item.answer}",  # no tags: the last answer line
    ):
        score = suite.score(item, output)
        assert score.correct and score.value == 1.0 and score.parsed, (output, score)


def _swap_roles(answer: str) -> str:
    """Every person's role flipped: the knight/knave answer that is wrong for everyone."""
    from reasoning_gym.logic.knights_knaves import KNIGHT_KNAVE_PAIRS

    for good, bad in KNIGHT_KNAVE_PAIRS:
        answer = answer.replace(good, "\0").replace(bad, good).replace("\0", bad)
    return answer


@pytest.mark.parametrize("name", ["rg:leg_counting", "rg:word_sorting", "rg:shortest_path", "rg:knights_knaves", "rg:gcd"])
def test_known_wrong_answers_score_below_one(name):
    suite = get_suite(name, size=3)
    make_wrong = {
        "rg:leg_counting": lambda a: str(int(a) + 2),
        "rg:gcd": lambda a: str(int(a) * 3 + 1),
        "rg:word_sorting": lambda a: ", ".join(reversed(a.split(", "))),
        "rg:shortest_path": lambda a: "up" if a != "up" else "down",
        "rg:knights_knaves": _swap_roles,
    }[name]
    for item in suite.items("test"):
        wrong = make_wrong(item.answer)
        assert wrong != item.answer
        score = suite.score(item, f"<answer>{wrong}</answer>")
        assert not score.correct and score.value < 1.0, (item.id, wrong, score)


def test_partial_credit_is_kept_as_the_graded_value():
    # reasoning-gym's default scorer gives len(oracle) / len(answer) when the answer contains the oracle
    suite = get_suite("rg:leg_counting", size=3)
    item = suite.items("test")[0]
    padded = f"{item.answer} legs in total"
    score = suite.score(item, f"<answer>{padded}</answer>")
    assert not score.correct
    assert score.value == pytest.approx(len(item.answer) / len(padded))
    assert 0.0 < score.value < 1.0


def test_no_answer_is_unparsed_and_odd_output_never_crashes():
    suite = get_suite("rg:number_sorting", size=2)
    item = suite.items("test")[0]
    score = suite.score(item, "I think they go from small to large.")
    assert not score.parsed and not score.correct and score.value == 0.0
    odd = suite.score(item, "<answer>[[[not a list</answer>")
    assert odd.parsed and not odd.correct and odd.value < 1.0
    assert extract_answer("no tags here") is None
    assert extract_answer("<answer>a</answer> then <answer>b</answer>") == "b"


@pytest.mark.parametrize("name", RG_NAMES)
def test_items_score_on_a_fresh_suite_from_their_metadata(name):
    built = get_suite(name, seed=5, size=2)
    fresh = get_suite(name, seed=0, size=1)  # other seed, nothing built: regenerates each entry
    for item in built.items("test"):
        assert fresh.score(item, item.reference_response).value == 1.0


def test_cli_never_imports_reasoning_gym_to_list_names():
    code = ("import sys; from harness.suite import SUITES; names = SUITES.names(); "
            "assert 'rg:leg_counting' in names; assert 'reasoning_gym' not in sys.modules, 'imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_reasoning_gym_the_suites_are_absent():
    code = ("import sys; sys.modules['reasoning_gym'] = None\n"  # find_spec then reports it missing
            "from harness.suite import SUITES; names = SUITES.names()\n"
            "assert 'arithmetic' in names and not [n for n in names if n.startswith('rg:')], names")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_eval_and_show_through_the_cli(cli, tmp_path):
    out = tmp_path / "rg"
    proc = cli("eval", "--model", "reference", "--suite", "rg:leg_counting", "--groups", "1", "--no-progress",
               "--no-cache", "--out", str(out))  # one whole group: the canonical problem and its difficulty rungs
    assert proc.returncode == 0, proc.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["suites"]["rg:leg_counting"]["n_items"] == 3
    assert results["capabilities"]["math"]["score"] == 1.0
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert [r["variant"] for r in records] == ["canonical", "difficulty", "difficulty"]
    assert [r["perturbation_level"] for r in records] == [0, 1, 2]
    assert all(r["correct"] and r["score"] == 1.0 for r in records)

    show = cli("tasks", "show", "rg:leg_counting", "--n", "1", "--variant", "difficulty")
    assert show.returncode == 0, show.stderr
    assert "=== rg:leg_counting/test/00000/difficulty-1" in show.stdout and "<answer>" in show.stdout
