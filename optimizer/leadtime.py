"""Lead-time statistics from order history, and safety stock at a target service level.

Safety stock uses the standard formula for variable demand and variable lead time::

    SS = z * sqrt(LT * sigma_d^2 + d^2 * sigma_LT^2)

with ``z`` the standard normal quantile of the service level, ``d``/``sigma_d`` the mean and
standard deviation of demand per period, and ``LT``/``sigma_LT`` those of the lead time in
periods. A per-part override wins over the formula.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Delivery:
    """One historical order: when it was placed and when it arrived."""

    part: str
    supplier: str
    ordered: date
    arrived: date


@dataclass(frozen=True)
class LeadTimeStats:
    count: int
    mean: float  # in periods
    std: float  # sample standard deviation, 0 for a single observation


def lead_time_stats(
    history: Iterable[Delivery], period_days: int = 1
) -> dict[tuple[str, str], LeadTimeStats]:
    """Mean and spread of lead time per (part, supplier), in periods of ``period_days``."""
    if period_days < 1:
        raise ValueError("period_days must be at least 1")
    samples: dict[tuple[str, str], list[float]] = {}
    for d in history:
        days = (d.arrived - d.ordered).days
        if days < 0:
            raise ValueError(
                f"{d.part}/{d.supplier}: arrived {d.arrived} before it was ordered {d.ordered}"
            )
        samples.setdefault((d.part, d.supplier), []).append(days / period_days)
    return {
        key: LeadTimeStats(
            len(values), statistics.fmean(values),
            statistics.stdev(values) if len(values) > 1 else 0.0,
        )
        for key, values in samples.items()
    }


def service_z(service_level: float) -> float:
    if not 0 < service_level < 1:
        raise ValueError("service level must be strictly between 0 and 1")
    return statistics.NormalDist().inv_cdf(service_level)


def safety_stock(
    demand: Sequence[float], lead_time: LeadTimeStats, service_level: float
) -> int:
    """Units of safety stock for one part (rounded up)."""
    if not demand:
        return 0
    d = statistics.fmean(demand)
    sigma_d = statistics.stdev(demand) if len(demand) > 1 else 0.0
    z = service_z(service_level)
    variance = lead_time.mean * sigma_d**2 + d**2 * lead_time.std**2
    return max(0, math.ceil(z * math.sqrt(max(variance, 0.0)) - 1e-9))


def safety_stocks(
    demand: Mapping[str, Sequence[float]],
    stats: Mapping[tuple[str, str], LeadTimeStats],
    service_level: float,
    overrides: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Safety stock per part; a part's lead time is the pooled history over its suppliers."""
    overrides = overrides or {}
    out: dict[str, int] = {}
    for part, series in demand.items():
        if part in overrides:
            out[part] = overrides[part]
            continue
        mine = [s for (p, _), s in stats.items() if p == part and s.count]
        if not mine:
            out[part] = 0
            continue
        total = sum(s.count for s in mine)
        mean = sum(s.mean * s.count for s in mine) / total
        # Pooled variance: within-supplier spread plus spread between supplier means.
        var = sum(s.count * (s.std**2 + (s.mean - mean) ** 2) for s in mine) / total
        out[part] = safety_stock(series, LeadTimeStats(total, mean, math.sqrt(var)),
                                 service_level)
    return out
