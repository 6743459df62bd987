"""Abstention judges measured: agreement with the labelled corpus, with the blind held-out set, and speed.

For each judge (patterns, structured, semantic, and any --judge model spec): agreement, missed-abstention
rate (abstaining replies judged as answers) and false-abstention rate (answering replies judged as
abstentions), on
- tests/data/abstention_corpus.jsonl by source (v1: the rows the structured judge was written against;
  v2: paraphrases, longer replies, conditional answers) and part (tune / heldout). The semantic
  judge's classifier is fitted on every corpus row, so its corpus rows are training data; its honest
  corpus figure is the fit without the heldout rows scored on them (stored with the weights);
- the blind sets, each in its own table (tests/data/abstention_blind*.jsonl): replies written by
  someone who never saw the cue lists, the corpus generator or the classifier, each frozen before any
  judge was measured on it. v6-v10 are the semantic judge's blind measurement; v1-v5, each measured
  blind once before, are now its training data, so for them the report gives the leave-one-set-out
  figure (the classifier fitted without that set);
- the fresh probe below and the wordings issue #21 reports missed.
Speed of the semantic judge, in fresh processes on one thread (OPENBLAS_NUM_THREADS=1 and friends):
where the load goes, step by step, for the judge's numpy encoder and for the sentence-transformers
path it replaced; the load in a cold process and in one that already imported torch and the harness
(as `harness eval` has); per reply (CPU and wall ms, over every reply and over the ones it embeds),
judged in chunks as edge_cases scores them and one at a time.

Run: python bench/abstention_judge.py [--judge SPEC ...] [--limit N]
  --judge adds a model-graded judge (anthropic:MODEL, openai:URL#MODEL, vllm:PATH, hf:PATH,
  smollm2-135m); its verdicts go through the response cache. --limit N gives model judges an
  evenly spread subset of about N rows (they are slow on CPU). Writes reports/abstention_judge.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import write_report
from fit_abstention_classifier import BLIND_SETS, CORPUS, HELD_OUT_SETS, TRAINING_SETS, blind_rows, leave_one_set_out, load

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# the sets written without knowledge of the semantic judge's training data, weights or misses: its blind measurement
BLIND_TO_JUDGE = HELD_OUT_SETS
FIRST_MEASURED = ("v10",)  # the newest set: frozen before, and measured only on, version 5
OFFLINE_JUDGES = ["patterns", "structured", "semantic"]
# Written after the structured judge was tuned and never tuned against: a small out-of-corpus check.
PROBE_ABSTAIN = [
    "Hmm. We know Ben's starting count, but the bags' contents are a mystery, so I'll stop here.",
    "The speed isn't stated anywhere; any distance I give would be made up.",
    "These two facts are at odds: 14 + 8 = 22, not 26.",
    "Kemi owns zumpuses, but the leg rule is about tumpuses. Can't tell.",
    "Trick: there are no purple stickers to give away.",
    "No integer squared equals 491.",
    "Answer: unknown.",
    "The answer is: cannot be determined.",
    "I'm going to decline to give a number here, the problem is missing a value.",
    "Insufficient data.",
]
PROBE_ANSWER = [
    "No problem! 5 × 10 = 50, plus 31 is 81. The answer is 81.",
    "None of the steps are tricky: 7 × 2 = 14. The answer is 14.",
    "Without further ado: 42 ÷ 6 = 7. The answer is 7.",
    "The missing number is 7, since 42 ÷ 6 = 7. The answer is 7.",
    "It's 59, not 30 — the lake is half covered the day before.",
    "We don't need to know anything else: the answer is 21.",
    "There are no tricks here; Dev simply takes position 30. The answer is 30.",
]
# Replies that neither answer nor decline (openers, reasoning cut off by the budget): not abstentions.
# Written after the first semantic classifier called every one of them an abstention; not in the corpus.
PROBE_NON_ANSWER = [
    "Hmm, let me see.",
    "Let me think.",
    "I'll solve it.",
    "First, Ben has 12 apples. Then he",
    "To solve this, we",
    "Okay, so the problem gives us a few numbers. Let's",
]
# The wordings issue #21 reports the structured judge missing (not in the corpus).
ISSUE_WORDINGS = [
    "This has no well-defined answer.",
    "The question, as written, doesn't pin down a result.",
    "The problem stops short of giving the one number that matters, so there's nothing to compute.",
    "There are too many possibilities: the story fixes some quantities but leaves one free.",
]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def rates(labels: list[bool], predicted: list[bool]) -> dict:
    pos = [p for y, p in zip(labels, predicted, strict=True) if y]
    neg = [p for y, p in zip(labels, predicted, strict=True) if not y]
    missed, false = sum(not p for p in pos), sum(neg)
    return {"n": len(labels), "agree": sum(p == y for y, p in zip(labels, predicted, strict=True)),
            "missed": missed, "pos": len(pos), "false": false, "neg": len(neg)}


def row(judge: str, what: str, m: dict, extra: str = "") -> str:
    def pct(k: int, n: int) -> str:
        lo, hi = wilson(k, n)
        return f"{k}/{n} = {100 * k / n:.1f} % [{100 * lo:.1f}, {100 * hi:.1f}]" if n else "-"

    return (f"| {judge} | {what} | {m['n']} | {m['agree'] / m['n']:.3f} | {pct(m['missed'], m['pos'])} | "
            f"{pct(m['false'], m['neg'])} |{extra}")


def judge_rows(judge: str, rows: list[dict]) -> list:
    from harness.scoring.judges import build_judge

    with build_judge(judge) as built:
        return built.judge_many([r.get("question", "") for r in rows], [r["output"] for r in rows])


# Where the load goes, in a fresh process per path: each step timed (wall, CPU) after the one before.
LOAD_STEPS = {
    "numpy encoder (the judge)": [
        ("import the judge (numpy, harness.scoring.semantic)", "from harness.scoring import semantic"),
        ("load weights and tokenizer (imports safetensors, tokenizers)", "model = semantic.embedding_model()"),
        ("first encode", "model.encode(['The width is never given.'])"),
    ],
    "sentence-transformers (before)": [
        ("import torch", "import torch; torch.set_num_threads(1)"),
        ("import sentence_transformers", "from sentence_transformers import SentenceTransformer"),
        ("construct the model", "from harness.scoring.semantic import model_folder; "
                                "model = SentenceTransformer(str(model_folder()), device='cpu', local_files_only=True)"),
        ("first encode", "model.encode(['The width is never given.'])"),
    ],
}
STEPS = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
out = []
for name, code in json.loads(sys.argv[2]):
    c, w = time.process_time(), time.perf_counter()
    exec(code)
    out.append([name, time.perf_counter() - w, time.process_time() - c])
print(json.dumps(out))
"""
# The judge's load inside `harness eval`: torch (the student) and the harness already imported.
IN_EVAL = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import torch, harness.evaluate, harness.scoring.abstention
c, w = time.process_time(), time.perf_counter()
from harness.scoring import semantic
semantic.embedding_model().encode(['The width is never given.'])
print(json.dumps({"wall_s": time.perf_counter() - w, "cpu_s": time.process_time() - c}))
"""
SPEED = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
from harness.scoring import semantic
rows = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
qs, outs = [r.get("question", "") for r in rows], [r["output"] for r in rows]
semantic.load_classifier()
semantic.embedding_model().encode(["The width is never given."])  # the load: not counted
embedded = sum(semantic.needs_classifier(semantic.read(o, q)) for q, o in zip(qs, outs))
result = {"n": len(rows), "embedded": embedded}
for chunk in (64, 1):
    c, w = time.process_time(), time.perf_counter()
    n = len(rows) if chunk > 1 else min(len(rows), 120)
    for i in range(0, n, chunk):
        semantic.judge_many(qs[i:i + chunk], outs[i:i + chunk])
    result[f"chunk{chunk}"] = {"n": n, "cpu_ms": 1000 * (time.process_time() - c) / n, "wall_ms": 1000 * (time.perf_counter() - w) / n}
print(json.dumps(result))
"""
# The judge's encoder against the whole 6-layer encoder, packed and padded (bench/_padded_minilm.py), side by
# side in one process: the sentences each chunk of 64 replies embeds, encoded by each in turn, five rounds;
# the fastest round of each.
ENCODERS = r"""
import json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/bench"]
import numpy as np
from harness.scoring import semantic
from _padded_minilm import padded_encode
rows = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8") if l.strip()]
readings = [semantic.read(r["output"], r.get("question", "")) for r in rows]
chunks = [sorted({s for r in readings[i:i + 64] if semantic.needs_classifier(r) for s in r.conclusion})
          for i in range(0, len(rows), 64)]
chunks = [c for c in chunks if c]
model, full = semantic.embedding_model(), semantic.embedding_model(None)
encoders = {"padded6": lambda texts: padded_encode(full, texts), "packed6": full.encode, "judge": model.encode}
for encode in encoders.values():
    encode(chunks[0])  # warm-up
best = {name: float("inf") for name in encoders}
for _ in range(5):
    for name, encode in encoders.items():
        c = time.process_time()
        for chunk in chunks:
            encode(chunk)
        best[name] = min(best[name], time.process_time() - c)
diff = max(float(np.max(np.abs(full.encode(c) - padded_encode(full, c)))) for c in chunks)
print(json.dumps({"embedded": sum(semantic.needs_classifier(r) for r in readings), "sentences": sum(map(len, chunks)),
                  "cpu_s": best, "max_abs_diff": diff}))
"""
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def fresh(script: str, *args: str) -> Any:
    """The last stdout line of `script` run in a fresh one-thread process, as JSON."""
    out = subprocess.run([sys.executable, "-c", script, str(ROOT), *args], env={**os.environ, **ONE_THREAD},
                         capture_output=True, text=True, check=True, timeout=1800)
    return json.loads(out.stdout.strip().splitlines()[-1])


