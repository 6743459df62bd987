"""`harness eval --executor ray`: the run's shards as Ray tasks, their answers streamed into the
driver's response cache, merged into exactly what `harness eval` writes.

A run (`run_on_ray`):

1. `ray.init(address=--ray-address)`; without it a local cluster is started on this machine for the
   run and stopped after it. An unreachable HOST:PORT fails in seconds (exit 2), not after Ray's
   own minutes of reconnecting.
2. The run is split into N shards (`--shards N`; default below) and each shard is one Ray task
   calling `run_eval` with `shard=I/N`: the in-process code path of `harness eval --shard I/N`
   (harness/shard.py), same flags, same selection, same engine choice. The task returns its results
   and records; the driver writes them to OUT/shards/I-of-N (workers need no disk the driver sees).
3. When every shard is back, harness/shard.py's `merge_shards` joins them into OUT: samples.jsonl
   byte for byte and results.json up to `RUN_ONLY_FIELDS` what an unsharded `harness eval` writes.

**The response cache is one actor on the driver's node.** `CacheService` (0 CPUs, pinned to the
driver's node by NodeAffinitySchedulingStrategy) owns the driver's SQLite cache (`--cache-dir`, else
`$HARNESS_CACHE`). Inside a shard task, harness.cache.open_response_cache returns a `RemoteCache`:
run_eval's generation reads the cache through it before generating (one `get_many` of the shard's
keys) and writes each chunk through it as the chunk returns (`put_many`, one SQLite transaction per
chunk of `--chunk-size` items, by default one backend batch). Why an actor and not the SQLite file
at $HARNESS_CACHE: workers on other nodes share no disk with the driver, and SQLite on a network
file system is unsafe with concurrent writers; the actor needs only Ray's own RPC, serialises the
writes, and leaves the answers where a later `harness eval` on the driver finds them. Its cost is
one round trip per chunk carrying the chunk's text, small beside the chunk's generation. With Ray
Client (`ray://`) the driver's node is the cluster's head, and the cache file is on the head's disk.
`--refresh` is applied by the actor (it serves only answers written during this run), so a retried
shard still resumes.

**A lost worker.** Ray runs a task again when its worker process or node dies (`max_retries` =
`--ray-max-retries`, default 3; every task gets a fresh worker process, `max_calls=1`, so a GPU
shard's memory is freed with it). The rerun is the whole shard, but its first `get_many` finds every
chunk the lost attempt committed, so only the chunk in flight at the loss is generated again. A
Python exception in a shard (a bad option, a checkpoint that does not load) is not retried
(`retry_exceptions=False`): it would fail the same way; the run stops with it.

**Resources and the default shard count.** A shard of a local model (`hf:`, `vllm:`, the embedded
default) on a cluster with GPUs asks Ray for `num_gpus` = `--tensor-parallel-size` (else 1) and 1
CPU; Ray places it and sets CUDA_VISIBLE_DEVICES, one shard per GPU (group). The default N is then
the cluster's GPUs divided by that. Without GPUs (or for API and reference models) a shard asks for
CPUs: its share of the cluster's CPUs (at most one node's), at least 1, and N defaults to the
cluster's CPUs; Ray sets OMP_NUM_THREADS to the CPUs a task holds, so torch in the shards does not
oversubscribe the cores.

**Why not `ray.data.llm`.** It builds its own vLLM engine stage over a Dataset and owns batching and
prompt rendering, so answers would not come from harness's backends (fingerprint and cache keys,
chat template and thinking split, per-suite token budgets, backend options), and the run could not
equal what `harness eval` writes. A shard per GPU running the `vllm:` backend already gets vLLM's
continuous batching inside the shard.

`ray` is an optional extra (`pip install 'harness[ray]'`), imported only here, only when used.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cache import ResponseCache, default_cache_path, serving_cache
from harness.errors import HarnessError
from harness.executors import EXECUTORS, ExecutorConfig
from harness.types import Generation

if TYPE_CHECKING:
    from harness.evaluate import EvalConfig
    from harness.results import Results
    from harness.types import SampleRecord

INSTALL_HINT = "pip install 'harness[ray]'"
LOCAL_ENGINES = ("hf", "vllm")  # backends that run the model in the shard's own process (on a GPU when there is one)
FORWARDED_ENV = ("HARNESS_ENGINE",)  # the driver's settings every shard must share (merge refuses mixed engines)
SHARDS_DIR = "shards"


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise HarnessError(f"--executor ray needs Ray, which is not installed ({exc}): {INSTALL_HINT}") from None
    return ray


def shard_dir(out: Path, index: int, count: int) -> Path:
    """OUT/shards/I-of-N: where the driver writes shard I's results before merging."""
    return out / SHARDS_DIR / f"{index}-of-{count}"


def check_address(address: str, timeout: float = 5.0) -> None:
    """A HOST:PORT (or ray://HOST:PORT) that accepts no connection is refused now, with the reason."""
    if address in ("auto", "local"):
        return
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise HarnessError(f"--ray-address {address!r}: write HOST:PORT (what `ray start --head` prints), ray://HOST:PORT or auto")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise HarnessError(f"--ray-address {address}: no Ray cluster answers there ({exc.strerror or exc}); "
                           "start one with `ray start --head`, or leave --ray-address out to run on a local one") from None


