"""Receive a request body for the inbox: bounded, hashed, never buffered whole when large.

One place for every receiving route (``POST /edi``, ``/as2``, ``/api/v1/events``): the limit,
the 413 answer, and the cheap path for the common small body.
"""

from __future__ import annotations

from aiohttp import web

from gateway.inbox.spool import BodyTooLarge, SpooledBody, spool_bytes, spool_stream
from gateway.web.problems import Problem

CHUNK = 1 << 16


async def receive_body(request: web.Request, data_dir, limit: int) -> SpooledBody:
    length = request.content_length
    if length is not None and length > limit:
        raise Problem(413, "payload-too-large", "Payload Too Large",
                      f"body of {length} bytes exceeds the limit of {limit}")
    try:
        if length is not None and length <= CHUNK:
            # A small body of announced size (nearly every EDI document): one read instead of
            # an asynchronous chunk loop; the size is already known to be within the limit.
            return spool_bytes(await request.read(), data_dir, limit)
        return await spool_stream(request.content.iter_chunked(CHUNK), data_dir, limit)
    except BodyTooLarge as exc:
        raise Problem(413, "payload-too-large", "Payload Too Large", str(exc)) from None
