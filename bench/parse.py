"""Syntax-layer speed and memory: our parser against a naive split baseline, in the same run.

Generates seeded EDIFACT ORDERS and X12 850 interchanges (10 MB by default; ``--quick``: 1 MB)
and measures, interleaved over >= 5 rounds (see bench/_timing.py: medians with their spread,
CPU time beside wall time): the naive split baseline (decode, split segments, split elements;
release characters handled: an escaped separator splits nothing and values are unescaped;
components are not split, for either standard), our full parse into the lossless tree, the
tree with every element read, our streaming path, and (``--pydifact``) pydifact. Every figure
is also a ratio to the baseline of the same round. Goals on 10 MB files: our tree at >= 0.40
of the baseline for X12 and >= 0.50 for EDIFACT. Peak memory is traced in a separate pass
(tracemalloc slows the code it watches). A result that cannot be true (the tree with every
element read faster than the tree alone) fails the run.

    python -m bench.parse [--quick] [--sizes 10,100] [--rounds 5] [--pydifact]
"""

from __future__ import annotations

import argparse
import functools
import gc
import random
import re
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

if not __package__:  # run as a script (python bench/parse.py): bench._timing must import
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._timing import Sanity, interleaved, speed_ratio
from translators.syntax import iter_messages, parse

MB = 1_000_000
GOALS = {"EDIFACT ORDERS": 0.50, "X12 850": 0.40}  # our tree vs the naive split, 10 MB files


def gtin13(number: int) -> str:
    """``number`` as the 12 digits of a GTIN-13 with its right check digit: real files carry
    valid GTINs (a wrong check digit is a data-quality warning per line, not the common case)."""
    body = f"{number:012d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def edifact_orders(size: int, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    out = ["UNA:+.? 'UNB+UNOC:3+5412345000013:14+4012345000009:14+240101:1200+1'\n"]
    total, count = len(out[0]), 0
    while total < size:
        count += 1
        segs = [f"UNH+{count}+ORDERS:D:96A:UN:EAN008'", f"BGM+220+PO{count}+9'",
                "DTM+137:20240101:102'", "NAD+BY+5412345000013::9'", "NAD+SU+4012345000009::9'"]
        for line in range(1, 21):
            segs.append(f"LIN+{line}++{gtin13(rnd.randrange(10**12))}:EN'")
            segs.append(f"QTY+21:{rnd.randrange(1, 1000)}'")
            segs.append(f"FTX+AAA+++SIZE 10?+12 ?:{rnd.randrange(99)}'" if line % 5 == 0
                        else f"PRI+AAA:{rnd.randrange(1, 100)}.{rnd.randrange(100):02d}'")
        segs.append("UNS+S'")
        segs.append(f"UNT+{len(segs) + 1}+{count}'")
        block = "\n".join(segs) + "\n"
        out.append(block)
        total += len(block)
    out.append(f"UNZ+{count}+1'\n")
    return "".join(out).encode("latin-1")


