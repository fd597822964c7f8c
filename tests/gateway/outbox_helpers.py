"""A fake supplier endpoint that records what it receives, and partner set-up for outbox tests."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from gateway.outbound import webhook
from gateway.partners.profile import parse_profile
from gateway.storage.models import Partner
from gateway.storage.repositories import upsert_partner

SECRET = "whsec_test_0123456789abcdef"


@dataclass
class Received:
    business_id: str
    body: bytes
    headers: dict[str, str]


@dataclass
class FakeSupplier:
    """Answers the scripted statuses first (e.g. [503, 503]), then 200; verifies signatures."""

    script: list[int] = field(default_factory=list)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    rejected_signatures: int = 0
    runner: web.AppRunner | None = None
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.delay:
            await asyncio.sleep(self.delay)
        signature = request.headers.get(webhook.HEADER)
        if signature is not None:
            try:
                webhook.verify(SECRET, signature, body, now=int(time.time()))
            except webhook.SignatureError as exc:
                self.rejected_signatures += 1
                return web.Response(status=401, text=str(exc))
        if self.script:
            status = self.script.pop(0)
            if status != 200:
                return web.Response(status=status, text="scripted failure")
        self.received.append(Received(request.headers.get("Edigate-Business-Id", ""), body,
                                      dict(request.headers)))
        return web.Response(status=200, text="ok")

    async def start(self) -> FakeSupplier:
        app = web.Application(client_max_size=64 << 20)
        app.router.add_post("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/orders"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def webhook_partner(session: Session, url: str, *, pid: str = "hook-supplier",
                    stage: str = "api", extra: dict[str, Any] | None = None) -> Partner:
    table: dict[str, Any] = {
        "id": pid, "name": "Webhook Supplier", "standard": "api",
        "stages": {"*": stage}, "channels": {"rest": {}, "webhook": {"url": url,
                                                                      "secret": SECRET}},
    }
    table.update(extra or {})
    upsert_partner(session, parse_profile(table), now=datetime.now(UTC), actor="test")
    session.flush()
    partner = session.get(Partner, pid)
    assert partner is not None
    return partner


def order(number: int, lines: int = 1) -> dict[str, Any]:
    return {"order_number": f"PO{number:06d}", "order_date": "2026-11-20",
            "purpose": "original", "currency": "EUR",
            "lines": [{"line_number": str(i + 1), "buyer_part": f"P-{i:04d}",
                       "quantity": 10 * (i + 1), "unit": "EA", "unit_price": 1.25}
                      for i in range(lines)]}


def body_json(received: Received) -> dict[str, Any]:
    return json.loads(received.body)
