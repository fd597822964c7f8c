"""Translation speed and memory: parse + validate + map against parse-only, in the same run.

Uses the seeded 10 MB EDIFACT ORDERS and X12 850 files of ``bench/parse.py`` (``--quick``:
1 MB) and measures, interleaved over >= 5 rounds (see bench/_timing.py: medians with their
spread, CPU time beside wall time, each ratio against parse-only of the same round): parse
only (our lazy tree, the baseline), parse + read every element (what any consumer pays),
validate (parse + grammar validation), translate (parse + validate + map to events + the
events' schema check: the façade), and translate one message at a time (``iter_translate``).
The goal is translate at >= 0.5x parse-only. A figure that cannot be true (anything here
faster than the parse it includes, translate faster than validate) fails the run.

The figures are throughput in a warm process: before them, a small file of the same kind made
with another seed is translated once, which loads what a process loads once (the schema
registry, grammars, maps, the compiled segment patterns). That one-time cost is shown on its
own line; the data measured afterwards was never seen by any cache.

Then the peak resident memory of ``edigate translate`` on a generated 100 MB interchange
(``--rss-mb``; 0 skips it), measured on the child process (ru_maxrss), goal < 300 MB.

    python -m bench.translate [--quick] [--rounds N] [--rss-mb 100]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

if not __package__:  # run as a script (python bench/translate.py): bench.parse must import
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._timing import Sanity, interleaved, speed_ratio
from bench.parse import MB, edifact_orders, ours_tree, ours_tree_read, x12_850
from translators import iter_translate, translate
from translators.grammar import load_grammar
from translators.syntax import parse
from translators.validation import validate_message

# The warm-up file: big enough that the grammar patterns get compiled (validation builds them
# after fast.WARM_UP_MESSAGES messages), made with a seed the measured files do not use.
WARM_UP_SIZE = 100_000
WARM_UP_SEED = 1
RSS_GOAL_MB = 300
GOAL = 0.5
ROOT = Path(__file__).resolve().parent.parent


def validate_only(data: bytes) -> int:
    result = parse(data)
    errors = 0
    for interchange in result.interchanges:
        for group in interchange.groups:
            for message in group.messages:
                grammar = load_grammar(interchange.standard, message.type, message.version)
                assert grammar is not None
                errors += len(validate_message(message, grammar, standard=interchange.standard,
                                               delimiters=interchange.delimiters))
    assert errors == 0
    return errors


def translate_all(data: bytes) -> int:
    result = translate(data)
    assert all(m.status == "accepted" and m.event is not None for m in result.messages), \
        result.error_report()["messages"][:1]
    return len(result.messages)


def translate_streamed(data: bytes) -> int:
    count = 0
    for message in iter_translate(data):
        assert message.status == "accepted" and message.event is not None, message.errors[:1]
        count += 1
    return count


# Run by a fresh interpreter of its own: ru_maxrss of a child forked straight from this big
# benchmark process would count the pages it shared with us before exec.
_MEASURE = """
import resource, subprocess, sys
with open(sys.argv[1], "wb") as sink:
    code = subprocess.run(sys.argv[2:], stdout=sink, stderr=subprocess.PIPE)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(code.returncode, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)
