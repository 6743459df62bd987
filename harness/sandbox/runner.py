"""The trusted program that runs inside the sandbox around the untrusted solution.

This file is executed as `python -I -S -c <this source>`; its payload (limits, the
solution's source, the entry point and the test inputs) arrives on stdin. It applies the
resource limits, loads the solution, calls the entry point on each input and writes one
line per call to a file descriptor (`result_fd`) that the parent opened before the
sandbox started.
Why the untrusted code cannot fake a pass: the expected outputs never enter the sandbox.
Its lines carry only what the function *returned* (encoded as plain data); the parent
compares them with the expected values itself. A program that exits early (`sys.exit`,
`os._exit`), patches this runner, redefines `assert`, prints "passed" or writes its own
lines to that descriptor can only produce missing, duplicated or wrong values, which the parent
counts as failures. The parent also rejects any stream that is not exactly one
well-formed line per test, in order.

`encode` is shared with the parent (it imports this module) so expected values are
encoded by the same code.
"""

import json
import math
import os
import sys

MAX_DEPTH = 64


def encode(value, depth=0):
    """Plain JSON data for a return value; tuples count as lists, dicts and sets are canonicalised."""
    if depth > MAX_DEPTH:
        return {"__unencodable__": "too deep"}
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is str:
        return value
    if kind is float:
        if math.isnan(value) or math.isinf(value):
            return {"__float__": repr(value)}
        return value
    if kind is list or kind is tuple:
        return [encode(v, depth + 1) for v in value]
    if kind is dict:
        pairs = [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]
        pairs.sort(key=lambda kv: json.dumps(kv[0], sort_keys=True))
        return {"__dict__": pairs}
    if kind is set or kind is frozenset:
        return {"__set__": sorted((encode(v, depth + 1) for v in value), key=lambda v: json.dumps(v, sort_keys=True))}
    return {"__unencodable__": kind.__name__}


def _apply_limits(limits):
    import resource

    for name, value in limits.items():
        # CPU: SIGXCPU at the soft limit, SIGKILL one second later if it is ignored.
        hard = value + 1 if name == "RLIMIT_CPU" else value
        resource.setrlimit(getattr(resource, name), (value, hard))


def _describe(exc):
    text = str(exc)
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _finish(out):
    for stream in (out, sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - the solution may have closed or replaced them
            pass
    os._exit(0)


def main():
    payload = json.loads(sys.stdin.read())
    sys.stdin.close()
    out = os.fdopen(payload["result_fd"], "w", buffering=1)
    _apply_limits(payload["rlimits"])

    def report(index, status, value):
        out.write(json.dumps([index, status, value]) + "\n")

    namespace = {"__name__": "__solution__", "__builtins__": __builtins__}
    try:
        exec(compile(payload["source"], "solution.py", "exec"), namespace)
        function = namespace[payload["entry_point"]]
    except BaseException as exc:  # noqa: BLE001 - anything the solution does at load time is its failure
        report(-1, "load_error", _describe(exc))
        _finish(out)
    for index, call in enumerate(payload["calls"]):
        try:
            args = json.loads(call)
            result = encode(function(*args))
        except RecursionError:
            report(index, "error", "RecursionError")
            continue
        except BaseException as exc:  # noqa: BLE001
            report(index, "error", _describe(exc))
            continue
        report(index, "ok", result)
    _finish(out)


if __name__ == "__main__":
    main()