# --- the response cache, served from the driver's node ---------------------------------------------


class CacheService:
    """The driver's response cache as a Ray actor: shards read and write it by RPC. Opened on first use;
    with `refresh`, only answers written during this run are served. Also counts what the run did."""

    def __init__(self, path: str, refresh: bool = False):
        self.path, self.refresh = path, refresh
        self._cache: ResponseCache | None = None
        self.written: set[str] = set()  # keys stored during this run
        self.stored = self.served = 0  # sample rows written / answered from the cache
        self.attempts: dict[int, list[str]] = {}  # shard index -> "host:pid" of each attempt

    def _open(self) -> ResponseCache:
        if self._cache is None:
            self._cache = ResponseCache(self.path)
        return self._cache

    def get_many(self, keys: Sequence[str]) -> dict[str, Generation]:
        if self.refresh:
            keys = [k for k in keys if k in self.written]
        found = self._open().get_many(keys) if keys else {}
        self.served += len(found)
        return found

    def put_many(self, rows: list[tuple[str, Generation]]) -> int:
        n = self._open().put_many(rows)
        self.written.update(key for key, _ in rows)
        self.stored += n
        return n

    def count(self) -> int:
        return self._open().count()

    def attempt(self, index: int, where: str) -> int:
        """A shard task started (again): returns how many times it has."""
        self.attempts.setdefault(index, []).append(where)
        return len(self.attempts[index])

    def stats(self) -> dict[str, Any]:
        return {"stored": self.stored, "served": self.served, "attempts": dict(self.attempts)}

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None


class RemoteCache(ResponseCache):
    """A ResponseCache whose rows live in the driver's CacheService: what a shard task generates through."""

    def __init__(self, service: Any):  # no SQLite file here: the actor has it
        self.service = service
        self.path = Path(f"ray-actor:{SHARDS_DIR}-cache")

    def get_many(self, keys: Sequence[str]) -> dict[str, Generation]:
        import ray

        return ray.get(self.service.get_many.remote(list(keys)))

    def put_many(self, rows: Iterable[tuple[str, Generation]]) -> int:
        import ray

        rows = list(rows)
        if any(gen.error is not None for _, gen in rows):
            raise ValueError("failed generations are not cached")
        return ray.get(self.service.put_many.remote(rows))  # returns once the driver's SQLite has committed the chunk

    def count(self) -> int:
        import ray

        return ray.get(self.service.count.remote())

    def close(self) -> None:
        pass  # the actor outlives the shard


# --- one shard, in a Ray worker ---------------------------------------------------------------------


def run_shard(config: EvalConfig, index: int, count: int, service: Any) -> tuple[Results, list[SampleRecord]]:
    """Shard `index` of `count` exactly as `harness eval --shard I/N` runs it, its cache the driver's (a Ray task)."""
    import ray

    from harness.config import replace_config
    from harness.evaluate import run_eval
    from harness.shard import Shard

    ray.get(service.attempt.remote(index, f"{socket.gethostname()}:{os.getpid()}"))
    # The actor applies --refresh (it serves only this run's answers), so a retried shard resumes.
    shard_config = replace_config(config, shard=Shard(index, count), out=None, progress=False, refresh=False)
    serving = serving_cache(lambda _path: RemoteCache(service)) if config.use_cache else nullcontext()
    with serving:
        return run_eval(shard_config)


# --- the driver ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShardPlan:
    """How many shards, and what Ray gives each."""

    count: int
    num_gpus: int
    num_cpus: int

    def describe(self) -> str:
        each = f"{self.num_gpus} GPU{'s' if self.num_gpus > 1 else ''} + " if self.num_gpus else ""
        return f"{self.count} shard{'s' if self.count > 1 else ''}, each {each}{self.num_cpus} CPU{'s' if self.num_cpus > 1 else ''}"


