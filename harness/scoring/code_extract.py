"""Find the Python solution in a model's reply: fenced blocks, bare definitions, stray prose.

Order of preference: the last fenced block that defines the wanted function, any fenced
block that does (an unclosed fence at the end of a truncated reply counts), then bare code
cut out of surrounding prose. The result is trimmed until it parses when possible.
"""

from __future__ import annotations

import ast
import re

_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
_CODE_START = re.compile(r"^(def |async def |class |import |from \S+ import |@)")
_TOP_LEVEL_CODE = re.compile(r"^(def |async def |class |import |from \S+ import |@|[A-Za-z_][\w, ]*\s*=[^=]|if |for |while |try:|with )")


def _defines(code: str, name: str | None) -> bool:
    if name is None:
        return bool(re.search(r"^\s*def \w+", code, re.M))
    return re.search(rf"^\s*(?:async\s+)?def\s+{re.escape(name)}\s*\(", code, re.M) is not None


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _trim_until_parses(code: str) -> str:
    lines = code.rstrip().splitlines()
    for end in range(len(lines), 0, -1):
        candidate = "\n".join(lines[:end])
        if candidate.strip() and _parses(candidate):
            return candidate.rstrip() + "\n"
    return code


def _bare_code(text: str) -> list[str]:
    """Runs of lines that look like top-level code (with their indented bodies) amid prose."""
    chunks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        stripped = line.rstrip()
        if _CODE_START.match(stripped) or (current and _TOP_LEVEL_CODE.match(stripped)):
            current.append(stripped)
        elif current and (not stripped or line[:1] in (" ", "\t")):
            current.append(stripped)
        elif current:
            chunks.append("\n".join(current).strip() + "\n")
            current = []
    if current:
        chunks.append("\n".join(current).strip() + "\n")
    return chunks


def extract_code(output: str, entry_point: str | None = None) -> str | None:
    """The code most likely meant as the answer, or None when the reply has none."""
    text = output.split("</think>")[-1]
    blocks = [body for lang, body in _FENCE.findall(text) if lang.lower() in ("", "python", "py", "python3")]
    for candidates in (blocks, _bare_code(text)):
        defining = [c for c in candidates if _defines(c, entry_point)]
        if defining:
            chosen = defining[-1]
            # helpers defined in other blocks (imports, small functions) come along
            others = [c for c in candidates if c is not chosen and _parses(c) and not _defines(c, entry_point)]
            code = "\n".join(others + [chosen]) if others else chosen
            return code if _parses(code) else _trim_until_parses(code)
    return None
