"""The perturbed logic suite: coverage, determinism, chance, answer parsing, and a solver
spot-check that re-derives answers from the *rendered text* of items (parsed here, solved
by brute force here), so a perturbation can never silently change what the scorer checks."""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict

import pytest

from harness.scoring.logic import extract_choice, extract_label, extract_ordering
from harness.suite import get_suite
from harness.tasks import _logic_zebra
from harness.tasks.logic import LADDERS

FAMILIES = {"ordering", "syllogism", "prontoqa", "zebra", "knights"}
LADDER_OF = {"ordering": "links", "prontoqa": "hops", "zebra": "grid", "knights": "islanders"}  # syllogisms have none


@pytest.fixture(scope="module")
def suite():
    return get_suite("logic")


def _body(item) -> str:
    return item.messages[0].content.split("\n\n", 1)[1]


# --- coverage and structure ------------------------------------------------------------

def test_default_size_covers_every_family_and_perturbation(suite):
    test = suite.items("test")
    assert len(test) >= 300
    assert {it.metadata["family"] for it in test} == FAMILIES
    kinds = defaultdict(set)
    for it in test:
        kinds[it.metadata["family"]].add(it.variant.kind)
        if it.variant.kind in LADDERS:
            assert it.variant.level in LADDERS[it.variant.kind]
        else:
            assert it.variant.level == (0 if it.variant.is_canonical else 1)
    for family in FAMILIES:
        assert {"canonical", "invented", "shuffled", "negated"} <= kinds[family], family
        assert LADDER_OF.get(family, "belief") in kinds[family], family
    sizes = {it.metadata["size"] for it in test if it.metadata["family"] == "zebra"}
    assert {"3x3", "4x5", "5x5", "5x6", "6x6"} <= sizes
    links = [it.metadata["links"] for it in test if it.metadata["family"] == "ordering"]
    assert min(links) == 2 and max(links) == 14
    hops = [it.metadata["hops"] for it in test if it.metadata["family"] == "prontoqa"]
    assert min(hops) == 1 and max(hops) == 11
    islanders = [it.metadata["islanders"] for it in test if it.metadata["family"] == "knights"]
    assert min(islanders) == 2 and max(islanders) == 5
    beliefs = Counter(it.metadata["belief"] for it in test if it.variant.kind == "belief")
    assert set(beliefs) == {"unbelievable-valid", "believable-invalid"}


def _difficulty(item) -> tuple[int, ...]:
    family = item.metadata["family"]
    if family == "zebra":
        return tuple(int(n) for n in item.metadata["size"].split("x"))
    return (item.metadata[{"ordering": "links", "prontoqa": "hops", "knights": "islanders"}[family]],)


def test_every_canonical_puzzle_carries_every_rung_of_its_ladder(suite):
    """Each rung is the canonical puzzle made harder by exactly its level, asking the same question;
    every rung holds the same problems, so rung k against rung 0 compares like with like."""
    test = suite.items("test")
    by_id = {it.id: it for it in test}
    rungs = defaultdict(dict)  # canonical id -> level -> item
    for it in test:
        if it.variant.kind == LADDER_OF.get(it.metadata["family"]):
            rungs[it.variant.canonical_id][it.variant.level] = it
    canonical = [it for it in test if it.variant.is_canonical and it.metadata["family"] != "syllogism"]
    assert len(canonical) >= 50
    for canon in canonical:
        kind = LADDER_OF[canon.metadata["family"]]
        assert sorted(rungs[canon.id]) == list(LADDERS[kind]), canon.id
        base = _difficulty(canon)
        for level, it in rungs[canon.id].items():
            assert by_id[it.variant.canonical_id] is canon and it.id == f"{canon.id}/{kind}{level}"
            got = _difficulty(it)
            if kind in ("links", "hops"):
                assert got == (base[0] + 2 * level,), it.id
            elif kind == "islanders":
                assert got == (base[0] + level,), it.id
            else:
                assert got == _logic_zebra.GRID_LADDER[level], it.id
            if canon.metadata["answer_type"] == "ordering":  # the full order: the canonical people keep their order
                assert [p for p in it.answer if p in canon.answer] == canon.answer
                assert len(it.answer) == len(canon.answer) + 2 * level
            else:
                assert it.answer == canon.answer, it.id
            if canon.metadata["answer_type"] != "ordering":  # zebra: the asked house may move as houses are inserted
                assert re.sub(r"\d", "N", _question(it)) == re.sub(r"\d", "N", _question(canon)), it.id
    prompts = defaultdict(lambda: defaultdict(list))  # kind -> level -> prompt lengths
    for canon in canonical:
        prompts[LADDER_OF[canon.metadata["family"]]][0].append(len(_body(canon)))
        for level, it in rungs[canon.id].items():
            prompts[it.variant.kind][level].append(len(_body(it)))
    for kind, levels in prompts.items():
        means = [sum(v) / len(v) for _, v in sorted(levels.items())]
        assert means == sorted(means) and means[-1] > 1.25 * means[0], (kind, means)  # the rungs really grow


