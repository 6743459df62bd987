r"""Answer parsing for short logic answers: labels (True/False/Unknown, valid/invalid,
knight/knave), orderings of named entities, and one choice out of a set (a grid cell).

All parsers look first at the answer part of an output (after the last "the answer is",
"Answer:", "Conclusion:" or inside the last \boxed{}), and fall back to the whole output
after any `</think>`, so "True.", "**Answer:** false", "The answer is: Unknown" and
"... so it cannot be determined" all parse.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Phrasings that mean each canonical label (longest first wins at one position).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "true": ("true", "yes", "correct"),
    "false": ("false", "no", "incorrect", "not true"),
    "unknown": ("unknown", "cannot be determined", "can't be determined", "cannot be known", "undetermined", "uncertain",
                "not enough information", "cannot tell", "can't tell", "neither", "indeterminate"),
    "valid": ("valid", "follows", "it follows", "yes"),
    "invalid": ("invalid", "not valid", "does not follow", "doesn't follow", "not follow", "no"),
    "knight": ("knight", "a knight", "not a knave", "truth-teller", "truth teller"),
    "knave": ("knave", "a knave", "not a knight", "liar"),
}
_ANSWER_MARK = re.compile(r"(?:final\s+answer|the\s+answer|answer|conclusion)\s*(?:is|:|=|would\s+be|will\s+be)", re.I)
_WEAK = {"yes", "no", "correct", "neither", "follows", "liar"}
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")


def answer_region(output: str) -> tuple[str, str]:
    """(the part after the last answer marker or boxed answer, the whole text after </think>)."""
    text = output.split("</think>")[-1]
    boxed = _BOXED.findall(text)
    if boxed:
        return boxed[-1], text
    marks = list(_ANSWER_MARK.finditer(text))
    if marks:
        return text[marks[-1].end() :][:300], text
    return "", text


def _phrase_pattern(phrases: Sequence[str]) -> re.Pattern[str]:
    alternatives = sorted({p.lower() for p in phrases}, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in alternatives) + r")(?![\w-])", re.I)


def _lookup(labels: Sequence[str]) -> dict[str, str]:
    table: dict[str, str] = {}
    for label in labels:
        for phrase in (label, *SYNONYMS.get(label.lower(), ())):
            table.setdefault(re.sub(r"\s+", " ", phrase.lower()), label)
    return table


def extract_label(output: str, labels: Sequence[str]) -> str | None:
    """The label an output commits to: the first one in its answer part, else the one it opens
    with ("No, ..."), else the last one mentioned."""
    table = _lookup(labels)
    pattern = _phrase_pattern(list(table))
    region, whole = answer_region(output)
    first = pattern.search(region)
    if first:
        return table[re.sub(r"\s+", " ", first.group(1).lower())]
    start = whole.strip().lstrip("*#> ").strip()
    opening = pattern.match(start)
    if opening and re.match(r"\**\s*(?:[,.!:;]|$)", start[opening.end() :]):  # "No, Iris is ..." answers at once
        return table[re.sub(r"\s+", " ", opening.group(1).lower())]
    # Elsewhere, bare "yes"/"no" and the like are too common to mean a verdict.
    loose = {phrase: label for phrase, label in table.items() if phrase not in _WEAK}
    mentions = _phrase_pattern(list(loose)).findall(whole) if loose else []
    return loose[re.sub(r"\s+", " ", mentions[-1].lower())] if mentions else None


def extract_choice(output: str, options: Sequence[str]) -> str | None:
    """One option out of a set (case-insensitive, whole words)."""
    return extract_label(output, options)


_LIST_ITEM = re.compile(r"^\s*(?:\*\*)?(?:\d+\s*[.):]|[-*\u2022])(?:\*\*)?\s+(.*)$")  # "1. x", "2) x", "**3.** x", "- x", "• x"


def _list_blocks(text: str) -> list[tuple[int, list[str]]]:
    """Every run of consecutive list items: (end offset in text, item texts). Blank lines and
    indented continuation lines inside a run do not end it."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    end = pos = 0
    for line in text.splitlines(keepends=True):
        pos += len(line)
        m = _LIST_ITEM.match(line)
        if m:
            current.append(m.group(1))
            end = pos
        elif current and line.strip() and not line[:1].isspace():
            blocks.append((end, current))
            current = []
    if current:
        blocks.append((end, current))
    return blocks


def extract_ordering(output: str, entities: Sequence[str]) -> list[str] | None:
    r"""The entities in the order the answer lists them (each once), or None.

    The answer part is used when it is a list that names every entity once ("1. Henry\n2. Maria",
    "1) Henry", "- Henry": each item's first name counts), or a line naming every entity
    ("Henry, Maria, Bob"). Otherwise the latest of: a list naming every entity once, the last
    line naming every entity.
    """
    pattern = _phrase_pattern(entities)
    canon = {e.lower(): e for e in entities}

    def order(text: str) -> list[str]:
        seen: list[str] = []
        for m in pattern.finditer(text):
            name = canon[re.sub(r"\s+", " ", m.group(1).lower())]
            if name not in seen:
                seen.append(name)
        return seen

    def listed(items: list[str]) -> list[str] | None:
        heads = [found[0] for found in (order(item) for item in items) if found]
        if len(heads) == len(entities) == len(set(heads)):
            return heads
        return None

    def complete_lists(text: str) -> list[tuple[int, list[str]]]:
        return [(end, got) for end, items in _list_blocks(text) if (got := listed(items)) is not None]

    region, whole = answer_region(output)
    marks = list(_ANSWER_MARK.finditer(whole))
    if marks and not _BOXED.search(whole):
        after = complete_lists(whole[marks[-1].end() :])
        if after:
            return after[0][1]
    found = order(region)
    if len(found) == len(entities):
        return found
    candidates = []  # (where it ends, ordering); the last line first, so that it wins a tie
    offset = len(whole)
    for line in reversed(whole.splitlines(keepends=True)):
        found = order(line)
        if len(found) == len(entities):
            candidates.append((offset, found))
            break
        offset -= len(line)
    candidates += complete_lists(whole)
    return max(candidates, key=lambda c: c[0])[1] if candidates else None
