"""`harness eval --shard I/N` + `harness merge`: shards merge into exactly what an unsharded run writes.

The runs go through the CLI's own entry point (harness.cli.main) in this process, with the offline
`reference` teacher and `flaky:`, a reference model that answers a third of the items wrongly (so
retention is not 1.0 everywhere and the merged table has something to get wrong).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from harness.backends.reference import ReferenceBackend
from harness.backends.registry import BACKENDS
from harness.cli import main
from harness.errors import HarnessError
from harness.results import load_results
from harness.shard import RUN_ONLY_FIELDS, Shard, comparable, parse_shard

SELECTION = ("--suite", "arithmetic", "--suite", "logic", "--limit", "20")  # 10 problem groups per suite, 20 in all
N_GROUPS = 20


class FlakyBackend(ReferenceBackend):
    """The reference answers, except "I don't know." on items whose prompt hashes to 0 mod 3 (by the prompt,
    as a real model answers: items with the same prompt are generated once per run and get one answer)."""

    def fingerprint(self):
        return {"backend": "flaky", "target": self.spec.target}

    def generate(self, items, params, progress=True):
        def answer(item):
            prompt = json.dumps([m.content for m in item.messages])
            wrong = int(hashlib.sha256(prompt.encode()).hexdigest(), 16) % 3 == 0
            return "I don't know." if wrong else item.reference_response

        return [[ReferenceBackend.generate(self, [item], params, progress)[0][0].model_copy(update={"text": answer(item)})
                 for _ in range(params.samples)] for item in items]


@pytest.fixture(scope="module", autouse=True)
def flaky_backend():
    with BACKENDS.temporarily("flaky", FlakyBackend):
        yield


def harness(capsys, *args: str) -> tuple[int, str, str]:
    """`harness ARGS` in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main([*args])
    out = capsys.readouterr()
    return code, out.out, out.err


def evaluate(capsys, out: Path, model: str, *extra: str, selection=SELECTION) -> Path:
    code, _, err = harness(capsys, "eval", "--model", model, *selection, *extra, "--out", str(out), "--no-progress")
    assert code == 0, err
    return out


def shards(capsys, root: Path, n: int, model: str = "flaky:x", *extra: str, selection=SELECTION) -> list[Path]:
    return [evaluate(capsys, root / f"shard{i}", model, "--shard", f"{i}/{n}", *extra, selection=selection)
            for i in range(1, n + 1)]


def merge(capsys, out: Path, *dirs: Path) -> tuple[int, str, str]:
    return harness(capsys, "merge", *map(str, dirs), "--out", str(out))


@pytest.fixture(scope="module")
def full_runs(tmp_path_factory):
    """The unsharded teacher and student runs (module-wide: every test compares against them)."""
    root = tmp_path_factory.mktemp("full")
    capsys = _NoCapture()
    return evaluate(capsys, root / "teacher", "reference"), evaluate(capsys, root / "student", "flaky:x")


class _NoCapture:
    """capsys stand-in for the module fixture (module-scoped fixtures get no capsys)."""

    def readouterr(self):
        class Out:
            out = err = ""

        return Out()


def retention_table(capsys, teacher: Path, student: Path) -> str:
    code, out, err = harness(capsys, "retention", "--teacher", str(teacher), "--student", str(student))
    assert code == 0, err
    return out


def assert_same_run(merged: Path, full: Path) -> None:
    assert (merged / "samples.jsonl").read_bytes() == (full / "samples.jsonl").read_bytes()
    merged_results, _ = load_results(merged)
    full_results, _ = load_results(full)
    assert comparable(merged_results) == comparable(full_results)
    assert RUN_ONLY_FIELDS == ("created_at", "extra.cache", "extra.merged_from")
    cache = merged_results.extra["cache"]  # the shards' counts summed
    assert cache["from_cache"] + cache["requested"] == len(load_results(merged)[1]) and cache["enabled"]


@pytest.mark.parametrize("n", [1, 2, 3, 25])  # 25 > 20 groups: five shards are empty
def test_sharded_then_merged_is_the_unsharded_run(capsys, tmp_path, full_runs, n):
    teacher, student = full_runs
    dirs = shards(capsys, tmp_path, n)
    sizes = [len(load_results(d)[1]) for d in dirs]
    assert sum(sizes) == len(load_results(student)[1])
    if n > N_GROUPS:
        assert sizes.count(0) == n - N_GROUPS
    code, out, err = merge(capsys, tmp_path / "merged", *reversed(dirs))  # any order
    assert code == 0, err
    assert f"merged {n} shards" in out
    assert_same_run(tmp_path / "merged", student)
    merged_results, _ = load_results(tmp_path / "merged")
    assert merged_results.extra["merged_from"] == [str(d) for d in dirs]  # in shard order
    assert retention_table(capsys, teacher, tmp_path / "merged") == retention_table(capsys, teacher, student)


def test_a_shard_keeps_whole_groups_in_the_full_runs_order(capsys, tmp_path, full_runs):
    _, student = full_runs
    _, full_records = load_results(student)
    order = [r.item_id for r in full_records]
    group_of = {r.item_id: r.canonical_id or r.item_id for r in full_records}
    seen: dict[str, int] = {}
    for i, shard in enumerate(shards(capsys, tmp_path, 3), 1):
        results, records = load_results(shard)
        ids = [r.item_id for r in records]
        assert ids == [x for x in order if x in set(ids)]  # the full run's order
        for item_id in ids:
            assert seen.setdefault(group_of[item_id], i) == i  # a group in one shard only
        mine = {group_of[x] for x in ids}
        assert all(group_of[x] not in mine or x in ids for x in order)  # ... and whole
        info = results.extra["shard"]
        assert (info["index"], info["count"], info["n_groups"]) == (i, 3, N_GROUPS)
        assert {g for gs in info["groups"].values() for g in gs} == mine
        assert results.suites["arithmetic"].n_items == sum(r.suite == "arithmetic" for r in records)
    assert len(seen) == N_GROUPS


