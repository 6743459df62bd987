"""`harness eval --executor ray` on a real two-node Ray cluster on this machine, with a worker killed mid-run.

The cluster is started the way a user starts one (`ray start --head`, then `ray start --address` for a
second node, one CPU each) and `harness eval` runs as a subprocess against it. tests/ray_worker_hook
(on the nodes' PYTHONPATH) logs what each worker asks the model for and pauses the first worker to
reach its second chunk, which the test then kills with SIGKILL. The run must still end with the
single-process run's files, every answer generated exactly once, and the killed shard's committed
chunk answered from the driver's cache.
"""

from __future__ import annotations

import collections
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from harness.cli import main
from harness.executors import EXECUTORS
from harness.executors.ray_executor import ShardPlan, plan_shards
from harness.evaluate import EvalConfig
from harness.results import load_results
from harness.shard import comparable

BIN = Path(sys.executable).parent
HOOK = Path(__file__).parent / "ray_worker_hook"
# 6 problem groups of 2 items per suite, 24 items; --batch-size 1 makes every item its own chunk (and its
# own batch, so its answer does not depend on which shard it is in).
SELECTION = ("--suite", "arithmetic", "--suite", "logic", "--limit", "12", "--max-new-tokens", "8", "--batch-size", "1")
N_ITEMS = 24


def rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]


