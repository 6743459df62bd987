"""Response cache: re-runs answer from SQLite, a SIGKILLed run resumes exactly, failures retry."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.backends.base import Backend
from harness.cache import ResponseCache, sample_keys
from harness.evaluate import EvalConfig, run_eval
from harness.models.spec import ModelSpec
from harness.suite import get_suite
from harness.types import Generation, GenerationParams, Item

SPY = Path(__file__).parent / "generate_spy"


class ScriptedBackend(Backend):
    """Answers with the reference response, except items listed in `fail` (until healed)."""

    name = "scripted"

    def __init__(self, fail: Sequence[str] = ()):
        super().__init__(ModelSpec(scheme="scripted", target="x", raw="scripted:x"))
        self.fail = set(fail)
        self.asked: list[str] = []

    def fingerprint(self):
        return {"backend": "scripted"}

    def generate(self, items: Sequence[Item], params: GenerationParams, progress: bool = True) -> list[list[Generation]]:
        self.asked.extend(item.id for item in items)
        return [
            [Generation(text="", error="HTTP 503 after 4 retries") if item.id in self.fail else Generation(text=item.reference_response)
             for _ in range(params.samples)]
            for item in items
        ]


def config(tmp_path: Path, **kw) -> EvalConfig:
    return EvalConfig(suites=["arithmetic"], limit=8, progress=False, cache_path=tmp_path / "c.sqlite", chunk_size=3, **kw)


def test_failures_are_recorded_not_scored_and_only_they_are_retried(tmp_path):
    items = get_suite("arithmetic").items("test", limit=8)
    broken = [items[1].id, items[6].id]

    first = ScriptedBackend(fail=broken)
    results, records = run_eval(config(tmp_path), tmp_path / "a", backend=first)

    assert sorted(first.asked) == sorted(it.id for it in items)
    failed = [r for r in records if r.error]
    assert [r.item_id for r in failed] == broken and all("503" in r.error and not r.correct for r in failed)
    assert results.failures == 2
    assert results.capabilities["math"].n == 6 and results.capabilities["math"].score == 1.0  # not counted as wrong

    second = ScriptedBackend()
    results2, records2 = run_eval(config(tmp_path), tmp_path / "b", backend=second)

    assert second.asked == broken  # cached answers were not asked for again
    assert results2.failures == 0 and results2.capabilities["math"].n == 8
    assert results2.extra["cache"] == {"from_cache": 6, "requested": 2, "failed": 0, "enabled": True, "refresh": False}

    third = ScriptedBackend()
    run_eval(config(tmp_path, refresh=True), tmp_path / "c", backend=third)
    assert sorted(third.asked) == sorted(it.id for it in items)  # --refresh ignores the cache


def test_cache_keys_separate_models_params_and_samples(tmp_path):
    item = get_suite("arithmetic").items("test", limit=1)[0]
    greedy, sampled = GenerationParams(), GenerationParams(temperature=0.7, samples=2)
    keys = {
        *sample_keys({"m": 1}, item, greedy),
        *sample_keys({"m": 2}, item, greedy),
        *sample_keys({"m": 1}, item, sampled),
    }
    assert len(keys) == 4
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        cache.put_many([(k, Generation(text=k)) for k in sorted(keys)])
        assert {k: g.text for k, g in cache.get_many(sorted(keys)).items()} == {k: k for k in keys}
        with pytest.raises(ValueError):
            cache.put_many([("k", Generation(text="", error="boom"))])


def harness_eval(model_dir: Path, cache: Path, out: Path, spy_log: Path | None = None, delay: float = 0.0) -> list[str]:
    env = {**os.environ, "HARNESS_CACHE": str(cache.parent / "harness-cache")}
    if spy_log:
        env.update(PYTHONPATH=str(SPY), HARNESS_SPY_LOG=str(spy_log), HARNESS_SPY_DELAY=str(delay))
    return [
        str(Path(sys.executable).parent / "harness"), "eval", "--model", f"hf:{model_dir}", "--suite", "arithmetic",
        "--limit", "24", "--max-new-tokens", "12", "--chunk-size", "2", "--cache-dir", str(cache), "--out", str(out),
        "--no-progress",
    ], env


def cached_rows(cache: Path) -> int:
    db = cache / "responses.sqlite"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_sigkilled_run_resumes_to_the_uninterrupted_result_without_asking_again(tiny_model_dir, tmp_path):
    # The uninterrupted reference run.
    argv, env = harness_eval(tiny_model_dir, tmp_path / "clean", tmp_path / "clean-out")
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=300)

    # The same run, killed with SIGKILL once some chunks are committed.
    argv, env = harness_eval(tiny_model_dir, tmp_path / "cache", tmp_path / "out", tmp_path / "spy1.log", delay=0.3)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while cached_rows(tmp_path / "cache") < 6 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    answered = cached_rows(tmp_path / "cache")
    assert 6 <= answered < 24, "the run should be killed mid-way"
    assert not (tmp_path / "out" / "results.json").exists()

    argv, env = harness_eval(tiny_model_dir, tmp_path / "cache", tmp_path / "out", tmp_path / "spy2.log")
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=300)

    asked_first = set((tmp_path / "spy1.log").read_text().split())
    asked_again = (tmp_path / "spy2.log").read_text().split()
    assert len(asked_again) == 24 - answered  # only what the cache lacked
    with ResponseCache(tmp_path / "cache" / "responses.sqlite") as cache:
        assert cache.count() == 24
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["extra"]["cache"]["from_cache"] == answered and results["extra"]["cache"]["requested"] == 24 - answered
    assert len(asked_first) >= answered
    clean = (tmp_path / "clean-out" / "samples.jsonl").read_text()
    assert (tmp_path / "out" / "samples.jsonl").read_text() == clean
