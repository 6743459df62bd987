"""Local checkpoints shared by every backend that loads weights (hf, vllm, lm-eval, train, serve).

`resolve_checkpoint` turns a model spec's target into a folder (embedded names are converted
on first use) or leaves a hub name as it is; `checkpoint_fingerprint` identifies what is in that
folder for the response cache; a PEFT adapter folder is loaded on the base it names.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.models.embedded import EMBEDDED, embedded_checkpoint

ADAPTER_CONFIG = "adapter_config.json"  # a PEFT (LoRA) adapter folder: no config.json, loaded on its base model
FINGERPRINTED_FILES = ("config.json", "model.safetensors.index.json", ADAPTER_CONFIG, "tokenizer_config.json", "chat_template.jinja")


def is_model_dir(path: Path) -> bool:
    """A full checkpoint (config.json) or a PEFT adapter folder (adapter_config.json)."""
    return (path / "config.json").is_file() or (path / ADAPTER_CONFIG).is_file()


def resolve_checkpoint(target: str) -> Path | str:
    """Local dir for embedded names and paths; a hub name is returned unchanged."""
    if target in EMBEDDED:
        return embedded_checkpoint(target)
    path = Path(target).expanduser()
    if path.exists():
        if not is_model_dir(path):
            raise HarnessError(
                f"{path} is not a model checkpoint (no config.json, no {ADAPTER_CONFIG}) nor a training output "
                f"(no checkpoint-N folders, no checkpoints/checkpoint-N, no model/ folder)"
            )
        return path.resolve()
    if target.startswith((".", "/", "~")) or target.count("/") != 1:
        raise HarnessError(f"checkpoint not found: {target}")
    return target  # looks like a hub name (org/model)


def adapter_base(path: Path | str) -> Path | str | None:
    """The base model of a PEFT adapter folder (`base_model_name_or_path`), or None for a full checkpoint."""
    if not isinstance(path, Path) or (path / "config.json").is_file() or not (path / ADAPTER_CONFIG).is_file():
        return None
    base = json.loads((path / ADAPTER_CONFIG).read_text()).get("base_model_name_or_path")
    if not base:
        raise HarnessError(f"{path / ADAPTER_CONFIG} names no base_model_name_or_path: cannot load the adapter")
    return resolve_checkpoint(str(base))


def has_tokenizer(path: Path | str) -> bool:
    return not isinstance(path, Path) or any((path / f).is_file() for f in ("tokenizer.json", "tokenizer_config.json"))


def checkpoint_fingerprint(path: Path | str) -> dict[str, Any]:
    """Path plus a hash of the config, chat template, weight headers and sampled weight bytes.

    The response cache keys on this, so two checkpoints with the same architecture (a model
    retrained into the same directory) must differ: besides each safetensors header (dtype,
    shape, offset of every tensor) it hashes 32 evenly spaced 64 KiB slices of the weights.
    """
    if not isinstance(path, Path):
        return {"path": path, "hash": None}
    h = hashlib.sha256()
    for name in FINGERPRINTED_FILES:
        if (path / name).is_file():
            h.update((path / name).read_bytes())
    for weights in sorted(path.glob("*.safetensors")):
        size = weights.stat().st_size
        with open(weights, "rb") as f:  # the safetensors header lists every tensor's dtype, shape and offset
            header_len = int.from_bytes(f.read(8), "little")
            h.update(f.read(min(header_len, 50_000_000)))
            for k in range(32):
                f.seek(size * k // 32)
                h.update(f.read(65_536))
        h.update(str(size).encode())
    return {"path": str(path), "hash": h.hexdigest()[:16]}


def checkpoint_dtype(path: Path | str) -> str | None:
    """The dtype a local checkpoint's config.json declares (`dtype`, older `torch_dtype`), else None."""
    if not isinstance(path, Path) or not (path / "config.json").is_file():
        return None
    config = json.loads((path / "config.json").read_text())
    value = config.get("dtype") or config.get("torch_dtype")
    return str(value) if value else None