class Cluster:
    """A head node and a worker node started with `ray start`, each in its own process group (killed at the end)."""

    def __init__(self, env: dict[str, str]):
        self.env, self.groups = env, []
        self.address = ""

    def start_nodes(self) -> None:
        temp = tempfile.mkdtemp(prefix="ray-")  # short: Ray's socket paths must fit in 107 bytes
        common = ["--num-cpus", "1", "--object-store-memory", str(80 * 1024**2), "--disable-usage-stats"]
        out = self.start("--head", "--port", "0", "--include-dashboard", "false", "--temp-dir", temp, *common)
        self.address = re.search(r"ray start --address='([^']+)'", out).group(1)
        self.start("--address", self.address, *common)

    def start(self, *args: str) -> str:
        proc = subprocess.Popen([str(BIN / "ray"), "start", *args], env=self.env, start_new_session=True, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.groups.append(proc.pid)  # the daemons it starts keep its process group
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out
        return out

    def stop(self) -> None:
        for group in self.groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass


def wait_for_pid(path: Path, proc: subprocess.Popen, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        text = path.read_text().strip() if path.exists() else ""
        if text.isdigit():
            return int(text)
        time.sleep(0.1)
    raise AssertionError(f"no worker paused within {timeout} s (run exit code {proc.poll()})")


@pytest.mark.slow
def test_ray_run_with_a_killed_worker_equals_the_single_process_run(tiny_model_dir, tmp_path):
    model = ("--model", f"hf:{tiny_model_dir}")
    # The single-process run, started first: it runs while the cluster starts.
    single_env = {**os.environ, "HARNESS_CACHE": str(tmp_path / "single-cache")}
    single = subprocess.Popen([str(BIN / "harness"), "eval", *model, *SELECTION, "--no-progress", "--out", str(tmp_path / "single")],
                              env=single_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    hook = tmp_path / "hook"
    hook.mkdir()
    # Token authentication, as Ray recommends: the nodes and the driver share the token.
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    # The nodes get their own HARNESS_CACHE: answers reaching the driver's cache can only have come through the actor.
    node_env = {**os.environ, **auth, "HARNESS_CACHE": str(tmp_path / "node-cache"), "HARNESS_RAY_HOOK_DIR": str(hook),
                "PYTHONPATH": os.pathsep.join(filter(None, [str(HOOK), os.environ.get("PYTHONPATH")]))}
    cluster = Cluster(node_env)
    try:
        cluster.start_nodes()
        assert single.wait(timeout=300) == 0, single.stderr.read()
        driver_cache = tmp_path / "driver-cache"
        run = subprocess.Popen(
            [str(BIN / "harness"), "eval", *model, *SELECTION, "--executor", "ray", "--ray-address", cluster.address,
             "--out", str(tmp_path / "ray")],
            env={**os.environ, **auth, "HARNESS_CACHE": str(driver_cache)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        victim = wait_for_pid(hook / "paused", run, timeout=240)
        os.kill(victim, signal.SIGKILL)  # a worker lost between two committed chunks
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    finally:
        cluster.stop()

    # The same files as the single-process run.
    assert (tmp_path / "ray" / "samples.jsonl").read_bytes() == (tmp_path / "single" / "samples.jsonl").read_bytes()
    ray_results, records = load_results(tmp_path / "ray")
    single_results, _ = load_results(tmp_path / "single")
    assert comparable(ray_results) == comparable(single_results)
    assert len(records) == N_ITEMS
    assert sorted(p.name for p in (tmp_path / "ray" / "shards").iterdir()) == ["1-of-2", "2-of-2"]  # one shard per CPU

    # Every answer generated exactly once: the retried shard asked only for what its lost attempt had not committed.
    logs = {int(p.stem.removeprefix("asked-")): p.read_text().split() for p in hook.glob("asked-*.log")}
    asked = collections.Counter(item for items in logs.values() for item in items)
    assert sorted(asked) == sorted(r.item_id for r in records) and set(asked.values()) == {1}
    committed_before_kill = len(logs[victim])
    assert committed_before_kill == 1  # its first chunk; it was killed before asking for its second
    cache = ray_results.extra["cache"]
    assert cache["from_cache"] == committed_before_kill and cache["requested"] == N_ITEMS - committed_before_kill
    assert "ran 2 times" in err and f":{victim}" in err

    # The answers went to the driver's cache, through the actor: no node wrote a cache of its own.
    assert rows(driver_cache / "responses.sqlite") == N_ITEMS
    assert not (tmp_path / "node-cache" / "responses.sqlite").exists()


def test_ray_executor_is_registered_and_flags_need_it(capsys):
    assert {"local", "ray"} <= set(EXECUTORS.names())
    for flags in (["--shards", "2"], ["--ray-address", "127.0.0.1:6379"]):
        assert main(["eval", "--model", "reference", "--suite", "arithmetic", "--limit", "2", *flags]) == 2
        assert "go with --executor ray" in capsys.readouterr().err
    assert main(["eval", "--model", "reference", "--executor", "ray", "--shard", "1/2"]) == 2
    assert "drop --shard" in capsys.readouterr().err


def test_without_ray_installed_the_error_says_how_to_install_it(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    code = main(["eval", "--model", "reference", "--suite", "arithmetic", "--limit", "2", "--executor", "ray",
                 "--out", str(tmp_path / "out")])
    assert code == 2
    assert "pip install 'harness[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_unreachable_ray_address_exits_2_at_once(capsys, tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    code = main(["eval", "--model", "reference", "--suite", "arithmetic", "--limit", "2", "--executor", "ray",
                 "--ray-address", f"127.0.0.1:{port}", "--out", str(tmp_path / "out")])
    assert code == 2 and time.monotonic() - started < 30  # not Ray's own minutes of reconnecting
    err = capsys.readouterr().err
    assert f"--ray-address 127.0.0.1:{port}: no Ray cluster answers there" in err
    assert main(["eval", "--model", "reference", "--executor", "ray", "--ray-address", "nohost"]) == 2
    assert "write HOST:PORT" in capsys.readouterr().err


def plan(model: str, total: dict, largest: dict | None = None, shards: int | None = None, **options) -> ShardPlan:
    return plan_shards(EvalConfig(model=model, backend_options=options), shards, total, largest or total)


def test_shard_plan_one_shard_per_gpu_for_local_engines_else_per_cpu():
    gpus = {"CPU": 64.0, "GPU": 8.0}
    assert plan("vllm:/m", gpus, {"CPU": 32.0, "GPU": 4.0}) == ShardPlan(8, 1, 1)
    assert plan("vllm:/m", gpus, {"CPU": 32.0, "GPU": 4.0}, tensor_parallel_size=2) == ShardPlan(4, 2, 1)
    assert plan("hf:/m", gpus) == ShardPlan(8, 1, 1)
    assert plan("hf:/m", gpus, device="cpu") == ShardPlan(64, 0, 1)
    assert plan("openai:http://x/v1#m", gpus) == ShardPlan(64, 0, 1)  # an API model asks for no GPU
    cpus = {"CPU": 8.0}
    assert plan("hf:/m", cpus) == ShardPlan(8, 0, 1)
    assert plan("hf:/m", cpus, shards=2) == ShardPlan(2, 0, 4)  # CPU shards share the cores...
    assert plan("hf:/m", cpus, {"CPU": 2.0}, shards=2) == ShardPlan(2, 0, 2)  # ...never more than one node has
    assert plan(None, cpus, shards=1) == ShardPlan(1, 0, 8)  # the embedded default runs on hf or vllm
    assert plan("reference", cpus, shards=3) == ShardPlan(3, 0, 1)
    with pytest.raises(Exception, match="no node of the Ray cluster has that many"):
        plan("vllm:/m", gpus, {"CPU": 32.0, "GPU": 4.0}, tensor_parallel_size=8)


def test_the_response_cache_opener_is_scoped(tmp_path):
    from harness.cache import ResponseCache, open_response_cache, serving_cache

    class Fake(ResponseCache):
        def __init__(self, path):
            self.path = path

        def close(self):
            pass

    with serving_cache(Fake):
        assert type(open_response_cache(tmp_path / "a.sqlite")) is Fake
    cache = open_response_cache(tmp_path / "a.sqlite")
    assert type(cache) is ResponseCache
    cache.close()