sys.stderr.write(code.stderr.decode(errors="replace")[-300:])
"""


def cli_peak_rss(kind: str, size: int, console: Console) -> tuple[float, float, int]:
    """(peak RSS in MB, CPU seconds, bytes of output) of ``edigate translate`` on a generated
    file of ``size`` bytes, in a child process of its own."""
    make = edifact_orders if kind.startswith("EDIFACT") else x12_850
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.edi"
        path.write_bytes(make(size))
        out = Path(folder) / "out.json"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
        measured = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(out), sys.executable, "-m", "gateway",
             "translate", str(path)], capture_output=True, text=True, env=env, check=True)
        code, peak_kb, cpu = measured.stdout.split()
        if code != "0":
            console.print(f"[red]edigate translate failed[/]: {measured.stderr.strip()}")
        return int(peak_kb) / 1024, float(cpu), out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 MB files, 10 MB for the RSS")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (>= 5)")
    parser.add_argument("--rss-mb", type=int, default=None,
                        help="size of the interchange for the CLI's peak RSS (default 100; "
                             "--quick 10; 0 skips it)")
    args = parser.parse_args()
    size = 1 * MB if args.quick else 10 * MB
    rss_mb = args.rss_mb if args.rss_mb is not None else (10 if args.quick else 100)
    rounds = max(args.rounds, 5)
    files = {"EDIFACT ORDERS": edifact_orders(size), "X12 850": x12_850(size)}
    steps: list[tuple[str, Callable[[bytes], int]]] = [
        ("parse only (baseline)", ours_tree), ("parse + read all elements", ours_tree_read),
        ("parse + validate", validate_only), ("translate (parse+validate+map)", translate_all),
        ("translate, one message at a time", translate_streamed),
    ]
    warm_ups = {"EDIFACT ORDERS": edifact_orders(WARM_UP_SIZE, seed=WARM_UP_SEED),
                "X12 850": x12_850(WARM_UP_SIZE, seed=WARM_UP_SEED)}
    # (a wide table also when piped into a file or a log)
    console = Console() if sys.stdout.isatty() else Console(width=170)
    sanity = Sanity()
    table = Table(title=f"translate vs parse-only, {size // MB} MB files: CPU s median "
                        f"(lowest..highest) of {rounds} interleaved rounds")
    for column in ("file", "step", "CPU s", "wall s", "MB/s (CPU)", "x parse-only (CPU)",
                   "x parse-only (wall)"):
        table.add_column(column, justify="left" if column in ("file", "step") else "right")
    verdicts: list[str] = []
    startup: dict[str, float] = {}
    rss: dict[str, tuple[float, float, int]] = {}
    with Progress(console=console, transient=True) as progress:
        for name, data in files.items():
            task = progress.add_task(f"{name}: warm-up", total=rounds * len(steps))
            start = time.process_time()
            translate_all(warm_ups[name])
            startup[name] = time.process_time() - start
            figures = interleaved([(step, lambda fn=fn, data=data: fn(data))
                                   for step, fn in steps],
                                  rounds, progress, task, what=f"{name}: ")
            progress.remove_task(task)
            base = figures[steps[0][0]]
            for step, _ in steps:
                figure = figures[step]
                table.add_row(name, step, figure.text(), figure.text("wall"),
                              f"{len(data) / MB / figure.median():.2f}",
                              speed_ratio(base, figure).text(),
                              speed_ratio(base, figure, "wall").text())
                if step != steps[0][0]:
                    sanity.not_faster(base, figure, "every step parses first")
            validate, whole = figures["parse + validate"], figures[steps[3][0]]
            sanity.not_faster(validate, whole, "translating validates first")
            for label in (steps[3][0], steps[4][0]):
                ratio = speed_ratio(base, figures[label])
                verdicts.append(f"{name}: {label} at {ratio.text()} of parse-only (CPU; goal "
                                f">= {GOAL}): {'meets' if ratio.median >= GOAL else 'misses'}")
        if rss_mb:
            for name in files:
                task = progress.add_task(f"{name}: edigate translate of {rss_mb} MB "
                                         "(peak RSS)", total=None)
                rss[name] = cli_peak_rss(name, rss_mb * MB, console)
                progress.remove_task(task)
    console.print(table)
    for line in verdicts:
        console.print(line)
    for name, seconds in startup.items():
        console.print(f"{name}: warm-up translate of {WARM_UP_SIZE // 1000} kB (one-time "
                      f"loading of schemas, grammars, maps, patterns included): {seconds:.3f} s "
                      "CPU")
    for name, (peak, cpu, written) in rss.items():
        console.print(f"{name}: edigate translate of a {rss_mb} MB interchange: peak RSS "
                      f"{peak:.0f} MB (goal < {RSS_GOAL_MB} MB: "
                      f"{'meets' if peak < RSS_GOAL_MB else 'misses'}), {cpu:.1f} s CPU, "
                      f"{written / MB:.0f} MB of JSON written")
    sanity.exit(console)


if __name__ == "__main__":
    main()
