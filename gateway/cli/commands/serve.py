"""``edigate serve``: run the gateway's HTTP listener (and, later, SFTP and jobs)."""

from __future__ import annotations

import errno
import gc
import logging
import os
import ssl
import sys
from collections.abc import AsyncIterator
from dataclasses import replace

import click
from aiohttp import web

from gateway.cli import CliError
from gateway.cli.context import runtime_from, settings_from
from gateway.config import parse_listen
from gateway.jobs.workers import workers_ctx
from gateway.observability.logging import quiet_malformed_requests
from gateway.web.app import create_app
from schemas import default_registry

log = logging.getLogger("edigate")

# Connections a burst may open before the server accepts them. aiohttp's 128 overflowed when
# many partners (or one bulk sender) connected at once: the kernel drops the excess, and each
# dropped client retries its connection only after a second.
LISTEN_BACKLOG = 1024
GIL_SWITCH_SECONDS = 0.001
BIND_ERRORS = (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL)


async def freeze_startup_heap(app: web.Application) -> AsyncIterator[None]:
    """Take what start-up built out of the garbage collector's sight (``gc.freeze``).

    Modules, schemas, grammars and the app live as long as the process, yet every full
    collection walked them all: 60-70 ms pauses of the event loop every few seconds under load,
    which were the p99 of durable ingest. The schema registry is loaded first, so the first
    request that needs it does not pay for it either."""
    default_registry()
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


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
    app.cleanup_ctx.append(freeze_startup_heap)
    scheme = "https" if ssl_context else "http"
    quiet_malformed_requests()
    # The event loop shares the interpreter lock with the processing threads: a thread that
    # wants the lock gets it after at most this long. Python's 5 ms made every step of a
    # request wait behind CPU-bound translation (/healthz median 14 ms, worst 200 ms while
    # hostile documents were processed); at 1 ms: median 4-6 ms, worst 110-155 ms.
    sys.setswitchinterval(GIL_SWITCH_SECONDS)

    def listening(_banner: str) -> None:
        # aiohttp calls this once every site is bound: never "listening" before a failed bind.
        log.info("edigate listening on %s://%s:%s", scheme, settings.host, settings.port)

    try:
        web.run_app(app, host=settings.host, port=settings.port, ssl_context=ssl_context,
                    print=listening, access_log=None, shutdown_timeout=10,
                    backlog=LISTEN_BACKLOG)
    except OSError as exc:
        if exc.errno not in BIND_ERRORS:
            raise
        raise CliError(f"cannot listen on {settings.host}:{settings.port}: "
                       f"{os.strerror(exc.errno or 0)}") from None
