"""The monolithic PuLP model of a :class:`~optimizer.problem.Problem`.

Per part, eligible supplier and open placement period: an integer number of order multiples
``k`` (quantity ``x = multiple * k``) and a placement binary ``y`` with
``min_lot * y <= x <= M * y``. ``M`` is tight: the smallest of the supplier's capacity in the
arrival period, the budget of the placement period divided by the price, and the most the part
could ever absorb at that arrival (stock bound minus the lowest net inventory reachable), all
rounded down to the multiple. Inventory balance splits net inventory into stock and backlog,
the safety stock is a soft floor with a penalised shortfall, a binary per part and period
where the part can run short carries the line-stop charge (``back <= -low * z``), capacity
is shared across parts, and the options add budget, per-part supplier share, and a change
penalty against the previous plan. Frozen orders enter as constants (a constant objective
``offset`` is kept apart, since PuLP does not pass objective constants to every solver).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pulp

from optimizer.costs import Orders, arrivals_by_part
from optimizer.problem import Problem


@dataclass
class Model:
    lp: pulp.LpProblem
    offset: float
    k: dict[tuple[int, int, int], pulp.LpVariable] = field(default_factory=dict)
    y: dict[tuple[int, int, int], pulp.LpVariable] = field(default_factory=dict)
    stock: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    back: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    short: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    stop: dict[tuple[int, int], pulp.LpVariable] = field(default_factory=dict)
    dev: dict[tuple[int, int, int], pulp.LpVariable] = field(default_factory=dict)
    multiple: dict[tuple[int, int, int], int] = field(default_factory=dict)

    def orders(self) -> dict[tuple[int, int, int], int]:
        """The solution's orders (frozen ones included by the caller), rounded to integers."""
        out: dict[tuple[int, int, int], int] = {}
        for key, var in self.k.items():
            value = var.varValue
            if value is None:
                continue
            k = round(value)
            if k > 0:
                out[key] = k * self.multiple[key]
        return out


def _lowest_net_before(problem: Problem, p: int) -> list[int]:
    """Lowest net inventory at each period after receipts and demand, with no new order."""
    part = problem.parts[p]
    low, n = [], part.n0
    frozen = [0] * problem.periods
    for (fp, s, t), q in problem.frozen.items():
        if fp == p:
            offer = problem.offer(p, s)
            assert offer is not None
            frozen[t + offer.lead] += q
    for t in range(problem.periods):
        n += part.receipts[t] + frozen[t] - part.demand[t]
        low.append(n)
    return low


class BuildTimeout(RuntimeError):
    """The model was not built by its deadline (building is pure Python and can be slow)."""


