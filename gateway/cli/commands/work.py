"""``edigate work``: an inbox worker process (translate, validate, store events, queue acks).

``serve`` answers partners as soon as their bytes are committed; with ``Prefer: respond-async``
(or ``inbox.workers`` > 0) the processing is left to workers like this one, which may run on
other cores or machines against the same database. Several can run at once: each interchange
is claimed once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

import click

from gateway.cli.context import runtime_from
from gateway.jobs.resume import work_inbox

log = logging.getLogger("edigate.worker")


@click.command(name="work")
@click.option("--once", is_flag=True, help="Process what is waiting, then exit.")
@click.option("--nice", type=click.IntRange(0, 19), default=0, show_default=True,
              help="Lower this worker's CPU priority (as nice(1)), so the processes that "
                   "answer partners come first on a busy machine.")
@click.option("--parent", type=int, default=None, hidden=True,
              help="Exit when this process (the `serve` that started us) is gone.")
@click.option("--share", default=None, hidden=True,
              help="SLOT/COUNT: take this worker's share of the inbox (serve's workers).")
@click.pass_context
def command(ctx: click.Context, once: bool, nice: int, parent: int | None,
            share: str | None) -> None:
    """Process received interchanges until interrupted (SIGTERM or Ctrl-C)."""
    if nice:
        os.nice(nice)
    runtime = runtime_from(ctx)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if parent is not None:
        threading.Thread(target=_stop_when_orphaned, args=(parent, stop), daemon=True,
                         name="edigate-parent-watch").start()
    log.info("inbox worker started")
    slot, _, count = (share or "0/1").partition("/")
    done = work_inbox(runtime, stop, once=once, min_age=0 if once else 0.5,
                      share=(int(slot), int(count or 1)))
    log.info("inbox worker stopped after %d interchange(s)", done)
    if once:
        click.echo(f"processed {done} interchange(s)")


def _stop_when_orphaned(parent: int, stop: threading.Event) -> None:
    # A server killed with SIGKILL cannot stop its workers; they notice they were re-parented.
    while not stop.wait(0.5):
        if os.getppid() != parent:
            log.warning("the serving process %d is gone; stopping", parent)
            stop.set()
