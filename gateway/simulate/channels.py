"""The supplier side of every channel: how a simulated supplier talks to the gateway.

HTTP EDI (POST /edi, pick-up from GET /api/v1/outbound), SFTP (asyncssh client into the hosted
mailbox), AS2 (a signed and encrypted message built with the AS2 codec, POSTed to /as2), REST
(CloudEvents to /api/v1/events) and the receiving end of our signed webhooks. Every call raises
:class:`ChannelError` on failure; the supplier decides to retry, nothing here crashes a server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from gateway.outbound import webhook
from schemas import default_registry

log = logging.getLogger("edigate.simulate")
TIMEOUT = aiohttp.ClientTimeout(total=30)


class ChannelError(Exception):
    """A send or fetch that did not go through; worth retrying later."""


async def _read_answer(resp: aiohttp.ClientResponse, what: str) -> dict[str, Any]:
    text = await resp.text(errors="replace")
    if resp.status >= 500 or resp.status in (408, 429):
        raise ChannelError(f"{what}: HTTP {resp.status}: {text[:200]}")
    try:
        body = json.loads(text) if text else {}
    except json.JSONDecodeError:
        body = {"text": text[:200]}
    body = body if isinstance(body, dict) else {"body": body}
    body["http_status"] = resp.status
    return body


@dataclass
class HttpEdi:
    """POST /edi with the partner's bearer token; documents for us come from /api/v1/outbound."""

    http: aiohttp.ClientSession
    base_url: str
    token: str
    seen: set[str] = field(default_factory=set)

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def send(self, name: str, raw: bytes, standard: str) -> dict[str, Any]:
        kind = "application/edi-x12" if standard == "x12" else "application/edifact"
        try:
            async with self.http.post(f"{self.base_url}/edi", data=raw, timeout=TIMEOUT,
                                      headers={**self._auth, "Content-Type": kind,
                                               "Content-Disposition": name}) as resp:
                return await _read_answer(resp, "POST /edi")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelError(f"POST /edi: {type(exc).__name__}: {exc}") from None

    async def fetch(self) -> list[tuple[str, bytes]]:
        try:
            async with self.http.get(f"{self.base_url}/api/v1/outbound", headers=self._auth,
                                     timeout=TIMEOUT) as resp:
                if resp.status == 404:
                    return []
                listing = await _read_answer(resp, "GET /api/v1/outbound")
            out: list[tuple[str, bytes]] = []
            for doc in listing.get("documents", []):
                if doc["id"] in self.seen or doc.get("picked_up"):
                    continue
                async with self.http.get(f"{self.base_url}{doc['href']}", headers=self._auth,
                                         timeout=TIMEOUT) as resp:
                    if resp.status != 200:
                        raise ChannelError(f"GET {doc['href']}: HTTP {resp.status}")
                    out.append((doc["id"], await resp.read()))
                self.seen.add(doc["id"])
            return out
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelError(f"pick-up: {type(exc).__name__}: {exc}") from None


@dataclass
class SftpMailbox:
    """The partner's own SFTP client: uploads to /inbound (via a temporary name and a rename),
    picks up from /outbound (read, then remove)."""

    host: str
    port: int
    username: str
    key_path: Path

    async def _connect(self) -> Any:
        import asyncssh

        try:
            return await asyncio.wait_for(asyncssh.connect(
                self.host, self.port, username=self.username,
                client_keys=[str(self.key_path)], known_hosts=None), timeout=20)
        except (OSError, asyncssh.Error, TimeoutError) as exc:
            raise ChannelError(f"SFTP connect {self.host}:{self.port} as {self.username}: "
                               f"{exc}") from None

    async def send(self, name: str, raw: bytes, standard: str) -> dict[str, Any]:
        import asyncssh

        conn = await self._connect()
        try:
            async with conn, conn.start_sftp_client() as sftp:
                temporary = f"/inbound/{name}.part"
                async with sftp.open(temporary, "wb") as handle:
                    await handle.write(raw)
                await sftp.rename(temporary, f"/inbound/{name}")
        except (OSError, asyncssh.Error) as exc:
            raise ChannelError(f"SFTP upload {name}: {exc}") from None
        return {"status": "uploaded"}

    async def fetch(self) -> list[tuple[str, bytes]]:
        import asyncssh

        conn = await self._connect()
        out: list[tuple[str, bytes]] = []
        try:
            async with conn, conn.start_sftp_client() as sftp:
                for name in sorted(await sftp.listdir("/outbound")):
                    if name in (".", ".."):
                        continue
                    async with sftp.open(f"/outbound/{name}", "rb") as handle:
                        out.append((name, await handle.read()))
                    await sftp.remove(f"/outbound/{name}")
        except (OSError, asyncssh.Error) as exc:
            raise ChannelError(f"SFTP pick-up: {exc}") from None
        return out


