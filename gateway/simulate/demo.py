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
import logging
import math
import re
import socket
import time
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
from gateway.domain.states import InterchangeStatus, OutboxStatus, Stage
from gateway.partners.profile import load_profiles
from gateway.runtime import Runtime
from gateway.simulate.engine import FIXTURE_PARTNERS, Simulation
from gateway.simulate.network import load_scenario
from gateway.storage.migrate import upgrade
from gateway.storage.models import Interchange, OutboxItem
from gateway.storage.repositories import authenticate_token, issue_token, upsert_partner

log = logging.getLogger("edigate.demo")
OPERATORS = FIXTURE_PARTNERS.parent / "operators.toml"
# Each plan's time limit in a demo (it plans once per simulated day, at full speed).
PLAN_SECONDS = 15.0
NOT_AVAILABLE = "n/a (part not available)"


def private_partners(source: Path, target: Path) -> Path:
    """The partner profiles with every local endpoint (webhook receivers, the polled API) on
    a free port of its own: two demos on one machine never fight over a port, and a supplier
    never loses its webhooks to another process (which made runs of one seed differ)."""
    target.mkdir(parents=True, exist_ok=True)
    ports: dict[str, str] = {}

    def swap(match: re.Match[str]) -> str:
        port = ports.setdefault(match.group(1), str(free_port()))
        return f"127.0.0.1:{port}"

    for path in sorted(source.glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        (target / path.name).write_text(re.sub(r"127\.0\.0\.1:(\d+)", swap, text),
                                        encoding="utf-8")
    return target


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
class Migration:
    """One dual supplier's cut-over in the demo: how its stages moved and why."""

    partner_id: str
    history: list[str] = field(default_factory=list)  # "day 3: invoice dual -> api (...)"
    agreement: str = NOT_AVAILABLE  # over the comparable fields
    not_comparable: list[str] = field(default_factory=list)  # "lines.amount (EDI 0%, API 100%)"
    gate: list[str] = field(default_factory=list)  # per document type: decision and reasons
    stages: dict[str, str] = field(default_factory=dict)  # document type -> stage at the end


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
    migrations: dict[str, Migration] = field(default_factory=dict)


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


class WorkClock:
    """The planner's clock in a demo: it advances a fixed step at every reading instead of
    with the wall. The optimizer reads its clock between parts of its work, so its time
    budgets (the time limit, the dual phase's share) end at the same point of the search on
    every run of a seed, however loaded the machine: a wall-clock budget made the plans, and
    with them every order, acknowledgment and figure after them, differ from run to run."""

    def __init__(self, step: float = 0.0) -> None:
        self.step = step or PLAN_CLOCK_STEP
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        return self.readings * self.step


# Seconds of the planner's budget one reading of its clock stands for: the optimizer reads it
# between parts of its work, measured at 0.05-0.2 s of wall time apart on the demo network
# (48 readings in 10.3 s on a loaded 2-core machine), so a demo plan's budget of PLAN_SECONDS
# stays within about the same wall time as before (see WorkClock).
PLAN_CLOCK_STEP = 0.1


def _plan(runtime: Runtime) -> None:
    from gateway.planning.jobs import PlanningBusy, config_for, planning_lock
    from gateway.planning.outbox import settings_enqueuer
    from gateway.planning.run import run_plan

    # gateway.planning.jobs.run_now, with the work clock: the scheduler's own run would
    # plan against the wall.
    with contextlib.suppress(PlanningBusy), planning_lock(runtime):
        clock = WorkClock()
        started = time.perf_counter()
        run_plan(runtime.sessions, now=datetime.now(UTC), config=config_for(runtime),
                 business_now=runtime.clock(), trigger="demo", actor="demo",
                 enqueue=settings_enqueuer(runtime.settings),
                 buyer=runtime.settings.x12_id or "EDIGATE", clock=clock)
        log.info("demo plan: %d clock readings in %.1f s", clock.readings,
                 time.perf_counter() - started)


DEMO_OPERATOR = "demo-operator"
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


class Story:
    """The strangler story the demo tells, one scenario day at a time: the demo operator
    starts comparing (edi -> dual) where the scenario says so; every day the dual suppliers
    (and the EDI shadows of those already cut over) are reconciled; a passing gate promotes
    (by the partner's policy when it has ``auto_promote``, else by the demo operator); a
    shadow that stops agreeing after cut-over is rolled back to dual with the gate's words.

    Windows and gates run on the wall clock (every event carries the time it was really
    stored), so the whole demo falls into today's window.
    """

    def __init__(self, runtime: Runtime, simulation: Simulation, first_day: date) -> None:
        self.runtime = runtime
        self.simulation = simulation
        self.first_day = first_day
        self.migrations: dict[str, Migration] = {}
        self.suppliers = {s.s.partner_id: s for s in simulation.suppliers}

    def relative(self, text: str) -> str:
        """Calendar dates in a gate's words, told relative to the day the demo started
        ("run day-6..run day"): the whole demo runs within wall-clock hours, so the dates
        say only when it was run, and two runs of one seed must tell the same story."""
        def swap(match: re.Match[str]) -> str:
            try:
                shift = (date.fromisoformat(match.group(0)) - self.first_day).days
            except ValueError:
                return match.group(0)
            return "run day" if shift == 0 else f"run day{shift:+d}"

        return _ISO_DATE.sub(swap, text)

    def _note(self, partner_id: str, text: str) -> None:
        self.migrations.setdefault(partner_id, Migration(partner_id)).history.append(
            self.relative(text))

    def _set_supplier(self, partner_id: str, document_type: str, stage: str) -> None:
        supplier = self.suppliers.get(partner_id)
        if supplier is None:
            return
        supplier.s.stages[document_type] = stage
        if stage == Stage.API:
            supplier.s.shadow.add(document_type)
        else:
            supplier.s.shadow.discard(document_type)

    def start_day(self, day: int) -> None:
        """Migrations the scenario starts today: edi -> dual by the demo operator."""
        from gateway.reconcile import stages

        for m in self.simulation.scenario.migrations:
            if m.dual_from_day != day:
                continue
            with self.runtime.sessions.begin() as s:
                change = stages.promote(s, m.supplier, m.document_type, actor=DEMO_OPERATOR,
                                        reason="start comparing both paths",
                                        now=datetime.now(UTC))
            if change.changed:
                self._set_supplier(m.supplier, m.document_type, change.to_stage)
                self._note(m.supplier, f"day {day}: {m.document_type} {change.from_stage} -> "
                                       f"{change.to_stage} by the demo operator (start "
                                       "comparing both paths)")

    def _partners(self) -> list[tuple[str, str, str]]:
        from gateway.storage.models import PartnerStage

        with self.runtime.sessions() as s:
            rows = s.execute(select(PartnerStage.partner_id, PartnerStage.document_type,
                                    PartnerStage.stage)).all()
        return sorted((p, d, st) for p, d, st in rows
                      if st == "dual" or (st == "api" and self._shadowed(p, d)))

    def _shadowed(self, partner_id: str, document_type: str) -> bool:
        supplier = self.suppliers.get(partner_id)
        return supplier is not None and document_type in supplier.s.shadow

    def reconcile(self, now: datetime, *, final: bool = False) -> None:
        """Reconcile every dual and shadowed type over the demo's days. ``final``: the
        simulation is over, so a copy still missing will not come (judged after the grace)."""
        from gateway.reconcile.service import ReconcileError, day_window, run_reconciliation

        window = day_window(self.first_day, now.date())
        as_of = now + timedelta(days=1) if final else now
        for partner in sorted({p for p, _, _ in self._partners()}):
            try:
                with self.runtime.sessions.begin() as s:
                    run_reconciliation(s, partner, window, as_of=as_of, trigger="demo",
                                       actor=DEMO_OPERATOR, shadow=True)
            except ReconcileError:
                continue

    def end_day(self, day: int) -> None:
        """Reconcile, then promote what passes and roll back what regressed."""
        from gateway.reconcile import stages
        from gateway.reconcile.service import partner_config
        from gateway.storage.models import Partner

        now = datetime.now(UTC)
        self.reconcile(now)
        for partner_id, doc, stage in self._partners():
            with self.runtime.sessions.begin() as s:
                partner = s.get(Partner, partner_id)
                if partner is None:
                    continue
                if stage == Stage.API:
                    decision = stages.shadow_check(s, partner_id, doc, now=now)
                    if decision.allowed:
                        continue
                    reason = "regression after cut-over: " + "; ".join(decision.missing)
                    change = stages.rollback(s, partner_id, doc, actor=DEMO_OPERATOR,
                                             reason=reason, now=now)
                    who = "the demo operator"
                else:
                    decision = stages.preview(s, partner_id, doc, now=now)
                    if not decision.allowed:
                        continue
                    policy = partner_config(partner, s).gate_for(doc).auto_promote
                    who = "the partner's auto_promote policy" if policy \
                        else "the demo operator"
                    reason = "gate passed: " + "; ".join(decision.reasons)
                    change = stages.promote(s, partner_id, doc, now=now, reason=reason,
                                            actor=stages.POLICY_ACTOR if policy
                                            else DEMO_OPERATOR)
                    if not change.changed:
                        continue
            self._set_supplier(partner_id, doc, change.to_stage)
            self._note(partner_id, f"day {day}: {doc} {change.from_stage} -> "
                                   f"{change.to_stage} by {who} ({reason})")

    def finish(self, partners: list[str]) -> dict[str, Migration]:
        """The closing evidence per dual supplier: agreement over the comparable fields,
        what could not be compared, and each document type's gate decision."""
        from gateway.reconcile import stages
        from gateway.reconcile.service import daily_stats, latest_runs
        from gateway.storage.repositories import stage_of
        from reconciler import summarize

        now = datetime.now(UTC)
        self.reconcile(now, final=True)
        for partner_id in partners:
            m = self.migrations.setdefault(partner_id, Migration(partner_id))
            with self.runtime.sessions() as s:
                rows = daily_stats(s, partner_id=partner_id, since=self.first_day,
                                   until=now.date())
                total = summarize(rows, partner_id=partner_id)
                if total.decided:
                    m.agreement = (f"{total.agreement:.1%} over comparable fields "
                                   f"({total.matches}/{total.decided} documents)")
                else:
                    m.agreement = "no pairs decided yet"
                runs = [r for r in latest_runs(s, partner_id, limit=1)]
                coverage = runs[0].config.get("coverage", {}) if runs else {}
                for doc, fields in sorted(coverage.items()):
                    for f in fields:
                        why = f"; {f['reason']}" if f.get("reason") else ""
                        m.not_comparable.append(
                            f"{doc}: {f['field']} (EDI {f['edi']:.0%}, API {f['api']:.0%}"
                            f"{why})")
                for doc in sorted({r.document_type for r in rows}):
                    stage = stage_of(s, partner_id, doc)
                    m.stages[doc] = stage
                    if stage == Stage.API:
                        decision = stages.shadow_check(s, partner_id, doc, now=now)
                        verdict = "in api; shadow " + ("agrees" if decision.allowed else
                                                       "disagrees: " + "; ".join(
                                                           decision.missing))
                    else:
                        decision = stages.preview(s, partner_id, doc, now=now)
                        verdict = (f"{stage}; gate passes" if decision.allowed else
                                   f"held in {stage}: " + "; ".join(decision.missing))
                    m.gate.append(self.relative(f"{doc}: {verdict}"))
        return dict(sorted(self.migrations.items()))


# Scheduled jobs that decide on the wall clock: in a compressed run they would fire at moments
# that differ from run to run (a plan in the middle of a day, a promotion between two steps,
# an API poll before or after a supplier published). The demo does their work itself, at
# fixed points of the scenario's calendar: it plans once a day, reconciles and decides stages
# in the story, and polls the API partners in every drain.
WALL_CLOCK_JOBS = ("plan-interval", "plan-on-events", "reconcile", "api-pull")


def _quiet_wall_clock_jobs(app: web.Application) -> None:
    from gateway.jobs.scheduler import SCHEDULER

    scheduler = app.get(SCHEDULER)
    if scheduler is None:
        return
    for job_id in WALL_CLOCK_JOBS:
        with contextlib.suppress(Exception):  # not registered (jobs disabled): nothing to do
            scheduler.remove_job(job_id)


class _Poller:
    """The API pull, on demand: each call polls every pull partner once (its lease clock
    moves a day per call, so every partner is always due)."""

    def __init__(self, runtime: Runtime) -> None:
        from gateway.reconcile.jobs import PullJob

        self.job = PullJob(runtime, attempts=2, backoff=0.05, timeout=30.0)
        self.clock = datetime.now(UTC)

    async def poll(self) -> None:
        self.clock += timedelta(days=1)
        with contextlib.suppress(Exception):  # a failed poll is retried at the next drain
            await self.job.poll_due(now=self.clock)


def _retry_now(runtime: Runtime) -> int:
    """Make every delivery waiting for its retry due now. A retry's backoff is wall-clock
    minutes, which a compressed run crosses at a moment that differs between runs (so a
    supplier back from an outage got its orders a step earlier or later); in the demo a
    waiting delivery is retried once at each drain, a fixed point of the scenario."""
    from sqlalchemy import update

    from gateway.storage.models import OutboxItem

    now = datetime.now(UTC)
    with runtime.sessions.begin() as s:
        waiting = list(s.scalars(select(OutboxItem.id).where(
            OutboxItem.status == OutboxStatus.PENDING, OutboxItem.next_attempt_at > now)))
        if waiting:
            s.execute(update(OutboxItem).where(OutboxItem.id.in_(waiting))
                      .values(next_attempt_at=now),
                      execution_options={"synchronize_session": False})
        return len(waiting)


async def _drain(runtime: Runtime, poller: _Poller | None = None,
                 timeout: float = 600.0) -> None:
    """Poll the API partners, retry what waits for a retry, then wait until every received
    interchange is processed and every due outbox row went out, so the next simulated step
    sees the same gateway state on every run of a seed. ``timeout`` only guards against a
    gateway that stopped working: on a loaded machine a day's documents take a while, and
    moving on before they are done would change what the next step sees."""
    from gateway.storage.models import Interchange, OutboxItem

    if poller is not None:
        await poller.poll()
    await asyncio.to_thread(_retry_now, runtime)

    def busy() -> int:
        now = datetime.now(UTC)
        with runtime.sessions() as s:
            inbox = s.scalar(select(func.count()).select_from(Interchange).where(
                Interchange.status == InterchangeStatus.RECEIVED)) or 0
            outbox = s.scalar(select(func.count()).select_from(OutboxItem).where(
                (OutboxItem.status == OutboxStatus.SENDING)
                | ((OutboxItem.status == OutboxStatus.PENDING)
                   & (OutboxItem.next_attempt_at <= now))))
            return int(inbox) + int(outbox or 0)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await asyncio.to_thread(busy):
        if loop.time() >= deadline:
            log.warning("demo: the gateway is still busy after %.0f s; going on", timeout)
            break
        await asyncio.sleep(0.1)


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
    partners = private_partners(FIXTURE_PARTNERS, data_dir / "partners")
    token = await asyncio.to_thread(prepare, runtime, partners)
    app = create_app(settings, runtime=runtime)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    _quiet_wall_clock_jobs(app)
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    try:
        from gateway.jobs.simulators import options_for

        scenario = load_scenario(None, seed=seed)
        # The scenario's own calendar (not today's date at this hour): the same seed plays
        # the same days, whenever it is run.
        options = replace(options_for(app, base), pace=0.0, seed=seed, partners_dir=partners,
                          start=scenario.start or date(2027, 1, 4))
        simulation = Simulation(options, scenario=scenario)
        if injections:
            simulation.scenario = simulation.scenario.with_events(injections)
        wall_clock = runtime.clock
        runtime.clock = simulation.business_now  # planning follows the scenario's calendar
        await simulation.start_up()
        story = Story(runtime, simulation, datetime.now(UTC).date())
        poller = _Poller(runtime)
        try:
            stop = asyncio.Event()
            day = 0.0
            while day < days:
                # The scheduler's hourly plan would never fire in a compressed run: plan once
                # per simulated day, after that day's feeds and supplier news have arrived.
                await asyncio.to_thread(story.start_day, int(day))
                day = min(days, day + 1)
                await simulation.run(stop, days=day, on_tick=on_tick)
                await _drain(runtime, poller)
                await asyncio.to_thread(_plan, runtime)
                await _drain(runtime, poller)
                await asyncio.to_thread(story.end_day, math.ceil(day))
            await asyncio.sleep(settle_seconds)  # let the dispatcher and jobs catch up
            await _drain(runtime, poller)
            dual = sorted(simulation.stats.dual)
            migrations = await asyncio.to_thread(story.finish, dual)
            summary = await summarise(runtime, simulation, base, token)
            summary.migrations = migrations
            return summary
        finally:
            runtime.clock = wall_clock
            await simulation.close()
    finally:
        await runner.cleanup()
        runtime.close()
        use_config(runtime, None)
