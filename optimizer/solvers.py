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


def solve_model(
    model: Model, problem: Problem, *, solver: str, time_limit: float, rel_gap: float,
    start: Orders | None, threads: int | None = None,
) -> SolverOutcome:
    if start is not None:
        set_start(model, problem, start)
    if solver == "highs":
        return _solve_highs(model, time_limit, rel_gap, start is not None, threads)
    if solver == "cbc":
        return _solve_cbc(model, time_limit, rel_gap, start is not None, threads)
    raise ValueError(f"unknown solver {solver!r}")


class _WarmHiGHS(pulp.HiGHS):  # type: ignore[misc, name-defined]
    """PuLP's HiGHS interface plus a MIP start from the variables' initial values."""

    def __init__(self, warm: bool, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.warm = warm

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
        lp.solverModel.run()


def _solve_highs(
    model: Model, time_limit: float, rel_gap: float, warm: bool, threads: int | None,
) -> SolverOutcome:
    import highspy

    solver = _WarmHiGHS(
        warm, msg=False, timeLimit=time_limit, gapRel=rel_gap, threads=threads,
    )
    lp = model.lp
    try:
        lp.solve(solver)
    except pulp.PulpSolverError as exc:
        return SolverOutcome("highs", "error", False, False, False, None, None, 0.0, str(exc))
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
    model: Model, time_limit: float, rel_gap: float, warm: bool, threads: int | None,
) -> SolverOutcome:
    lp = model.lp
    # CBC only speaks through files; PuLP already uses temporary files for the model, the log
    # goes beside them and is read back at once.
    with tempfile.TemporaryDirectory(prefix="edigate-cbc-") as tmp:
        log_path = os.path.join(tmp, "cbc.log")
        solver = pulp.PULP_CBC_CMD(
            msg=False, timeLimit=time_limit, gapRel=rel_gap, warmStart=warm, threads=threads,
            logPath=log_path, keepFiles=False,
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
