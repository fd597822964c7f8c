"""Timings that cannot flatter, shared by the speed benchmarks.

* Interleaved rounds: every round runs the baseline and each candidate once, in a rotated
  order (nobody always runs first, on a warm cache or right after a collection), so a burst of
  other work on a shared machine hits them alike. At least 5 rounds.
* Each figure is the median with its spread (lowest..highest), in CPU time (this process's
  user + system time: what the work costs, whatever else the machine runs) beside wall time.
* A ratio is the median of the per-round ratios (a candidate against the baseline of the same
  round), with their spread.
* Sanity checks: a result that cannot be true (translate faster than the parse it includes)
  fails the run with a non-zero exit code instead of being printed as a finding.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import Progress, TaskID

MIN_ROUNDS = 5


@dataclass(slots=True)
class Figure:
    label: str
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)

    def median(self, clock: str = "cpu") -> float:
        return statistics.median(self.cpu if clock == "cpu" else self.wall)

    def spread(self, clock: str = "cpu") -> tuple[float, float]:
        values = self.cpu if clock == "cpu" else self.wall
        return min(values), max(values)

    def text(self, clock: str = "cpu") -> str:
        low, high = self.spread(clock)
        return f"{self.median(clock):.3f} ({low:.3f}..{high:.3f})"


@dataclass(slots=True)
class Ratio:
    """How fast a candidate runs relative to a baseline (1.0: as fast; 0.5: half as fast)."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def text(self) -> str:
        return f"{self.median:.2f} ({min(self.values):.2f}..{max(self.values):.2f})"


def speed_ratio(baseline: Figure, candidate: Figure, clock: str = "cpu") -> Ratio:
    base = baseline.cpu if clock == "cpu" else baseline.wall
    other = candidate.cpu if clock == "cpu" else candidate.wall
    return Ratio([b / o for b, o in zip(base, other, strict=True) if o > 0])


def interleaved(runners: Sequence[tuple[str, Callable[[], object]]], rounds: int,
                progress: Progress | None = None, task: TaskID | None = None,
                what: str = "") -> dict[str, Figure]:
    """Run every runner once per round, in an order rotated each round."""
    rounds = max(rounds, MIN_ROUNDS)
    figures = {label: Figure(label) for label, _ in runners}
    count = len(runners)
    for number in range(rounds):
        order = [runners[(number + i) % count] for i in range(count)]
        for label, run in order:
            if progress is not None and task is not None:
                progress.update(task, description=f"{what}round {number + 1}/{rounds}: {label}")
            gc.collect()
            cpu, wall = time.process_time(), time.perf_counter()
            run()
            figures[label].cpu.append(time.process_time() - cpu)
            figures[label].wall.append(time.perf_counter() - wall)
            if progress is not None and task is not None:
                progress.advance(task)
    return figures


class Sanity:
    """Collects impossible results; :meth:`exit` fails the run when there is any."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def not_faster(self, part: Figure, whole: Figure, why: str) -> None:
        """``whole`` includes the work of ``part``: its median CPU time cannot be lower."""
        if whole.median() < part.median():
            self.failures.append(
                f"impossible: {whole.label} ({whole.median():.3f} s CPU) ran faster than "
                f"{part.label} ({part.median():.3f} s CPU), which it includes ({why})")

    def exit(self, console: Console) -> None:
        if not self.failures:
            return
        for line in self.failures:
            console.print(f"[bold red]SANITY CHECK FAILED[/]: {line}")
        console.print("These figures are not trustworthy (a busy machine, or a broken "
                      "benchmark): run again.")
        sys.exit(2)