def _question(item) -> str:
    return _body(item).rsplit("\n\n", 1)[1]


def test_determinism_size_and_disjoint_splits():
    a, b = get_suite("logic", seed=2, size=10), get_suite("logic", seed=2, size=10)
    assert [it.model_dump_json() for it in a.all_items] == [it.model_dump_json() for it in b.all_items]
    assert a.content_hash() != get_suite("logic", seed=3, size=10).content_hash()
    assert len(a.items("test", variants=["canonical"])) == 10
    prompts = {s: {_body(it) for it in a.items(s)} for s in ("train", "dev", "test")}
    assert not prompts["train"] & prompts["test"] and not prompts["dev"] & prompts["test"]


def test_perturbation_keeps_the_answer_checking_path(suite):
    by_id = {it.id: it for it in suite.items("test")}
    for it in suite.items("test"):
        if it.variant.is_canonical:
            continue
        canon = by_id[it.variant.canonical_id]
        assert it.metadata["family"] == canon.metadata["family"]
        assert it.metadata["answer_type"] == canon.metadata["answer_type"]
        if it.metadata["answer_type"] == "label":
            assert it.metadata["options"] == canon.metadata["options"]
        assert _body(it) != _body(canon)


def test_reference_is_right_and_wrong_answers_are_not(suite):
    for it in suite.all_items:
        assert suite.score(it, it.reference_response).correct, it.id
    for it in suite.items("test"):
        options = it.metadata["options"]
        if it.metadata["answer_type"] == "ordering":
            wrong = ", ".join(reversed(it.answer))
        else:
            wrong = next(o for o in options if o.lower() != str(it.answer).lower())
        assert not suite.score(it, f"The answer is {wrong}.").correct, it.id
        assert not suite.score(it, "").correct


def test_constant_answers_score_at_chance(suite):
    """Labels are balanced: always giving one label scores about 1/len(labels) on the items
    where it is a possible answer, and 0 where it is not (orderings, grid cells)."""
    test = suite.items("test")
    for constant in ("True", "False", "Unknown", "valid", "invalid", "knight", "knave"):
        rate = sum(suite.score(it, f"The answer is {constant}.").correct for it in test) / len(test)
        expected = sum(1 / len(it.metadata["options"]) for it in test
                       if it.metadata["answer_type"] == "label" and constant in it.metadata["options"]) / len(test)
        assert rate == pytest.approx(expected, abs=0.035), constant
        assert rate <= expected + 0.035


# --- answer parsing -----------------------------------------------------------------------

@pytest.mark.parametrize("output,labels,want", [
    ("The answer is True.", ["True", "False", "Unknown"], "True"),
    ("**Answer:** false", ["True", "False", "Unknown"], "False"),
    ("Since nothing says so, it cannot be determined.", ["True", "False", "Unknown"], "Unknown"),
    ("The answer is: Unknown", ["True", "False", "Unknown"], "Unknown"),
    ("Answer: No, Max is not bright.", ["True", "False", "Unknown"], "False"),
    ("It is true that A > B... so the final answer is false", ["True", "False"], "False"),
    ("\\boxed{True}", ["True", "False"], "True"),
    ("The argument is invalid.", ["valid", "invalid"], "invalid"),
    ("The conclusion does not follow.", ["valid", "invalid"], "invalid"),
    ("The answer is valid.", ["valid", "invalid"], "valid"),
    ("So Bob is not a knight. The answer is knave.", ["knight", "knave"], "knave"),
    ("Bob must be a knight.", ["knight", "knave"], "knight"),
    ("No, Iris is not taller than Victor.", ["True", "False"], "False"),
    ("Yes. Every wumpus is bright, and so is Max.", ["True", "False", "Unknown"], "True"),
    ("No two of them are equal, so Iris is taller: true", ["True", "False"], "True"),
    ("I have no idea", ["True", "False", "Unknown"], None),
    ("", ["knight", "knave"], None),
])
def test_label_parsing(output, labels, want):
    assert extract_label(output, labels) == want