def test_shards_split_what_limit_and_groups_chose(capsys, tmp_path):
    selection = ("--suite", "math", "--groups", "5", "--limit", "7")
    full = evaluate(capsys, tmp_path / "full", "flaky:x", selection=selection)
    dirs = shards(capsys, tmp_path, 2, selection=selection)
    assert merge(capsys, tmp_path / "merged", *dirs)[0] == 0
    assert_same_run(tmp_path / "merged", full)


def test_shard_spec_is_one_based_and_checked(capsys, tmp_path):
    assert parse_shard("1/4").index == 1 and str(parse_shard(" 4 / 4 ")) == "4/4"
    assert parse_shard(Shard(2, 3)) == Shard(2, 3)
    with pytest.raises(HarnessError, match="numbered from 1"):
        parse_shard(Shard(0, 3))  # the Python API's EvalConfig(shard=...) is checked too
    for bad, why in [("0/4", "numbered from 1"), ("5/4", "must be 1..4"), ("1/0", "at least 1"), ("2", "write I/N"),
                     ("a/b", "write I/N")]:
        with pytest.raises(HarnessError, match=why):
            parse_shard(bad)
        code, _, err = harness(capsys, "eval", "--model", "reference", "--suite", "arithmetic", "--limit", "2",
                               "--shard", bad, "--out", str(tmp_path / "x"), "--no-progress")
        assert code == 2 and f"--shard {bad}" in err.replace("'", "") and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_the_console_script_exits_2_on_a_zero_based_shard(cli, tmp_path):
    proc = cli("eval", "--model", "reference", "--suite", "arithmetic", "--limit", "2", "--shard", "0/2",
               "--out", str(tmp_path / "x"), "--no-progress")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "harness: error: --shard 0/2: shards are numbered from 1 to N (2), so I must be 1..2"


def test_merge_refuses_missing_shards(capsys, tmp_path):
    dirs = shards(capsys, tmp_path, 3)
    code, _, err = merge(capsys, tmp_path / "merged", dirs[0], dirs[2])
    assert code == 2 and "missing shard(s) 2/3" in err and str(dirs[0]) in err
    assert not (tmp_path / "merged").exists()


def test_merge_refuses_overlapping_shards(capsys, tmp_path):
    one, two = shards(capsys, tmp_path, 2)
    code, _, err = merge(capsys, tmp_path / "merged", one, two, one)
    assert code == 2 and f"shard 1/2 given twice: {one} and {one}" in err
    # a copy of shard 1 relabelled as shard 2: its groups are shard 1's
    fake = tmp_path / "fake2"
    shutil.copytree(one, fake)
    data = json.loads((fake / "results.json").read_text())
    data["extra"]["shard"]["index"] = 2
    (fake / "results.json").write_text(json.dumps(data))
    code, _, err = merge(capsys, tmp_path / "merged", one, fake)
    assert code == 2 and f"{fake} (shard 2/2): problem group" in err and f"is also in {one} (shard 1/2)" in err
    assert not (tmp_path / "merged").exists()


def test_merge_refuses_a_shard_that_lost_items(capsys, tmp_path):
    one, two = shards(capsys, tmp_path, 2)
    lines = (two / "samples.jsonl").read_text().splitlines(keepends=True)
    (two / "samples.jsonl").write_text("".join(lines[1:]))
    code, _, err = merge(capsys, tmp_path / "merged", one, two)
    assert code == 2 and f"{two} (shard 2/2)" in err and "extra.shard lists" in err


@pytest.mark.parametrize("first, second, why", [
    (("flaky:x",), ("reference",), "model spec differs: 'flaky:x' vs 'reference'"),
    (("flaky:x",), ("flaky:y",), "model spec differs"),
    (("flaky:x",), ("flaky:x", "--max-new-tokens", "64"), "generation parameters differ: max_new_tokens None vs 64"),
    (("flaky:x", "--max-new-tokens", "64"), ("flaky:x", "--max-new-tokens", "128"), "max_new_tokens 64 vs 128"),
    (("flaky:x",), ("flaky:x", "--seed", "1"), "suite arithmetic: content hash differs"),
])
def test_merge_refuses_shards_that_disagree(capsys, tmp_path, first, second, why):
    one = evaluate(capsys, tmp_path / "one", first[0], *first[1:], "--shard", "1/2")
    two = evaluate(capsys, tmp_path / "two", second[0], *second[1:], "--shard", "2/2")
    code, _, err = merge(capsys, tmp_path / "merged", one, two)
    assert code == 2 and why in err and f"{two} (shard 2/2) does not match {one} (shard 1/2)" in err, err
    assert not (tmp_path / "merged").exists()


def test_merge_refuses_shards_of_different_counts_and_unsharded_runs(capsys, tmp_path, full_runs):
    one = shards(capsys, tmp_path / "of2", 2)[0]
    three = shards(capsys, tmp_path / "of3", 3)
    code, _, err = merge(capsys, tmp_path / "merged", one, *three[1:])
    assert code == 2 and "shard count differs: 2 vs 3" in err
    code, _, err = merge(capsys, tmp_path / "merged", one, full_runs[1])
    assert code == 2 and f"{full_runs[1]}: not a shard" in err
    code, _, err = merge(capsys, one, one, *three)
    assert code == 2 and "is one of the shards" in err
