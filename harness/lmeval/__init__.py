"""Interop with EleutherAI's lm-evaluation-harness (lm-eval).

Three directions, one module each:
    export.py    a harness suite → a ready lm-eval task folder (YAML + data + utils.py)
    run.py       standard lm-eval tasks run inside `harness eval` through lm-eval's own API
    importer.py  an existing lm-eval output folder → harness results
convert.py turns lm-eval's logged samples into harness SampleRecords for run.py and importer.py;
task_utils.py is copied verbatim into every exported task folder as its utils.py.
"""
