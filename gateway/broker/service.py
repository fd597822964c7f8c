"""The broker relay (and inbound consumers) inside ``edigate serve``: started when
``broker.url`` is set and jobs are enabled, stopped with the server (aiohttp cleanup context).
Without a broker nothing starts and nothing is imported from the client libraries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from gateway.broker.destination import Destination, inbound_partners
from gateway.web.keys import RUNTIME

log = logging.getLogger("edigate.broker")


async def broker_ctx(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    destination = Destination.from_settings(runtime.settings)
    if destination is None or not runtime.settings.jobs_enabled:
        yield
        return
    from gateway.broker.inbound import InboundConsumer
    from gateway.broker.relay import Relay

    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    relay = Relay(runtime, destination)
    tasks.append(asyncio.create_task(relay.run_forever(stop), name="edigate-broker-relay"))
    consumer: InboundConsumer | None = None
    partners = inbound_partners(runtime.settings)
    if partners:
        consumer = InboundConsumer(runtime, destination, partners)
        tasks.append(asyncio.create_task(consumer.run_forever(stop),
                                         name="edigate-broker-inbound"))
    log.info("broker relay to %s (%s) started", destination.name, destination.kind)
    try:
        yield
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, timeout=15)
        await relay.close()
        if consumer is not None:
            await consumer.close()