def test_ordering_and_choice_parsing():
    people = ["Alice", "Bob", "Carol"]
    assert extract_ordering("The answer is Bob, Alice, Carol.", people) == ["Bob", "Alice", "Carol"]
    assert extract_ordering("Alice is tallest.\nOrder: Carol > Bob > Alice", people) == ["Carol", "Bob", "Alice"]
    assert extract_ordering("The answer is Bob, Alice.", people) is None
    assert extract_choice("The answer is tea.", ["tea", "coffee", "milk"]) == "tea"
    assert extract_choice("House 2 drinks coffee, so coffee.", ["tea", "coffee", "milk"]) == "coffee"
    assert extract_choice("The answer is beer.", ["tea", "coffee", "milk"]) is None


# --- the solver spot-check, from the rendered text ---------------------------------------

OPPOSITES = {"taller": "shorter", "older": "younger", "heavier": "lighter", "faster": "slower"}


def _ordering_premises(item) -> tuple[list[tuple[str, str]], str | None]:
    """The 'a outranks b' edges the premises state, and the relation word."""
    body = _body(item)
    invented = re.search(r"'(\w+)' is a made-up ordering.*?'A is (\w+) than B'", body)
    comp = invented.group(1) if invented else None
    above = []
    for a, neg, word, b in re.findall(r"^(\w+) is (not )?(\w+) than (\w+)\.$", body, re.M):
        if comp is None:
            comp = word if word in OPPOSITES else next(k for k, v in OPPOSITES.items() if v == word)
        above.append((a, b) if word == comp and not neg else (b, a))
    return above, comp


def _ordering_answer(item):
    """Graph reachability: x outranks y iff a path of stated links leads from x to y; the full
    order is determined iff the people reach n-1, n-2, ..., 0 others (a total order)."""
    above, _ = _ordering_premises(item)
    people = sorted({p for pair in above for p in pair})
    below = {p: {b for a, b in above if a == p} for p in people}
    reach = {}
    for p in people:
        seen, stack = set(), list(below[p])
        while stack:
            q = stack.pop()
            if q not in seen:
                seen.add(q)
                stack.extend(below[q])
        reach[p] = seen
    assert all(p not in reach[p] for p in people), "the premises have a cycle"
    pair = re.search(r"Is (\w+) (\w+) than (\w+)\?", _body(item))
    if pair is None:
        ranked = sorted(people, key=lambda p: -len(reach[p]))
        return ranked if [len(reach[p]) for p in ranked] == list(range(len(people) - 1, -1, -1)) else None
    x, _, y = pair.groups()
    return "True" if y in reach[x] else "False" if x in reach[y] else None


def _ordering_answer_brute(item):
    """Every permutation consistent with the premises (small chains only)."""
    above, _ = _ordering_premises(item)
    people = sorted({p for pair in above for p in pair})
    orders = [o for o in itertools.permutations(people) if all(o.index(a) < o.index(b) for a, b in above)]
    pair = re.search(r"Is (\w+) (\w+) than (\w+)\?", _body(item))
    if pair is None:
        return list(orders[0]) if len(orders) == 1 else None
    x, _, y = pair.groups()
    verdicts = {o.index(x) < o.index(y) for o in orders}
    return None if len(verdicts) != 1 else ("True" if verdicts.pop() else "False")


def _prontoqa_facts(item):
    body = _body(item)
    rules = [(a, b, not neg) for a, neg, b in re.findall(r"^Every (\w+) is (not )?(?:an? )?(\w+)\.$", body, re.M)]
    _, kind = re.search(r"^(\w+) is an? (\w+)\.$", body, re.M).groups()
    prop_neg, prop = re.search(r"Unknown: \w+ is (not )?(\w+)\.", body).groups()
    return rules, kind, prop, not prop_neg


