"""Building blocks of the format suite: constraint parameters, their phrasings, and a
reference response assembled from the topic bank that provably follows every constraint.

The reference is chosen among candidate renderings (more or fewer sentences, with or
without an intro line) as the first that the constraint checkers themselves accept, so it
can never disagree with the scorer.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any

from harness.scoring.instructions import follows_all
from harness.tasks._format_topics import TOPICS

SECTION_SETS = [
    ["Overview", "Details", "Conclusion"],
    ["Background", "Key Facts", "Takeaway"],
    ["Definition", "How It Works", "Impact"],
]
END_PHRASES = [
    "Is there anything else I can help with?",
    "Let me know if you have more questions.",
    "Hope this helps.",
    "That is all for now.",
]
ANSWER_PREFIX = "Final answer:"
FIXED_TEXT = " ".join(sum(SECTION_SETS, []) + END_PHRASES + [ANSWER_PREFIX, "topic summary key points facts fact importance"]).lower()

REQUESTS = {
    "prose": ["Write a short explanation of {topic}.", "Explain {topic} to a curious adult.", "Give a brief overview of {topic}."],
    "think": ["Summarise {topic} in a single sentence.", "What is the single most important thing to know about {topic}?"],
    "json": ["Describe {topic}.", "Collect the main facts about {topic}."],
}

# Constraint kinds that cannot share a prompt (they would contradict each other or the family).
_CONFLICTS = {
    "json_schema": {"sections", "number_bullets", "end_phrase", "think_answer", "max_sentences", "number_words", "no_comma"},
    "think_answer": {"json_schema", "sections", "number_bullets", "max_sentences", "number_words"},
    "number_bullets": {"json_schema", "think_answer", "no_markdown", "max_sentences", "sections", "number_words"},
    "sections": {"json_schema", "think_answer", "max_sentences", "number_bullets"},
    "max_sentences": {"json_schema", "think_answer", "number_bullets", "sections", "number_words"},
    "number_words": {"json_schema", "think_answer", "max_sentences", "number_words"},
}


def compatible(a: str, b: str) -> bool:
    return a != b and b not in _CONFLICTS.get(a, set()) and a not in _CONFLICTS.get(b, set())


def phrase(spec: dict[str, Any], style: int) -> str:
    """The instruction text for one constraint; `style` picks one of several phrasings."""
    k = spec.get("kwargs", {})
    cid = spec["id"]
    if cid == "sections":
        names = k["sections"]
        listed = ", ".join(names)
        options = [
            f"Organise your answer into these sections, in this order, each heading on its own line: {listed}.",
            f"Structure the response with {len(names)} headed parts titled {listed} (in that order), each heading on a separate line.",
            f"Use exactly these headings, one per line and in this order: {listed}. Put some text under each.",
        ]
    elif cid == "number_words":
        n, rel = k["num_words"], k["relation"]
        options = (
            [f"Answer with less than {n} words.", f"Keep the whole response under {n} words.", f"Your reply must be shorter than {n} words."]
            if rel == "less than"
            else [f"Answer with at least {n} words.", f"Write no fewer than {n} words.", f"The response needs a minimum of {n} words."]
        )
    elif cid == "max_sentences":
        n = k["max_sentences"]
        options = [f"Use at most {n} sentences.", f"Do not write more than {n} sentences.", f"Limit yourself to {n} sentences or fewer."]
    elif cid == "number_bullets":
        n = k["num_bullets"]
        options = [
            f"Your answer must contain exactly {n} bullet points, written as markdown bullets such as:\n- This is a point.",
            f"Include precisely {n} bullet points (lines starting with '- ').",
            f"List exactly {n} points as a markdown bulleted list, one '- ' line each.",
        ]
    elif cid == "forbidden_words":
        words = ", ".join(f"'{w}'" for w in k["forbidden_words"])
        options = [
            f"Do not use the words {words} anywhere in your response.",
            f"Avoid these words entirely: {words}.",
            f"Your reply must not contain any of the following words: {words}.",
        ]
    elif cid == "include_keywords":
        words = ", ".join(f"'{w}'" for w in k["keywords"])
        options = [f"Include the keywords {words} in the response.", f"Make sure the words {words} appear in your answer.", f"Mention the words {words} somewhere in your reply."]
    elif cid == "end_phrase":
        p = k["end_phrase"]
        options = [
            f"Finish your response with this exact phrase: {p} No other words should follow it.",
            f"End your reply with the exact sentence \"{p}\" and write nothing after it.",
            f"The very last words of your answer must be: {p}",
        ]
    elif cid == "no_comma":
        options = ["Do not use any commas in your response.", "Write without a single comma.", "Commas are not allowed anywhere in the reply."]
    elif cid == "no_markdown":
        options = [
            "Use plain text only: no markdown (no headings with #, no bullets, no bold or italics, no code formatting).",
            "Do not use any markdown formatting; write plain sentences and plain heading lines only.",
            "Plain text only. Markdown syntax such as #, *, -, ` or numbered lists is not allowed.",
        ]
    elif cid == "json_schema":
        schema = json.dumps(k["schema"])
        options = [
            f"Reply with only a JSON object that validates against this JSON Schema:\n{schema}",
            f"Your entire output must be JSON conforming to the following schema, with no other text:\n{schema}",
            f"Return the answer as JSON only (no prose) that matches this schema:\n{schema}",
        ]
    elif cid == "think_answer":
        p = k["answer_prefix"]
        options = [
            f"First reason inside <think> and </think> tags, then give your final answer on a line starting with '{p}'.",
            f"Put your reasoning between <think> and </think>, and after it write one line that begins with '{p}'.",
            f"Start with your thinking wrapped in <think>...</think>; then state the answer on a new line beginning '{p}'.",
        ]
    else:
        raise ValueError(f"no phrasing for constraint {cid!r}")
    return options[style % len(options)]


@dataclass
class Draw:
    """Every parameter one canonical instance might need, drawn once so variants share them."""

    topic: str
    sentences: list[str]
    request: int
    specs: dict[str, dict[str, Any]]


def _content_words(sentence: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z]+", sentence) if len(w) >= 5 and w.islower()]


def draw(rng: random.Random) -> Draw:
    topic = rng.choice(sorted(TOPICS))
    sentences = TOPICS[topic]
    # Forbidden words: two words of one sentence that appear nowhere else (nor in fixed text),
    # so the reference can drop that one sentence and still have five to work with.
    others = lambda i: " ".join(s for j, s in enumerate(sentences) if j != i).lower()  # noqa: E731
    candidates = []
    for i in range(1, len(sentences)):
        words = [w for w in dict.fromkeys(_content_words(sentences[i])) if not re.search(rf"\b{w}\b", others(i) + " " + FIXED_TEXT + " " + topic.lower())]
        if len(words) >= 2:
            candidates.append((i, words))
    banned_index, banned_words = rng.choice(candidates)
    forbidden = sorted(rng.sample(banned_words, 2))
    kept = [s for j, s in enumerate(sentences) if j != banned_index]
    keyword_pool = [w for w in dict.fromkeys(_content_words(kept[0]) + _content_words(kept[1])) if w not in forbidden]
    schema_kind = rng.randrange(2)
    n_points = rng.randint(2, 4)
    specs = {
        "sections": {"id": "sections", "kwargs": {"sections": rng.choice(SECTION_SETS)[: rng.choice([2, 3])]}},
        "words_max": {"id": "number_words", "kwargs": {"num_words": rng.choice([40, 50, 60, 70]), "relation": "less than"}},
        "words_min": {"id": "number_words", "kwargs": {"num_words": rng.choice([40, 50, 60]), "relation": "at least"}},
        "max_sentences": {"id": "max_sentences", "kwargs": {"max_sentences": rng.choice([2, 3, 4])}},
        "number_bullets": {"id": "number_bullets", "kwargs": {"num_bullets": rng.choice([2, 3, 4])}},
        "forbidden_words": {"id": "forbidden_words", "kwargs": {"forbidden_words": forbidden}},
        "include_keywords": {"id": "include_keywords", "kwargs": {"keywords": sorted(rng.sample(keyword_pool, 2))}},
        "end_phrase": {"id": "end_phrase", "kwargs": {"end_phrase": rng.choice(END_PHRASES)}},
        "no_comma": {"id": "no_comma", "kwargs": {}},
        "no_markdown": {"id": "no_markdown", "kwargs": {}},
        "json_schema": {"id": "json_schema", "kwargs": {"schema": json_schema(schema_kind, n_points)}},
        "think_answer": {"id": "think_answer", "kwargs": {"answer_prefix": ANSWER_PREFIX}},
    }
    return Draw(topic=topic, sentences=sentences, request=rng.randrange(3), specs=specs)


def json_schema(kind: int, n_points: int) -> dict[str, Any]:
    if kind == 0:
        return {
            "type": "object",
            "properties": {
                "topic": {"type": "string"},
                "summary": {"type": "string", "minLength": 10},
                "key_points": {"type": "array", "items": {"type": "string"}, "minItems": n_points, "maxItems": n_points},
            },
            "required": ["topic", "summary", "key_points"],
            "additionalProperties": False,
        }
    return {
        "type": "object",
        "properties": {
            "topic": {"type": "string"},
            "facts": {
                "type": "array",
                "minItems": n_points,
                "maxItems": n_points,
                "items": {
                    "type": "object",
                    "properties": {"fact": {"type": "string"}, "importance": {"type": "integer", "minimum": 1, "maximum": 5}},
                    "required": ["fact", "importance"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["topic", "facts"],
        "additionalProperties": False,
    }


def family(specs: list[dict[str, Any]]) -> str:
    ids = {s["id"] for s in specs}
    return "json" if "json_schema" in ids else "think" if "think_answer" in ids else "prose"


def _usable_sentences(sentences: list[str], specs: list[dict[str, Any]]) -> list[str]:
    by_id = {s["id"]: s["kwargs"] for s in specs}
    banned = by_id.get("forbidden_words", {}).get("forbidden_words", [])
    kept = [s for s in sentences if not any(re.search(rf"\b{w}\b", s, re.I) for w in banned)]
    if "no_comma" in by_id:
        kept = [s.replace(",", "") for s in kept]
    return kept


def _render_prose(topic: str, kept: list[str], specs: list[dict[str, Any]], n: int, intro: bool) -> str:
    by_id = {s["id"]: s["kwargs"] for s in specs}
    plain = "no_markdown" in by_id
    body: list[str] = []
    if "sections" in by_id:
        names = by_id["sections"]["sections"]
        per = max(1, n // len(names))
        for i, name in enumerate(names):
            body.append(name if plain else f"## {name}")
            body.append(" ".join(kept[i * per : (i + 1) * per]))
            body.append("")
    elif "number_bullets" in by_id:
        count = by_id["number_bullets"]["num_bullets"]
        if intro:
            body += [kept[0], ""]
        body += [f"- {s}" for s in kept[int(intro) : int(intro) + count]]
        body.append("")
    else:
        body += [" ".join(kept[:n]), ""]
    if "end_phrase" in by_id:
        body.append(by_id["end_phrase"]["end_phrase"])
    return "\n".join(body).strip()


def _render_think(kept: list[str], specs: list[dict[str, Any]], n: int) -> str:
    by_id = {s["id"]: s["kwargs"] for s in specs}
    reasoning = " ".join(kept[1 : 1 + max(1, n - 1)])
    text = f"<think>\n{reasoning}\n</think>\n{ANSWER_PREFIX} {kept[0]}"
    if "end_phrase" in by_id:
        text += f"\n\n{by_id['end_phrase']['end_phrase']}"
    return text


def _render_json(topic: str, kept: list[str], specs: list[dict[str, Any]], n: int) -> str:
    schema = next(s for s in specs if s["id"] == "json_schema")["kwargs"]["schema"]
    props = schema["properties"]
    if "key_points" in props:
        count = props["key_points"]["minItems"]
        value: dict[str, Any] = {"topic": topic, "summary": kept[0], "key_points": kept[1 : 1 + count]}
    else:
        count = props["facts"]["minItems"]
        value = {"topic": topic, "facts": [{"fact": s, "importance": 5 - i} for i, s in enumerate(kept[:count])]}
    return json.dumps(value, indent=2, ensure_ascii=False)


class NoReference(ValueError):
    """No rendering of the topic's sentences satisfies this combination (the suite redraws)."""


def reference_response(topic: str, sentences: list[str], specs: list[dict[str, Any]]) -> str:
    """The first candidate rendering that follows every constraint strictly."""
    kept = _usable_sentences(sentences, specs)
    kind = family(specs)
    tried = []
    for n in (4, 3, 5, 2, 6, 1):
        for intro in (True, False):
            if kind == "json":
                text = _render_json(topic, kept, specs, n)
            elif kind == "think":
                text = _render_think(kept, specs, n)
            else:
                text = _render_prose(topic, kept, specs, n, intro)
            tried.append(text)
            if follows_all(specs, text):
                return text
    raise NoReference(f"no reference rendering follows {[s['id'] for s in specs]} for {topic!r}: {tried[0]!r}")
