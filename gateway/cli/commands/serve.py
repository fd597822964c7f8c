"""``edigate serve``: run the gateway's HTTP listener (and, later, SFTP and jobs)."""

from __future__ import annotations

import logging
import ssl
from dataclasses import replace

import click
from aiohttp import web

from gateway.cli import CliError
from gateway.cli.context import runtime_from, settings_from
from gateway.config import parse_listen
from gateway.jobs.workers import workers_ctx
from gateway.web.app import create_app

log = logging.getLogger("edigate")


@click.command(name="serve")
@click.option("--listen", default=None, help="HOST:PORT, overrides server.listen.")
@click.pass_context
def command(ctx: click.Context, listen: str | None) -> None:
    """Serve the gateway (REST, HTTP EDI, AS2, dashboard) until interrupted."""
    settings = settings_from(ctx)
    if listen:
        try:
            settings = replace(settings, listen=parse_listen(listen))
        except ValueError as exc:
            raise CliError(f"--listen: {exc}") from None
        ctx.find_root().meta["edigate.settings"] = settings
    # Refuse to start on an unreachable database or a stale schema: one line, exit 1.
    runtime = runtime_from(ctx)
    ssl_context = None
    if settings.tls_cert:
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(settings.tls_cert, settings.tls_key)
    app = create_app(settings, runtime=runtime)
    app.cleanup_ctx.append(workers_ctx(settings.inbox_workers,
                                       (ctx.find_root().obj or {}).get("config_path")))
    scheme = "https" if ssl_context else "http"
    log.info("edigate listening on %s://%s:%s", scheme, settings.host, settings.port)
    web.run_app(app, host=settings.host, port=settings.port, ssl_context=ssl_context,
                print=None, access_log=None, shutdown_timeout=10)
