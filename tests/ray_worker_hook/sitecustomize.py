"""Test-only hook for tests/test_ray_executor.py, loaded by putting this directory on the PYTHONPATH of
`ray start` (Ray's worker processes inherit it). Active only in Ray worker processes, and only when
$HARNESS_RAY_HOOK_DIR is set.

Wraps HFBackend.generate_budgeted (what the evaluator calls per chunk) so that:
- every item a worker asks the model for is appended to $HARNESS_RAY_HOOK_DIR/asked-<pid>.log;
- the first worker to reach its second chunk (all earlier chunks committed to the cache) writes its
  pid to $HARNESS_RAY_HOOK_DIR/paused and sleeps there, so the test can kill it between two chunks.
"""

import os
import sys

if os.environ.get("HARNESS_RAY_HOOK_DIR") and any("default_worker" in arg for arg in sys.argv):
    import time

    from harness.backends import hf

    _generate = hf.HFBackend.generate_budgeted
    _calls = 0

    def hooked_generate(self, items, params, budgets, advance=None):
        global _calls
        _calls += 1
        folder = os.environ["HARNESS_RAY_HOOK_DIR"]
        if _calls == 2:
            try:
                fd = os.open(os.path.join(folder, "paused"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass  # another worker paused already (or this is the retry): go on
            else:
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                time.sleep(600)  # the test kills this process here
        with open(os.path.join(folder, f"asked-{os.getpid()}.log"), "a") as log:
            log.writelines(f"{item.id}\n" for item in items)
        return _generate(self, items, params, budgets, advance)

    hf.HFBackend.generate_budgeted = hooked_generate
