"""Receive a request body for the inbox: bounded, hashed, never buffered whole when large.

One place for every receiving route (``POST /edi``, ``/as2``, ``/api/v1/events``): the limit,
the 413 answer, and the cheap path for the common small body.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from gateway.inbox.spool import BodyTooLarge, SpooledBody, spool_bytes, spool_stream
from gateway.web.keys import RUNTIME
from gateway.web.problems import Problem

CHUNK = 1 << 16


# The whole body must arrive within this many seconds (``server.body_timeout_seconds`` where
# the configuration has it): a client trickling a byte now and then holds a connection, a
# spool file and a request slot for ever otherwise. 64 MiB at 1 MB/s fit in it.
BODY_TIMEOUT = 120.0


def body_timeout(request: web.Request) -> float:
    settings = request.app[RUNTIME].settings if RUNTIME in request.app else None
    return float(getattr(settings, "body_timeout_seconds", BODY_TIMEOUT) or BODY_TIMEOUT)


async def receive_body(request: web.Request, data_dir, limit: int) -> SpooledBody:
    length = request.content_length
    if length is not None and length > limit:
        raise Problem(413, "payload-too-large", "Payload Too Large",
                      f"body of {length} bytes exceeds the limit of {limit}")
    seconds = body_timeout(request)
    try:
        async with asyncio.timeout(seconds):
            if length is not None and length <= CHUNK:
                # A small body of announced size (nearly every EDI document): one read
                # instead of an asynchronous chunk loop; the size is known to be in the limit.
                return spool_bytes(await request.read(), data_dir, limit)
            return await spool_stream(request.content.iter_chunked(CHUNK), data_dir, limit)
    except BodyTooLarge as exc:
        raise Problem(413, "payload-too-large", "Payload Too Large", str(exc)) from None
    except TimeoutError:
        problem = Problem(408, "request-timeout", "Request Timeout",
                          f"the request body did not arrive within {seconds:g} seconds")
        problem.headers["Connection"] = "close"
        raise problem from None
