"""The fields of TRL's training configs (SFTConfig, GRPOConfig, GKDConfig and the TrainingArguments under them),
read from their source files without importing them.

Importing TRL imports transformers and torch (seconds), and `harness train --help` must stay fast, so the
dataclass fields are read with `ast` from the installed files: name, annotation, default (when it is a literal)
and help, subclasses overriding their bases as dataclass inheritance does. tests/test_train.py checks the
result against the imported classes, so a TRL release that moves a class or changes a field shows up there.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

# where each class is defined (module path); a base class not listed here is an error, not a guess
MODULES = {
    "TrainingArguments": "transformers.training_args",
    "_BaseConfig": "trl.trainer.base_config",
    "SFTConfig": "trl.trainer.sft_config",
    "GRPOConfig": "trl.trainer.grpo_config",
    "GKDConfig": "trl.experimental.gkd.gkd_config",
}


class Unknown:
    """A default that is not a literal in TRL's source (e.g. `default_optim`); known only once TRL is imported."""

    def __repr__(self) -> str:
        return "<set by TRL>"


UNKNOWN = Unknown()


@dataclass(frozen=True)
class TrlField:
    """One init field of a TRL config class, as its source declares it."""

    name: str
    annotation: str  # as written, e.g. "int | None"
    default: Any  # UNKNOWN when not a literal; default_factory=list gives []
    help: str
    declared_in: str  # the class whose source declares it (a subclass may override a base's)


def module_file(module: str) -> Path:
    """The source file of `module`, found without importing it or its packages."""
    top, *rest = module.split(".")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        from harness.errors import HarnessError

        raise HarnessError(f"{top} is not installed (pip install trl): harness train uses its training configs")
    base = Path(next(iter(spec.submodule_search_locations))).joinpath(*rest)
    return base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"


def _literal(node: ast.expr | None) -> Any:
    if node is None:
        return UNKNOWN
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN


def _field(statement: ast.AnnAssign, owner: str) -> TrlField | None:
    """The field an annotated class statement declares, or None (ClassVar, init=False)."""
    assert isinstance(statement.target, ast.Name)
    annotation = ast.unparse(statement.annotation)
    if "ClassVar" in annotation:
        return None
    value, help_text = statement.value, ""
    default: Any = UNKNOWN
    if isinstance(value, ast.Call) and ast.unparse(value.func) in ("field", "dataclasses.field"):
        keywords = {k.arg: k.value for k in value.keywords if k.arg}
        if _literal(keywords.get("init")) is False:
            return None
        if "default" in keywords:
            default = _literal(keywords["default"])
        elif "default_factory" in keywords:
            factory = ast.unparse(keywords["default_factory"])
            default = {"list": [], "dict": {}, "tuple": ()}.get(factory, UNKNOWN)
        metadata = keywords.get("metadata")
        if isinstance(metadata, ast.Dict):  # its other entries need not be literals ("choices": levels.keys())
            texts = [_literal(v) for k, v in zip(metadata.keys, metadata.values, strict=True) if _literal(k) == "help"]
            help_text = texts[0] if texts and isinstance(texts[0], str) else ""
    elif value is not None:
        default = _literal(value)
    return TrlField(statement.target.id, annotation, default, " ".join(help_text.split()), owner)


@lru_cache(maxsize=None)
def _declared(class_name: str) -> tuple[tuple[str, ...], tuple[TrlField, ...]]:
    """(base class names, fields the class body declares) from the class's source."""
    if class_name not in MODULES:
        raise LookupError(f"TRL config class {class_name} is not one harness knows where to read (trainers/trl_fields.py)")
    path = module_file(MODULES[class_name])
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            fields = [f for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                      for f in [_field(s, class_name)] if f is not None]
            return tuple(ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases), tuple(fields)
    raise LookupError(f"no class {class_name} in {path}")


@lru_cache(maxsize=None)
def trl_fields(class_name: str) -> dict[str, TrlField]:
    """Every init field of a TRL config class, in dataclass order (a base's fields first, overrides in place)."""
    bases, declared = _declared(class_name)
    out: dict[str, TrlField] = {}
    for base in bases:
        out.update(trl_fields(base))
    for f in declared:
        out[f.name] = f
    return out
