"""What every logic family produces: a structured spec, rendered into a `Puzzle`.

A family module exposes `canonical(rng, target, index)`, `perturb(spec, kind, rng)`,
`render(spec, rng)` and `solve(spec)`. `solve` is the independent route: it re-derives the
answer from the rendered premises' structure by brute force (all orderings, all set-models,
all truth assignments, all knight/knave assignments) or a backtracking constraint solver,
never from the hidden solution the generator started from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INVENTED_NAMES = ["Zorvin", "Blixa", "Quenlo", "Vashti", "Mirok", "Tundle", "Praxo", "Oskiv", "Yeldra", "Fenwob",
                  "Grellin", "Hobrey", "Jaxtin", "Klorra", "Lumbo", "Nyvette", "Pindor", "Rusko", "Sablet", "Torvid"]
EVERYDAY_NAMES = ["Alice", "Bob", "Carol", "David", "Erin", "Frank", "Grace", "Henry", "Iris", "Jack", "Kate", "Leo",
                  "Maria", "Nick", "Olga", "Paul", "Rosa", "Sam", "Tina", "Victor"]


@dataclass
class Puzzle:
    family: str
    premises: list[str]
    question: str
    answer: str | list[str]
    answer_type: str  # "label", "ordering" or "choice"
    options: list[str]  # labels, entities to order, or the choices
    steps: list[str]
    preamble: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def prompt(self) -> str:
        head = f"{self.preamble}\n" if self.preamble else ""
        return head + "\n".join(self.premises) + f"\n\n{self.question}"

    def answer_text(self) -> str:
        return ", ".join(self.answer) if isinstance(self.answer, list) else str(self.answer)
