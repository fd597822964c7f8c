"""Shared by the coverage-guided harnesses: failures are recorded, not fatal.

A harness calls :func:`run_one` for each input. A property violation or an exception is
counted under its signature (type and place), and the first input of each signature is kept
for good in ``tests/fuzz/regressions/`` (replayed by the normal test suite). Fuzzing goes on
after a failure, so one run finds every distinct failure it can reach. Counts go to the JSON
file named by FUZZ_STATS (read by ``run.py``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fuzz import harness  # noqa: E402  (after the path is set)

_stats: dict[str, object] = {"executions": 0, "failures": {}}
_last_write = 0.0


def _write() -> None:
    global _last_write
    path = os.environ.get("FUZZ_STATS")
    if path:
        Path(path).write_text(json.dumps(_stats, indent=1))
    _last_write = time.monotonic()


def run_one(target: str, data: bytes, check: Callable[[], object],
            saved: Callable[[], bytes] | None = None) -> None:
    """Run ``check``; record a failure with the bytes to keep (``saved()`` or ``data``)."""
    _stats["executions"] = int(_stats["executions"]) + 1  # type: ignore[call-overload]
    try:
        check()
    except Exception as exc:  # (every failure is a finding: record it and go on)
        signature = harness.failure_signature(exc)
        failures: dict[str, dict[str, object]] = _stats["failures"]  # type: ignore[assignment]
        entry = failures.get(signature)
        if entry is None:
            path = harness.save_regression(saved() if saved else data, signature, target)
            failures[signature] = {"count": 1, "file": path.name,
                                   "message": " ".join(str(exc).split())[:300]}
            print(f"\n[fuzz {target}] new failure: {signature} -> {path.name}",
                  file=sys.stderr, flush=True)
            _write()
        else:
            entry["count"] = int(entry["count"]) + 1  # type: ignore[call-overload]
    if time.monotonic() - _last_write > 5:
        _write()
