"""harness: an evaluation-centred benchmark harness for LLM distillation.

The public Python API, the same steps as the CLI (README, "Python API")::

    import harness

    teacher = harness.run_eval(harness.EvalConfig(model="reference", suites=["arithmetic"], limit=10))
    student = harness.run_eval(harness.EvalConfig(model="hf:./my-checkpoint", suites=["arithmetic"], limit=10))
    analysis = harness.analyse(*teacher, *student)
    verdict = harness.evaluate_gate(harness.parse_policy({"retention_floors": {"math": 0.8}}), analysis)

Every name is imported on first use (PEP 562), so `import harness` stays as light as the CLI's
start: no pydantic models, scipy or model stack until they are asked for.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    # evaluate: one call runs a model on suites and scores it (`harness eval`)
    "EvalConfig": "harness.eval_config",
    "run_eval": "harness.evaluate",
    # models and backends
    "Backend": "harness.backends.base",
    "BACKENDS": "harness.backends.registry",
    "load_backend": "harness.backends.base",
    "ModelSpec": "harness.models.spec",
    "parse_model_spec": "harness.models.spec",
    # suites and the data that crosses modules
    "Suite": "harness.suite",
    "SUITES": "harness.suite",
    "get_suite": "harness.suite",
    "Item": "harness.types",
    "Message": "harness.types",
    "Variant": "harness.types",
    "Generation": "harness.types",
    "GenerationParams": "harness.types",
    "Score": "harness.types",
    "SampleRecord": "harness.types",
    # results files
    "Results": "harness.results",
    "load_results": "harness.results",
    "write_results": "harness.results",
    # retention (`harness retention`) and its table formats
    "analyse": "harness.retention",
    "RetentionAnalysis": "harness.retention",
    "RetentionRow": "harness.retention",
    "BootstrapSettings": "harness.stats",
    "render_retention": "harness.report.formats",
    # the release gate (`harness gate`)
    "GatePolicy": "harness.policy",
    "load_policy": "harness.policy",
    "parse_policy": "harness.policy",
    "evaluate_gate": "harness.gate",
    "GateVerdict": "harness.gate",
    # plug-ins and errors
    "Registry": "harness.registry",
    "HarnessError": "harness.errors",
}
# public name -> its name in the defining module, where they differ
_RENAMED = {"render_retention": "render"}

# Spelled out (not derived from _EXPORTS) so linters and IDEs read it; tests/test_public_api.py checks they agree.
__all__ = [
    "__version__",
    "EvalConfig", "run_eval",
    "Backend", "BACKENDS", "load_backend", "ModelSpec", "parse_model_spec",
    "Suite", "SUITES", "get_suite", "Item", "Message", "Variant", "Generation", "GenerationParams", "Score", "SampleRecord",
    "Results", "load_results", "write_results",
    "analyse", "RetentionAnalysis", "RetentionRow", "BootstrapSettings", "render_retention",
    "GatePolicy", "load_policy", "parse_policy", "evaluate_gate", "GateVerdict",
    "Registry", "HarnessError",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(import_module(module), _RENAMED.get(name, name))
    globals()[name] = value  # the next access is a plain attribute lookup
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ imports on demand
    from harness.backends.base import Backend, load_backend
    from harness.backends.registry import BACKENDS
    from harness.errors import HarnessError
    from harness.eval_config import EvalConfig
    from harness.evaluate import run_eval
    from harness.gate import GateVerdict, evaluate_gate
    from harness.models.spec import ModelSpec, parse_model_spec
    from harness.policy import GatePolicy, load_policy, parse_policy
    from harness.registry import Registry
    from harness.report.formats import render as render_retention
    from harness.results import Results, load_results, write_results
    from harness.retention import RetentionAnalysis, RetentionRow, analyse
    from harness.stats import BootstrapSettings
    from harness.suite import SUITES, Suite, get_suite
    from harness.types import Generation, GenerationParams, Item, Message, SampleRecord, Score, Variant