def _prontoqa_answer(item):
    """Graph reachability: the kinds the individual belongs to are those reachable from its kind
    along positive 'Every a is a b' rules; a property follows iff one of them has a rule on it.
    (Rules only ever have a positive kind on the left, so no contrapositive can decide a property.)"""
    rules, kind, prop, positive = _prontoqa_facts(item)
    kinds, stack = set(), [kind]
    while stack:
        k = stack.pop()
        if k not in kinds:
            kinds.add(k)
            stack.extend(b for a, b, pos in rules if a == k and pos)
    said = {pos for a, b, pos in rules if a in kinds and b == prop}
    assert len(said) <= 1, "the facts contradict each other"
    return "Unknown" if not said else ("True" if said.pop() == positive else "False")


def _prontoqa_answer_truth_table(item):
    """Every truth assignment of every atom (small ontologies only)."""
    rules, kind, prop, positive = _prontoqa_facts(item)
    atoms = sorted({x for a, b, _ in rules for x in (a, b)} | {kind, prop})
    holds = set()
    for values in itertools.product((False, True), repeat=len(atoms)):
        v = dict(zip(atoms, values))
        if v[kind] and all(not v[a] or v[b] == pos for a, b, pos in rules):
            holds.add(v[prop] == positive)
    return {frozenset([True]): "True", frozenset([False]): "False"}.get(frozenset(holds), "Unknown")


def _syllogism_answer(item):
    body = _body(item)
    lines = re.findall(r"^(?:Premise \d|Conclusion): (.*)\.$", body, re.M)
    parsed = []
    for line in lines:
        for mood, pattern in (("O", r"Some (\w+) are not (\w+)"), ("A", r"All (\w+) are (\w+)"),
                              ("E", r"No (\w+) are (\w+)"), ("I", r"Some (\w+) are (\w+)")):
            m = re.fullmatch(pattern, line)
            if m:
                parsed.append((mood, *m.groups()))
                break
    terms = sorted({t for _, a, b in parsed for t in (a, b)})

    def true(mood, a, b, regions):
        ab = any(a in r and b in r for r in regions)
        a_not_b = any(a in r and b not in r for r in regions)
        return {"A": not a_not_b, "E": not ab, "I": ab, "O": a_not_b}[mood]

    all_regions = [frozenset(t for t, bit in zip(terms, bits) if bit) for bits in itertools.product((0, 1), repeat=3)]
    for inhabited in itertools.product((False, True), repeat=8):
        regions = [r for r, on in zip(all_regions, inhabited) if on]
        if all(true(*p, regions) for p in parsed[:2]) and not true(*parsed[2], regions):
            return "invalid"
    return "valid"


def _knights_answer(item):
    body = _body(item)
    people = re.search(r"You meet \d+ islanders: (.*)\.\n", body).group(1).split(", ")
    said = re.findall(r'^(\w+) says: "(.*)"$', body, re.M)

    def truth(speaker, text, role):
        ref = lambda w: speaker if w in ("I", "me") else w  # noqa: E731
        knight = lambda word: word.startswith("knight")  # noqa: E731
        if m := re.fullmatch(r"(\w+) (?:am|is) (not )?a (knight|knave)\.", text):
            return (role[ref(m[1])] == knight(m[3])) != bool(m[2])
        if m := re.fullmatch(r"(\w+) and (\w+) are both (knights|knaves)\.", text):
            return role[ref(m[1])] == knight(m[3]) and role[ref(m[2])] == knight(m[3])
        if m := re.fullmatch(r"Neither (\w+) nor (\w+) (?:am|is) a (knight|knave)\.", text):
            return role[ref(m[1])] != knight(m[3]) and role[ref(m[2])] != knight(m[3])
        if m := re.fullmatch(r"At least one of (\w+) and (\w+) is a (knight|knave)\.", text):
            return role[ref(m[1])] == knight(m[3]) or role[ref(m[2])] == knight(m[3])
        if m := re.fullmatch(r"(\w+) and (\w+) are not both (knights|knaves)\.", text):
            return not (role[ref(m[1])] == knight(m[3]) and role[ref(m[2])] == knight(m[3]))
        if m := re.fullmatch(r"(\w+) and (\w+) are (not )?of (the same kind|different kinds)\.", text):
            same = role[ref(m[1])] == role[ref(m[2])]
            return (same == (m[4] == "the same kind")) != bool(m[3])
        if m := re.fullmatch(r"Exactly (\d+) of us (?:is a|are) (knight|knave)s?\.", text):
            return sum(role[p] == knight(m[2]) for p in people) == int(m[1])
        raise AssertionError(f"unparsed statement: {text}")

    fits = []
    for values in itertools.product((True, False), repeat=len(people)):
        role = dict(zip(people, values))
        if all(truth(s, text, role) == role[s] for s, text in said):
            fits.append(role)
    who = re.search(r"Is (\w+) a knight or a knave\?", body).group(1)
    return None if len(fits) != 1 else ("knight" if fits[0][who] else "knave")


