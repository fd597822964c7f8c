"""Hostile HTTP: racing idempotency keys, NUL bytes, oversized headers, trickled bodies, a
busy port. Every one gets a clear answer (problem+json or one log line), never a 500 or a
traceback, on SQLite and PostgreSQL where a database is involved."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import time
import uuid

import pytest
from aiohttp.http_exceptions import LineTooLong
from sqlalchemy import func, select

from gateway.observability.logging import MalformedRequestFilter, quiet_malformed_requests
from gateway.storage.models import Event, IdempotencyKey
from gateway.web import body as body_module
from tests.gateway.gateway_app import BOLT, NOVA, app_for, auth, make_runtime
from tests.gateway.live_server import ROOT, LiveServer


def _event(number: str, event_id: str | None = None) -> dict:
    return {"specversion": "1.0", "id": event_id or str(uuid.uuid4()),
            "source": "/partners/nova-plastics", "type": "purchase_order",
            "time": "2026-11-22T08:00:00Z",
            "data": {"order_number": number, "lines": [
                {"line_number": "1", "buyer_part": "P-1", "quantity": 5, "unit": "EA"}]}}


async def test_one_idempotency_key_raced_with_different_bodies(client, runtime) -> None:
    headers = {**auth(NOVA), "Idempotency-Key": "race-1"}
    answers = await asyncio.gather(*(
        client.post("/api/v1/events", json=_event(f"RACE-{n}"), headers=headers)
        for n in range(16)))
    statuses = sorted(r.status for r in answers)
    assert 500 not in statuses, statuses
    assert statuses.count(201) == 1 and set(statuses) <= {201, 409, 422}, statuses
    for resp in answers:
        if resp.status != 201:
            assert resp.content_type == "application/problem+json"
            assert (await resp.json())["type"].endswith(("idempotency-key-reused",
                                                         "concurrent-request"))
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == 1
        assert s.scalar(select(func.count()).select_from(IdempotencyKey)) == 1


async def test_one_idempotency_key_raced_with_the_same_body_replays(client, runtime) -> None:
    event = _event("SAME-1")
    headers = {**auth(NOVA), "Idempotency-Key": "race-2"}
    answers = await asyncio.gather(*(client.post("/api/v1/events", json=event,
                                                 headers=headers) for _ in range(16)))
    assert {r.status for r in answers} == {201}
    bodies = [await r.json() for r in answers]
    assert all(b == bodies[0] for b in bodies)
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == 15
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == 1


@pytest.mark.parametrize("path", ["/interchanges/%00abc", "/interchanges/abc%00/raw",
                                  "/api/v1/events?type=purchase%00order",
                                  "/lineage/%00", "/api/v1/events?partner%00=x"])
async def test_a_nul_byte_in_a_path_or_query_is_a_400(client, path: str) -> None:
    resp = await client.get(path, headers=auth(BOLT))
    assert resp.status == 400, await resp.text()
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["type"].endswith("nul-character")


async def test_event_attributes_longer_than_their_columns_are_invalid(client) -> None:
    for event, pointer in ((_event("LONG-1", event_id="x" * 65), "/id"),
                           ({**_event("LONG-2"), "subject": "s" * 201}, "/subject"),
                           ({**_event("NUL-1"), "subject": "a\x00b"}, "/subject")):
        resp = await client.post("/api/v1/events", json=event, headers=auth(NOVA))
        body = await resp.json()
        assert resp.status == 422, body
        assert any(e["pointer"] == pointer for e in body["errors"]), body


async def test_a_trickled_body_times_out(engine, tmp_path, aiohttp_client) -> None:
    runtime = make_runtime(engine, tmp_path, body_timeout_seconds=0.5)
    client = await aiohttp_client(app_for(runtime))
    assert body_module.body_timeout  # server.body_timeout_seconds is what it reads
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    writer.write(b"POST /edi HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + BOLT.encode()
                 + b"\r\nContent-Length: 1000\r\n\r\nISA*")
    await writer.drain()
    started = time.monotonic()

    async def trickle() -> None:
        for _ in range(20):
            await asyncio.sleep(0.2)
            writer.write(b"0")
            await writer.drain()

    task = asyncio.create_task(trickle())
    try:
        status_line = await asyncio.wait_for(reader.readline(), 5)
    finally:
        task.cancel()
        writer.close()
    runtime.stop_threads()
    assert status_line.startswith(b"HTTP/1.1 408"), status_line
    assert time.monotonic() - started < 3


def test_malformed_request_log_line_has_no_contents() -> None:
    try:
        raise LineTooLong(b"Authorization: Bearer edg_secret_token_value", "8190", "9000")
    except LineTooLong:
        record = logging.LogRecord("aiohttp.server", logging.ERROR, __file__, 1,
                                   "Error handling request from %s", ("10.0.0.1",),
                                   sys.exc_info())
    assert MalformedRequestFilter().filter(record)
    line = logging.Formatter().format(record)
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "Bearer" not in line and "secret" not in line and "Traceback" not in line
    assert "10.0.0.1" in line and "LineTooLong" in line


async def test_an_oversized_header_is_one_warning_without_its_value(client, caplog) -> None:
    quiet_malformed_requests()
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer edg_"
                 + b"s" * 20_000 + b"\r\n\r\n")
    await writer.drain()
    with caplog.at_level(logging.DEBUG, logger="aiohttp.server"):
        status_line = await asyncio.wait_for(reader.readline(), 5)
        await asyncio.sleep(0.05)
    writer.close()
    assert status_line.split()[1] in (b"400", b"431"), status_line
    records = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert records, "the refusal is logged"
    for record in records:
        assert record.levelno <= logging.WARNING and record.exc_info is None
        assert "Bearer" not in record.getMessage() and "sss" not in record.getMessage()


def test_a_busy_port_is_one_line_and_never_listening(tmp_path) -> None:
    server = LiveServer(tmp_path / "busy").prepare()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", server.port))
        taken.listen()
        done = subprocess.run([sys.executable, "-m", "gateway", "serve"], env=server.env,
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "listening" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert errors == [f"edigate: error: cannot listen on 127.0.0.1:{server.port}: "
                      "Address already in use"], done.stderr


async def test_a_nul_in_event_data_that_becomes_a_column_is_invalid(client, runtime) -> None:
    resp = await client.post("/api/v1/events", json=_event("PO\x001"), headers=auth(NOVA))
    assert resp.status in (400, 422), await resp.text()
    assert resp.content_type == "application/problem+json"
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == 0
