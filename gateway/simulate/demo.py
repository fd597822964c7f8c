"""``edigate demo``'s engine: a throw-away gateway in this process, the network at full speed.

A temporary data directory with its own SQLite database, migrated and loaded with the fixture
partners and operator tokens; the real application (HTTP, hosted SFTP, jobs) on ephemeral
ports; the simulation ticking as fast as the gateway answers. The summary is read back from
the gateway (its database and its API), never from the simulator's own bookkeeping, except for
what only the simulator knows (the discrepancies it injected, the plant's stock-outs).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import func, select

from gateway.config import Settings
from gateway.partners.profile import load_profiles
from gateway.runtime import Runtime
from gateway.simulate.engine import FIXTURE_PARTNERS, Simulation
from gateway.storage.migrate import upgrade
from gateway.storage.models import Interchange, OutboxItem
from gateway.storage.repositories import authenticate_token, issue_token, upsert_partner

OPERATORS = FIXTURE_PARTNERS.parent / "operators.toml"
# Each plan's time limit in a demo (it plans once per simulated day, at full speed).
PLAN_SECONDS = 15.0
NOT_AVAILABLE = "n/a (part not available)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(runtime: Runtime, partners_dir: Path = FIXTURE_PARTNERS,
            operators: Path = OPERATORS) -> str:
    """Migrate, import partners and operator tokens; returns the admin token."""
    upgrade(runtime.engine)
    now = datetime.now(UTC)
    admin = ""
    with runtime.sessions.begin() as session:
        for profile in load_profiles(partners_dir):
            upsert_partner(session, profile, now=now, actor="demo")
        for entry in tomllib.loads(operators.read_text(encoding="utf-8")).get("operators", []):
            if entry.get("role") == "admin":
                admin = str(entry["token"])
            if authenticate_token(session, str(entry["token"]), now=now) is None:
                issue_token(session, token=str(entry["token"]), now=now, partner_id=None,
                            role=str(entry["role"]), name=str(entry.get("name", "")))
    return admin


@dataclass
class Summary:
    documents: dict[tuple[str, str, str], int] = field(default_factory=dict)
    outbound: dict[tuple[str, str, str], int] = field(default_factory=dict)
    injected: dict[str, Counter[str]] = field(default_factory=dict)
    reconciliation: dict[str, str] = field(default_factory=dict)
    plan: str = NOT_AVAILABLE
    stockouts: str = NOT_AVAILABLE
    stockout_part_days: int = 0
    # The plan in force against naive on the same state: part-periods short under each.
    plan_short: int | None = None
    naive_short: int | None = None
    failures: int = 0


def _documents(runtime: Runtime) -> tuple[dict[tuple[str, str, str], int],
                                          dict[tuple[str, str, str], int]]:
    with runtime.sessions() as s:
        rows = s.execute(select(Interchange.direction, Interchange.channel, Interchange.status,
                                func.count()).group_by(Interchange.direction,
                                                       Interchange.channel,
                                                       Interchange.status)).all()
        out = s.execute(select(OutboxItem.channel, OutboxItem.status, OutboxItem.ack_status,
                               func.count()).where(~OutboxItem.document_type.like("ack:%"))
                        .group_by(OutboxItem.channel, OutboxItem.status,
                                  OutboxItem.ack_status)).all()
    docs = {(d, c, st): int(n) for d, c, st, n in rows}
    return docs, {(c, st, a): int(n) for c, st, a, n in out}


async def _get_json(http: aiohttp.ClientSession, url: str, token: str) -> Any | None:
    try:
        async with http.get(url, headers={"Authorization": f"Bearer {token}"},
                            timeout=aiohttp.ClientTimeout(total=15)) as resp:
            if resp.status != 200:
                return None
            return await resp.json()
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None


async def summarise(runtime: Runtime, simulation: Simulation, base: str,
                    token: str) -> Summary:
    docs, out = await asyncio.to_thread(_documents, runtime)
    summary = Summary(documents=docs, outbound=out, injected=dict(simulation.stats.dual),
                      stockout_part_days=simulation.stats.stockout_part_days,
                      failures=sum(simulation.stats.failures.values()))
    async with aiohttp.ClientSession() as http:
        for partner in sorted(simulation.stats.dual):
            stats = await _get_json(http, f"{base}/api/v1/reconciliation/statistics"
                                          f"?partner={partner}", token)
            summary.reconciliation[partner] = _agreement(stats)
        plan = await _get_json(http, f"{base}/api/v1/plans/current", token)
        if isinstance(plan, dict):
            summary.plan = _plan_cost(plan)
            avoided = plan.get("stockouts_avoided", plan.get("backlog_avoided"))
            if isinstance(avoided, int):
                summary.stockouts = f"{avoided:+d}"  # signed: negative = worse than naive
            if isinstance(plan.get("stockouts"), int):
                summary.plan_short = plan["stockouts"]
            if isinstance(plan.get("naive_stockouts"), int):
                summary.naive_short = plan["naive_stockouts"]
    return summary


def _agreement(stats: Any) -> str:
    """Matches over decided pairs, summed over every day and document type."""
    rows = stats.get("statistics") if isinstance(stats, dict) else None
    if not isinstance(rows, list):
        return NOT_AVAILABLE
    decided = sum(int(r.get("decided") or 0) for r in rows if isinstance(r, dict))
    matches = sum(int((r.get("counts") or {}).get("match") or 0) for r in rows
                  if isinstance(r, dict))
    if not decided:
        return "no pairs decided yet"
    return f"{matches / decided * 100:.1f} % agreement ({matches}/{decided} documents)"


def _plan_cost(plan: dict[str, Any]) -> str:
    cost = plan.get("cost", plan.get("objective"))
    naive = plan.get("naive_cost", plan.get("fallback_cost"))
    if not isinstance(cost, int | float) or not isinstance(naive, int | float) or not naive:
        return NOT_AVAILABLE
    return f"{cost:,.0f} vs naive {naive:,.0f} ({(1 - cost / naive) * 100:+.1f} % saved)"


def _plan(runtime: Runtime) -> None:
    from gateway.planning.jobs import PlanningBusy, run_now

    with contextlib.suppress(PlanningBusy):  # the scheduler's own run is on it
        run_now(runtime, trigger="demo", actor="demo")


def _reconcile(runtime: Runtime, start: date, days: float) -> None:
    """Reconcile every dual supplier over the played days (what the scheduled job does)."""
    from gateway.reconcile.service import ReconcileError, day_window, run_reconciliation
    from gateway.storage.models import PartnerStage

    window = day_window(start, start + timedelta(days=max(0, math.ceil(days) - 1)))
    with runtime.sessions() as s:
        partners = sorted(set(s.scalars(select(PartnerStage.partner_id).where(
            PartnerStage.stage == "dual"))))
    for partner in partners:
        try:
            with runtime.sessions.begin() as s:
                run_reconciliation(s, partner, window, as_of=datetime.now(UTC),
                                   trigger="demo", actor="demo")
        except ReconcileError:
            continue


async def run_demo(days: float, *, data_dir: Path, seed: int,
                   on_tick: Callable[[Simulation], None] | None = None,
                   injections: list[Any] | None = None,
                   settle_seconds: float = 3.0, planning_method: str | None = None,
                   plan_seconds: float | None = PLAN_SECONDS) -> Summary:
    """Play ``days`` of the scenario against a fresh in-process gateway and summarise.

    ``planning_method`` (e.g. ``naive``) plans the whole run with that method instead of the
    settings' (to play the same scenario under the naive policy and compare);
    ``plan_seconds`` caps each plan's time limit (a compressed run plans every simulated
    day)."""
    from gateway.web.app import create_app

    port, sftp_port = free_port(), free_port()
    settings = Settings(data_dir=str(data_dir), listen=f"127.0.0.1:{port}",
                        sftp_listen=f"127.0.0.1:{sftp_port}", log_level="warning",
                        demo_seed=seed, dispatch_interval=0.5)
    settings = replace(settings, sources={})
    data_dir.mkdir(parents=True, exist_ok=True)
    runtime = Runtime.from_settings(settings)
    from gateway.planning.config import PlanningConfig
    from gateway.planning.jobs import use_config

    planning = PlanningConfig.from_settings(settings)
    if planning_method is not None:
        planning = replace(planning, method=planning_method)
    if plan_seconds is not None:
        planning = replace(planning, time_limit=min(planning.time_limit, plan_seconds))
    use_config(runtime, planning)
    token = await asyncio.to_thread(prepare, runtime)
    app = create_app(settings, runtime=runtime)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    try:
        from gateway.jobs.simulators import options_for

        options = replace(options_for(app, base), pace=0.0, seed=seed)
        simulation = Simulation(options)
        if injections:
            simulation.scenario = simulation.scenario.with_events(injections)
        await simulation.start_up()
        try:
            stop = asyncio.Event()
            day = 0
            while day < days:
                # The scheduler's hourly plan would never fire in a compressed run: plan once
                # per simulated day, after that day's feeds and supplier news have arrived.
                day = min(days, day + 1)
                await simulation.run(stop, days=day, on_tick=on_tick)
                await asyncio.sleep(settle_seconds / 3)
                await asyncio.to_thread(_plan, runtime)
            await asyncio.sleep(settle_seconds)  # let the dispatcher and jobs catch up
            await asyncio.to_thread(_reconcile, runtime, simulation.start, days)
            return await summarise(runtime, simulation, base, token)
        finally:
            await simulation.close()
    finally:
        await runner.cleanup()
        runtime.close()
        use_config(runtime, None)