def _zebra_answer(item):
    """Parse the clues back into constraints, then solve them (brute force on small grids)."""
    body = _body(item)
    houses = int(re.match(r"(\d+) houses", body).group(1))
    listing = re.search(r"these \((.*)\); no two", body).group(1)
    attrs = [(label.strip(), values.split(", ")) for label, values in (part.split(": ") for part in listing.split("; "))]
    phrases = {}  # noun phrase or predicate -> (attribute, value)
    np_forms = {"names": "{v}", "house colors": "the person in the {v} house", "pets": "the owner of the {v}",
                "drinks": "the {v} drinker", "hobbys": "the person who enjoys {v}", "sports": "the person who plays {v}"}
    pred_forms = {"names": "is {v}", "house colors": "lives in the {v} house", "pets": "owns the {v}", "drinks": "drinks {v}",
                  "hobbys": "enjoys {v}", "sports": "plays {v}"}
    neg_forms = {"house colors": "does not live in the {v} house", "pets": "does not own the {v}", "drinks": "does not drink {v}",
                 "hobbys": "does not enjoy {v}", "sports": "does not play {v}"}
    nps, preds = {}, {}
    for a, (label, values) in enumerate(attrs):
        for v, value in enumerate(values):
            nps[np_forms[label].format(v=value).lower()] = (a, v)
            preds[pred_forms[label].format(v=value)] = ("same", (a, v))
            if label in neg_forms:
                preds[neg_forms[label].format(v=value)] = ("not_same", (a, v))
    np_re = "|".join(sorted(map(re.escape, nps), key=len, reverse=True))
    clues = []
    for text in re.findall(r"^\d+\. (.*)\.$", body, re.M):
        low = text.lower()
        if m := re.fullmatch(rf"({np_re}) (does not live|lives) in house (\d)", low):
            clues.append(("not_pos" if m[2].startswith("does") else "pos", nps[m[1]], int(m[3]) - 1))
        elif m := re.fullmatch(rf"({np_re}) lives (directly left of|next to) ({np_re})", low):
            clues.append(("left" if m[2].startswith("directly") else "next", nps[m[1]], nps[m[3]]))
        elif m := re.fullmatch(rf"({np_re}) is not ({np_re})", low):
            clues.append(("not_same", nps[m[2]], nps[m[1]]))
        else:
            m = re.fullmatch(rf"({np_re}) (.*)", low)
            pred = next(p for p in preds if p.lower() == m[2])
            kind, target = preds[pred]
            clues.append((kind, nps[m[1]], target))
    house, label = int(re.search(r"in house (\d)\?", body).group(1)) - 1, re.search(r"What is the (.*?) of", body).group(1)
    a = next(i for i, (l, _) in enumerate(attrs) if l == label + "s")
    if houses <= 3 and len(attrs) <= 4:  # brute force over every grid
        perms = list(itertools.permutations(range(houses)))
        solutions = []
        for grid in itertools.product(perms, repeat=len(attrs)):
            pos = lambda x: grid[x[0]][x[1]]  # noqa: E731
            if all(_holds(c, pos) for c in clues):
                solutions.append(grid)
    else:
        solutions = _sat_solutions(houses, len(attrs), clues)
    if len(solutions) != 1:
        return None
    return attrs[a][1][solutions[0][a].index(house)]


def _holds(clue, pos) -> bool:
    kind, x, y = clue
    if kind in ("pos", "not_pos"):
        return (pos(x) == y) == (kind == "pos")
    a, b = pos(x), pos(y)
    return {"same": a == b, "not_same": a != b, "left": a + 1 == b, "next": abs(a - b) == 1}[kind]


