"""A vLLM engine started quietly: its set-up chatter stays out of the terminal.

harness's CLI sets VLLM_LOGGING_LEVEL=ERROR unless the user set it, gave `--debug`, or runs
`serve` (harness/cli.py). vLLM applies that level to its `vllm` loggers in every process it
starts (the API process, EngineCore, the CPU worker; vllm/logger.py), which drops its set-up
WARNINGs (chunked prefill, eager mode, no Triton, no tcmalloc in LD_PRELOAD) and, when weights
are cast (a float32 checkpoint run in bfloat16), the "Attempted to load weight X with dtype
torch.float32 into parameter with dtype torch.bfloat16" WARNING that vLLM's AutoWeightsLoader
(vllm/model_executor/models/utils.py) logs once per tensor: 272 lines for SmolLM2-135M, all on
stdout among harness's own tables.

The rest of an engine start's noise does not go through vLLM's loggers. When vLLM is quiet,
`quiet_engine()` (called just before the engine starts) turns it off here and, through the
environment the spawned processes inherit, there too:

- torch's "Triton not available" warning: its logger `torch._library.triton` here, `TORCH_LOGS=-torch`
  (torch's own log setting, level ERROR) in the engine's processes;
- torch's C++ warnings, such as the CPU worker's NUMA binding notice: `TORCH_CPP_LOG_LEVEL=ERROR`;
- two Python warnings: torch's `reduce_op` FutureWarning raised from vLLM's Triton dispatcher at
  import, and multiprocessing's resource tracker counting vLLM's shared memory at exit;
- the weight-loading progress bar: `QUIET_ENGINE_ARGS` (vLLM's `use_tqdm_on_load`).

A variable the user set is left as it is.
"""

from __future__ import annotations

import builtins
import logging
import os
import re
import warnings

QUIET_LEVELS = ("ERROR", "CRITICAL")
QUIET_ENGINE_ARGS = {"use_tqdm_on_load": False}
CHILD_ENVIRONMENT = {"TORCH_LOGS": "-torch", "TORCH_CPP_LOG_LEVEL": "ERROR"}
# (action, message start, category, module) as -W / PYTHONWARNINGS take them
WARNING_FILTERS = (
    ("ignore", "", "FutureWarning", "vllm.triton_utils.dispatcher"),
    ("ignore", "resource_tracker", "UserWarning", ""),  # "resource_tracker: There appear to be N leaked ..." (no colon in -W)
)


def engine_is_quiet() -> bool:
    """vLLM logs at ERROR or above (what harness's CLI sets on a default run)."""
    return os.environ.get("VLLM_LOGGING_LEVEL", "INFO").strip().upper() in QUIET_LEVELS


def quiet_engine() -> None:
    """Silence the engine start's chatter that vLLM's log level does not reach, here and in its processes."""
    logging.getLogger("torch._library.triton").setLevel(logging.ERROR)
    for key, value in CHILD_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    specs = [":".join(f) for f in WARNING_FILTERS]
    given = [s for s in os.environ.get("PYTHONWARNINGS", "").split(",") if s]
    os.environ["PYTHONWARNINGS"] = ",".join(given + [s for s in specs if s not in given])
    for action, message, category, module in WARNING_FILTERS:
        warnings.filterwarnings(action, message=re.escape(message), category=getattr(builtins, category),  # type: ignore[arg-type]
                                module=re.escape(module))
