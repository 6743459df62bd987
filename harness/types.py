"""Records that cross module boundaries: items, generations, scores, sample records.

Every suite produces `Item`s, every backend returns `Generation`s, every scorer returns a
`Score`, and the evaluator joins them into `SampleRecord`s written to samples.jsonl.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CAPABILITIES = ("math", "logic", "code", "edge_cases", "format", "style", "knowledge")  # the built-in ones


class Message(BaseModel):
    """One chat turn: role and content."""

    model_config = ConfigDict(frozen=True)
    role: Literal["system", "user", "assistant"]
    content: str


class Variant(BaseModel):
    """Canonical items have kind 'canonical'; perturbed ones name the perturbation and link back."""

    model_config = ConfigDict(frozen=True)
    kind: str = "canonical"  # "canonical" or a perturbation kind such as "numbers", "distractor"
    level: int = 0  # 0 for canonical; 1, 2, ... for stronger perturbations
    canonical_id: str | None = None  # id of the canonical twin (None for canonical items)

    @property
    def is_canonical(self) -> bool:
        return self.kind == "canonical"

    @property
    def label(self) -> str:
        return "canonical" if self.is_canonical else f"{self.kind}@{self.level}"


class Item(BaseModel):
    """One evaluation prompt with everything needed to score it and to teach from it."""

    id: str
    suite: str
    capability: str
    split: Literal["train", "dev", "test"] = "test"
    variant: Variant = Field(default_factory=Variant)
    messages: list[Message]
    answer: Any = None  # the machine-checkable right answer (JSON-serialisable)
    solution: str = ""  # worked, step-by-step solution
    reference_response: str = ""  # what the `reference` model says: solution + final answer in scorable form
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def group_id(self) -> str:
        """Id of the canonical item this one belongs to (itself when canonical)."""
        return self.variant.canonical_id or self.id


class GenerationParams(BaseModel):
    """How to generate: temperature, top_p, token budget, seed and samples per item."""

    model_config = ConfigDict(frozen=True)
    temperature: float = 0.0
    top_p: float = 1.0
    # None: each suite's own budget per item (harness/token_budget.py); a number: that budget for every item
    max_new_tokens: int | None = None
    seed: int = 0
    samples: int = 1


class Generation(BaseModel):
    """One sampled completion."""

    text: str
    reasoning: str | None = None  # a thinking trace when the backend separates it
    logprob: float | None = None  # mean token log-probability, when the backend gives it
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None  # set when the request failed after its retries
    # Why generation ended: "stop" (end of sequence or a stop string), "length" (hit max_new_tokens:
    # truncated), "error" (the request failed), or a backend's own value it could not map (vLLM "abort").
    # None: unknown (answers cached or written before harness recorded it).
    finish_reason: str | None = None

    def model_post_init(self, __context: Any) -> None:
        if self.error is not None and self.finish_reason is None:
            self.finish_reason = "error"


class Score(BaseModel):
    """A scorer's verdict on one output: the extracted answer, correct, graded value and why."""

    answer: Any = None  # what the scorer extracted from the output
    correct: bool
    value: float | None = None  # graded score in [0, 1]; defaults to float(correct)
    reason: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    # False when the scorer found no answer at all in the output ("no answer found"), as opposed
    # to an answer that is wrong. Suites that always score something (format, style) leave it True.
    parsed: bool = True

    def model_post_init(self, __context: Any) -> None:
        if self.value is None:
            self.value = float(self.correct)


class SampleRecord(BaseModel):
    """One line of samples.jsonl. These field names are a public contract."""

    item_id: str
    suite: str
    capability: str
    split: str
    variant: str  # "canonical" or the perturbation kind
    perturbation_level: int = 0
    canonical_id: str | None = None
    output: str
    answer: Any = None
    correct: bool
    score: float
    reason: str | None = None
    reference_answer: Any = None
    samples: list[dict[str, Any]] = Field(default_factory=list)  # every sample when samples > 1
    error: str | None = None
    finish_reason: str | None = None  # of the chosen sample: stop, length, error; None = unknown (older runs)
    truncated: bool = False  # the chosen sample hit max_new_tokens (finish_reason "length")
    # The scorer found no answer in the chosen sample's output. Absent from files written before
    # harness recorded it: `"unparsed" in record.model_fields_set` says whether it is known.
    unparsed: bool = False
    reasoning: str | None = None  # the thinking trace of the chosen sample, when the backend separates it
    # Self-consistency voting (--vote); empty/None when no vote was taken.
    vote_method: str | None = None  # the method asked for: majority, weighted, verify
    vote_note: str | None = None  # why this item fell back to another method, if it did
    chosen_sample: int | None = None  # index into `samples` of the sample whose answer won
    votes: dict[str, float] = Field(default_factory=dict)  # vote key (normalised answer) -> count or weight
    agreement: float | None = None  # share of samples giving the winning answer