def _sat_solutions(houses: int, n_attrs: int, clues, limit: int = 2):
    """The zebra clues as CNF for a SAT solver (pycosat), independent of the suite's own solver:
    variable (a, v, h) says value v of attribute a lives in house h."""
    pycosat = pytest.importorskip("pycosat")
    var = lambda a, v, h: 1 + (a * houses + v) * houses + h  # noqa: E731
    cnf = []
    for a in range(n_attrs):
        for i in range(houses):  # each value in exactly one house, each house exactly one value
            for cells in ([var(a, i, h) for h in range(houses)], [var(a, v, i) for v in range(houses)]):
                cnf.append(cells)
                cnf += [[-p, -q] for p, q in itertools.combinations(cells, 2)]
    for kind, x, y in clues:
        if kind in ("pos", "not_pos"):
            cnf.append([var(*x, y) if kind == "pos" else -var(*x, y)])
            continue
        for h in range(houses):
            if kind == "same":
                cnf += [[-var(*x, h), var(*y, h)], [-var(*y, h), var(*x, h)]]
            elif kind == "not_same":
                cnf.append([-var(*x, h), -var(*y, h)])
            elif kind == "left":
                cnf.append([-var(*x, h)] + ([var(*y, h + 1)] if h + 1 < houses else []))
            else:
                cnf.append([-var(*x, h)] + [var(*y, g) for g in (h - 1, h + 1) if 0 <= g < houses])
    out = []
    for model in itertools.islice(pycosat.itersolve(cnf), limit):
        true = {m for m in model if m > 0}
        out.append(tuple(tuple(next(h for h in range(houses) if var(a, v, h) in true) for v in range(houses))
                         for a in range(n_attrs)))
    return out


SOLVERS = {"ordering": _ordering_answer, "prontoqa": _prontoqa_answer, "syllogism": _syllogism_answer,
           "knights": _knights_answer, "zebra": _zebra_answer}


def test_answers_rederived_from_the_rendered_text():
    """Every test item (canonical, perturbed, every ladder rung) of a smaller suite, re-solved from
    its text: graph reachability (ordering, ProntoQA), Venn models (syllogisms), all 2^n role
    assignments (knights), a SAT solver (zebra), and brute force wherever it is small enough."""
    small = get_suite("logic", seed=11, size=25)
    checked = Counter()
    for item in small.items("test"):
        family = item.metadata["family"]
        assert SOLVERS[family](item) == item.answer, (item.id, item.variant.label)
        checked[family, item.variant.kind] += 1
        if family == "ordering" and item.metadata["links"] <= 6:
            assert _ordering_answer_brute(item) == item.answer, item.id
            checked["brute-force ordering"] += 1
        if family == "prontoqa" and item.metadata["hops"] <= 5:
            assert _prontoqa_answer_truth_table(item) == item.answer, item.id
            checked["truth-table prontoqa"] += 1
    assert len(checked) >= 25
    assert min(checked["brute-force ordering"], checked["truth-table prontoqa"]) >= 10
    for family, kind in LADDER_OF.items():
        assert checked[family, kind] == len(LADDERS[kind]) * 5, (family, kind)  # 5 puzzles per family at size 25


def test_zebra_solver_agrees_with_brute_force():
    import random

    for seed in range(15):
        rng = random.Random(seed)
        spec = _logic_zebra.canonical(rng, None, 0, size=(3, 3))
        clues = list(spec.clues)[:-1]  # drop a clue: the solver must report every solution
        perms = list(itertools.permutations(range(3)))
        brute = sorted(g for g in itertools.product(perms, repeat=3)
                       if all(_holds(c, lambda x, g=g: g[x[0]][x[1]]) for c in clues))
        assert sorted(_logic_zebra.count_solutions(3, 3, clues, limit=1000)) == brute


def test_zebra_solver_agrees_with_sat_on_big_grids():
    """On the grid ladder's sizes, with clues dropped, the suite's solver finds exactly the
    solutions a SAT solver finds."""
    import random

    for seed, (houses, n_attrs) in enumerate([*_logic_zebra.GRID_LADDER.values()] * 2):
        rng = random.Random(seed)
        spec = _logic_zebra.canonical(rng, None, 0, size=(houses, n_attrs))
        assert len(_sat_solutions(houses, n_attrs, spec.clues)) == 1
        for drop in (-1, -2):  # a needed clue removed: several solutions, every one of them found
            clues = [c for i, c in enumerate(spec.clues) if i != len(spec.clues) + drop]
            ours = sorted(_logic_zebra.count_solutions(houses, n_attrs, clues, limit=5000))
            assert 2 <= len(ours) < 5000 and ours == sorted(_sat_solutions(houses, n_attrs, clues, limit=5000))
