"""What-if over the gateway's current state: plan it as it is and as a scenario would make it.

Nothing is stored and nothing is sent: the supply state is read in one read-only session,
both plans are made in memory (each within ``what_if_seconds``), and the comparison is
returned. The outbox, the plan runs and the approval queue are never touched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gateway.planning.config import PlanningConfig
from gateway.planning.run import _json_safe
from gateway.planning.state import build_state
from optimizer import Scenario, what_if

# Each of the two plans gets at most this long (so a what-if answers within half a minute).
WHAT_IF_SECONDS = 12.0


def what_if_run(
    sessions: sessionmaker[Session], scenarios: Sequence[Scenario], *, now: datetime,
    config: PlanningConfig, business_now: datetime | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Any]:
    """The current plan and the scenario's side by side (JSON-ready)."""
    business_now = business_now or now
    with sessions() as session:
        built = build_state(session, today=business_now.date(), now=now, config=config)
    options = replace(config.options(), time_limit=min(config.time_limit, WHAT_IF_SECONDS))
    _, _, view = what_if(built.state, scenarios, options, built.previous, clock=clock,
                         now=business_now, freshness=config.freshness())
    view["horizon_start"] = built.state.start.isoformat() if built.state.start else None
    view["period_days"] = built.state.period_days
    view["sent"] = 0  # a what-if never sends: nothing goes to the outbox
    return _json_safe(view)
