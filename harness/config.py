"""Typed configs drive the CLI: each field annotated with `Arg` is a flag of its command.

    @dataclass
    class DistillConfig:
        samples: Annotated[int, Arg("teacher samples per prompt", positive=True)] = 1

`add_config_arguments(parser, DistillConfig)` adds `--samples` (type, default and help from the
field); `config_from_args(DistillConfig, args)` builds the config from what the user gave. Flags
default to argparse.SUPPRESS, so the parsed namespace holds only what was given and every default
lives in one place, the config class. Works for dataclasses and pydantic models alike (pydantic
keeps `Annotated` metadata in `FieldInfo.metadata`). Nested configs (a field whose type is itself a
config) contribute their own flags; `Arg(fields=...)` picks which, `Arg(build=...)` builds the
nested value from the given ones. `Arg(options=...)` turns a dict field into the union of the flags
of several option classes (every backend's `Options`, harness/backends/options.py; a default that
differs between them is shown per class). `Arg(deprecated=...)`
keeps old flag names working for the same field: hidden from --help, a warning on stderr when used;
`Arg(aliases=...)` adds other names without a warning, `Arg(hidden=True)` leaves a flag out of --help.
A help text need not state the default (the flag shows the field's); `stated_default_mismatches`
finds one that names a number other than its field's default.

This module imports only the standard library: `harness --help` must stay fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Arg:
    """How a config field appears on the command line: help, flag name, metavar, choices, parsing and bounds."""

    help: str = ""
    flag: str | None = None  # default: --field-name (--no-field-name for a bool that defaults to True)
    metavar: str | None = None
    choices: Sequence[Any] | None = None  # default: a Literal annotation's values
    parse: Callable[[Any], Any] | None = None  # turns the parsed value into the field's value
    positive: bool = False
    minimum: float | None = None
    required: bool = False
    repeat: bool = False  # with `parse`: the flag repeats and `parse` gets the list (list-like fields repeat anyway)
    # nested configs
    fields: Mapping[str, "Arg | None"] | None = None  # nested fields offered (None: all with an Arg); an Arg overrides theirs
    build: Callable[..., Any] | None = None  # build(**given) -> the nested value (default: the default with given replaced)
    options: Callable[[], Mapping[str, type]] | None = None  # dict field: the union of these classes' flags
    title: str | None = None  # argument group of a nested config's flags
    deprecated: Sequence[str] = ()  # old flag names that still set this field (hidden; warn when used)
    aliases: Sequence[str] = ()  # other flag names for this field (shown, no warning)
    hidden: bool = False  # a flag left out of --help


@dataclass(frozen=True)
class Flag:
    """One generated command-line flag."""

    path: tuple[str, ...]  # field names from the top config down
    arg: Arg
    type: Any  # the base type (Optional and Annotated removed)
    default: Any
    owners: tuple[str, ...] = ()  # for option unions: the option classes' names that take it
    owner_defaults: tuple[tuple[str, Any], ...] = ()  # for option unions: (owner, its default), owners in order

    @property
    def dest(self) -> str:
        return ".".join(self.path)

    @property
    def option(self) -> str:
        if self.arg.flag:
            return self.arg.flag
        name = self.path[-1].replace("_", "-")
        return f"--no-{name}" if self.type is bool and self.default is True else f"--{name}"


def _is_config(tp: Any) -> bool:
    return isinstance(tp, type) and (dataclasses.is_dataclass(tp) or hasattr(tp, "model_fields"))


def _strip(tp: Any) -> tuple[Any, Arg | None]:
    """(base type without Annotated/Optional, the Arg found in Annotated metadata)."""
    found = None
    if typing.get_origin(tp) is typing.Annotated:
        found = next((m for m in tp.__metadata__ if isinstance(m, Arg)), None)
        tp = tp.__origin__
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            tp = args[0]
    return tp, found


def config_fields(cls: type) -> list[tuple[str, Any, Arg | None, Any]]:
    """(name, base type, Arg or None, default) of every field of a dataclass or pydantic model."""
    out = []
    if hasattr(cls, "model_fields"):
        for name, info in cls.model_fields.items():
            tp, _ = _strip(info.annotation)
            arg = next((m for m in info.metadata if isinstance(m, Arg)), None)
            out.append((name, tp, arg, info.get_default(call_default_factory=True)))
        return out
    hints = typing.get_type_hints(cls, include_extras=True)
    for f in dataclasses.fields(cls):
        tp, arg = _strip(hints[f.name])
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        out.append((f.name, tp, arg, None if default is dataclasses.MISSING else default))
    return out


def flags(cls: type, prefix: tuple[str, ...] = (), only: Mapping[str, Arg | None] | None = None, defaults: Any = None) -> list[Flag]:
    """Every flag a config generates, nested configs and option unions included."""
    out: list[Flag] = []
    for name, tp, arg, default in config_fields(cls):
        if defaults is not None:
            default = getattr(defaults, name, default)
        if only is not None:
            if name not in only:
                continue
            arg = only[name] or arg
        if arg is None:
            continue
        if arg.options is not None:
            out.extend(_option_flags(prefix + (name,), arg.options()))
        elif _is_config(tp) and arg.parse is None:
            nested = flags(tp, prefix + (name,), arg.fields, default)
            if arg.title:  # the nested config's flags form one group, unless they name their own
                nested = [f if f.arg.title else dataclasses.replace(f, arg=dataclasses.replace(f.arg, title=arg.title))
                          for f in nested]
            out.extend(nested)
        else:
            out.append(Flag(prefix + (name,), arg, tp, default))
    return out


def _option_flags(path: tuple[str, ...], classes: Mapping[str, type]) -> list[Flag]:
    by_name: dict[str, Flag] = {}
    for owner, cls in classes.items():
        for flag in flags(cls, path):
            known = by_name.get(flag.path[-1]) or flag
            by_name[flag.path[-1]] = dataclasses.replace(known, owners=(*known.owners, owner),
                                                         owner_defaults=(*known.owner_defaults, (owner, flag.default)))
    return list(by_name.values())


def _element_type(tp: Any) -> Any | None:
    """The element type of a list-like annotation (repeatable flag), else None."""
    origin = typing.get_origin(tp)
    if origin in (list, tuple, set, frozenset, Sequence, typing.Sequence) or tp in (list, tuple):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return args[0] if args else str
    return None


def _shown(default: Any) -> bool:
    return default is not None and not isinstance(default, bool) and default not in ((), [], {})


def _default_text(flag: Flag) -> str:
    """The default argparse shows after the help: the field's; for an option several classes take with
    different defaults, each owner's ("openai: 16, anthropic: 8")."""
    if flag.arg.required or "default" in flag.arg.help:
        return ""
    shown = [(owner, d) for owner, d in flag.owner_defaults if _shown(d)]
    if len({repr(d) for _, d in flag.owner_defaults}) > 1 and shown:
        return f" (default: {', '.join(f'{owner}: {d}' for owner, d in shown)})"
    return f" (default: {flag.default})" if _shown(flag.default) else ""


