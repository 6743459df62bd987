"""Prompt building and scoring for a harness suite exported as an lm-eval task.

`harness export lm-eval` copies this file verbatim into the task folder as utils.py; the
task YAML points at these functions with `!function utils.NAME`. Scoring is the harness
suite's own `score` (its answer extractor and verifier), so an item is right under lm-eval
exactly when it is right under `harness eval`. Every doc carries the full harness item as
JSON (`item_json`) plus the suite's name, version, seed and size.

Prompt styles (chosen at export time, see the YAML's doc_to_text):
  chat   doc_to_text is the conversation's non-system turns and the YAML's `description: system`
         makes lm-eval send the item's system message as the system turn. Run lm_eval with
         --apply_chat_template: the prompt is then the tokenizer's chat template over the same
         messages that `harness eval` renders.
  plain  doc_to_text_plain is exactly what `harness eval` sends to a model without a chat template.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from harness.errors import HarnessError
from harness.suite import Suite, get_suite
from harness.types import Item

# Must match harness.backends.hf.render_chat for tokenizers without a chat template.
PLAIN_JOINER = "\n\n"


def item_of(doc: dict[str, Any]) -> Item:
    return Item.model_validate_json(doc["item_json"])


@lru_cache(maxsize=None)
def suite_for(name: str, seed: int, size: int, version: str) -> Suite:
    suite = get_suite(name, seed=seed, size=size)
    if suite.version != version:
        raise HarnessError(
            f"suite {name} was exported at version {version} but the installed harness has version "
            f"{suite.version}: re-export the task (harness export lm-eval --suite {name})"
        )
    return suite


def doc_to_text(doc: dict[str, Any]) -> str:
    """The user side of the conversation (lm-eval sends the system message from `description`).

    lm-eval has one user turn per doc, so an item with several turns is flattened into it;
    the export warns when a suite has such items.
    """
    turns = [m.content for m in item_of(doc).messages if m.role != "system"]
    return PLAIN_JOINER.join(turns)


def doc_to_system(doc: dict[str, Any]) -> str:
    messages = item_of(doc).messages
    return messages[0].content if messages and messages[0].role == "system" else ""


def doc_to_text_plain(doc: dict[str, Any]) -> str:
    return PLAIN_JOINER.join(m.content for m in item_of(doc).messages) + PLAIN_JOINER


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """acc: the suite's right/wrong verdict; score: its graded value in [0, 1]."""
    suite = suite_for(doc["suite"], int(doc["suite_seed"]), int(doc["suite_size"]), str(doc["suite_version"]))
    score = suite.score(item_of(doc), results[0])
    return {"acc": float(score.correct), "score": float(score.value or 0.0)}