def x12_850(size: int, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    head = ("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*"
            "U*00401*000000001*0*P*>~\nGS*PO*SENDER*RECEIVER*20240101*1200*1*X*004010~\n")
    out, total, count = [head], len(head), 0
    while total < size:
        count += 1
        segs = [f"ST*850*{count:09d}", f"BEG*00*SA*PO{count}**20240101", "N1*BY*BUYER*92*123"]
        for line in range(1, 21):
            segs.append(f"PO1*{line}*{rnd.randrange(1, 1000)}*EA*{rnd.randrange(1, 100)}.5**BP*"
                        f"{rnd.randrange(10**9)}")
            segs.append("PID*F****WIDGET")
        segs.append("CTT*20")
        segs.append(f"SE*{len(segs) + 1}*{count:09d}")
        block = "~\n".join(segs) + "~\n"
        out.append(block)
        total += len(block)
    out.append(f"GE*{count}*1~\nIEA*1*000000001~\n")
    return "".join(out).encode("latin-1")


def _split_released(text: str, separator: str, release: str) -> list[str]:
    """``text.split(separator)``, where a separator after an odd run of release characters
    is data and joins its two pieces."""
    pieces = text.split(separator)
    if not release or release not in text:
        return pieces
    out: list[str] = []
    carry: str | None = None
    for piece in pieces:
        if carry is not None:
            piece = carry + separator + piece
        if (len(piece) - len(piece.rstrip(release))) % 2:
            carry = piece
            continue
        carry = None
        out.append(piece)
    if carry is not None:
        out.append(carry)
    return out


def naive_split(data: bytes, term: str, element: str, release: str = "") -> int:
    """The floor any parser must pay: decode, split segments and their elements (release
    characters handled, values unescaped); no components, no tree, no checks."""
    text = data.decode("latin-1")
    count = 0
    for segment in _split_released(text, term, release):
        if release and release in segment:
            parts = [_unescape(part, release)
                     for part in _split_released(segment, element, release)]
        else:
            parts = segment.split(element)
        count += len(parts)
    return count


def _unescape(value: str, release: str) -> str:
    if release not in value:
        return value
    return _released(release).sub(r"\1", value)


@functools.cache
def _released(release: str) -> re.Pattern[str]:
    return re.compile(re.escape(release) + "(.)", re.DOTALL)


def ours_tree(data: bytes) -> int:
    result = parse(data)
    assert result.ok, result.errors[:3]
    return sum(len(m.segments) for ic in result.interchanges for m in ic.messages)


def ours_stream(data: bytes) -> int:
    def chunks() -> Iterator[bytes]:
        for at in range(0, len(data), 1 << 20):
            yield data[at:at + (1 << 20)]
    return sum(len(item.message.segments) for item in iter_messages(chunks()))


def ours_tree_read(data: bytes) -> int:
    """Full parse plus reading every element (the lazy decode paid in full)."""
    result = parse(data)
    return sum(len(s.elements) for ic in result.interchanges for m in ic.messages
               for s in m.segments)


def pydifact_parse(data: bytes) -> int:
    from pydifact.segmentcollection import Interchange as PydifactInterchange

    interchange = PydifactInterchange.from_str(data.decode("latin-1"))
    return sum(1 for _ in interchange.segments)


def peak(fn: Callable[[bytes], int], data: bytes) -> int:
    gc.collect()
    tracemalloc.start()
    fn(data)
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 MB files")
    parser.add_argument("--sizes", default="10", help="sizes in MB (default 10, the goal's)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (>= 5)")
    parser.add_argument("--pydifact", action="store_true",
                        help="also pydifact (EDIFACT, up to 10 MB: well under 1 MB/s)")
    parser.add_argument("--no-memory", action="store_true", help="skip the traced-memory pass")
    args = parser.parse_args()
    sizes = [1] if args.quick else [int(s) for s in args.sizes.split(",")]
    # (a wide table also when piped into a file or a log)
    console = Console() if sys.stdout.isatty() else Console(width=170)
    sanity = Sanity()
    table = Table(title=f"translators.syntax parse: CPU s median (lowest..highest) of "
                        f"{max(args.rounds, 5)} interleaved rounds; peak traced memory")
    for column in ("input", "MB", "parser", "CPU s", "wall s", "MB/s (CPU)",
                   "x baseline (CPU)", "x baseline (wall)", "peak MB"):
        table.add_column(column, justify="left" if column in ("input", "parser") else "right")
    plans = []
    for size in sizes:
        plans.append(("EDIFACT ORDERS", size, edifact_orders, ("'", "+", "?")))
        plans.append(("X12 850", size, x12_850, ("~", "*", "")))
    verdicts: list[str] = []
    with Progress(console=console, transient=True) as progress:
        for name, size, make, delims in plans:
            data = make(size * MB)
            mb = len(data) / MB
            runners: list[tuple[str, Callable[[bytes], int]]] = [
                ("naive split (baseline)", lambda d, delims=delims: naive_split(d, *delims)),
                ("ours: tree (lazy elements)", ours_tree),
                ("ours: tree + every element", ours_tree_read),
                ("ours: streaming", ours_stream),
            ]
            if size >= 100:  # the whole tree of 100 MB is not the goal; streaming is
                runners = [r for r in runners if not r[0].startswith("ours: tree")]
            if args.pydifact and name.startswith("EDIFACT") and size <= 10:
                runners.append(("pydifact", pydifact_parse))
            rounds = max(args.rounds, 5)
            task = progress.add_task(f"{name} {size} MB", total=rounds * len(runners))
            figures = interleaved([(label, lambda fn=fn, data=data: fn(data))
                                   for label, fn in runners],
                                  rounds, progress, task, what=f"{name} {size} MB: ")
            base = figures[runners[0][0]]
            for label, fn in runners:
                figure = figures[label]
                top = 0
                if not args.no_memory and (size <= 10 or not label.startswith("naive")):
                    progress.update(task, description=f"{name} {size} MB: memory of {label}")
                    top = peak(fn, data)
                table.add_row(name, f"{mb:.1f}", label, figure.text(), figure.text("wall"),
                              f"{mb / figure.median():.1f}",
                              speed_ratio(base, figure).text(),
                              speed_ratio(base, figure, "wall").text(),
                              f"{top / MB:.1f}" if top else "-")
            if "ours: tree (lazy elements)" in figures:
                tree = figures["ours: tree (lazy elements)"]
                sanity.not_faster(tree, figures["ours: tree + every element"],
                                  "the same parse, then every element read")
                ratio = speed_ratio(base, tree)
                goal = GOALS[name]
                verdicts.append(
                    f"{name} {size} MB: our tree at {ratio.text()} of the naive split (CPU; "
                    f"goal >= {goal:.2f}{' on 10 MB' if size != 10 else ''}): "
                    f"{'meets' if ratio.median >= goal else 'misses'}")
            progress.remove_task(task)
    console.print(table)
    for line in verdicts:
        console.print(line)
    sanity.exit(console)


if __name__ == "__main__":
    main()
