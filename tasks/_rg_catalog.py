"""Which reasoning-gym datasets become `rg:<dataset>` suites, and how each is mapped.

Pure data: reading this table must not import reasoning_gym (the CLI lists suites from it).

- capability: the harness capability the suite's scores count towards (harness.types.CAPABILITIES).
  Rule by reasoning-gym category: arithmetic and algebra -> math; algorithmic (executing a
  procedure step by step: sorting, base conversion, spelling backwards) -> code; logic, graphs
  and cognition -> logic.
- base_level: the curriculum level of canonical items. 0 (the easiest level) unless level 0 has
  too few distinct prompts for disjoint train/dev/test splits (leg_counting level 0 has 111:
  one kind of animal, 2-4 of it; chain_sum level 0 has 195: two one-digit terms).
- ladder: how many harder levels each canonical test item gets; perturbed item k (1, 2, ...) is
  drawn from the same seed and index at curriculum level base_level + k.
- threshold: `correct` is `score_answer(...) >= threshold`; 1.0 everywhere (exact answers), the
  graded value is kept in Score.value either way.
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORY_CAPABILITY = {
    "arithmetic": "math",
    "algebra": "math",
    "algorithmic": "code",
    "logic": "logic",
    "graphs": "logic",
    "cognition": "logic",
}


@dataclass(frozen=True)
class RGEntry:
    dataset: str  # reasoning-gym's registry name (create_dataset)
    category: str  # reasoning-gym's module category
    base_level: int = 0
    ladder: int = 2
    threshold: float = 1.0

    @property
    def suite_name(self) -> str:
        return f"rg:{self.dataset}"

    @property
    def capability(self) -> str:
        return CATEGORY_CAPABILITY[self.category]


CATALOG: tuple[RGEntry, ...] = (
    # arithmetic
    RGEntry("leg_counting", "arithmetic", base_level=1),
    RGEntry("basic_arithmetic", "arithmetic", base_level=1),
    RGEntry("chain_sum", "arithmetic", base_level=1),
    RGEntry("gcd", "arithmetic"),
    RGEntry("fraction_simplification", "arithmetic"),
    RGEntry("prime_factorization", "arithmetic"),
    # algebra
    RGEntry("simple_equations", "algebra"),
    RGEntry("complex_arithmetic", "algebra"),
    # algorithmic
    RGEntry("base_conversion", "algorithmic"),
    RGEntry("number_sorting", "algorithmic"),
    RGEntry("word_sorting", "algorithmic"),
    RGEntry("spell_backward", "algorithmic"),
    RGEntry("letter_counting", "algorithmic"),
    # logic
    RGEntry("knights_knaves", "logic"),
    RGEntry("syllogism", "logic"),
    RGEntry("circuit_logic", "logic", ladder=1),  # level 2 prompts run to ~24k characters
    # graphs
    RGEntry("shortest_path", "graphs"),
    RGEntry("family_relationships", "graphs"),
    RGEntry("course_schedule", "graphs"),
    # cognition
    RGEntry("color_cube_rotation", "cognition"),
    RGEntry("needle_haystack", "cognition", ladder=1),  # level 2 haystacks run to ~22k characters
)

