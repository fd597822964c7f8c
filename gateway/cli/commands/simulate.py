"""``edigate simulate``: the demo suppliers, trading with a running gateway over its channels."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from pathlib import Path

import click

from gateway.cli import CliError
from gateway.cli.context import settings_from
from gateway.simulate.engine import FIXTURE_PARTNERS, Options, Simulation
from gateway.simulate.network import NetworkError, parse_injection


@click.command(name="simulate")
@click.option("--url", default=None, help="The gateway's base URL (default: server.listen).")
@click.option("--partners", "partners_dir", type=click.Path(file_okay=False, path_type=Path),
              default=FIXTURE_PARTNERS, show_default=True, help="Partner profiles (tokens).")
@click.option("--scenario", type=click.Path(dir_okay=False, path_type=Path),
              help="Scenario TOML (default fixtures/scenarios/default.toml).")
@click.option("--seed", type=int, default=None, help="Overrides the scenario's seed.")
@click.option("--pace", type=float, default=None, help="Seconds per tick (default demo.pace).")
@click.option("--days", type=float, default=None, help="Stop after this many scenario days.")
@click.option("--sftp", "sftp", default=None, metavar="HOST:PORT",
              help="The gateway's SFTP server (registers demo keys; needs database access).")
@click.option("--as2", is_flag=True, help="Send AS2 (registers demo certificates).")
@click.option("--inject", multiple=True, metavar="EVENT",
              help="outage:SUPPLIER:FROM-TO or capacity_drop:SUPPLIER:FROM-TO:FACTOR")
@click.pass_context
def command(ctx: click.Context, url: str | None, partners_dir: Path, scenario: Path | None,
            seed: int | None, pace: float | None, days: float | None, sftp: str | None,
            as2: bool, inject: tuple[str, ...]) -> None:
    """Play the supplier network against a running gateway until interrupted."""
    settings = settings_from(ctx)
    try:
        injections = [parse_injection(text) for text in inject]
    except NetworkError as exc:
        raise CliError(str(exc)) from None
    sessions = None
    if sftp or as2:
        from gateway.cli.context import runtime_from

        sessions = runtime_from(ctx).sessions
    sftp_addr = None
    if sftp:
        host, _, port = sftp.rpartition(":")
        if not port.isdigit():
            raise CliError(f"--sftp: expected HOST:PORT, got {sftp!r}")
        sftp_addr = (host or "127.0.0.1", int(port))
    host = settings.host if settings.host not in ("0.0.0.0", "::") else "127.0.0.1"
    base = url or f"http://{host}:{settings.port}"
    stamp = int(time.time()) % 9_000_000
    options = Options(base_url=base.rstrip("/"), partners_dir=partners_dir,
                      data_dir=settings.data_path, sessions=sessions, sftp=sftp_addr, as2=as2,
                      pace=settings.demo_pace if pace is None else pace,
                      seed=settings.demo_seed if seed is None else seed, scenario_file=scenario,
                      our_x12=(settings.x12_id, settings.x12_qualifier),
                      our_edifact=(settings.edifact_id, settings.edifact_qualifier),
                      control_start=lambda partner: stamp * 100 + 1)
    try:
        simulation = Simulation(options)
    except NetworkError as exc:
        raise CliError(str(exc)) from None
    simulation.scenario = simulation.scenario.with_events(injections)
    click.echo(f"simulating {simulation.scenario.name!r} (seed {simulation.scenario.seed}) "
               f"against {base}; Ctrl-C stops")
    asyncio.run(_run(simulation, days))
    sent = sum(simulation.stats.sent.values())
    click.echo(f"{sent} documents sent over {simulation.day:.1f} scenario days; "
               f"{sum(simulation.stats.failures.values())} failed actions retried")


async def _run(simulation: Simulation, days: float | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # event loops without signal support
            loop.add_signal_handler(sig, stop.set)
    await simulation.start_up()
    try:
        await simulation.run(stop, days=days)
    finally:
        await simulation.close()
