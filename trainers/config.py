"""Training configuration: the harness's settings beside TRL's own, by TRL's names.

A training config is flat, like TRL's `TrlParser` reads it: `learning_rate`, `num_train_epochs`,
`num_generations`, `lmbda`, ... are the fields of TRL's SFTConfig (method sft), GRPOConfig (grpo) and
GKDConfig (distill-on-policy), each a YAML key and a `harness train` flag; the few harness settings
(method, LoRA, the prompts' suites and guard, the evaluation after training) are declared here. Layers:
TRL's defaults, then trainers/sft.yaml (the harness's departures from them), then `--config FILE`, then flags.
TRL's fields are read from TRL's source (trainers/trl_fields.py), so building the flags imports no TRL.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_serializer, model_validator

from harness.config import Arg
from harness.errors import HarnessError
from harness.models.embedded import DEFAULT_EMBEDDED
from harness.trainers.trl_fields import TrlField, trl_fields

HARNESS_DEFAULTS = Path(__file__).with_name("sft.yaml")
# the TRL config class each method's trainer takes
METHOD_CLASSES = {"sft": "SFTConfig", "grpo": "GRPOConfig", "distill-on-policy": "GKDConfig"}
# TRL fields the harness sets itself: not keys of a training config
SET_BY_HARNESS = {
    "output_dir": "--out DIR writes checkpoints to DIR/checkpoints",
    "resume_from_checkpoint": "--resume continues from the last checkpoint",
    "use_vllm": "GRPO generates with transformers",
    "teacher_model_name_or_path": "--teacher",
}
YAML_ONLY = {"debug"}  # TRL fields with no flag: harness's --debug is the CLI's own
# old harness key -> TRL's name; each still read, with a warning, for one release
RENAMED = {"epochs": "num_train_epochs", "warmup_ratio": "warmup_steps", "jsd_beta": "beta", "precision": "bf16",
           "eval_max_new_tokens": "max_new_tokens"}
PRECISION = {"auto": {}, "fp32": {"bf16": False, "fp16": False}, "bf16": {"bf16": True}, "fp16": {"fp16": True, "bf16": False}}
TRL_TITLE = "TRL settings, by TRL's names (YAML keys too)"
TRL_TITLE_ALL = ("TRL settings, by TRL's names (every other field of TRL's SFTConfig, GRPOConfig and GKDConfig is a flag "
                 "too, --field-name, and a YAML key)")

# The TRL fields `harness train --help` shows (the rest are flags too, unlisted): harness's help where the meaning
# depends on the method or the flag is a --no- flag, else TRL's own; short names users rely on stay as aliases.
TRAIN_FLAGS: dict[str, Arg] = {
    "learning_rate": Arg(aliases=("--lr",)),
    "per_device_train_batch_size": Arg(aliases=("--batch-size",), positive=True),
    "gradient_accumulation_steps": Arg(aliases=("--grad-accum",), positive=True),
    "num_train_epochs": Arg(aliases=("--epochs",)),
    "max_steps": Arg("stop after N optimizer steps (overrides --num-train-epochs)"),
    "seed": Arg("training seed (also the prompts' draw of grpo and distill-on-policy)"),
    "max_length": Arg("sft, distill-on-policy: tokens per (packed) sequence", positive=True),
    "packing": Arg("sft: pad rows instead of packing them"),
    "save_steps": Arg("checkpoint every N steps", positive=True),
    "report_to": Arg("also log to (repeatable: tensorboard, wandb, ...)"),
    "num_generations": Arg("grpo: completions sampled per prompt (the group whose rewards are compared)", minimum=2),
    "max_completion_length": Arg("grpo, distill-on-policy: generated tokens at most per completion (default: the largest "
                                 "of the prompts' own suite budgets)", positive=True),
    "beta": Arg("grpo: KL coefficient against the starting model (0: no reference model is loaded); distill-on-policy: "
                "the generalized JSD's interpolation (0: KL(teacher||student), 1: KL(student||teacher), 0.5: JSD)",
                minimum=0, deprecated=("--jsd-beta",)),
    "temperature": Arg("grpo, distill-on-policy: sampling temperature of the completions", positive=True),
    "lmbda": Arg("distill-on-policy: share of batches on the student's own samples (1: fully on-policy; the rest on the "
                 "items' reference answers, or the teacher's samples with --seq-kd)", minimum=0),
    "seq_kd": Arg("distill-on-policy: the off-policy batches (1 - lmbda) are sampled from the teacher instead of the "
                  "items' reference answers"),
}
LOOP_FLAGS = ("max_steps", "num_train_epochs", "learning_rate", "per_device_train_batch_size", "max_length",
              "num_generations", "max_completion_length", "temperature", "beta", "lmbda", "seq_kd")


# --- TRL's fields ---------------------------------------------------------------------


@lru_cache(maxsize=None)
def trl_keys() -> dict[str, TrlField]:
    """Every TRL field a training config takes (the union of the three methods' classes), first declaration kept."""
    keys: dict[str, TrlField] = {}
    for class_name in METHOD_CLASSES.values():
        for name, f in trl_fields(class_name).items():
            if name not in SET_BY_HARNESS and name not in TrainConfig.model_fields:
                keys.setdefault(name, f)
    return keys


def _members(annotation: str) -> list[ast.expr]:
    """The members of a union annotation ("int | None", "Optional[int]", "Union[str, list[str]]"), None left out."""
    def walk(node: ast.expr) -> list[ast.expr]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return walk(node.left) + walk(node.right)
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("Optional", "Union", "typing.Optional", "typing.Union"):
            inner = node.slice
            return [m for e in (inner.elts if isinstance(inner, ast.Tuple) else [inner]) for m in walk(e)]
        return [] if ast.unparse(node) == "None" else [node]

    return walk(ast.parse(annotation, mode="eval").body)


def _scalar(text: str) -> Any:
    """A flag's text for a field that takes several types (int | str): the number or bool it spells, else the text."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def flag_type(f: TrlField) -> tuple[Any, Callable[[Any], Any] | None] | None:
    """(type of the flag, parser of its text) for a TRL field, or None when no flag can spell it (e.g. a config object;
    it stays a YAML key)."""
    return _annotation_flag_type(f.annotation)


@lru_cache(maxsize=None)
def _annotation_flag_type(annotation: str) -> tuple[Any, Callable[[Any], Any] | None] | None:
    members = _members(annotation)
    names = {ast.unparse(m) for m in members}
    lists = [m for m in members if isinstance(m, ast.Subscript) and ast.unparse(m.value) == "list"]
    if lists:
        element = {"int": int, "float": float}.get(ast.unparse(lists[0].slice), str)
        return list[element], None  # type: ignore[valid-type]
    if names == {"bool"}:
        return bool, None
    if names and names <= {"int"}:
        return int, None
    if names and names <= {"int", "float"}:
        return float, None
    if names & {"str", "dict"} or any(n[0].isupper() and n.endswith(("Type", "Strategy", "Names")) for n in names):
        return str, (_scalar if names & {"int", "float", "bool"} else None)
    return None


def check_value(f: TrlField, value: Any) -> Any:
    """A training config's value for a TRL field, checked against the field's type where it is a plain one
    (TRL checks the rest when the trainer builds its config); an int given for a float field becomes a float."""
    if value is None:
        return value
    typed = flag_type(f)
    tp: Any = typed[0] if typed else None
    expected = {bool: "true or false", int: "an integer", float: "a number"}.get(tp) if tp in (bool, int, float) else None
    if expected is None:
        return value
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, bool) != (tp is bool) or not isinstance(value, tp):
        raise ValueError(f"{f.name}: expected {expected}, got {value!r}")
    return value


@lru_cache(maxsize=1)
def harness_defaults() -> dict[str, Any]:
    """trainers/sft.yaml: the harness's values for TRL fields where they differ from TRL's defaults."""
    import yaml

    loaded = yaml.safe_load(HARNESS_DEFAULTS.read_text(encoding="utf-8")) or {}
    unknown = sorted(set(loaded) - set(trl_keys()))
    if unknown:
        raise HarnessError(f"{HARNESS_DEFAULTS}: {', '.join(unknown)}: not fields of TRL's SFTConfig, GRPOConfig or GKDConfig")
    return {k: check_value(trl_keys()[k], v) for k, v in loaded.items()}


def trl_default(method: str, name: str) -> Any:
    """A TRL field's value when no config sets it: the method's class's default, else the first class that has it."""
    classes = [METHOD_CLASSES[method], *METHOD_CLASSES.values()] if method in METHOD_CLASSES else METHOD_CLASSES.values()
    for class_name in classes:
        declared = trl_fields(class_name).get(name)
        if declared is not None:
            return declared.default
    raise AttributeError(name)


def _flag_classes(offered: Mapping[str, Arg], every_field: bool, title: str) -> dict[str, type]:
    """One dataclass per method holding its TRL class's flags (harness/config.py unites them as it unites backends'
    options): `offered` with their Arg, the rest hidden (`every_field`) or left out; defaults are sft.yaml's, else TRL's."""
    defaults = harness_defaults()
    keys = trl_keys()
    out = {}
    seen: set[tuple[str, str]] = set()  # (name, default) in an earlier class: the union has it already (keeps --help fast)
    for method, class_name in METHOD_CLASSES.items():
        specs: list[tuple[str, Any, Any]] = []
        for name, f in trl_fields(class_name).items():
            if name not in keys or name in YAML_ONLY or (name not in offered and not every_field):
                continue
            typed = flag_type(f)
            default = defaults.get(name, f.default)
            if typed is None or (name, repr(default)) in seen:
                continue
            seen.add((name, repr(default)))
            arg = offered.get(name) or Arg(hidden=True)
            help_text = arg.help or f.help.replace("%%", "%").replace("%", "%%")  # argparse formats help with %
            arg = dataclasses.replace(arg, help=help_text, parse=arg.parse or typed[1], title=title)
            value = field(default_factory=partial(list, default)) if isinstance(default, list) else field(default=default)
            specs.append((name, Annotated[typed[0], arg], value))
        out[method] = dataclasses.make_dataclass(f"{class_name}Flags", specs)
    return out


@lru_cache(maxsize=1)
def train_flag_classes() -> dict[str, type]:
    return _flag_classes(TRAIN_FLAGS, every_field=True, title=TRL_TITLE_ALL)


@lru_cache(maxsize=1)
def loop_flag_classes() -> dict[str, type]:
    offered = {name: TRAIN_FLAGS[name] for name in LOOP_FLAGS}
    offered["max_steps"] = Arg("optimizer steps per round")
    return _flag_classes(offered, every_field=False, title=TRL_TITLE)


def _renamed(data: dict[str, Any]) -> dict[str, Any]:
    """Old harness keys under TRL's names, a warning for each (`precision` becomes bf16/fp16; `jsd_beta` is
    distill-on-policy's `beta`, where `beta` could only be GRPO's 0)."""
    for old, new in RENAMED.items():
        if old not in data:
            continue
        value = data.pop(old)
        print(f"harness: warning: training config key {old} is deprecated; use {new}"
              + (" (and fp16)" if old == "precision" else ""), file=sys.stderr)
        if old == "precision":
            if value not in PRECISION:
                raise ValueError(f"precision must be one of {', '.join(PRECISION)} (it is deprecated: use bf16, fp16)")
            updates = PRECISION[value]
        elif old == "jsd_beta":
            if data.get("method", "sft") != "distill-on-policy":
                continue  # it set nothing for the other methods
            if data.get("beta") not in (None, 0, value):
                raise ValueError("give beta only (jsd_beta is its deprecated name for distill-on-policy)")
            data.pop("beta", None)  # an old file's beta: 0, GRPO's penalty, which this method required to be 0
            updates = {new: value}
        else:
            updates = {new: value}
        for key, v in updates.items():
            if key in data and data[key] != v:
                raise ValueError(f"give {key} only ({old} is its deprecated name)")
            data[key] = v
    return data


# --- the config -----------------------------------------------------------------------


class LoraSettings(BaseModel):
    """LoRA adapter shape (peft), used with `lora: true`."""

    model_config = ConfigDict(extra="forbid")
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"


class TrainConfig(BaseModel):
    """Everything `harness train` needs besides the student, the data and the output directory: the harness's
    settings (fields) and TRL's (`trl`, by TRL's field names; read as attributes too, `config.learning_rate`,
    TRL's default when unset). Built flat, `TrainConfig(method="grpo", learning_rate=1e-5)`, and dumped flat."""

    model_config = ConfigDict(extra="forbid")
    # sft: fine-tune on distilled data (--data); grpo: sample completions for the suites' train prompts and
    # reward them with the suites' own scorers (harness/trainers/grpo.py); distill-on-policy: sample them and
    # match a local teacher's next-token distributions on them (harness/trainers/onpolicy.py)
    method: Annotated[Literal["sft", "grpo", "distill-on-policy"], Arg(
        "sft: fine-tune on distilled data (--data); grpo: reinforce with the suites' own scorers as rewards (--suite); "
        "distill-on-policy: match a local teacher's token distributions on the student's own samples (--suite, --teacher)")] = "sft"
    # TRL's settings for the method's trainer: sft.yaml's values, then the config file's and the flags' (unset: TRL's)
    trl: Annotated[dict[str, Any], Arg(options=train_flag_classes)] = {}
    # LoRA (peft); `lora: true` on the CLI
    lora: Annotated[bool, Arg("train LoRA adapters (peft), merged into model/ at the end")] = False
    lora_settings: LoraSettings = LoraSettings()
    # evaluation after training
    eval: Annotated[bool, Arg("skip the evaluation after training")] = True
    eval_suites: Annotated[list[str], Arg("suites to evaluate on (default: those in the data)", flag="--eval-suite")] = []
    eval_limit: Annotated[int | None, Arg("test items per suite for the final evaluation", positive=True)] = 40
    # the token budget of the evaluation (and of harness loop's teacher answers): None, each suite's own, as harness eval
    max_new_tokens: Annotated[int | None, Arg(
        "generated tokens at most per item, for every suite (default: each suite's own budget, as harness eval)",
        positive=True, deprecated=("--eval-max-new-tokens",))] = None
    eval_checkpoints: Annotated[bool, Arg("also evaluate every saved checkpoint")] = False
    teacher_results: Annotated[str | None, Arg("teacher results.json to compute retention against "
                                               "(default: the reference teacher when the data came from it)")] = None
    # the prompts of grpo and distill-on-policy and their contamination guard
    suites: Annotated[list[str], Arg("grpo, distill-on-policy: suite whose train split gives the prompts (repeatable)",
                                     flag="--suite")] = []
    rows: Annotated[int | None, Arg("grpo, distill-on-policy: prompts drawn from those train splits, shared evenly by "
                                    "capability (default: every one)", positive=True)] = None
    contamination_n: Annotated[int, Arg("grpo, distill-on-policy: word n-gram length for the contamination guard",
                                        positive=True)] = 13
    contamination_threshold: Annotated[float, Arg(
        "grpo, distill-on-policy: drop prompts containing more than this share of any test item's n-grams")] = 0.8

    @model_validator(mode="before")
    @classmethod
    def _compose(cls, data: Any) -> Any:
        """Flat keys sorted into the harness's fields and TRL's (`trl`), over sft.yaml's; old names renamed."""
        if not isinstance(data, dict):
            return data
        data = _renamed({**dict(data.get("trl") or {}), **{k: v for k, v in data.items() if k != "trl"}})
        keys = trl_keys()
        trl = dict(harness_defaults())
        for key in [k for k in data if k not in cls.model_fields]:
            if key in SET_BY_HARNESS:
                raise ValueError(f"{key} is set by harness ({SET_BY_HARNESS[key]})")
            if key not in keys:
                raise ValueError(f"unknown key {key!r}: not a harness setting nor a field of TRL's SFTConfig, GRPOConfig or GKDConfig")
            trl[key] = check_value(keys[key], data.pop(key))
        return {**data, "trl": trl}

    @model_validator(mode="after")
    def _method_settings(self) -> "TrainConfig":
        if self.num_generations is not None and self.num_generations < 2:
            raise ValueError("num_generations must be at least 2 (GRPO compares completions within a group)")
        if self.temperature <= 0:
            raise ValueError("temperature must be positive (GRPO and on-policy distillation sample their completions)")
        if self.beta < 0:
            raise ValueError("beta must be at least 0")
        if self.method == "distill-on-policy" and self.beta > 1:
            raise ValueError("beta must be in [0, 1] for distill-on-policy (the generalized JSD's interpolation)")
        if not 0 <= self.lmbda <= 1:
            raise ValueError("lmbda must be in [0, 1]")
        return self

    @model_serializer(mode="wrap")
    def _flat(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        return {**{k: v for k, v in data.items() if k != "trl"}, **data.get("trl", {})}

    def __getattr__(self, name: str) -> Any:
        """A TRL setting by its name: the config's value, else the method's TRL class's default."""
        trl = self.__dict__.get("trl")
        if name.startswith("_") or trl is None:
            raise AttributeError(name)
        return trl[name] if name in trl else trl_default(self.method, name)

    def trl_kwargs(self, class_fields: set[str]) -> dict[str, Any]:
        """The TRL settings a TRL config class takes (a key of another method's class is not its)."""
        return {k: v for k, v in self.trl.items() if k in class_fields}

    @classmethod
    def load(cls, path: str | Path | None, overrides: dict[str, Any] | None = None) -> "TrainConfig":
        """sft.yaml's settings, then the YAML file at `path`, then `overrides` (flags given; None values are not given)."""
        data: dict[str, Any] = {}
        if path is not None:
            import yaml

            p = Path(path)
            if not p.is_file():
                raise HarnessError(f"config file not found: {p}")
            try:
                loaded = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise HarnessError(f"{p} is not valid YAML ({str(exc).splitlines()[0]})") from None
            if not isinstance(loaded, dict):
                raise HarnessError(f"{p} must be a mapping of settings")
            data.update(loaded)
        overrides = dict(overrides or {})
        given = {**overrides.pop("trl", {}), **overrides}
        data.update({k: v for k, v in given.items() if v is not None})
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            message = first["msg"].removeprefix("Value error, ")
            raise HarnessError(f"training config: {where + ': ' if where else ''}{message}") from None


@dataclass
class TrainRunConfig:
    """`harness train`'s settings: its flags are generated from these fields (harness/config.py);
    `train` is the YAML file's TrainConfig with the flags given on top."""

    student: Annotated[str | None, Arg(f"student checkpoint spec: hf:PATH or an embedded name (default: {DEFAULT_EMBEDDED})")] = None
    data: Annotated[str | None, Arg("dataset directory written by 'harness distill' (method sft; grpo and "
                                    "distill-on-policy take --suite)", metavar="DIR")] = None
    teacher: Annotated[str | None, Arg("distill-on-policy: the teacher, a local transformers model with the student's "
                                       "tokenizer (hf:PATH or an embedded name)", metavar="SPEC")] = None
    out: Annotated[str | None, Arg("run directory (checkpoints/, model/, eval/, retention.json)", required=True, metavar="DIR")] = None
    config: Annotated[str | None, Arg("YAML training settings, TRL's field names and harness's (see docs/training.md); "
                                      "flags override it", metavar="YAML")] = None
    resume: Annotated[bool, Arg("continue from the last checkpoint in OUT/checkpoints")] = False
    train: Annotated[TrainConfig, Arg()] = field(default_factory=TrainConfig)


def with_yaml_train_config(cls: type, args: Any) -> Any:
    """A config holding `config` (a YAML path) and `train`: the YAML's settings, the flags given over them."""
    from harness.config import build_config, given_values

    values = given_values(cls, args)
    return build_config(cls, values, train=TrainConfig.load(values.get("config"), values.get("train", {})))
