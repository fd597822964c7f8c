"""``make fuzz``: run every fuzzing target for a share of FUZZ_SECONDS and print executions and
distinct failures.

With atheris installed (the ``fuzz`` extra) each target is a coverage-guided libFuzzer run,
seeded from the repository's corpus (``tests/corpus``, else its sample interchanges) plus the
folders given with ``--extra`` (or FUZZ_EXTRA_CORPUS, separated by ``:``). Without atheris the
same properties run under a plain mutational loop over the same seeds. Every distinct failure
is saved under ``tests/fuzz/regressions/`` and replayed by the test suite from then on.

    python fuzz/run.py [--seconds N] [--targets translate,parse,render] [--extra DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from tests.fuzz import harness  # noqa: E402

TARGETS = ("translate", "parse", "render")


def _seed_dir(work: Path, extra: list[Path]) -> Path:
    seeds = work / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    for index, data in enumerate(harness.seeds(extra)):
        (seeds / f"seed-{index:04d}").write_bytes(data[:1_000_000])
    for path in harness.regression_files():
        if not path.name.startswith("render-"):
            (seeds / path.name).write_bytes(path.read_bytes())
    return seeds


def _atheris_target(target: str, seconds: int, work: Path, seeds: Path) -> tuple[int, dict]:
    corpus = work / f"corpus-{target}"
    corpus.mkdir(parents=True, exist_ok=True)
    stats = work / f"stats-{target}.json"
    artifacts = work / f"artifacts-{target}"
    artifacts.mkdir(exist_ok=True)
    command = [sys.executable, str(HERE / f"fuzz_{target}.py"), f"-max_total_time={seconds}",
               "-timeout=30", "-rss_limit_mb=3072", "-max_len=4096", "-print_final_stats=1",
               f"-artifact_prefix={artifacts}/", str(corpus)]
    if target != "render":
        command.append(str(seeds))
    env = {**os.environ, "FUZZ_STATS": str(stats), "PYTHONPATH": str(HERE)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False,
                          cwd=work)
    log = done.stdout + done.stderr
    (work / f"log-{target}.txt").write_text(log)
    recorded = json.loads(stats.read_text()) if stats.exists() else {"failures": {}}
    runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log) or \
        re.findall(r"Done (\d+) runs", log)
    executions = int(runs[-1]) if runs else int(recorded.get("executions", 0))
    failures = dict(recorded.get("failures", {}))
    if done.returncode not in (0,) and not runs:
        # libFuzzer itself stopped (a timeout, memory, a crash in C): that is a failure too.
        crash = next(iter(sorted(artifacts.iterdir())), None)
        key = f"libFuzzer exit {done.returncode}"
        if crash is not None:
            saved = harness.save_regression(crash.read_bytes(), key, target)
            key += f" -> {saved.name}"
        failures[key] = {"count": 1, "message": log.strip().splitlines()[-1:] or ""}
    return executions, failures


def _plain_target(target: str, seconds: int, extra: list[Path]) -> tuple[int, dict]:
    """The same properties under a seeded mutational loop (no coverage feedback)."""
    rng = random.Random(int(os.environ.get("FUZZ_SEED", "1")))
    pool = harness.seeds(extra)
    failures: dict[str, dict] = {}
    executions = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        data = harness.random_mutations(rng.choice(pool), rng, pool)
        executions += 1
        try:
            if target == "parse":
                harness.check_parse(data)
            elif target == "render":
                harness.check_render_bytes(data)
            else:
                harness.check_translation(data)
        except Exception as exc:  # (every failure is a finding: record it and go on)
            signature = harness.failure_signature(exc)
            if signature not in failures:
                saved = harness.save_regression(data, signature, target)
                failures[signature] = {"count": 0, "file": saved.name,
                                       "message": " ".join(str(exc).split())[:300]}
                print(f"[fuzz {target}] new failure: {signature} -> {saved.name}",
                      file=sys.stderr, flush=True)
            failures[signature]["count"] += 1
    return executions, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int,
                        default=int(os.environ.get("FUZZ_SECONDS", "1800")))
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--extra", action="append", type=Path, default=[
        Path(p) for p in os.environ.get("FUZZ_EXTRA_CORPUS", "").split(":") if p])
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where libFuzzer keeps its growing corpus (default: a temp dir)")
    args = parser.parse_args()
    targets = [t for t in args.targets.split(",") if t in TARGETS]
    try:
        import atheris
        engine = "atheris (libFuzzer, coverage-guided)"
    except ImportError:
        atheris = None
        engine = "mutational loop (atheris is not installed)"
    share = max(10, args.seconds // max(1, len(targets)))
    print(f"fuzzing {', '.join(targets)} for {share} s each with {engine}", flush=True)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="edigate-fuzz-"))
    work.mkdir(parents=True, exist_ok=True)
    seeds = _seed_dir(work, args.extra)
    total_runs, total_failures = 0, 0
    for target in targets:
        if atheris is not None:
            runs, failures = _atheris_target(target, share, work, seeds)
        else:
            runs, failures = _plain_target(target, share, args.extra)
        total_runs += runs
        total_failures += len(failures)
        print(f"{target:10s} executions: {runs:>10,}   distinct failures: {len(failures)}",
              flush=True)
        for signature, entry in failures.items():
            print(f"    {signature}: {entry.get('count')}x, kept as {entry.get('file')}: "
                  f"{entry.get('message')}", flush=True)
    print(f"total      executions: {total_runs:>10,}   distinct failures: {total_failures}")
    print(f"(work directory: {work})")
    return 1 if total_failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
