"""Short-answer extraction and alias matching for the knowledge suite.

Matching is forgiving about form (case, accents, articles, thousands separators, a trailing
full stop) and strict about content: one of the accepted aliases must appear as a whole
word or phrase in the extracted answer span.
"""

from __future__ import annotations

import re
import unicodedata

_ANSWER_LINE = re.compile(r"(?:final answer|answer)\s*(?:is|:)\s*(.+)", re.I)
_ARTICLES = re.compile(r"\b(?:the|a|an)\b\s*")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 → 1000
    text = re.sub(r"[*_`\"'“”‘’]", "", text)  # markdown emphasis and quotes
    text = _ARTICLES.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def extract_span(output: str) -> str:
    """The part of the output that holds the answer."""
    text = output.split("</think>")[-1].strip()
    matches = _ANSWER_LINE.findall(text)
    if matches:
        return matches[-1].strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return ""
    if len(lines) <= 2 and len(text.split()) <= 30:
        return " ".join(lines)
    # A long answer with no "Answer:" line: the first sentence and the last line, where
    # models put the answer, but not the middle where they list alternatives.
    first_sentence = re.split(r"(?<=[.!?])\s", lines[0], maxsplit=1)[0]
    return f"{first_sentence} {lines[-1]}"


def alias_pattern(alias: str) -> re.Pattern[str]:
    norm = normalise(alias).rstrip(".") if not alias.startswith(".") else normalise(alias)
    return re.compile(r"(?<![\w.#+])" + re.escape(norm) + r"(?![\w#+]|\.\w)")


def _is_case_sensitive(alias: str) -> bool:
    """Short codes and symbols ('He', 'FR', 'US') keep their case, so 'he' or 'us' in prose is no answer."""
    return len(alias) <= 2 and any(ch.isupper() for ch in alias)


def matches_any(span: str, aliases: list[str]) -> bool:
    text = normalise(span)
    for alias in aliases:
        if not alias.strip():
            continue
        if _is_case_sensitive(alias):
            if re.search(r"(?<![\w.])" + re.escape(alias) + r"(?![\w])", span):
                return True
        elif alias_pattern(alias).search(text):
            return True
    return False
