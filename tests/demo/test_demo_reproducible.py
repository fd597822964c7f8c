"""``edigate demo`` reproduces: one seed, two runs, each on a fresh data directory, print the
same report byte for byte.

The two runs are played at the same time (each its own process, database and ports), so they
also contend for the machine: any figure that depends on how fast something ran (a plan cut by
a wall-clock time limit, an acknowledgment that did or did not arrive before the report, a
scheduled job firing mid-step) shows up as a difference.

Normalised before comparing, and only this: the data directory named in the first line (a
fresh temporary directory per run, random by nature). Business numbers, counts, agreements,
gate reasons and the stage history must match exactly; dates in the story are told relative
to the day the run started, so runs on different days compare too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAYS = "3"
SEED = "42"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def normalise(report: str) -> str:
    return re.sub(r"data in \S+", "data in <temporary directory>", report, count=1)


def test_two_runs_of_one_seed_print_the_same_report(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    env.pop("EDIGATE_CONFIG", None)
    command = [sys.executable, "-m", "gateway", "demo", "--days", DAYS, "--seed", SEED,
               "--no-compare-naive"]
    runs = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = []
    for run in runs:
        out, err = run.communicate(timeout=1700)
        assert run.returncode == 0, err[-3000:]
        outputs.append(out)
    first, second = (normalise(o) for o in outputs)
    assert first.startswith(f"edigate demo: {DAYS} days, seed {SEED}, data in <temporary")
    # The report is worth comparing: the tables and each dual supplier's story are there.
    assert "Dual suppliers: reconciliation and cut-over" in first
    assert re.search(r"^\S+: agreement \d+\.\d% over comparable fields", first, re.M), first
    assert "-> dual by the demo operator" in first or "-> api by" in first, first
    if first != second:  # show where, not two walls of text
        diff = [f"run 1: {a}\nrun 2: {b}" for a, b in zip(first.splitlines(),
                                                          second.splitlines(), strict=False)
                if a != b]
        pytest.fail("the two runs differ:\n" + "\n".join(diff[:20]))