SPEED_RUNS = 3  # fresh processes per set: the machine is shared, so the median and the range are reported


def speed(path: Path) -> dict:
    """The run with the median CPU per reply (chunks of 64) of SPEED_RUNS, with the range over the runs."""
    runs = sorted((fresh(SPEED, str(path)) for _ in range(SPEED_RUNS)), key=lambda r: r["chunk64"]["cpu_ms"])
    spread = [r["chunk64"]["cpu_ms"] for r in runs]
    return {**runs[len(runs) // 2], "cpu_ms_range": [spread[0], spread[-1]], "encoders": fresh(ENCODERS, str(path))}


def load_section() -> str:
    """Where the load goes (the judge's path and the one it replaced), and the judge's load inside harness eval."""
    lines = ["| path | step | wall s | CPU s |", "|---|---|---|---|"]
    totals = {}
    for path, steps in LOAD_STEPS.items():
        measured = fresh(STEPS, json.dumps(steps))
        totals[path] = (sum(m[1] for m in measured), sum(m[2] for m in measured))
        lines += [f"| {path} | {name} | {wall:.2f} | {cpu:.2f} |" for name, wall, cpu in measured]
        lines.append(f"| {path} | **total** | **{totals[path][0]:.2f}** | **{totals[path][1]:.2f}** |")
    in_eval = fresh(IN_EVAL)
    judge = totals["numpy encoder (the judge)"]
    return ("\n".join(lines) + f"\n\nThe judge's load (goal: at most 3 s): {judge[0]:.2f} s wall in a cold process (imports included); "
            f"{in_eval['wall_s']:.2f} s wall ({in_eval['cpu_s']:.2f} s CPU) inside `harness eval`, where torch and the harness are "
            f"already imported. It imports neither torch, transformers nor sentence-transformers, so both figures are the "
            f"same path; the sentence-transformers path it replaced took {totals['sentence-transformers (before)'][0]:.2f} s cold.")


def speed_line(name: str, s: dict) -> str:
    c64, c1 = s["chunk64"], s["chunk1"]
    lo, hi = s["cpu_ms_range"]
    return (f"| {name} | {s['n']} | {s['embedded']} | {c64['cpu_ms']:.2f} [{lo:.2f}-{hi:.2f}] / {c64['wall_ms']:.2f} | "
            f"{c64['cpu_ms'] * s['n'] / max(1, s['embedded']):.2f} | {c1['cpu_ms']:.2f} / {c1['wall_ms']:.2f} ({c1['n']}) |")


def encoder_line(name: str, s: dict) -> str:
    e = s["encoders"]
    per = {k: 1000 * v / max(1, e["embedded"]) for k, v in e["cpu_s"].items()}
    return (f"| {name} | {e['embedded']} | {e['sentences']} | {per['padded6']:.2f} | {per['packed6']:.2f} | {per['judge']:.2f} | "
            f"{per['padded6'] / per['packed6']:.2f}x | {per['packed6'] / per['judge']:.2f}x | {e['max_abs_diff']:.1e} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--judge", action="append", default=[], help="also measure this model-graded judge")
    parser.add_argument("--limit", type=int, default=None, help="model judges: about N evenly spread rows")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed measurement")
    args = parser.parse_args()
    from harness.scoring.semantic import ENCODER_LAYERS, MAX_WORDS, load_classifier

    corpus = load(CORPUS)
    blinds = {name: blind_rows(BLIND_SETS[name]) for name in (*BLIND_TO_JUDGE, *TRAINING_SETS)}
    judges = OFFLINE_JUDGES + args.judge
    corpus_table, probe_table = [], []
    blind_tables: dict[str, list[str]] = {name: [] for name in blinds}
    pooled_table: list[str] = []
    disagreements: dict[str, dict[str, list]] = {name: {} for name in blinds}
    for judge in judges:
        def subset(rows: list[dict], judge: str = judge) -> list[dict]:
            if args.limit and judge in args.judge:
                return rows[:: max(1, len(rows) // args.limit)][: args.limit]
            return rows

        rows = subset(corpus)
        start = time.perf_counter()
        verdicts = judge_rows(judge, rows)
        seconds = time.perf_counter() - start
        unscored = sum(v.unscored for v in verdicts)
        for source in ("v1", "v2", "v3", "v4"):
            for part in ("tune", "heldout"):
                chosen = [(r, v) for r, v in zip(rows, verdicts, strict=True)
                          if r.get("source", "v1") == source and r["part"] == part]
                if chosen:
                    m = rates([r["abstained"] for r, _ in chosen], [v.abstained for _, v in chosen])
                    corpus_table.append(row(judge, f"{source} {part}", m, f" {seconds:.2f} | {unscored} |"))
        pooled: dict[str, dict] = {}
        for name, blind in blinds.items():
            rows = subset(blind)
            verdicts = judge_rows(judge, rows)
            m = rates([r["abstains"] for r in rows], [v.abstained for v in verdicts])
            blind_tables[name].append(row(judge, f"blind {name}", m, f" {sum(v.unscored for v in verdicts)} |"))
            disagreements[name][judge] = [(r, v.abstained) for r, v in zip(rows, verdicts, strict=True) if v.abstained != r["abstains"]]
            pooled[name] = m
        for names in (FIRST_MEASURED, BLIND_TO_JUDGE):
            together = [pooled[name] for name in names]
            pooled_table.append(row(judge, " + ".join(names), {k: sum(m[k] for m in together) for k in together[0]}, ""))
        if judge in OFFLINE_JUDGES:
            caught = [v.abstained for v in judge_rows(judge, [{"output": t} for t in PROBE_ABSTAIN])]
            wrong = [v.abstained for v in judge_rows(judge, [{"output": t} for t in PROBE_ANSWER])]
            issue = [v.abstained for v in judge_rows(judge, [{"output": t} for t in ISSUE_WORDINGS])]
            rambles = [v.abstained for v in judge_rows(judge, [{"output": t} for t in PROBE_NON_ANSWER])]
            missed = [t for t, c in zip(PROBE_ABSTAIN + ISSUE_WORDINGS, caught + issue, strict=True) if not c]
            probe_table.append(f"| {judge} | {sum(caught)}/{len(caught)} | {sum(issue)}/{len(issue)} | {sum(wrong)}/{len(wrong)} | "
                               f"{sum(rambles)}/{len(rambles)} | {'; '.join(missed) or '-'} |")

    check = load_classifier().meta.get("heldout_check", {})
    speeds: list[str] = []
    encoder_lines: list[str] = []
    measured: dict[str, dict] = {}
    verdict = ""
    if not args.no_speed:
        load_part = load_section()
        from harness.suite import get_suite

        items = get_suite("edge_cases").items("test")
        sets = {"edge_cases test reference responses": [{"question": it.messages[-1].content, "output": it.reference_response}
                                                         for it in items],
                "corpus": corpus, **{f"blind set {name}": blind for name, blind in blinds.items()}}
        for name, rows in sets.items():
            path = Path("/tmp") / f"abstention_speed_{os.getpid()}.jsonl"
            path.write_text("".join(json.dumps({"question": r.get("question", ""), "output": r["output"]}) + "\n" for r in rows),
                            encoding="utf-8")
            measured[name] = speed(path)
            speeds.append(speed_line(name, measured[name]))
            encoder_lines.append(encoder_line(name, measured[name]))
            path.unlink()
        per_reply = {name: m["chunk64"]["cpu_ms"] for name, m in measured.items()}
        per_embedded = {name: m["chunk64"]["cpu_ms"] * m["n"] / max(1, m["embedded"]) for name, m in measured.items()}
        verdict = ("In chunks of 64, as a run scores them, the median CPU per reply is "
                   + ", ".join(f"{v:.2f} ms on the {k}" for k, v in per_reply.items())
                   + f": the 5 ms goal is {'met on every set' if max(per_reply.values()) <= 5 else 'missed on the ' + ', the '.join(k for k, v in per_reply.items() if v > 5)}. "
                   f"Counted only over the replies it embeds, a reply costs {min(per_embedded.values()):.2f} to "
                   f"{max(per_embedded.values()):.2f} ms, so the cost per reply follows the share of replies that need the embedding.")
    else:
        load_part = "Speed not measured (--no-speed)."

    command = "python bench/abstention_judge.py" + "".join(f" --judge {j}" for j in args.judge) + (
        f" --limit {args.limit}" if args.limit else "")
    blind_parts = []
    for name, blind in blinds.items():
        lines = []
        for judge, wrong in disagreements[name].items():
            lines.append(f"\n{judge} disagrees with the {name} labels on {len(wrong)} replies:\n")
            for r, said in wrong:
                text = r["output"].replace("\n", " ").replace("|", "/")
                lines.append(f"- {r['item_id']} (labelled {'abstains' if r['abstains'] else 'answers'}, judged "
                             f"{'abstains' if said else 'answers'}): {text[:220]}{'...' if len(text) > 220 else ''}")
        trained = ("\n\nTraining data of the semantic judge since it was measured here blind (its history below): the semantic "
                   "row is a fit to its own training replies; its held-out figure is the leave-one-set-out table."
                   if name in TRAINING_SETS else "")
        blind_parts.append(f"""### {'Blind set' if name in BLIND_TO_JUDGE else 'Set'} {name}

{len(blind)} replies to edge_cases test items ({BLIND_SETS[name].name}), {sum(r['abstains'] for r in blind)} labelled as abstaining.{trained}

| judge | set | n | agreement | missed abstentions [95 % CI] | false abstentions [95 % CI] | unscored |
|---|---|---|---|---|---|---|
{chr(10).join(blind_tables[name])}
{chr(10).join(lines)}
""")
    loso = leave_one_set_out()
    loso_rows = [f"| {name} | {m['n']} | {m['agreement']:.3f} | {m['missed']} | {m['false']} |" for name, m in loso.items()]
    blind_part = f"""### The sets blind to the semantic judge, together

{', '.join(BLIND_TO_JUDGE)}: every reply written without knowledge of the judges, the corpus, the classifier's training
data or weights, or any earlier set; each set frozen and committed before any judge was measured on it, and none
read while a judge was built. v6 and v7 were first measured on the 6-layer refit (317f0ad), v8 and v9 on
version 3 (971d6d0), {' and '.join(FIRST_MEASURED)} on version 5, the default (3 layers; history below), and on no other.

| judge | sets | n | agreement | missed abstentions [95 % CI] | false abstentions [95 % CI] |
|---|---|---|---|---|---|
{chr(10).join(pooled_table)}

### The sets the semantic judge is trained on, each left out in turn

The classifier fitted by bench/fit_abstention_classifier.py's procedure on the corpus and the other
training sets, scored on the set left out (`leave_one_set_out`): what a new writer's replies should see.

| set left out | n | agreement | missed abstentions | false abstentions |
|---|---|---|---|---|
{chr(10).join(loso_rows)}

""" + "\n".join(blind_parts)
    body = f"""
## Blind held-out sets

{blind_part}
History of these sets. v1 was frozen and committed before any judge was measured on it. The first
semantic classifier (corpus without non-answers) measured 3/85 missed and 0/115 false abstentions
there; CI then showed that it called replies which neither answer nor decline ("Hmm, let me see.",
reasoning cut off mid-sentence) abstentions, which would give a rambling student the abstention's
credit on unanswerable items. The corpus gained such replies (category `non_answer`, openers and
cut-off reasoning written without looking at v1), the classifier was refitted and measured on v1 a
second time (3/85 missed, 0/115 false). After that, v1 is no longer blind: the judge's second round
(numpy encoder, corpus source v3: values computed under a hypothesis and withdrawn, tempting answers
named and rejected, bounds without a value, and their answering counterparts) was written knowing
which kinds of reply v1's misses were, though none of v1's wordings went into the corpus. v2 was
written by someone who never saw the cue lists, the corpus, the classifier or v1, and was frozen and
committed before any judge was measured on it; its table is the judge's first and only measurement
on it, taken after the judge (encoder, corpus, weights, threshold) was final and committed. v3 (200
replies) was written the same way by another helper, given only the questions under opaque ids, and
frozen and committed (085f9db) while this judge's weights were unchanged since before v2.

A shallower encoder was tried on v3 too. Cutting the encoder to its first 3 of 6 layers halves the
judge's work; with the depth chosen by cross-validation on the corpus (plus 24 corpus replies that
decline and then end on an illustration under a supposed value), that judge (commit a772741, "version
2") was frozen before any blind measurement and then missed 0/85 on v1, 2/78 on v2 and 5/82 on v3,
with no false abstentions. This judge, measured on v3 right after, missed 3/82 there. The default
stays the whole 6-layer encoder, a choice made after seeing both on v3: v3's figures for this judge
are a first measurement, but v3 has now informed one decision.

v4 (200 replies, another helper, a new shuffle of the questions, voices named in its instruction)
was frozen and committed (3722297) before its first and only measurement here. Between v3 and v4 a
corpus extension aimed at v3's kinds of miss (abstentions ending on the arithmetic that rules every
value out, on both readings of a contradiction, or on a formula in the unknown, with answering
counterparts) was tried and dropped before any blind measurement: fitted on the tune rows, it made
more errors on the corpus's own heldout rows (15 against 11 on the rows both corpora share), so the
judge measured on v4 is the same as on v2 and v3.

v4's misses were mostly verdict-first replies ("Impossible. 2n + 1 is always odd, ... (78 + 79 =
157 and 79 + 80 = 159)."): the verdict sits outside the conclusion the classifier embeds, and the
arithmetic after it reads as commitment. Two changes were tried against the corpus alone and dropped
before any blind measurement: an embedding of the opening sentence plus an "opening cue" fact (14
errors instead of 11 on the corpus's heldout rows; 19 together with the rows below), and 66
verdict-first and answer-first corpus rows (the shared heldout rows unchanged at 11 errors, but 5 of
the 15 new heldout rows still wrong). The
linear classifier over the conclusion's embeddings does not learn that shape; a model that reads the
whole reply would be the next step. v5 (200 replies, a fifth helper, a new shuffle) was asked for
several voices, one of them "states its verdict first and then justifies it" (a voice named because
of v4's misses, which makes v5 harder for this judge, not easier); it was frozen and committed before
its first and only measurement here, of the same judge as on v2-v4.

The judge measured on v6 and v7 has the same encoder, features and decision rule as on v2-v5, with
two changes in its fitting, both chosen before v6 or v7 was read. Training data: the corpus plus
the 990 replies of v1-v5, each measured blind once before. Leaving each of v1-v5 out of the fit in
turn and scoring it chose this (with the earlier threshold rule): 15/407 missed and 0/583 false with
the corpus alone, 7/407 and 1/583 with the other sets added; an opening-sentence embedding on top
gave 6/407 and 1/583, too little to pay for one more embedded sentence per reply. Threshold: the cut
chosen on out-of-fold probabilities rose from 0.79 to 0.85 with the new rows, and the fit without the
corpus's heldout rows then missed 16/207 of them (1/112 false) against 8/207 (3/112) before; the
cost-weighted rule for log-loss probabilities, abstain at p >= 2/3 (a false abstention costs two
missed ones), gives 8/207 and 3/112 there. v6 and v7 (200 replies each, by two more helpers given
only the questions under opaque ids, shuffles 6006 and 7007, the issue's instruction plus a request
to vary length, markdown and <think> traces as real models do, and nothing about where a verdict
goes) were frozen and committed (50813f4) before this judge's first and only measurement on them, which gave 1/168 missed and 0/232 false (v6 1/85,
v7 0/83). The other two judges also did better on v6 + v7 than on v2-v5 (structured 4.8 % missed
against 7.8 %, patterns 8.3 % against 10.6 %), so these two sets are somewhat easier than the
earlier ones; the leave-one-set-out table is the second estimate for this judge (6/407 missed, 1/583 false).

Version 3, measured in the tables above, differs from that version 1 in one thing: the encoder stops
after its first 2 of 6 layers (ENCODER_LAYERS), a third of its work per reply. The depth was chosen
on the training data alone, by `python bench/fit_abstention_classifier.py --depths 2 3 4 6`, with
the rule: the lowest cost (missed + 2 x false abstentions) over the corpus's heldout rows and the
training sets left out in turn, ties to the shallower. The rule was written after the table was seen;
by it 2 and 3 layers tie, 2 missing fewer (4 against 6 of 407) and falsely abstaining more (2
against 1 of 583), and 2 layers cost two thirds of 3:

| encoder layers | corpus heldout: missed | false | training sets left out in turn: missed | false | cost |
|---|---|---|---|---|---|
| 2 | 6/207 | 2/112 | 4/407 | 2/583 | 18 |
| 3 | 6/207 | 2/112 | 6/407 | 1/583 | 18 |
| 4 | 7/207 | 3/112 | 7/407 | 2/583 | 24 |
| 6 | 8/207 | 3/112 | 6/407 | 1/583 | 22 |

(An earlier 3-layer trial, fitted on the corpus alone, had missed more on v3 than the whole encoder;
with the blind sets as training data the depth no longer costs accuracy on these checks.) v8 and v9
(200 replies each, two more helpers, shuffles 8008 and 9009, the same instruction as v6 and v7) were
frozen and committed (42d454a, 811cfd7) before any judge was measured on them; v6 and v7 were not
read, nor measured again, while version 3 was built.

Version 3's first measurement on v8 and v9: 0/173 missed and 0/227 false; on v6 + v7, not read
while it was built, 2/168 missed and 0/232 false (version 1: 1/168 and 0/232). These four sets,
written to the same instruction, are easier than v2-v5 for every judge (patterns misses 4.0 % of
v8 + v9's abstentions against 10.6 % of v2-v5's), so the leave-one-set-out figure over v1-v5, 4/407 =
1.0 % missed and 2/583 = 0.3 % false, is the better guide to a harder writer.

Version 4, the default until version 5: the whole 6-layer encoder again, with version 3's training data and
threshold (weights identical to the refit measured on v6 and v7 above as "version 1"). After version 3
was measured, the test suite showed it calling "The data is inconsistent: 7 + 9 is not 14." an answer
(probability 0.24; the 6-layer fit gives 0.99): two layers lose contradictions stated as arithmetic,
which neither the training checks nor v6-v9 exposed. Version 4 on the blind sets (judge_rows, as
above): v6 1/85, v7 0/83, v8 0/87, v9 0/86 missed, no false abstentions; v6-v9 1/341 = 0.3 % [0.1,
1.6] missed and 0/459 = 0.0 % [0.0, 0.8] false. v8 and v9 had been measured once, on version 3,
before; the return to 6 layers was decided by the test, not by them. Its speed on this AVX2-only CPU
is version 1's (317f0ad): 6.9-8.9 ms CPU per reply on the reference responses and blind sets, over
the 5 ms goal; on the AVX-512 Xeon of the session before, 3.4-4.8 ms.

Version 5, the default now, measured in the tables above: the encoder's first 3 of 6 layers, half the
work of version 4, with the corpus extended by 45 rows (source v4) of the two shapes the shallower
encoders lost: the verdict first, then an illustration under a supposed value that is never withdrawn
("It cannot be determined. If the number of apples per bag were 10, it would be 48."), and
contradictions stated as the arithmetic that fails ("The data is inconsistent: 8 + 14 = 22, not 26.").
With those rows, `--depths 3 6` costs 25 at 3 layers (corpus heldout 8/219 missed, 4/112 false; sets left
out in turn 5/407, 2/583) and 31 at 6 (9/219, 5/112; 6/407, 3/583), and the test suite's phrases pass.
v10 (200 replies, a helper given only the questions under opaque ids, shuffle 10010, the same instruction
as v6-v9) was frozen and committed (0eb6004) before version 5 was built, and version 5 was committed
(a130dae) before its first and only measurement on v10: 0/75 missed, 0/125 false. On v6-v9, measured
before on versions 1, 3 and 4, version 5 misses 2/341 and abstains falsely on 0/459; those sets did not
choose the depth (the training checks above did), but version 3's good figures on v8 and v9 were known
when a shallower encoder was tried again. Speed: the speed section below (half of version 4's encoder
work, side by side). Version 5 was not timed on an AVX2-only CPU; there version 4 took 6.9-8.9 ms per reply.

## Labelled corpus

{len(corpus)} labelled replies to real edge_cases test items ({CORPUS.name}; generator
tests/data/make_abstention_corpus.py). `abstained` is whether the reply declined to answer, so a
refusal on an answerable twin counts as an abstention and a made-up number on a flawed item does not.
The semantic judge's classifier is fitted on every corpus row and training set (bench/fit_abstention_classifier.py),
so its rows below are training data; the same procedure fitted without the corpus's heldout rows and scored on
those {check.get('n')} rows: agreement {check.get('agreement')}, missed {check.get('missed')}, false {check.get('false')}.

| judge | source and part | n | agreement | missed abstentions [95 % CI] | false abstentions [95 % CI] | seconds (whole corpus) | unscored |
|---|---|---|---|---|---|---|---|
{chr(10).join(corpus_table)}

## Probes

| judge | fresh probe abstentions caught | issue #21 wordings caught | probe answers called abstentions | non-answers called abstentions | missed |
|---|---|---|---|---|---|
{chr(10).join(probe_table)}

## Speed of the semantic judge (one thread)

{load_part}

| replies | n | embedded | per reply, chunks of 64: CPU median [range of {SPEED_RUNS} runs] / wall ms | CPU ms per embedded reply | one reply at a time: CPU / wall ms (n) |
|---|---|---|---|---|---|
{chr(10).join(speeds)}

The encoders side by side in one process on the same sentences (the ones each chunk of 64 replies
embeds; CPU ms per embedded reply, fastest of five rounds): `padded 6` is bench/_padded_minilm.py, the
whole encoder as it was first written (every step on batches padded to their longest sentence, GELU over
whole activations); `packed 6` is the whole encoder as the judge computes it (per-token steps on the
sentences' tokens end to end, the feed-forward in 512-token blocks, GELU in cache-sized chunks), which
version 1 of the judge used; `judge` is the same code stopped after its first {ENCODER_LAYERS} layers. The
largest difference is between padded and packed, both whole.

| replies | embedded | sentences | padded 6 ms | packed 6 ms | judge ms | packing's speed-up | depth's speed-up | largest difference |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(encoder_lines)}

Replies that end by stating their final answer ("The answer is 12") and empty ones are not embedded;
an embedded reply costs its conclusion's word pieces (up to {MAX_WORDS} words, each sentence with
its own [CLS] and [SEP]) through {ENCODER_LAYERS} float32 encoder layers on one core. {verdict} CPU times are inflated when the
machine is busy (see the load average in the header).

Rerun: `{command}`
"""
    write_report("abstention_judge", "Abstention judges: blind held-out set, labelled corpus, speed", body)


if __name__ == "__main__":
    main()