def _deprecated_action(new: str, repeat: bool) -> type[argparse.Action]:
    """An old flag name: stores (or appends) like the flag `new`, after a warning on stderr."""

    class Deprecated(argparse.Action):
        def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
            import sys

            print(f"harness: warning: {option_string} is deprecated; use {new}", file=sys.stderr)
            if repeat:
                values = [*(getattr(namespace, self.dest, None) or []), values]
            setattr(namespace, self.dest, values)

    return Deprecated


def add_config_arguments(parser: argparse.ArgumentParser, cls: type) -> None:
    groups: dict[str, Any] = {}
    generated = flags(cls)
    # the command's own flags first: a plug-in backend's option named like one of them is the one left out
    for flag in [f for f in generated if not f.owners] + [f for f in generated if f.owners]:
        title = flag.arg.title or (f"{', '.join(o + ':' for o in flag.owners)} backend options" if flag.owners else None)
        target = parser if title is None else groups.setdefault(title, parser.add_argument_group(title))
        help_text = argparse.SUPPRESS if flag.arg.hidden else flag.arg.help + _default_text(flag)
        kwargs: dict[str, Any] = {"dest": flag.dest, "default": argparse.SUPPRESS, "help": help_text}
        if flag.arg.required:
            kwargs["required"] = True
        if flag.type is bool:
            kwargs["action"] = "store_false" if flag.default is True else "store_true"
            _add(target, flag, kwargs)
            continue
        if flag.arg.parse is not None:  # the parser turns the text (or the list of texts) into the value
            base, repeat = str, flag.arg.repeat
        else:
            element = _element_type(flag.type)
            base, repeat = (flag.type, False) if element is None else (element, True)
        choices = flag.arg.choices
        if choices is None and typing.get_origin(base) is typing.Literal:
            choices = typing.get_args(base)
        if isinstance(choices, (list, tuple)):
            kwargs["choices"], base = list(choices), type(choices[0])
        elif choices is not None:  # a registry's LazyChoices: read only when a value is checked or listed
            kwargs["choices"], base = choices, str
        if repeat:
            kwargs["action"] = "append"
        kwargs["type"] = base if base in (int, float) else str
        if "choices" not in kwargs or flag.arg.metavar:
            kwargs["metavar"] = flag.arg.metavar or flag.option.lstrip("-").replace("-", "_").upper()
        if not _add(target, flag, kwargs):
            continue
        for old in flag.arg.deprecated:
            target.add_argument(old, **{**kwargs, "action": _deprecated_action(flag.option, repeat), "help": argparse.SUPPRESS})


