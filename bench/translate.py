"""Translation speed: parse + validate + map against parse-only, in the same run.

Uses the seeded 10 MB EDIFACT ORDERS and X12 850 files of ``bench/parse.py`` (``--quick``:
1 MB) and measures, per file: parse only (our lazy tree), parse + read every element (what any
consumer pays), validate (parse + grammar validation), and translate (parse + validate + map to
events, the façade). Each figure is MB/s and a ratio to parse-only; the goal is translate at
>= 0.5x parse-only.

The figures are throughput in a warm process: before them, a small file of the same kind made
with another seed is translated once, which loads what a process loads once (the schema
registry, grammars, maps, the compiled segment patterns). That one-time cost is shown on its
own line; the data measured afterwards was never seen by any cache.

    python -m bench.translate [--quick] [--repeat N]     (or: python bench/translate.py ...)
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

if not __package__:  # run as a script (python bench/translate.py): bench.parse must import
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.parse import MB, edifact_orders, ours_tree, ours_tree_read, x12_850
from translators import translate
from translators.grammar import load_grammar
from translators.syntax import parse
from translators.validation import validate_message

# The warm-up file: big enough that the grammar patterns get compiled (validation builds them
# after fast.WARM_UP_MESSAGES messages), made with a seed the measured files do not use.
WARM_UP_SIZE = 100_000
WARM_UP_SEED = 1


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


def best_of(fn: Callable[[bytes], int], data: bytes, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 MB files, one run each")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per figure (the best is kept: other work may share the CPU)")
    args = parser.parse_args()
    size = 1 * MB if args.quick else 10 * MB
    repeat = 1 if args.quick else args.repeat
    files = {"EDIFACT ORDERS": edifact_orders(size), "X12 850": x12_850(size)}
    steps: list[tuple[str, Callable[[bytes], int]]] = [
        ("parse only (baseline)", ours_tree), ("parse + read all elements", ours_tree_read),
        ("parse + validate", validate_only), ("translate (parse+validate+map)", translate_all),
    ]
    warm_ups = {"EDIFACT ORDERS": edifact_orders(WARM_UP_SIZE, seed=WARM_UP_SEED),
                "X12 850": x12_850(WARM_UP_SIZE, seed=WARM_UP_SEED)}
    results: dict[tuple[str, str], float] = {}
    startup: dict[str, float] = {}
    with Progress(transient=True) as progress:
        task = progress.add_task("measuring", total=len(files) * len(steps))
        for name, data in files.items():
            progress.update(task, description=f"{name}: warm-up")
            startup[name] = best_of(translate_all, warm_ups[name], 1)
            for step, fn in steps:
                progress.update(task, description=f"{name}: {step}")
                results[(name, step)] = best_of(fn, data, repeat)
                progress.advance(task)
    table = Table(title=f"translate vs parse-only, {size // MB} MB files, best of {repeat}")
    for column in ("file", "step", "seconds", "MB/s", "x parse-only"):
        table.add_column(column, justify="right" if column != "step" else "left")
    verdicts = []
    for name, data in files.items():
        base = results[(name, steps[0][0])]
        for step, _ in steps:
            seconds = results[(name, step)]
            table.add_row(name, step, f"{seconds:.3f}", f"{len(data) / MB / seconds:.2f}",
                          f"{base / seconds:.2f}")
        ratio = base / results[(name, steps[-1][0])]
        verdicts.append(f"{name}: translate at {ratio:.2f}x parse-only "
                        f"({'meets' if ratio >= 0.5 else 'misses'} the 0.5x goal)")
    console = Console()
    console.print(table)
    for line in verdicts:
        console.print(line)
    for name, seconds in startup.items():
        console.print(f"{name}: warm-up translate of {WARM_UP_SIZE // 1000} kB (one-time "
                      f"loading of schemas, grammars, maps, patterns included): {seconds:.3f} s")


if __name__ == "__main__":
    main()
