"""Test-only spy, loaded by putting this directory on PYTHONPATH of a `harness` subprocess.

Wraps HFBackend.generate_budgeted (what the evaluator calls) so that every item the backend is asked for is appended to
$HARNESS_SPY_LOG (one item id per line), and each call sleeps $HARNESS_SPY_DELAY seconds
(so a test can kill the run between two chunks).
"""

import os

if os.environ.get("HARNESS_SPY_LOG"):
    import time

    from harness.backends import hf

    _generate = hf.HFBackend.generate_budgeted

    def spied_generate(self, items, params, budgets, advance=None):
        with open(os.environ["HARNESS_SPY_LOG"], "a") as log:
            log.writelines(f"{item.id}\n" for item in items)
        time.sleep(float(os.environ.get("HARNESS_SPY_DELAY", "0")))
        return _generate(self, items, params, budgets, advance)

    hf.HFBackend.generate_budgeted = spied_generate