@dataclass
class As2Sender:
    """A partner's AS2 station: signs with its key, encrypts to our certificate, asks for a
    signed synchronous MDN."""

    http: aiohttp.ClientSession
    url: str
    as2_from: str
    as2_to: str
    signer: Any  # gateway.channels.as2.cms.KeyPair
    recipient: Any  # our x509 certificate

    async def send(self, name: str, raw: bytes, standard: str) -> dict[str, Any]:
        from gateway.channels.as2.message import MdnRequest, OutboundOptions, build_message

        now = datetime.now(UTC)
        message = build_message(
            raw, message_id=f"{uuid.uuid4()}@{self.as2_from.lower()}.sim", as2_from=self.as2_from,
            as2_to=self.as2_to, now=now, options=OutboundOptions(
                content_type="application/edi-x12" if standard == "x12"
                else "application/edifact"),
            mdn=MdnRequest(mode="sync", signed=False), signer=self.signer,
            recipient=self.recipient, filename=name)
        try:
            async with self.http.post(self.url, data=message.body, headers=message.headers,
                                      timeout=TIMEOUT) as resp:
                body = await resp.read()
                if resp.status != 200:
                    raise ChannelError(f"AS2 POST: HTTP {resp.status}: {body[:200]!r}")
                lowered = body.lower()
                if b"processed/error" in lowered or b"failed/failure" in lowered:
                    raise ChannelError(f"AS2 MDN reports an error: {body[:300]!r}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelError(f"AS2 POST: {type(exc).__name__}: {exc}") from None
        return {"status": "mdn", "message_id": message.message_id}


@dataclass
class RestApi:
    """The modern path: CloudEvents to /api/v1/events with an Idempotency-Key."""

    http: aiohttp.ClientSession
    base_url: str
    token: str
    partner_id: str

    def event(self, event_type: str, data: dict[str, Any], *, subject: str,
              event_id: str, when: datetime) -> dict[str, Any]:
        return {"specversion": "1.0", "id": event_id, "source": f"/partners/{self.partner_id}",
                "type": event_type, "time": when.isoformat().replace("+00:00", "Z"),
                "subject": subject, "datacontenttype": "application/json",
                "dataschemaversion": default_registry().latest(event_type), "data": data}

    async def post(self, events: list[dict[str, Any]], key: str) -> dict[str, Any]:
        try:
            async with self.http.post(f"{self.base_url}/api/v1/events",
                                      data=json.dumps(events).encode(), timeout=TIMEOUT,
                                      headers={"Authorization": f"Bearer {self.token}",
                                               "Content-Type": "application/json",
                                               "Idempotency-Key": key}) as resp:
                return await _read_answer(resp, "POST /api/v1/events")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelError(f"POST /api/v1/events: {type(exc).__name__}: {exc}") from None


WebhookHandler = Callable[[dict[str, Any]], Awaitable[None]]


class PartnerEndpoint:
    """The small web server an API partner runs: our signed webhooks arrive here, and (for a
    partner the gateway polls) its own events are served at ``GET <path>/events``."""

    def __init__(self, host: str, port: int, *, webhook_path: str, secret: str,
                 on_webhook: WebhookHandler, tolerance: int = 300) -> None:
        self.host, self.port = host, port
        self.webhook_path, self.secret, self.tolerance = webhook_path, secret, tolerance
        self.on_webhook = on_webhook
        self.published: list[dict[str, Any]] = []  # served to the gateway's API pull
        self.pull_prefix = ""
        self.rejected = 0
        self._runner: web.AppRunner | None = None

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            webhook.verify(self.secret, request.headers.get(webhook.HEADER, ""), body,
                           now=int(time.time()), tolerance=self.tolerance)
            envelope = json.loads(body)
        except (webhook.SignatureError, json.JSONDecodeError) as exc:
            self.rejected += 1
            return web.json_response({"error": str(exc)}, status=401)
        await self.on_webhook(envelope)
        return web.json_response({"received": envelope.get("id")}, status=202)

    async def _events(self, request: web.Request) -> web.Response:
        try:
            after = int(request.query.get("after", request.query.get("cursor", "0")) or 0)
        except ValueError:
            return web.json_response({"error": "after must be an integer"}, status=400)
        page = self.published[after:after + 100]
        return web.json_response({"events": page, "next": after + len(page)})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(self.webhook_path, self._webhook)
        if self.pull_prefix:
            app.router.add_get(f"{self.pull_prefix}/events", self._events)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
