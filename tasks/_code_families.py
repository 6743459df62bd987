"""Function-synthesis task families for the code suite, written for this project.

Each family is a small specification with one constant (`$c`) that appears in its
docstring and in its reference body, so a "changed specification" variant can redraw the
constant and a memorised solution fails. `$a`/`$b` are the parameter names and `$f` the
function name, so the "renamed" variant can change them. `draw_input(rng, large, constant)` gives
random arguments; `edges` are fixed edge inputs (empty, negative, unicode, ...) that every
instance's hidden tests include.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Rng = random.Random


@dataclass(frozen=True)
class Family:
    key: str
    names: tuple[str, str]  # canonical and renamed function names
    params: tuple[tuple[str, ...], tuple[str, ...]]  # canonical and renamed parameter names
    doc: str
    reworded: str
    body: str
    draw_constant: Callable[[Rng], Any]
    draw_input: Callable[[Rng, bool, Any], tuple]  # (rng, large, constant) -> arguments
    edges: tuple[tuple, ...]


UNICODE_WORDS = ["héllo", "naïve", "日本語", "Ünïcödé", "emoji🙂ok", "ßtraße", "Ελλάδα"]
WORDS = ["apple", "river", "stone", "cloud", "tiger", "lamp", "orbit", "maple", "quiet", "zebra", "echo", "delta",
         "a", "of", "the", "in", "and", "on"]


def _ints(rng: Rng, large: bool, low: int = -50, high: int = 50) -> list[int]:
    n = rng.randint(150, 300) if large else rng.randint(1, 9)
    return [rng.randint(low, high) for _ in range(n)]


def _text(rng: Rng, large: bool) -> str:
    pool = WORDS + (UNICODE_WORDS if rng.random() < 0.3 else [])
    n = rng.randint(60, 120) if large else rng.randint(1, 6)
    words = [rng.choice(pool) for _ in range(n)]
    if rng.random() < 0.5:
        words = [w.capitalize() if rng.random() < 0.4 else w for w in words]
    return " ".join(words)


def _word(rng: Rng, large: bool) -> str:
    n = rng.randint(100, 400) if large else rng.randint(1, 10)
    return "".join(rng.choice("abcabcxyzAB !") for _ in range(n))


def _pairs_input(rng: Rng, large: bool, sep: str) -> tuple:
    n = rng.randint(30, 60) if large else rng.randint(1, 4)
    parts = []
    for _ in range(n):
        key = rng.choice(WORDS[:12] + ["clé", "名前"])
        value = rng.choice(["1", "x", " spaced ", "a=b", "", "ü"])
        parts.append(rng.choice([f"{key}={value}", f" {key} = {value}", key, ""]))
    return (sep.join(parts),)


def _intervals_input(rng: Rng, large: bool) -> tuple:
    out = []
    for _ in range(rng.randint(40, 80) if large else rng.randint(1, 5)):
        start = rng.randint(-30, 60)
        out.append([start, start + rng.randint(0, 6)])
    return (out,)


def _palindrome_input(rng: Rng, large: bool, ignored: str) -> tuple:
    """A letter palindrome (or near miss) with punctuation sprinkled in, some of it not ignored."""
    half = "".join(rng.choice("abé") for _ in range(rng.randint(20, 80) if large else rng.randint(1, 4)))
    letters = list(half + rng.choice(["", "x"]) + half[::-1].upper())
    if rng.random() < 0.3:
        letters.append("q")
    marks = ignored if rng.random() < 0.6 else " ,.!-'"
    for _ in range(rng.randint(1, 3)):
        letters.insert(rng.randint(0, len(letters)), rng.choice(marks))
    return ("".join(letters),)


FAMILIES: list[Family] = [
    Family(
        "count_chars", ("count_marked", "tally_symbols"), (("text",), ("s",)),
        "Return how many characters of $a belong to the string $c, ignoring case.",
        "Count the characters in $a that appear in $c; upper- and lower-case letters count the same.",
        "    wanted = set($c.lower())\n    return sum(1 for ch in $a.lower() if ch in wanted)\n",
        lambda r: "".join(sorted(r.sample("aeioubcdrst", r.randint(2, 5)))),
        lambda r, big, c: (_text(r, big),),
        (("",), ("AEIOU bcd",), ("日本語 é",)),
    ),
    Family(
        "caesar", ("shift_letters", "rotate_alphabet"), (("message",), ("msg",)),
        "Shift every ASCII letter of $a forward by $c places in the alphabet, wrapping from z to a and "
        "keeping its case. Every other character stays as it is.",
        "Apply a Caesar cipher with shift $c to $a: ASCII letters move $c places forward (z wraps to a, case kept); "
        "anything else is unchanged.",
        "    out = []\n    for ch in $a:\n        if 'a' <= ch <= 'z':\n            out.append(chr((ord(ch) - 97 + $c) % 26 + 97))\n"
        "        elif 'A' <= ch <= 'Z':\n            out.append(chr((ord(ch) - 65 + $c) % 26 + 65))\n"
        "        else:\n            out.append(ch)\n    return ''.join(out)\n",
        lambda r: r.randint(1, 25),
        lambda r, big, c: (_text(r, big),),
        (("",), ("xyz XYZ",), ("héllo, wörld!",)),
    ),
    Family(
        "every_kth", ("every_kth", "pick_periodic"), (("items",), ("seq",)),
        "Return every $c-th element of the list $a, starting with the element at index $c - 1.",
        "Take the elements of $a at positions $c-1, 2*$c-1, 3*$c-1, ... (0-based) and return them as a list.",
        "    return $a[$c - 1::$c]\n",
        lambda r: r.randint(2, 5),
        lambda r, big, c: (_ints(r, big),),
        (([],), ([7],), ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],)),
    ),
    Family(
        "rotate_left", ("rotate_left", "cycle_items"), (("values",), ("xs",)),
        "Return a new list: $a rotated left by $c positions (the first $c elements move to the end; "
        "the rotation wraps when the list is shorter than $c). An empty list stays empty.",
        "Rotate the list $a to the left by $c steps, wrapping around for short lists, and return the result "
        "as a new list. Empty input gives an empty list.",
        "    if not $a:\n        return []\n    k = $c % len($a)\n    return $a[k:] + $a[:k]\n",
        lambda r: r.randint(1, 6),
        lambda r, big, c: (_ints(r, big),),
        (([],), ([1],), ([1, 2],), ([-1, -2, -3],)),
    ),
    Family(
        "chunk", ("chunk_list", "split_into_groups"), (("items",), ("data",)),
        "Split the list $a into consecutive chunks of length $c and return the list of chunks; the last chunk "
        "may be shorter.",
        "Group $a into sub-lists of $c consecutive elements (the final group can have fewer) and return them in order.",
        "    return [$a[i:i + $c] for i in range(0, len($a), $c)]\n",
        lambda r: r.randint(2, 5),
        lambda r, big, c: (_ints(r, big),),
        (([],), ([5],), ([1, 2, 3, 4, 5, 6],)),
    ),
    Family(
        "prefix_mod", ("prefix_sums_mod", "running_totals_mod"), (("numbers",), ("nums",)),
        "Return the list of running sums of $a, each taken modulo $c (Python's % operator, so results are "
        "never negative).",
        "For each position i, compute (sum of $a[0..i]) % $c and return these values as a list.",
        "    out, total = [], 0\n    for x in $a:\n        total += x\n        out.append(total % $c)\n    return out\n",
        lambda r: r.randint(5, 17),
        lambda r, big, c: (_ints(r, big, -10**6, 10**6),),
        (([],), ([-3, -4],), ([10**18, 10**18],)),
    ),
    Family(
        "clamp", ("clamp_all", "bound_values"), (("numbers", "high"), ("vals", "upper")),
        "Return a new list where every number of $a is clamped into the range [-$c, $b]: values below -$c "
        "become -$c and values above $b become $b.",
        "Limit each element of $a to lie between -$c and $b inclusive (smaller ones are raised to -$c, larger "
        "ones lowered to $b) and return the new list.",
        "    return [min(max(x, -$c), $b) for x in $a]\n",
        lambda r: r.randint(3, 20),
        lambda r, big, c: (_ints(r, big, -100, 100), r.randint(0, 30)),
        (([], 5), ([-1000, 1000], 0), ([3], 3)),
    ),
    Family(
        "count_above", ("count_above", "num_exceeding"), (("values",), ("arr",)),
        "Return how many numbers in $a are strictly greater than $c.",
        "Count the elements of $a whose value exceeds $c (equal values do not count).",
        "    return sum(1 for x in $a if x > $c)\n",
        lambda r: r.randint(-5, 10),
        lambda r, big, c: (_ints(r, big, -20, 20),),
        (([],), ([-100, 100],), ([0, 0, 0],)),
    ),
    Family(
        "long_words", ("long_words", "words_longer_than"), (("sentence",), ("line",)),
        "Split $a on whitespace and return, in order, the words that have more than $c characters.",
        "Return the list of whitespace-separated words in $a whose length is greater than $c, keeping their order.",
        "    return [w for w in $a.split() if len(w) > $c]\n",
        lambda r: r.randint(2, 5),
        lambda r, big, c: (_text(r, big),),
        (("",), ("   ",), ("日本語 naïve ok",)),
    ),
    Family(
        "limit_repeats", ("limit_repeats", "cap_occurrences"), (("items",), ("elems",)),
        "Return a new list with the elements of $a in order, keeping only the first $c occurrences of each "
        "distinct value and dropping later ones.",
        "Walk through $a and keep an element only if that value has been kept fewer than $c times so far; "
        "return the kept elements in order.",
        "    seen = {}\n    out = []\n    for x in $a:\n        if seen.get(x, 0) < $c:\n            seen[x] = seen.get(x, 0) + 1\n"
        "            out.append(x)\n    return out\n",
        lambda r: r.randint(1, 3),
        lambda r, big, c: (_ints(r, big, -3, 3),),
        (([],), ([1, 1, 1, 1, 1],), (["a", "a", "b", "a"],)),
    ),
    Family(
        "group_by_value", ("group_keys", "invert_scores"), (("scores",), ("table",)),
        "$a maps names to integers. Return a dict that maps each integer value that is at least $c to the "
        "alphabetically sorted list of names having that value. Values below $c are left out.",
        "Invert the dict $a (name -> int): for every value >= $c, map it to the sorted names with that value; "
        "ignore smaller values.",
        "    out = {}\n    for name, value in $a.items():\n        if value >= $c:\n            out.setdefault(value, []).append(name)\n"
        "    return {v: sorted(names) for v, names in out.items()}\n",
        lambda r: r.randint(0, 5),
        lambda r, big, c: ({f"{r.choice(WORDS)}{i}": r.randint(-3, 9) for i in range(r.randint(40, 80) if big else r.randint(1, 6))},),
        (({},), ({"zoë": 100, "ann": 100, "bob": -5},)),
    ),
    Family(
        "top_chars", ("most_common_chars", "frequent_letters"), (("text",), ("s",)),
        "Return a list of the $c most frequent characters of $a (spaces excluded), ordered by decreasing "
        "count and, for equal counts, by the character itself. Return fewer if there are fewer distinct characters.",
        "Count each non-space character of $a and return the top $c, most frequent first, ties broken by "
        "alphabetical (code point) order.",
        "    counts = {}\n    for ch in $a:\n        if ch != ' ':\n            counts[ch] = counts.get(ch, 0) + 1\n"
        "    return sorted(counts, key=lambda ch: (-counts[ch], ch))[:$c]\n",
        lambda r: r.randint(1, 4),
        lambda r, big, c: (_word(r, big),),
        (("",), ("   ",), ("ééa",)),
    ),
    Family(
        "arith_terms", ("arithmetic_terms", "linear_sequence"), (("n", "start"), ("count", "first")),
        "Return the first $a terms of the arithmetic sequence that begins at $b and increases by $c each step. "
        "For $a <= 0 return an empty list.",
        "Build the list [$b, $b + $c, $b + 2*$c, ...] with $a elements (empty when $a is zero or negative).",
        "    return [$b + i * $c for i in range(max($a, 0))]\n",
        lambda r: r.choice([-7, -3, 2, 3, 4, 6, 9, 11]),
        lambda r, big, c: (r.randint(100, 200) if big else r.randint(1, 8), r.randint(-20, 20)),
        ((0, 5), (-3, 1), (1, -10**12)),
    ),
    Family(
        "geometric_sum", ("geometric_sum", "power_series_total"), (("first", "n"), ("a0", "terms")),
        "Return the sum of the first $b terms of the geometric sequence $a, $a*$c, $a*$c**2, ... as an integer "
        "(0 when $b <= 0).",
        "Add up $b terms of the sequence whose first term is $a and whose ratio is $c; give 0 for non-positive $b.",
        "    return sum($a * $c ** i for i in range(max($b, 0)))\n",
        lambda r: r.choice([-3, -2, 2, 3, 5]),
        lambda r, big, c: (r.randint(-9, 9), r.randint(50, 90) if big else r.randint(1, 7)),
        ((5, 0), (0, 10), (-1, 3), (7, -2)),
    ),
    Family(
        "fizzbuzz", ("fizz_words", "count_with_words"), (("n",), ("limit",)),
        "Return a list of strings for the numbers 1..$a: 'Fizz' for multiples of $c, 'Buzz' for multiples of 7, "
        "'FizzBuzz' for multiples of both, and the number itself (as a string) otherwise.",
        "For i from 1 to $a produce 'FizzBuzz' if i is divisible by $c and by 7, 'Fizz' if only by $c, 'Buzz' if "
        "only by 7, else str(i); return the list.",
        "    out = []\n    for i in range(1, $a + 1):\n        if i % $c == 0 and i % 7 == 0:\n            out.append('FizzBuzz')\n"
        "        elif i % $c == 0:\n            out.append('Fizz')\n        elif i % 7 == 0:\n            out.append('Buzz')\n"
        "        else:\n            out.append(str(i))\n    return out\n",
        lambda r: r.choice([2, 3, 4, 5, 6]),
        lambda r, big, c: (r.randint(100, 200) if big else r.randint(1, 15),),
        ((0,), (-5,), (1,), (42,)),
    ),
    Family(
        "parse_pairs", ("parse_settings", "read_pairs"), (("spec",), ("raw",)),
        "$a holds entries separated by $c, each of the form key=value. Return a dict of them with keys and "
        "values stripped of surrounding spaces; skip entries without '=' and empty entries; a later key overrides "
        "an earlier one. Only the first '=' separates key from value.",
        "Parse $a: split it on $c, ignore pieces that are blank or contain no '=', split each remaining piece at "
        "its first '=', strip both sides, and build a dict (later duplicates win).",
        "    out = {}\n    for part in $a.split($c):\n        if '=' not in part:\n            continue\n"
        "        key, value = part.split('=', 1)\n        out[key.strip()] = value.strip()\n    return out\n",
        lambda r: r.choice([";", ",", "|", "&"]),
        _pairs_input,
        (("",), ("novalue",), ("a=1=2",)),
    ),
    Family(
        "digit_sum_base", ("digit_sum_in_base", "base_digit_total"), (("n",), ("number",)),
        "Return the sum of the digits of abs($a) written in base $c.",
        "Write the absolute value of $a in base $c and add up its digits; return that sum.",
        "    n = abs($a)\n    total = 0\n    while n:\n        total += n % $c\n        n //= $c\n    return total\n",
        lambda r: r.randint(2, 9),
        lambda r, big, c: (r.randint(-10**30, 10**30) if big else r.randint(-500, 5000),),
        ((0,), (-1,), (10**18,)),
    ),
    Family(
        "count_multiples", ("count_multiples", "divisible_count"), (("numbers",), ("seq",)),
        "Return how many elements of $a are divisible by $c (zero counts as divisible).",
        "Count the numbers x in $a with x % $c == 0, including zero and negatives.",
        "    return sum(1 for x in $a if x % $c == 0)\n",
        lambda r: r.randint(2, 9),
        lambda r, big, c: (_ints(r, big, -100, 100),),
        (([],), ([0],), ([-9, -18, 7],)),
    ),
    Family(
        "runs", ("run_lengths", "encode_runs"), (("text",), ("s",)),
        "Run-length encode $a as a list of [character, count] pairs, where no run is longer than $c: a longer "
        "run of the same character is split into several pairs of at most $c each.",
        "Return [[ch, n], ...] describing consecutive runs of equal characters in $a, capping each pair's count "
        "at $c (long runs become several pairs).",
        "    out = []\n    for ch in $a:\n        if out and out[-1][0] == ch and out[-1][1] < $c:\n            out[-1][1] += 1\n"
        "        else:\n            out.append([ch, 1])\n    return out\n",
        lambda r: r.randint(2, 4),
        lambda r, big, c: ("".join(r.choice("aab🙂") * r.randint(1, 6) for _ in range(r.randint(30, 60) if big else r.randint(1, 5))),),
        (("",), ("a",), ("ééééééé",)),
    ),
    Family(
        "balanced", ("is_balanced", "brackets_ok"), (("expr",), ("code",)),
        "Return True if the brackets in $a are balanced and properly nested, considering only the bracket "
        "pairs in $c (consecutive characters form a pair, e.g. '()'); every other character is ignored.",
        "Check nesting of the bracket kinds listed in $c (opening then closing, two characters per kind) within "
        "$a, ignoring all other characters; return True when balanced, else False.",
        "    pairs = {$c[i + 1]: $c[i] for i in range(0, len($c), 2)}\n    openers = set(pairs.values())\n    stack = []\n"
        "    for ch in $a:\n        if ch in openers:\n            stack.append(ch)\n        elif ch in pairs:\n"
        "            if not stack or stack[-1] != pairs[ch]:\n                return False\n            stack.pop()\n"
        "    return not stack\n",
        lambda r: "".join(r.sample(["()", "[]", "{}", "<>"], r.randint(1, 3))),
        lambda r, big, c: ("".join(r.choice("()[]{}<>x") for _ in range(r.randint(50, 200) if big else r.randint(0, 8))),),
        (("",), ("é(",), ("([{<>}])",), (")(",)),
    ),
    Family(
        "fit_width", ("fit_width", "pad_or_cut"), (("text",), ("s",)),
        "Return $a made exactly $c characters long: cut it if it is longer, otherwise pad it on the right "
        "with '.' characters.",
        "Truncate $a to $c characters, or append dots ('.') until it has $c characters; return the result.",
        "    return $a[:$c] + '.' * ($c - len($a[:$c]))\n",
        lambda r: r.randint(3, 12),
        lambda r, big, c: (_text(r, big),),
        (("",), ("日本語",), ("exactlyfit",)),
    ),
    Family(
        "kth_largest", ("kth_largest_distinct", "rank_value"), (("values",), ("nums",)),
        "Return the $c-th largest distinct value in $a (1 means the maximum), or None when $a has fewer than "
        "$c distinct values.",
        "Among the distinct values of $a sorted from largest to smallest, return the one at position $c "
        "(counting from 1); return None if there are not that many.",
        "    distinct = sorted(set($a), reverse=True)\n    return distinct[$c - 1] if len(distinct) >= $c else None\n",
        lambda r: r.randint(1, 4),
        lambda r, big, c: (_ints(r, big, -30, 30),),
        (([],), ([5, 5, 5],), ([-1, -2, -3, -4, -5],)),
    ),
    Family(
        "moving_avg", ("moving_average", "window_means"), (("series",), ("data",)),
        "Return the list of averages (floats) of every window of $c consecutive numbers in $a, in order; an "
        "empty list when $a has fewer than $c numbers.",
        "Slide a window of size $c over $a and return the mean of each full window as a float.",
        "    return [sum($a[i:i + $c]) / $c for i in range(len($a) - $c + 1)]\n",
        lambda r: r.randint(2, 4),
        lambda r, big, c: (_ints(r, big, -1000, 1000),),
        (([],), ([1],), ([10**15, 10**15, -10**15, 3],)),
    ),
    Family(
        "merge_close", ("merge_intervals", "join_ranges"), (("intervals",), ("spans",)),
        "$a is a list of [start, end] pairs with start <= end. Merge every two intervals that overlap or are "
        "separated by a gap of at most $c (next start - current end <= $c) and return the merged intervals "
        "sorted by start.",
        "Sort the [start, end] pairs in $a and join neighbours whenever the next one starts no more than $c after "
        "the current merged end; return the list of merged [start, end] pairs.",
        "    merged = []\n    for start, end in sorted($a):\n        if merged and start - merged[-1][1] <= $c:\n"
        "            merged[-1][1] = max(merged[-1][1], end)\n        else:\n            merged.append([start, end])\n"
        "    return merged\n",
        lambda r: r.randint(0, 3),
        lambda r, big, c: _intervals_input(r, big),
        (([],), ([[5, 5]],), ([[-10, -5], [-4, 0]],)),
    ),
    Family(
        "small_words_title", ("headline_case", "title_except_small"), (("title",), ("phrase",)),
        "Return $a with each whitespace-separated word lower-cased and then capitalised (first letter upper), "
        "except words in $c, which stay lower-case unless they are the first word. Words are joined by single spaces.",
        "Title-case $a word by word (lower-case the word, upper-case its first letter), but keep the small words "
        "listed in $c lower-case when they are not the first word; join with one space.",
        "    small = set($c)\n    words = $a.split()\n    out = []\n    for i, w in enumerate(words):\n        lw = w.lower()\n"
        "        out.append(lw if i > 0 and lw in small else lw[:1].upper() + lw[1:])\n    return ' '.join(out)\n",
        lambda r: sorted(r.sample(["a", "of", "the", "in", "and", "on"], r.randint(2, 4))),
        lambda r, big, c: (_text(r, big),),
        (("",), ("THE end",), ("ärger in the city",)),
    ),
    Family(
        "diag_sum", ("offset_diagonal_sum", "band_total"), (("grid",), ("matrix",)),
        "$a is a list of rows (lists of integers, possibly ragged). Return the sum of $a[i][i + $c] over every "
        "row i where that column exists.",
        "Add up the entries $a[i][i + $c] for all rows i that are long enough to have that column; return the sum.",
        "    return sum(row[i + $c] for i, row in enumerate($a) if 0 <= i + $c < len(row))\n",
        lambda r: r.randint(0, 2),
        lambda r, big, c: ([[r.randint(-9, 99) for _ in range(r.randint(0, 30 if big else 5))] for _ in range(r.randint(20, 40) if big else r.randint(1, 5))],),
        (([],), ([[]],), ([[1, 2, 3], [4], [5, 6, 7, 8]],)),
    ),
    Family(
        "interleave", ("interleave_chunks", "weave_strings"), (("left", "right"), ("first", "second")),
        "Build a string by taking $c characters from $a, then $c from $b, and so on alternately; when one "
        "string runs out, append the rest of the other.",
        "Alternate blocks of $c characters from $a and $b (starting with $a) and return the combined string; "
        "leftovers of the longer string go at the end.",
        "    out = []\n    i = 0\n    while i < len($a) or i < len($b):\n        out.append($a[i:i + $c])\n"
        "        out.append($b[i:i + $c])\n        i += $c\n    return ''.join(out)\n",
        lambda r: r.randint(1, 3),
        lambda r, big, c: (_word(r, big), _word(r, big)),
        (("", ""), ("abc", ""), ("日本", "語🙂")),
    ),
    Family(
        "coprime_count", ("count_coprime", "coprime_up_to"), (("n",), ("limit",)),
        "Return how many integers k with 1 <= k <= $a satisfy gcd(k, $c) == 1 (0 when $a < 1).",
        "Count the numbers from 1 to $a that share no common factor greater than 1 with $c; 0 for $a below 1.",
        "    from math import gcd\n    return sum(1 for k in range(1, $a + 1) if gcd(k, $c) == 1)\n",
        lambda r: r.choice([6, 10, 12, 14, 15, 21, 30]),
        lambda r, big, c: (r.randint(5000, 20000) if big else r.randint(1, 60),),
        ((0,), (-7,), (1,)),
    ),
    Family(
        "palindrome_ignoring", ("is_loose_palindrome", "reads_same_both_ways"), (("text",), ("s",)),
        "Return True if $a reads the same forwards and backwards after lower-casing it and removing every "
        "character that appears in $c.",
        "Lower-case $a, delete all characters found in $c, and report whether what remains is a palindrome.",
        "    kept = [ch for ch in $a.lower() if ch not in $c]\n    return kept == kept[::-1]\n",
        lambda r: r.choice([" ", " ,", " .!", " -", ",.'"]),
        _palindrome_input,
        (("",), ("A",), ("été",), ("ab",)),
    ),
]


assert len({f.key for f in FAMILIES}) == len(FAMILIES) >= 25