def build_model(problem: Problem, *, deadline: float | None = None,
                clock: Callable[[], float] | None = None) -> Model:
    """The MILP; with ``deadline`` and ``clock``, raise :class:`BuildTimeout` once past it."""
    T = problem.periods
    opts = problem.options
    lp = pulp.LpProblem("edigate_plan", pulp.LpMinimize)
    model = Model(lp=lp, offset=0.0)
    objective: list[tuple[pulp.LpVariable, float]] = []
    used: dict[tuple[int, int], list[tuple[pulp.LpVariable, float]]] = {}
    frozen_used: dict[tuple[int, int], float] = {}
    spend: dict[int, list[tuple[pulp.LpVariable, float]]] = {}
    frozen_spend: dict[int, float] = {}
    for (p, s, t), q in problem.frozen.items():
        offer = problem.offer(p, s)
        assert offer is not None
        model.offset += offer.fixed + offer.price * q
        frozen_used[(s, t + offer.lead)] = frozen_used.get((s, t + offer.lead), 0.0) + q
        frozen_spend[t] = frozen_spend.get(t, 0.0) + offer.price * q
    for p, part in enumerate(problem.parts):
        if deadline is not None and clock is not None and p % 8 == 0 and clock() >= deadline:
            raise BuildTimeout(f"model build stopped at part {p} of {len(problem.parts)}")
        low = _lowest_net_before(problem, p)
        arrivals: list[list[tuple[pulp.LpVariable, float]]] = [[] for _ in range(T)]
        frozen_arrivals = [0] * T
        per_supplier: dict[int, list[tuple[pulp.LpVariable, float]]] = {}
        for (fp, s, t), q in problem.frozen.items():
            if fp == p:
                offer = problem.offer(p, s)
                assert offer is not None
                frozen_arrivals[t + offer.lead] += q
        for offer, t, a in problem.placements(p):
            key = (p, offer.supplier, t)
            m = offer.multiple
            big_m = min(problem.capacity[offer.supplier][a], part.hi - min(low[a], part.hi))
            if problem.budget is not None and offer.price > 0:
                big_m = min(big_m, problem.budget[t] / offer.price)
            prev = problem.previous.get(key, 0)
            if math.isinf(big_m):
                big_m = part.hi - part.lowest_net()
            k_max = math.floor(big_m / m + 1e-9)
            if k_max * m < offer.min_lot:
                if prev and opts.change_penalty > 0:
                    model.offset += opts.change_penalty * prev
                continue
            k = pulp.LpVariable(f"k_{p}_{offer.supplier}_{t}", 0, k_max, pulp.LpInteger)
            y = pulp.LpVariable(f"y_{p}_{offer.supplier}_{t}", cat=pulp.LpBinary)
            model.k[key], model.y[key], model.multiple[key] = k, y, m
            name = f"{p}_{offer.supplier}_{t}"
            lp += pulp.LpAffineExpression([(k, m), (y, -offer.min_lot)]) >= 0, f"lot_{name}"
            lp += pulp.LpAffineExpression([(k, m), (y, -k_max * m)]) <= 0, f"bigm_{name}"
            unit = offer.price
            if opts.change_penalty > 0 and prev > 0:
                d = pulp.LpVariable(f"d_{p}_{offer.supplier}_{t}", 0)
                model.dev[key] = d
                lp += pulp.LpAffineExpression([(d, 1), (k, -m)]) >= -prev
                lp += pulp.LpAffineExpression([(d, 1), (k, m)]) >= prev
                objective.append((d, opts.change_penalty))
            elif opts.change_penalty > 0:
                unit += opts.change_penalty
            objective += [(k, unit * m), (y, offer.fixed)]
            arrivals[a].append((k, m))
            used.setdefault((offer.supplier, a), []).append((k, m))
            spend.setdefault(t, []).append((k, offer.price * m))
            per_supplier.setdefault(offer.supplier, []).append((k, m))
        prev_net: list[tuple[pulp.LpVariable, float]] = []
        for t in range(T):
            inv = pulp.LpVariable(f"i_{p}_{t}", 0, part.hi)
            back = pulp.LpVariable(f"b_{p}_{t}", 0)
            model.stock[(p, t)], model.back[(p, t)] = inv, back
            terms = [(inv, 1), (back, -1)] + [(v, -c) for v, c in prev_net] + [
                (v, -c) for v, c in arrivals[t]
            ]
            rhs = part.receipts[t] + frozen_arrivals[t] - part.demand[t]
            if t == 0:
                rhs += part.n0
            lp += pulp.LpAffineExpression(terms) == rhs, f"bal_{p}_{t}"
            prev_net = [(inv, 1), (back, -1)]
            objective += [(inv, part.holding), (back, part.backlog)]
            if part.stop > 0 and low[t] < 0:
                # A period short stops the line: a binary that the backlog forces on.
                stop = pulp.LpVariable(f"z_{p}_{t}", cat=pulp.LpBinary)
                model.stop[(p, t)] = stop
                lp += pulp.LpAffineExpression([(back, 1), (stop, low[t])]) <= 0, f"stop_{p}_{t}"
                objective.append((stop, part.stop))
            if part.safety > 0 and part.shortfall > 0:
                short = pulp.LpVariable(f"s_{p}_{t}", 0, part.safety)
                model.short[(p, t)] = short
                lp += pulp.LpAffineExpression([(short, 1), (inv, 1)]) >= part.safety
                objective.append((short, part.shortfall))
        if part.shares:
            # Frozen orders are commitments already made: the shares govern new orders only.
            all_terms = [tc for terms in per_supplier.values() for tc in terms]
            for s, (lo, hi) in sorted(part.shares.items()):
                mine = per_supplier.get(s, [])
                if hi < 1 and mine:
                    lp += _merged(mine, all_terms, 1.0, -hi) <= 0, f"share_{p}_{s}"
                if lo > 0 and all_terms:
                    lp += _merged(mine, all_terms, -1.0, lo) <= 0, f"minshare_{p}_{s}"
    for (s, a), terms in used.items():
        cap = problem.capacity[s][a]
        if not math.isinf(cap):
            room = cap - frozen_used.get((s, a), 0.0)
            lp += pulp.LpAffineExpression(terms) <= room, f"cap_{s}_{a}"
    for (s, a), frozen_q in frozen_used.items():
        if (s, a) not in used and frozen_q > problem.capacity[s][a] + 1e-6:
            # Frozen orders alone exceed capacity: state it so the solver reports infeasible.
            lp += pulp.LpAffineExpression([]) <= problem.capacity[s][a] - frozen_q, f"cap_{s}_{a}"
    if problem.budget is not None:
        for t in range(T):
            room = problem.budget[t] - frozen_spend.get(t, 0.0)
            if t in spend:
                lp += pulp.LpAffineExpression(spend[t]) <= room, f"budget_{t}"
            elif room < -1e-6:
                lp += pulp.LpAffineExpression([]) <= room, f"budget_{t}"
    lp.setObjective(pulp.LpAffineExpression(objective))
    return model


def _merged(mine: list[tuple[pulp.LpVariable, float]],
            all_terms: list[tuple[pulp.LpVariable, float]], a: float,
            b: float) -> pulp.LpAffineExpression:
    """``a * mine + b * all`` with each variable once: a variable listed twice in an
    LpAffineExpression keeps only its last coefficient, it is not summed."""
    coef: dict[str, tuple[pulp.LpVariable, float]] = {}
    for terms, factor in ((mine, a), (all_terms, b)):
        for v, c in terms:
            old = coef.get(v.name, (v, 0.0))[1]
            coef[v.name] = (v, old + factor * c)
    return pulp.LpAffineExpression(list(coef.values()))


def set_start(model: Model, problem: Problem, orders: Orders) -> None:
    """Load a plan as the solver's starting point (warm start)."""
    for key, var in model.k.items():
        q = orders.get(key, 0)
        var.setInitialValue(q // model.multiple[key])
        model.y[key].setInitialValue(1 if q > 0 else 0)
    for key, var in model.dev.items():
        var.setInitialValue(abs(orders.get(key, 0) - problem.previous.get(key, 0)))
    arrivals = arrivals_by_part(problem, orders)
    for p, part in enumerate(problem.parts):
        n = part.n0
        for t in range(problem.periods):
            n += part.receipts[t] + arrivals[p][t] - part.demand[t]
            model.stock[(p, t)].setInitialValue(max(n, 0))
            model.back[(p, t)].setInitialValue(max(-n, 0))
            if (p, t) in model.stop:
                model.stop[(p, t)].setInitialValue(1 if n < 0 else 0)
            if (p, t) in model.short:
                model.short[(p, t)].setInitialValue(max(part.safety - max(n, 0), 0))
