"""What scoring needs from the run beyond an item and its output, handed to `Suite.score_many` / `Suite.score`.

The run builds it once (harness eval's run_eval, GRPO's reward function) and passes it down explicitly,
so two runs in one process never see each other's judge. A suite that declares `needs_judge = True`
reads `context.judge`; without a context (a suite scored directly, in a test or inside lm-eval) it
uses the default judge.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.scoring.judges import AbstentionJudge


@dataclass(frozen=True)
class ScoringContext:
    """The run's scoring settings: `judge` decides abstentions (None: no selected suite needs one)."""

    judge: AbstentionJudge | None = None

    def abstention_judge(self) -> AbstentionJudge:
        """The run's judge, or the default one when the run built none."""
        from harness.scoring.judges import AbstentionJudge

        return self.judge if self.judge is not None else AbstentionJudge()


@cache
def takes_context(method: Callable[..., Any]) -> bool:
    """Whether a suite's score/score_many accepts `context` (suites written before it existed do not)."""
    parameters = inspect.signature(method).parameters
    return "context" in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