def plan_shards(config: EvalConfig, shards: int | None, total: dict[str, float], largest_node: dict[str, float]) -> ShardPlan:
    """The shard count and per-shard resources for `config` on a cluster with `total` resources (the module docstring)."""
    from harness.models.spec import parse_model_spec

    spec = parse_model_spec(config.model)
    options = config.backend_options
    on_gpu = (spec.scheme in LOCAL_ENGINES and total.get("GPU", 0) >= 1
              and not str(options.get("device") or "").startswith("cpu"))
    if on_gpu:
        gpus = int(options.get("tensor_parallel_size") or 1)
        if gpus > largest_node.get("GPU", 0):
            raise HarnessError(f"a shard needs {gpus} GPUs (--tensor-parallel-size) and no node of the Ray cluster has that many "
                               f"(largest: {largest_node.get('GPU', 0):g})")
        count = shards or max(1, int(total["GPU"] // gpus))
        return ShardPlan(count, gpus, 1)
    cpus_total = int(total.get("CPU", 0))
    if cpus_total < 1:
        raise HarnessError("the Ray cluster offers no CPUs to run shards on")
    count = shards or cpus_total
    share = 1
    if spec.scheme in LOCAL_ENGINES:  # a CPU model: the shards share the cores (threads), never more than a node has
        share = max(1, min(cpus_total // count, int(largest_node.get("CPU", 1))))
    return ShardPlan(count, 0, share)


def _init_ray(ray: Any, options: ExecutorConfig) -> None:
    forwarded = {k: os.environ[k] for k in FORWARDED_ENV if os.environ.get(k)}
    kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "runtime_env": {"env_vars": forwarded} if forwarded else None}
    if options.ray_address is None:
        kwargs["include_dashboard"] = False  # a cluster for this run only: no dashboard process on the driver's cores
    else:
        check_address(options.ray_address)
    try:
        ray.init(address=options.ray_address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as exc:
        raise HarnessError(f"cannot start or reach a Ray cluster{f' at {options.ray_address}' if options.ray_address else ''}: "
                           f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def _largest_node(ray: Any) -> dict[str, float]:
    best: dict[str, float] = {}
    for node in ray.nodes():
        if node.get("Alive"):
            for key in ("CPU", "GPU"):
                best[key] = max(best.get(key, 0.0), float(node.get("Resources", {}).get(key, 0.0)))
    return best


def _shard_failure(ray: Any, exc: Exception, index: int, count: int) -> Exception:
    """The error a failed shard task ends the run with: a HarnessError from the shard stays one (exit 2)."""
    label = f"shard {index}/{count}"
    cause = getattr(exc, "cause", None)
    if isinstance(cause, HarnessError):
        return HarnessError(f"{label}: {cause}")
    if isinstance(exc, (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.LocalRayletDiedError)):
        return HarnessError(f"{label}: its worker was lost on every attempt (--ray-max-retries): {str(exc).splitlines()[0]}")
    if cause is not None:
        return RuntimeError(f"{label} failed: {type(cause).__name__}: {cause}")
    return RuntimeError(f"{label} failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")


def _postfix(stats: dict[str, Any]) -> dict[str, Any]:
    retried = sum(len(a) - 1 for a in stats["attempts"].values())
    return {"generated": stats["stored"], "cached": stats["served"], **({"retried": retried} if retried else {})}


@EXECUTORS.register("ray")
def run_on_ray(config: EvalConfig, out: Path, options: ExecutorConfig) -> tuple[Results, list[SampleRecord]]:
    """Shards of `config` as Ray tasks, their answers streamed into this machine's response cache, merged into `out`."""
    ray = import_ray()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from harness.results import write_results
    from harness.shard import merge_shards

    _init_ray(ray, options)
    try:
        plan = plan_shards(config, options.shards, ray.cluster_resources(), _largest_node(ray))
        cache_path = config.cache_path or default_cache_path()
        service = ray.remote(CacheService).options(
            num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False),
        ).remote(str(cache_path), config.refresh)
        task = ray.remote(max_calls=1)(run_shard).options(
            num_cpus=plan.num_cpus, num_gpus=plan.num_gpus, max_retries=options.ray_max_retries, retry_exceptions=False)
        if config.progress:
            where = options.ray_address or "a local Ray cluster"
            print(f"harness: ray: {plan.describe()} on {where} ({ray.cluster_resources().get('CPU', 0):g} CPUs, "
                  f"{ray.cluster_resources().get('GPU', 0):g} GPUs); answers into {cache_path if config.use_cache else 'no cache'}",
                  file=sys.stderr)
        pending = {task.remote(config, i, plan.count, service): i for i in range(1, plan.count + 1)}
        dirs: dict[int, Path] = {}
        bar = None
        if config.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=plan.count, desc="ray shards", unit="shard")
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1, timeout=2.0)
                for ref in done:
                    index = pending.pop(ref)
                    try:
                        results, records = ray.get(ref)
                    except Exception as exc:  # the first failed shard ends the run
                        raise _shard_failure(ray, exc, index, plan.count) from None
                    if "cache" in results.extra:
                        results.extra["cache"]["refresh"] = config.refresh  # the actor applied it, not the shard
                    dirs[index] = shard_dir(out, index, plan.count)
                    write_results(dirs[index], results, records)
                    if bar is not None:
                        bar.update(1)
                if bar is not None:
                    bar.set_postfix(_postfix(ray.get(service.stats.remote())))
        finally:
            if bar is not None:
                bar.close()
            for ref in pending:
                ray.cancel(ref, force=True)
        stats = ray.get(service.stats.remote())
        ray.get(service.close.remote())
    finally:
        ray.shutdown()

    for index, attempts in sorted(stats["attempts"].items()):
        if len(attempts) > 1:
            print(f"harness: ray: shard {index}/{plan.count} ran {len(attempts)} times (worker lost: {', '.join(attempts[:-1])}); "
                  "the rerun resumed from the response cache", file=sys.stderr)
    started = time.monotonic()
    results, records = merge_shards([dirs[i] for i in sorted(dirs)])
    write_results(out, results, records)
    if config.progress:
        print(f"harness: ray: merged {plan.count} shards into {out} in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return results, records
