"""Run the PuLP model on HiGHS or CBC and read what the *solver* says, not PuLP's summary.

PuLP maps a time-limited solve with any incumbent to status "Optimal". Here HiGHS is asked
directly (model status string, ``mip_dual_bound``, ``mip_gap``, primal solution status) and
CBC's own result block is parsed from its log ("Result - Stopped on time limit",
"Objective value", "Lower bound", "Gap"). Both are warm-started from a given plan.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pulp

from optimizer.costs import Orders
from optimizer.model import Model, set_start
from optimizer.problem import Problem


@dataclass(frozen=True)
class SolverOutcome:
    solver: str
    status: str  # the solver's own wording
    has_solution: bool
    proven_optimal: bool
    infeasible: bool
    objective: float | None  # includes the model's constant offset
    bound: float | None
    seconds: float
    message: str = ""


# Seconds per model column PuLP spends handing the model to the solver and reading the
# answer back (measured at (500,5,28): about 12 s for 126k columns with HiGHS), kept out of the
# solver's own time limit so the whole call ends on time.
TRANSFER_SECONDS_PER_COLUMN = 1e-4


def solve_model(
    model: Model, problem: Problem, *, solver: str, time_limit: float, rel_gap: float,
    start: Orders | None, threads: int | None = None,
    deadline: float | None = None, clock: Callable[[], float] | None = None,
) -> SolverOutcome:
    """Solve within ``time_limit`` seconds; with ``deadline`` and ``clock``, the solver's own
    limit is what is left at the moment it starts, less the time to read the answer back,
    and HiGHS is cancelled from outside if it overruns."""
    if start is not None:
        set_start(model, problem, start)
    budget = Budget(time_limit, deadline, clock, problem.columns_estimate())
    if solver == "highs":
        return _solve_highs(model, budget, rel_gap, start is not None, threads)
    if solver == "cbc":
        return _solve_cbc(model, budget, rel_gap, start is not None, threads)
    raise ValueError(f"unknown solver {solver!r}")


@dataclass
class Budget:
    time_limit: float
    deadline: float | None
    clock: Callable[[], float] | None
    columns: int

    def remaining(self, share_of_transfer: float) -> float:
        """Seconds the solver may run if started now, keeping ``share_of_transfer`` of the
        estimated model transfer time for what still follows."""
        if self.deadline is None or self.clock is None:
            return self.time_limit
        reserve = share_of_transfer * TRANSFER_SECONDS_PER_COLUMN * self.columns
        return min(self.time_limit, self.deadline - self.clock() - reserve)


class _WarmHiGHS(pulp.HiGHS):  # type: ignore[misc, name-defined]
    """PuLP's HiGHS interface plus a MIP start from the variables' initial values."""

    def __init__(self, warm: bool, budget: Budget | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.warm = warm
        self.budget = budget
        self.skipped = False

    def callSolver(self, lp: pulp.LpProblem) -> None:
        if self.warm:
            import numpy as np

            idx, val = [], []
            for var in lp.variables():
                if var.cat == pulp.LpInteger and var.varValue is not None:
                    idx.append(var.index)
                    val.append(float(var.varValue))
            if idx:
                lp.solverModel.setSolution(
                    len(idx), np.array(idx, dtype=np.int32), np.array(val, dtype=np.float64)
                )
        h = lp.solverModel
        if self.budget is None:
            h.run()
            return
        # The model is in HiGHS now: what is left is the solver's, less reading back.
        left = self.budget.remaining(0.3)
        if left <= 0.05:
            self.skipped = True
            return
        h.setOptionValue("time_limit", float(left))
        watchdog = threading.Timer(left + 0.5, h.cancelSolve)
        watchdog.daemon = True
        watchdog.start()
        try:
            h.run()
        finally:
            watchdog.cancel()


def _solve_highs(
    model: Model, budget: Budget, rel_gap: float, warm: bool, threads: int | None,
) -> SolverOutcome:
    import highspy

    solver = _WarmHiGHS(
        warm, budget, msg=False, timeLimit=max(budget.time_limit, 0.05), gapRel=rel_gap,
        threads=threads,
    )
    lp = model.lp
    try:
        lp.solve(solver)
    except pulp.PulpSolverError as exc:
        return SolverOutcome("highs", "error", False, False, False, None, None, 0.0, str(exc))
    if solver.skipped:
        return SolverOutcome("highs", "time limit before solving", False, False, False, None,
                             None, 0.0, "handing the model to HiGHS used up the time limit")
    h = lp.solverModel
    status = h.getModelStatus()
    info = h.getInfo()
    text = h.modelStatusToString(status)
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    infeasible = status in (
        highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible,
    )
    objective = info.objective_function_value + model.offset if has_solution else None
    bound = info.mip_dual_bound
    if status == highspy.HighsModelStatus.kOptimal and has_solution and not model.k:
        bound = info.objective_function_value  # a pure LP (no order variables) has no MIP bound
    bound_value = bound + model.offset if bound is not None and math.isfinite(bound) else None
    return SolverOutcome(
        "highs", text, has_solution, status == highspy.HighsModelStatus.kOptimal, infeasible,
        objective, bound_value, h.getRunTime(),
    )


_CBC_RESULT = re.compile(r"^Result - (.+)$", re.M)
_CBC_NUMBER = {
    "objective": re.compile(r"^Objective value:\s+(\S+)", re.M),
    "bound": re.compile(r"^Lower bound:\s+(\S+)", re.M),
    "seconds": re.compile(r"^Total time \(CPU seconds\):\s+(\S+)", re.M),
}


def _solve_cbc(
    model: Model, budget: Budget, rel_gap: float, warm: bool, threads: int | None,
) -> SolverOutcome:
    lp = model.lp
    # CBC's limit counts elapsed time from its own start; writing the model file and reading
    # the solution back happen around it, so both are kept out of it.
    time_limit = budget.remaining(1.0)
    if time_limit <= 0.05:
        return SolverOutcome("cbc", "time limit before solving", False, False, False, None,
                             None, 0.0, "writing the model for CBC would use up the time limit")
    # CBC only speaks through files; PuLP already uses temporary files for the model, the log
    # goes beside them and is read back at once.
    with tempfile.TemporaryDirectory(prefix="edigate-cbc-") as tmp:
        log_path = os.path.join(tmp, "cbc.log")
        solver = pulp.PULP_CBC_CMD(
            msg=False, timeLimit=time_limit, gapRel=rel_gap, warmStart=warm, threads=threads,
            logPath=log_path, keepFiles=False, timeMode="elapsed",
        )
        try:
            pulp_status = lp.solve(solver)
        except pulp.PulpSolverError as exc:
            return SolverOutcome("cbc", "error", False, False, False, None, None, 0.0, str(exc))
        try:
            with open(log_path, encoding="utf-8", errors="replace") as handle:
                log = handle.read()
        except OSError:
            log = ""
    result = _CBC_RESULT.search(log)
    text = result.group(1).strip() if result else pulp.LpStatus.get(pulp_status, "unknown")
    numbers: dict[str, float | None] = {}
    for name, pattern in _CBC_NUMBER.items():
        match = pattern.search(log)
        try:
            numbers[name] = float(match.group(1)) if match else None
        except ValueError:
            numbers[name] = None
    infeasible = "infeasible" in text.lower() or pulp_status == pulp.LpStatusInfeasible
    has_solution = (
        not infeasible and lp.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    )
    proven = text.lower().startswith("optimal")
    objective = numbers["objective"]
    if objective is None and has_solution:
        objective = pulp.value(lp.objective)
    bound = numbers["bound"]
    if bound is None and proven and objective is not None:
        bound = objective
    return SolverOutcome(
        "cbc", text, has_solution, proven, infeasible,
        objective + model.offset if objective is not None and has_solution else None,
        bound + model.offset if bound is not None else None,
        numbers["seconds"] or 0.0,
    )
