"""Verifiable format constraints (IFEval-style) and strict/loose compliance checking.

A constraint is a registered checker plus its keyword arguments, stored in an item's
metadata as `{"id": "forbidden_words", "kwargs": {...}}`. Where lm-eval's IFEval checkers
fit (forbidden words, word counts, bullet counts, end phrase, commas, keywords) they do the
checking; the rest (named sections, JSON Schema, sentence limit, no markdown, a
`<think>` block followed by a final answer) are implemented here.

Loose compliance follows IFEval: a constraint is followed loosely when any of eight
variants of the response follows it strictly (the response itself, without its first line,
without its last line, without both, and each of those with asterisks removed).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from abc import ABC, abstractmethod
from functools import lru_cache
from typing import Any, ClassVar

from harness.registry import Registry

CONSTRAINTS: Registry[type["Constraint"]] = Registry("format constraint")


@lru_cache(maxsize=1)
def ifeval() -> tuple[Any, Any]:
    """lm-eval's IFEval (instructions_registry, instructions_util), imported quietly.

    Importing instructions_util tries to download NLTK's punkt tables; no checker used here
    needs them (sentences are split by IFEval's regex splitter), so the download is skipped.
    """
    import nltk

    real_download = nltk.download
    nltk.download = lambda *args, **kwargs: False
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            from lm_eval.tasks.ifeval import instructions_registry, instructions_util
    finally:
        nltk.download = real_download
    return instructions_registry, instructions_util


class Constraint(ABC):
    """A verifiable instruction (IFEval style): check(response) says whether a reply follows it."""

    name: ClassVar[str]  # set by the CONSTRAINTS registry: the constraint id stored in item metadata

    @property
    def id(self) -> str:
        return self.name

    def __init__(self, **kwargs: Any):
        self.kwargs = kwargs

    @abstractmethod
    def check(self, response: str) -> bool:
        """True when `response` (non-empty) follows the constraint."""

    def spec(self) -> dict[str, Any]:
        return {"id": self.id, "kwargs": self.kwargs}


class IFEvalConstraint(Constraint):
    """A constraint checked by one of lm-eval's IFEval instruction classes."""

    ifeval_id: ClassVar[str]

    def check(self, response: str) -> bool:
        registry, _ = ifeval()
        checker = registry.INSTRUCTION_DICT[self.ifeval_id](self.ifeval_id)
        checker.build_description(**self.kwargs)
        return bool(checker.check_following(response))


@CONSTRAINTS.register("forbidden_words")
class ForbiddenWords(IFEvalConstraint):
    """The reply uses none of the forbidden words."""

    ifeval_id = "keywords:forbidden_words"  # kwargs: forbidden_words


@CONSTRAINTS.register("include_keywords")
class IncludeKeywords(IFEvalConstraint):
    """The reply contains every keyword."""

    ifeval_id = "keywords:existence"  # kwargs: keywords


@CONSTRAINTS.register("number_words")
class NumberOfWords(IFEvalConstraint):
    """The reply has fewer than, or at least, a number of words."""

    ifeval_id = "length_constraints:number_words"  # kwargs: num_words, relation ("less than" | "at least")


@CONSTRAINTS.register("number_bullets")
class NumberOfBullets(IFEvalConstraint):
    """The reply has exactly a number of bullet points."""

    ifeval_id = "detectable_format:number_bullet_lists"  # kwargs: num_bullets (exact)


@CONSTRAINTS.register("end_phrase")
class EndPhrase(IFEvalConstraint):
    """The reply ends with a given phrase."""

    ifeval_id = "startend:end_checker"  # kwargs: end_phrase


@CONSTRAINTS.register("no_comma")
class NoComma(IFEvalConstraint):
    """The reply contains no comma."""

    ifeval_id = "punctuation:no_comma"


def count_sentences(text: str) -> int:
    """Sentences by IFEval's regex splitter (abbreviation-aware; needs no NLTK data)."""
    _, util = ifeval()
    return len([s for s in util.split_into_sentences(text) if re.search(r"\w", s)])


@CONSTRAINTS.register("max_sentences")
class MaxSentences(Constraint):
    """The reply has at most a number of sentences."""

    # kwargs: max_sentences

    def check(self, response: str) -> bool:
        return 0 < count_sentences(response) <= self.kwargs["max_sentences"]


_HEADING_DECOR = re.compile(r"^\s*(?:#{1,6}\s*)?(?:\*\*|__)?\s*(.*?)\s*(?:\*\*|__)?\s*:?\s*(?:\*\*|__)?\s*$")


def heading_text(line: str) -> str:
    """'## Summary', '**Summary:**', 'Summary:' and 'Summary' all read as 'summary'."""
    m = _HEADING_DECOR.match(line)
    return (m.group(1) if m else line).strip().rstrip(":").strip().lower()


@CONSTRAINTS.register("sections")
class Sections(Constraint):
    """Each named section heading on a line of its own, in the given order, each followed by text."""

    # kwargs: sections (list of heading names)

    def check(self, response: str) -> bool:
        lines = [ln for ln in response.splitlines() if ln.strip()]
        wanted = [s.lower() for s in self.kwargs["sections"]]
        positions = []
        start = 0
        for name in wanted:
            found = next((i for i in range(start, len(lines)) if heading_text(lines[i]) == name), None)
            if found is None:
                return False
            positions.append(found)
            start = found + 1
        ends = positions[1:] + [len(lines)]
        return all(end - pos >= 2 for pos, end in zip(positions, ends, strict=True))  # a body line under each heading


def strip_code_fence(text: str) -> str:
    """IFEval's JSON clean-up: drop surrounding ```json fences."""
    return (
        text.strip().removeprefix("```json").removeprefix("```Json").removeprefix("```JSON")
        .removeprefix("```").removesuffix("```").strip()
    )


@CONSTRAINTS.register("json_schema")
class JsonSchema(Constraint):
    """The whole response is one JSON value (optionally fenced) that validates against a schema."""

    # kwargs: schema (a JSON Schema)

    def check(self, response: str) -> bool:
        import jsonschema

        try:
            value = json.loads(strip_code_fence(response))
        except ValueError:
            return False
        return jsonschema.Draft202012Validator(self.kwargs["schema"]).is_valid(value)


_MARKDOWN = [
    re.compile(r"^\s{0,3}#{1,6}\s", re.M),  # headings
    re.compile(r"^\s*[-*+]\s", re.M),  # bullet lists
    re.compile(r"^\s*\d+[.)]\s", re.M),  # numbered lists
    re.compile(r"\*\*|__|(?<!\w)\*\S[^*\n]*\*(?!\w)"),  # bold and italics
    re.compile(r"`"),  # code spans and fences
    re.compile(r"^\s*>", re.M),  # block quotes
    re.compile(r"^\s*\|.*\|\s*$", re.M),  # tables
    re.compile(r"\[[^\]\n]+\]\([^)\n]+\)"),  # links
]


@CONSTRAINTS.register("no_markdown")
class NoMarkdown(Constraint):
    """The reply uses no Markdown formatting."""

    def check(self, response: str) -> bool:
        return not any(p.search(response) for p in _MARKDOWN)


_THINK = re.compile(r"^\s*<think>(.*?)</think>(.*)$", re.S)


@CONSTRAINTS.register("think_answer")
class ThinkThenAnswer(Constraint):
    """One `<think>...</think>` block first, then a final answer line that starts with a prefix."""

    # kwargs: answer_prefix (e.g. "Final answer:")

    def check(self, response: str) -> bool:
        m = _THINK.match(response)
        if not m or "<think>" in m.group(2) or "</think>" in m.group(2):
            return False
        reasoning, after = m.group(1).strip(), m.group(2).strip()
        prefix = self.kwargs["answer_prefix"].lower()
        return bool(reasoning) and after.lower().startswith(prefix) and bool(after[len(prefix) :].strip())


def build(spec: dict[str, Any]) -> Constraint:
    return CONSTRAINTS.get(spec["id"])(**spec.get("kwargs", {}))


def loose_variants(response: str) -> list[str]:
    """IFEval's eight loose variants of a response (lm_eval.tasks.ifeval.utils)."""
    lines = response.split("\n")
    first, last, both = "\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(), "\n".join(lines[1:-1]).strip()
    plain = [response, first, last, both]
    return plain + [r.replace("*", "") for r in plain]


def follows(constraint: Constraint, response: str, loose: bool = False) -> bool:
    candidates = loose_variants(response) if loose else [response]
    return any(r.strip() and constraint.check(r) for r in candidates)


def follows_all(specs: list[dict[str, Any]], response: str) -> bool:
    """Strict compliance with every constraint."""
    return all(follows(build(s), response) for s in specs)


def check_all(specs: list[dict[str, Any]], response: str) -> dict[str, dict[str, bool]]:
    """{"strict": {constraint id: followed}, "loose": {...}} for one response."""
    constraints = [build(s) for s in specs]
    return {
        "strict": {c.id: follows(c, response) for c in constraints},
        "loose": {c.id: follows(c, response, loose=True) for c in constraints},
    }
