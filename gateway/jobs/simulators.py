"""Run the demo supplier network inside the server (``make run``: ``EDIGATE_DEMO_SIMULATE``).

The simulators are ordinary clients of this process: they reach it over HTTP, SFTP and AS2 on
the addresses it listens on, exactly as external suppliers would. They start once the server
listens and stop before it shuts down; anything they do wrong is logged, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from sqlalchemy import func, select

from gateway.runtime import Runtime
from gateway.simulate.engine import FIXTURE_PARTNERS, Options, Simulation
from gateway.storage.models import Interchange
from gateway.web.keys import RUNTIME

log = logging.getLogger("edigate.simulate")
SIMULATION = web.AppKey("simulation", Simulation)


def control_base(runtime: Runtime):  # type: ignore[no-untyped-def]
    """Start each partner's control numbers past what it already sent us, so a restarted demo
    on the same database never reuses one (the gateway would quarantine it)."""
    def start(partner: str) -> int:
        with runtime.sessions() as session:
            count = session.scalar(select(func.count()).select_from(Interchange).where(
                Interchange.partner_id == partner)) or 0
        return int(count) * 10 + 1

    return start


def options_for(app: web.Application, base_url: str) -> Options:
    runtime = app[RUNTIME]
    settings = runtime.settings
    sftp: tuple[str, int] | None = None
    if settings.sftp_listen:
        from gateway.channels.sftp_service import SFTP_SERVER

        server = app.get(SFTP_SERVER)
        host = settings.sftp_listen.rpartition(":")[0].strip("[]") or "127.0.0.1"
        port = server.port if server is not None else int(settings.sftp_listen.rpartition(":")[2])
        sftp = ("127.0.0.1" if host in ("0.0.0.0", "::") else host, port)
    as2 = any(getattr(r, "resource", None) is not None and
              r.resource.canonical == "/as2" for r in app.router.routes())
    partners = Path(settings.fixtures_dir) if settings.fixtures_dir else FIXTURE_PARTNERS
    return Options(base_url=base_url, partners_dir=partners, data_dir=settings.data_path,
                   sessions=runtime.sessions, sftp=sftp, as2=as2, pace=settings.demo_pace,
                   seed=settings.demo_seed, our_x12=(settings.x12_id, settings.x12_qualifier),
                   our_edifact=(settings.edifact_id, settings.edifact_qualifier),
                   control_start=control_base(runtime))


def base_url(app: web.Application) -> str:
    """The server's own address, as the suppliers reach it."""
    settings = app[RUNTIME].settings
    scheme = "https" if settings.tls_cert else "http"
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    return f"{scheme}://{host}:{settings.port}"


async def _play(app: web.Application, stop: asyncio.Event) -> None:
    try:
        if not app[RUNTIME].settings.port:
            log.warning("demo simulators need a fixed listen port (server.listen); not started")
            return
        base = base_url(app)
        simulation = Simulation(options_for(app, base))
        await simulation.start_up()
        app[SIMULATION] = simulation
        # Plan and score suppliers on the scenario's calendar, not the wall clock's.
        runtime = app[RUNTIME]
        wall_clock = runtime.clock
        runtime.clock = simulation.business_now
        log.info("demo simulators running: %d suppliers, seed %d, a tick every %.1fs",
                 len(simulation.suppliers), simulation.scenario.seed, simulation.o.pace)
        try:
            await simulation.run(stop)
        finally:
            runtime.clock = wall_clock
            await simulation.close()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("demo simulators stopped by an error; the gateway keeps running")


async def simulators_ctx(app: web.Application) -> AsyncIterator[None]:
    if not app[RUNTIME].settings.demo_simulate:
        yield
        return
    stop = asyncio.Event()
    # The first requests go out once the server accepts connections (after start-up).
    task = asyncio.get_running_loop().create_task(_delayed(app, stop), name="edigate-simulators")
    yield
    stop.set()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, timeout=15)


async def _delayed(app: web.Application, stop: asyncio.Event) -> None:
    await asyncio.sleep(1.0)
    await _play(app, stop)
