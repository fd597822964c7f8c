"""Exact dynamic program for one part: single-item lot sizing with supplier choice.

State: the part's net inventory (``lo .. hi``, whole units). Each period first applies its
receipts and demand, then one stage per eligible supplier adds that supplier's arrival, then the
period's stock cost (holding, backlog with the line-stop charge of a period short,
safety-stock shortfall) is charged. A supplier stage
allows ``q = 0`` or ``q = k * multiple >= min lot`` at ``fixed + unit * q`` (plus the change
penalty against the previous plan), optionally capped (remaining capacity, budget). For a given
remainder modulo the multiple, the minimum over ``k`` is a (windowed) running minimum, so each
stage costs O(N) vectorised work: the DP is exact and fast, which is what makes the Lagrangian
bound in :mod:`optimizer.decompose` a *proven* bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimizer.problem import Problem

INF = math.inf


@dataclass
class StageCosts:
    """Per (offer, placement period): unit cost, upper limit in units, previous quantity."""

    unit: list[list[float]]
    limit: list[list[float]] | None = None


@dataclass
class PartSolution:
    value: float
    orders: dict[tuple[int, int], int]  # (supplier index, placement period) -> quantity


def _trailing_min(u: np.ndarray, width: int) -> np.ndarray:
    """``out[j] = min(u[max(0, j - width + 1) .. j])`` along axis 0 (van Herk / Gil-Werman)."""
    n = u.shape[0]
    if width >= n:
        return np.minimum.accumulate(u, axis=0)
    if width <= 6:
        out = u.copy()
        for d in range(1, width):
            np.minimum(out[d:], u[:-d], out=out[d:])
        return out
    pad_front = width - 1
    total = pad_front + n
    blocks = -(-total // width)
    padded = np.full((blocks * width, *u.shape[1:]), INF)
    padded[pad_front:pad_front + n] = u
    shaped = padded.reshape((blocks, width, *u.shape[1:]))
    g = np.minimum.accumulate(shaped, axis=1).reshape(padded.shape)
    h = np.minimum.accumulate(shaped[:, ::-1], axis=1)[:, ::-1].reshape(padded.shape)
    # Window [j, j + width - 1] of the padded array = trailing window ending at original j.
    return np.minimum(h[:n], g[width - 1:width - 1 + n])


def _shift_min(v: np.ndarray, m: int, slope: float, klo: int, khi: float) -> np.ndarray:
    """``W[i] = min_{klo <= k <= khi} slope*k*m + v[i - k*m]`` (inf where no k fits).

    With ``U[j] = v[j] - slope*j`` this is ``slope*i + min U[j]`` over ``j = i - k*m``: a
    (windowed) running minimum down each residue class modulo ``m``, i.e. down the columns of
    ``U`` seen as a ``(rows, m)`` array.
    """
    n = v.shape[0]
    pad = -n % m
    if pad:
        v = np.concatenate([v, np.full(pad, INF)])
    total = n + pad
    rows = total // m
    if klo >= rows or khi < klo:
        return np.full(n, INF)
    ramp = slope * _index(total)
    u = (v - ramp).reshape(rows, m)
    width = rows if khi >= rows else int(khi) - klo + 1
    best = _trailing_min(u, width).reshape(-1)
    shift = klo * m
    out = np.empty(total)
    out[:shift] = INF
    np.add(best[:total - shift], ramp[shift:], out=out[shift:])
    return out[:n] if pad else out


_INDEX = np.arange(0, dtype=float)


def _index(n: int) -> np.ndarray:
    global _INDEX
    if _INDEX.shape[0] < n:
        _INDEX = np.arange(max(n, 2 * _INDEX.shape[0]), dtype=float)
    return _INDEX[:n]


def _order_options(
    v: np.ndarray, m: int, min_k: int, max_k: float, unit: float, fixed: float, prev: int,
    change: float,
) -> np.ndarray:
    """Best value over q > 0 at each state (fixed + unit*q + change*|q - prev|)."""
    if change <= 0 or prev <= 0:
        return fixed + _shift_min(v, m, unit + change, min_k, max_k)
    k_prev = prev // m
    below = _shift_min(v, m, unit - change, min_k, min(max_k, k_prev)) + change * prev
    above = _shift_min(v, m, unit + change, max(min_k, k_prev), max_k) - change * prev
    return fixed + np.minimum(below, above)


def solve_part(problem: Problem, p: int, costs: StageCosts) -> PartSolution:
    """Minimise one part's cost under the given unit costs and limits; exact on the grid."""
    part = problem.parts[p]
    T = problem.periods
    F = problem.options.frozen_periods
    change = problem.options.change_penalty
    lo, hi = part.lowest_net(), part.hi
    if hi < lo:
        hi = lo
    # Pad the grid to a multiple of every order multiple so the residue-class reshapes are
    # free; padded states lie above the stock bound and cost inf at the end of each period.
    step = math.lcm(*(o.multiple for o in part.offers)) if part.offers else 1
    size = hi - lo + 1
    if step <= 4096:
        size += -size % step
    grid = np.arange(lo, lo + size, dtype=float)
    stock = np.maximum(grid, 0.0)
    stage_cost = (
        part.holding * stock + part.backlog * np.maximum(-grid, 0.0)
        + part.shortfall * np.maximum(part.safety - stock, 0.0)
        + part.stop * (grid < 0)
    )
    stage_cost[hi - lo + 1:] = INF
    n_states = grid.shape[0]
    value = np.full(n_states, INF)
    value[part.n0 - lo] = 0.0
    constant = 0.0  # frozen orders' cost, added once
    history: list[tuple[int, int, np.ndarray, int]] = []  # (offer idx, placement, before, shift)
    for t in range(T):
        delta = part.receipts[t] - part.demand[t]
        value = _shifted(value, delta)
        for o, offer in enumerate(part.offers):
            tau = t - offer.lead
            if tau < 0:
                continue
            frozen_q = problem.frozen.get((p, offer.supplier, tau), 0)
            if tau < F:
                if frozen_q:
                    constant += offer.fixed + costs.unit[o][tau] * frozen_q
                    value = _shifted(value, frozen_q)
                continue
            limit = INF if costs.limit is None else costs.limit[o][tau]
            max_k = INF if math.isinf(limit) else math.floor(limit / offer.multiple + 1e-9)
            min_k = offer.min_lot // offer.multiple
            if max_k < min_k:
                prev = problem.previous.get((p, offer.supplier, tau), 0)
                if change > 0 and prev > 0:
                    value = value + change * prev
                continue
            prev = problem.previous.get((p, offer.supplier, tau), 0)
            before = value
            options = _order_options(
                before, offer.multiple, min_k, max_k, costs.unit[o][tau], offer.fixed, prev,
                change,
            )
            keep = before + change * prev if change > 0 and prev > 0 else before
            value = np.minimum(keep, options)
            history.append((o, tau, before, t))
        value = value + stage_cost
    best = int(np.argmin(value))
    total = float(value[best])
    if math.isinf(total):
        return PartSolution(INF, {})
    orders = _backtrack(problem, p, costs, history, best, lo)
    return PartSolution(total + constant, orders)


