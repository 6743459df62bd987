"""Where `harness eval` runs: in this process (`local`, the default) or as shards on a Ray cluster (`ray`).

An executor is a function `(config, out, options) -> (results, records)` that writes OUT/results.json
and OUT/samples.jsonl exactly as `harness eval` without it would (harness/shard.py's merge makes the
sharded ones exact). Plug-in packages add executors under the "harness.executors" entry-point group.

This module imports nothing heavy: its config generates `harness eval`'s executor flags.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from harness.config import Arg
from harness.registry import LazyChoices, Registry

if TYPE_CHECKING:
    from harness.evaluate import EvalConfig
    from harness.results import Results
    from harness.types import SampleRecord

EXECUTOR_FLAGS = "executor: where the run goes (docs/scale_out.md)"


@dataclass
class ExecutorConfig:
    """`harness eval`'s executor flags: which executor, and the Ray executor's settings."""

    executor: Annotated[str, Arg("local: this process; ray: shards as Ray tasks, merged into OUT (pip install 'harness[ray]')",
                                 choices=LazyChoices("harness.executors:EXECUTORS"), metavar="NAME",
                                 title=EXECUTOR_FLAGS)] = "local"
    shards: Annotated[int | None, Arg(
        "with --executor ray: split the run into N shards (default: the cluster's GPUs divided by the GPUs one shard "
        "takes, for hf/vllm models on a cluster with GPUs; else the cluster's CPUs)", metavar="N", positive=True,
        title=EXECUTOR_FLAGS)] = None
    ray_address: Annotated[str | None, Arg(
        "with --executor ray: the cluster to use (HOST:PORT of `ray start --head`, auto, or ray://HOST:PORT for Ray "
        "Client; default: start a local Ray cluster on this machine for the run)", metavar="ADDR", title=EXECUTOR_FLAGS)] = None
    ray_max_retries: Annotated[int, Arg(
        "with --executor ray: times a shard whose worker process or node was lost is run again; it resumes from the "
        "response cache", metavar="N", minimum=0, title=EXECUTOR_FLAGS)] = 3


Executor = Callable[["EvalConfig", Path, ExecutorConfig], tuple["Results", list["SampleRecord"]]]

EXECUTORS: Registry[Executor] = Registry("executor", entry_point_group="harness.executors",
                                         builtin_modules=["harness.executors.ray_executor"])


@EXECUTORS.register("local")
def run_local(config: EvalConfig, out: Path, options: ExecutorConfig) -> tuple[Results, list[SampleRecord]]:
    """The run in this process: run_eval, what `harness eval` always did."""
    from harness.evaluate import run_eval

    return run_eval(config, out_dir=out)