def _add(target: Any, flag: Flag, kwargs: dict[str, Any]) -> bool:
    """Add the flag; an option of a union (a plug-in backend's) that clashes with a flag already there is left
    out with a warning, so one plug-in cannot break the command (the user sees which flag it was)."""
    try:
        target.add_argument(flag.option, *flag.arg.aliases, **kwargs)
    except argparse.ArgumentError:
        if not flag.owners:
            raise
        import sys

        owners = ", ".join(o + ":" for o in flag.owners)
        print(f"harness: warning: {flag.option} of the {owners} backend is not offered: the command has a flag of that name",
              file=sys.stderr)
        return False
    return True


def given_values(cls: type, args: argparse.Namespace) -> dict[str, Any]:
    """What the user gave, parsed, as nested dicts keyed like the config's fields."""
    from harness.errors import HarnessError

    values: dict[str, Any] = {}
    given = vars(args)
    for flag in flags(cls):
        if flag.dest not in given:
            continue
        value = given[flag.dest]
        if flag.arg.positive and value is not None and value <= 0:
            raise HarnessError(f"{flag.option} must be positive, got {value}")
        if flag.arg.minimum is not None and value is not None and value < flag.arg.minimum:
            raise HarnessError(f"{flag.option} must be at least {flag.arg.minimum}, got {value}")
        if flag.arg.parse is not None:
            value = flag.arg.parse(value)
        node = values
        for key in flag.path[:-1]:
            node = node.setdefault(key, {})
        node[flag.path[-1]] = value
    return values


def build_config(cls: type, values: Mapping[str, Any], base: Any = None, **fixed: Any) -> Any:
    """A config from given values (nested dicts), on top of `base` or the class defaults."""
    kwargs: dict[str, Any] = {}
    for name, tp, arg, default in config_fields(cls):
        if name in fixed or name not in values:
            continue
        if base is not None:
            default = getattr(base, name)
        value = values[name]
        if arg is not None and arg.options is not None:
            value = {**(default or {}), **value}
        elif arg is not None and arg.build is not None:
            value = arg.build(**value)
        elif _is_config(tp) and isinstance(value, Mapping):
            value = build_config(tp, value, base=default)
        kwargs[name] = value
    kwargs.update(fixed)
    if base is not None:
        return replace_config(base, **kwargs)
    return cls(**kwargs)


def replace_config(config: Any, **changes: Any) -> Any:
    if hasattr(config, "model_fields"):
        return type(config).model_validate({**config.model_dump(), **changes})
    return dataclasses.replace(config, **changes)


def config_from_args(cls: type, args: argparse.Namespace, **fixed: Any) -> Any:
    return build_config(cls, given_values(cls, args), **fixed)


def option_strings(cls: type) -> dict[str, str]:
    """Field path ("a.b") -> the flag it generates, for every flag of a config."""
    return {flag.dest: flag.option for flag in flags(cls)}


STATED_DEFAULT = re.compile(r"\bdefault:?\s+(-?\d+(?:\.\d+)?)(?![\w.])")


def stated_default_mismatches(cls: type) -> list[str]:
    """Flags of a config whose help names a number as the default ("default 16") other than the field's own
    default: the help was written by hand and the default moved (the field is the one declaration)."""
    wrong = []
    for flag in flags(cls):
        for match in STATED_DEFAULT.finditer(flag.arg.help):
            stated = float(match.group(1))
            default = flag.default
            if isinstance(default, bool) or not isinstance(default, (int, float)) or float(default) != stated:
                wrong.append(f"{flag.option}: help says {match.group(0)!r}, the field's default is {default!r}")
    return wrong
