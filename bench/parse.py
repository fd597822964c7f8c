"""Syntax-layer speed and memory: our parser vs pydifact vs a plain split baseline.

Generates seeded EDIFACT ORDERS and X12 850 interchanges (1, 10, 100 MB; ``--quick``: 1 MB)
and measures, in the same run: the split baseline (``str.split`` on segment terminator,
element and component separators, with a regex split only in segments that hold the release
character), our full parse into the lossless tree, our streaming path, and pydifact (EDIFACT,
up to 10 MB: it runs at well under 1 MB/s). Peak memory is traced in a separate pass
(tracemalloc slows the code it watches). Every figure is also given as a ratio to the baseline.

    python -m bench.parse [--quick] [--sizes 1,10,100]
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import time
import tracemalloc
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from translators.syntax import iter_messages, parse

MB = 1_000_000


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


def split_baseline(data: bytes, term: str, element: str, component: str,
                   release: str = "") -> int:
    """The floor any parser must pay: decode, split segments, elements and components."""
    text = data.decode("latin-1")
    released = re.compile(rf"(?<!{re.escape(release)}){re.escape(element)}") if release else None
    count = 0
    for seg in text.split(term):
        if released is not None and release in seg:
            parts = released.split(seg)
        else:
            parts = seg.split(element)
        for part in parts:
            part.split(component)
        count += 1
    return count


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


def timed(fn: Callable[[bytes], int], data: bytes) -> float:
    gc.collect()
    start = time.perf_counter()
    fn(data)
    return time.perf_counter() - start


def peak(fn: Callable[[bytes], int], data: bytes) -> int:
    gc.collect()
    tracemalloc.start()
    fn(data)
    top = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 MB only, short run")
    parser.add_argument("--sizes", default="1,10,100", help="sizes in MB (default 1,10,100)")
    args = parser.parse_args()
    sizes = [1] if args.quick else [int(s) for s in args.sizes.split(",")]
    console = Console()
    table = Table(title="translators.syntax parse speed (MB/s) and peak traced memory (MB)")
    for column in ("input", "MB", "parser", "MB/s", "x baseline", "peak MB", "x input"):
        table.add_column(column, justify="right" if column not in ("input", "parser") else "left")
    plans = []
    for size in sizes:
        plans.append(("EDIFACT ORDERS", size, lambda n: edifact_orders(n), ("'", "+", ":", "?")))
        plans.append(("X12 850", size, lambda n: x12_850(n), ("~", "*", ">", "")))
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("benchmarking", total=len(plans))
        for name, size, make, delims in plans:
            data = make(size * MB)
            mb = len(data) / MB
            runners: list[tuple[str, Callable[[bytes], int]]] = [
                ("split baseline", lambda d, delims=delims: split_baseline(d, *delims)),
                ("ours: tree (lazy elements)", ours_tree),
                ("ours: tree + every element", ours_tree_read),
                ("ours: streaming", ours_stream),
            ]
            if name.startswith("EDIFACT") and size <= 10:
                runners.append(("pydifact 0.2.3", pydifact_parse))
            base = None
            for label, fn in runners:
                if size >= 100 and label.startswith("ours: tree"):
                    continue  # the whole tree of 100 MB is not the goal; streaming is
                seconds = timed(fn, data)
                speed = mb / seconds
                base = base or speed
                top = peak(fn, data) if size <= 10 or label != "split baseline" else 0
                table.add_row(name, f"{mb:.1f}", label, f"{speed:.1f}", f"{speed / base:.2f}",
                              f"{top / MB:.1f}" if top else "-",
                              f"{top / len(data):.2f}" if top else "-")
            progress.advance(task)
    console.print(table)


if __name__ == "__main__":
    main()
