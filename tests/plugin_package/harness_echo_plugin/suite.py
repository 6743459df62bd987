"""`parity`: is N even or odd? Its capability, "parity", is new to harness."""

from __future__ import annotations

import re

from harness.suite import Suite
from harness.types import Score

ANSWER = re.compile(r"answer is (even|odd)", re.I)


class ParitySuite(Suite):
    capability = "parity"
    default_size = 12
    default_selection = False  # runs only when named

    def build(self):
        items = []
        for split, size in self.split_sizes().items():
            for index in range(size):
                n = self.rng(split, index).randint(10, 10**6)
                answer = "even" if n % 2 == 0 else "odd"
                prompt = f"Is {n} even or odd? End with 'The answer is even/odd'."
                items.append(self.make_item(f"parity/{split}/{index:04d}", split, prompt, answer=answer,
                                            reference_response=f"{n} mod 2 = {n % 2}. The answer is {answer}."))
        return items

    def score(self, item, output):
        found = ANSWER.search(output)
        answer = found.group(1).lower() if found else None
        return Score(answer=answer, correct=answer == item.answer, parsed=answer is not None)
