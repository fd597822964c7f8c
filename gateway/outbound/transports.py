"""Deliver one outbox row over its channel. Every transport answers with a `Delivery`.

Classification decides retries (promise 3 applied to ourselves): connection errors, timeouts,
HTTP 5xx and 429 can succeed later; other 4xx and refused documents cannot, and retrying them
would only hammer the partner.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Settings
from gateway.outbound import webhook
from gateway.storage.models import OutboxItem

RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


@dataclass
class Delivery:
    ok: bool
    retryable: bool = False
    detail: str = ""
    http_status: int | None = None
    # Set when delivery leaves the document waiting for the partner (mailbox, pick-up).
    awaiting_pickup: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def filename_for(item: OutboxItem) -> str:
    ext = "json" if item.channel == "webhook" else "edi"
    number = item.control_numbers.get("interchange") or item.id[:8]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in item.business_id)[:80]
    return f"{item.document_type.replace(':', '-')}-{safe}-{number}.{ext}"


def _http_result(status: int, text: str) -> Delivery:
    if 200 <= status < 300:
        return Delivery(ok=True, http_status=status, detail=f"HTTP {status}")
    return Delivery(ok=False, retryable=status in RETRYABLE_STATUS, http_status=status,
                    detail=f"HTTP {status}: {text[:300]}")


async def _post(http: aiohttp.ClientSession, url: str, body: bytes,
                headers: dict[str, str], timeout: float) -> Delivery:
    try:
        async with http.post(url, data=body, headers=headers,
                             timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            return _http_result(resp.status, await resp.text(errors="replace"))
    except TimeoutError:
        return Delivery(ok=False, retryable=True,
                        detail=f"timeout after {timeout}s posting to {url}")
    except aiohttp.ClientError as exc:
        return Delivery(ok=False, retryable=True, detail=f"{type(exc).__name__}: {exc}")


def _secret(conf: dict[str, Any]) -> str:
    if conf.get("secret_env"):
        value = os.environ.get(str(conf["secret_env"]), "")
        if value:
            return value
    return str(conf.get("secret", ""))


async def deliver(item: OutboxItem, profile: dict[str, Any], *, settings: Settings,
                  http: aiohttp.ClientSession,
                  sessions: sessionmaker[Session] | None = None) -> Delivery:
    channels = profile.get("channels", {})
    payload = item.payload or b""
    if item.channel == "webhook":
        conf = channels.get("webhook", {})
        secret = _secret(conf)
        if not conf.get("url") or not secret:
            return Delivery(ok=False,
                            detail="channels.webhook needs url and secret (or secret_env)")
        headers = {"Content-Type": "application/cloudevents+json",
                   webhook.HEADER: webhook.sign(secret, payload, int(time.time())),
                   "Idempotency-Key": item.id, "Edigate-Business-Id": item.business_id}
        return await _post(http, str(conf["url"]), payload, headers,
                           float(conf.get("timeout_seconds", 30)))
    if item.channel == "http":
        conf = channels.get("http", {})
        if not conf.get("url"):
            # The partner fetches its documents from GET /api/v1/outbound.
            return Delivery(ok=True, awaiting_pickup=True, detail="ready for pick-up over HTTP")
        headers = {"Content-Type": "application/edi-x12" if profile.get("standard") == "x12"
                   else "application/edifact", "Edigate-Business-Id": item.business_id,
                   "Idempotency-Key": item.id}
        token = _secret({"secret": conf.get("token", ""), "secret_env": conf.get("token_env")})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return await _post(http, str(conf["url"]), payload, headers,
                           float(conf.get("timeout_seconds", 30)))
    if item.channel == "sftp":
        from gateway.channels.sftp import OutboundConflict, SftpPartner, place_outbound

        conf = channels.get("sftp", {})
        mailbox = Path(settings.data_path) / "mailboxes" / item.partner_id
        partner = SftpPartner(item.partner_id, str(conf.get("username", "")), (), mailbox)
        try:
            await place_outbound(partner, filename_for(item), payload)
        except OutboundConflict as exc:
            return Delivery(ok=False, detail=str(exc))
        except OSError as exc:
            return Delivery(ok=False, retryable=True, detail=f"mailbox write failed: {exc}")
        return Delivery(ok=True, awaiting_pickup=True, detail="placed in the SFTP mailbox")
    if item.channel == "sftp_push":
        from gateway.channels.sftp.client import RemoteSftp, RemoteSftpError, push_remote

        conf = channels.get("sftp", {})
        remote = RemoteSftp(host=str(conf["push_host"]), port=int(conf.get("push_port", 22)),
                            username=str(conf.get("push_username", conf.get("username", ""))),
                            client_keys=tuple(conf.get("push_client_keys", ())),
                            host_keys=tuple(conf.get("push_host_keys", ())))
        try:
            where = await push_remote(remote, str(conf.get("push_dir", "inbound")),
                                      filename_for(item), payload)
        except (RemoteSftpError, OSError) as exc:
            return Delivery(ok=False, retryable=True, detail=str(exc))
        return Delivery(ok=True, detail=f"pushed to {where}")
    if item.channel == "as2":
        from gateway.channels.as2.outbound import deliver_outbox_item

        return await deliver_outbox_item(item, profile, settings=settings, http=http,
                                         sessions=sessions)
    return Delivery(ok=False, detail=f"unknown channel {item.channel!r}")