def _shifted(value: np.ndarray, delta: int) -> np.ndarray:
    if delta == 0:
        return value
    out = np.full(value.shape[0], INF)
    if delta > 0:
        if delta < value.shape[0]:
            out[delta:] = value[:-delta]
    elif -delta < value.shape[0]:
        out[:delta] = value[-delta:]
    return out


def _backtrack(
    problem: Problem, p: int, costs: StageCosts,
    history: list[tuple[int, int, np.ndarray, int]], state: int, lo: int,
) -> dict[tuple[int, int], int]:
    """Recover the quantities by walking the stages backwards from the best final state."""
    part = problem.parts[p]
    change = problem.options.change_penalty
    T = problem.periods
    F = problem.options.frozen_periods
    orders: dict[tuple[int, int], int] = {}
    # Rebuild the per-period sequence of state moves to know where each stage sat.
    stages_by_period: dict[int, list[tuple[int, int, np.ndarray]]] = {}
    for o, tau, before, t in history:
        stages_by_period.setdefault(t, []).append((o, tau, before))
    for t in range(T - 1, -1, -1):
        # Undo the stages of period t in reverse order of application.
        applied: list[tuple[str, int, int, int, np.ndarray | None]] = []
        for o, offer in enumerate(part.offers):
            tau = t - offer.lead
            if tau < 0:
                continue
            if tau < F:
                frozen_q = problem.frozen.get((p, offer.supplier, tau), 0)
                if frozen_q:
                    applied.append(("frozen", o, tau, frozen_q, None))
                continue
            match = [s for s in stages_by_period.get(t, []) if s[0] == o]
            if match:
                applied.append(("order", o, tau, 0, match[0][2]))
        for kind, o, tau, qty, before in reversed(applied):
            offer = part.offers[o]
            if kind == "frozen":
                state -= qty
                orders[(offer.supplier, tau)] = qty
                continue
            assert before is not None
            prev = problem.previous.get((p, offer.supplier, tau), 0)
            limit = INF if costs.limit is None else costs.limit[o][tau]
            m = offer.multiple
            min_k = offer.min_lot // m
            max_k = state // m
            if not math.isinf(limit):
                max_k = min(max_k, math.floor(limit / m + 1e-9))
            best_q, best_v = 0, before[state] + (change * prev if change > 0 else 0.0)
            if max_k >= min_k:
                ks = np.arange(min_k, max_k + 1)
                qs = ks * m
                vals = before[state - qs] + offer.fixed + costs.unit[o][tau] * qs
                if change > 0:
                    vals = vals + change * np.abs(qs - prev)
                j = int(np.argmin(vals))
                if vals[j] + 1e-9 * max(1.0, abs(float(vals[j]))) < best_v:
                    best_q = int(qs[j])
            if best_q:
                orders[(offer.supplier, tau)] = best_q
                state -= best_q
        state -= part.receipts[t] - part.demand[t]
    if state != part.n0 - lo:
        raise AssertionError(f"DP backtrack for {part.id} did not return to the start state")
    return orders
