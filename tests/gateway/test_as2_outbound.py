"""Outbound AS2 against pyas2lib as the receiving partner, and against a fault-injecting one:
exact bytes kept once, retries with the same Message-ID, final 4xx, MDN and MIC checks,
asynchronous MDNs matched to their message, alerts logged and recorded."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import tenacity
from aiohttp import web
from sqlalchemy import select

from gateway.channels.as2.mdn import PROCESSED, build_mdn
from gateway.channels.as2.mic import compute_mic
from gateway.channels.as2.outbound import deliver_outbox_item, send_as2
from gateway.storage.models import OutboxItem
from gateway.storage.models_as2 import As2Message
from tests.gateway.as2_helpers import (
    OUR_AS2,
    PARTNER_AS2,
    As2World,
    as2_app,
    import_pyas2lib,
    make_identity,
    make_world,
    pyas2_org,
    raw_request,
)

PAYLOAD = b"UNA:+.? 'UNB+UNOC:3+EDIGATE:ZZZ+4012345000009:14+261122:1200+7'\nUNZ+0+7'\n\x00\xff"
NO_WAIT = tenacity.wait_none()


class Partner:
    """pyas2lib behind an HTTP endpoint, with a script of faults to play first."""

    def __init__(self, world: As2World, faults: list[str] | None = None) -> None:
        self.world = world
        self.identity = world.theirs  # the key pair the partner decrypts and signs with
        self.faults = list(faults or [])
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.parsed: list[Any] = []
        self.async_mdns: list[Any] = []

    def view_of_us(self) -> Any:
        return import_pyas2lib().as2.Partner(
            as2_name=OUR_AS2, verify_cert=self.world.ours.cert_pem,
            encrypt_cert=self.world.ours.cert_pem, sign=True, encrypt=True)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append((dict(request.headers), body))
        fault = self.faults.pop(0) if self.faults else "ok"
        if fault == "503":
            return web.Response(status=503, text="busy")
        if fault == "429":
            return web.Response(status=429, text="slow down")
        if fault == "400":
            return web.Response(status=400, text="we do not know you")
        if fault == "timeout":
            await asyncio.sleep(2)
            return web.Response(text="too late")
        message = import_pyas2lib().as2.Message()
        _status, (exc, _tb), mdn = message.parse(
            raw_request(dict(request.headers), body),
            find_org_cb=lambda _: pyas2_org(self.identity),
            find_partner_cb=lambda _: self.view_of_us())
        assert exc is None, exc
        self.parsed.append(message)
        if fault == "bad-mdn-signature":
            stranger = make_identity("STRANGER")
            forged = build_mdn(original_message_id=message.message_id,
                               original_recipient=PARTNER_AS2, as2_from=PARTNER_AS2,
                               as2_to=OUR_AS2, disposition=PROCESSED,
                               mic=compute_mic(b"x", "sha256"), message_id="f@x",
                               now=datetime.now(UTC), signer=stranger.pair)
            return web.Response(body=forged.body, headers=dict(forged.headers))
        if fault == "wrong-mic":
            forged = build_mdn(original_message_id=message.message_id,
                               original_recipient=PARTNER_AS2, as2_from=PARTNER_AS2,
                               as2_to=OUR_AS2, disposition=PROCESSED,
                               mic=compute_mic(b"something else", "sha256"),
                               message_id="w@x", now=datetime.now(UTC),
                               signer=self.world.theirs.pair)
            return web.Response(body=forged.body, headers=dict(forged.headers))
        if fault == "garbage-mdn":
            return web.Response(body=b"<html>ok</html>", content_type="text/html")
        if mdn.mdn_mode == "ASYNC":
            self.async_mdns.append(mdn)
            return web.Response(text="thanks")
        return web.Response(body=mdn.content, headers=dict(mdn.headers))


@pytest.fixture
def world(engine, tmp_path: Path) -> As2World:
    return make_world(engine, tmp_path, timeout_seconds=0.5, max_attempts=3, compress=True)


async def start(world: As2World, aiohttp_server, faults: list[str] | None = None) -> Partner:
    partner = Partner(world, faults)
    app = web.Application(client_max_size=64 << 20)
    app.router.add_post("/as2", partner.handle)
    server = await aiohttp_server(app)
    world.set_as2(url=str(server.make_url("/as2")))
    return partner


async def send(world: As2World, message_id: str, payload: bytes = PAYLOAD):
    async with aiohttp.ClientSession() as http:
        return await send_as2(http, world.sessions, world.settings, partner_id="acme-as2",
                              payload=payload, message_id=message_id, wait=NO_WAIT,
                              filename="orders.edi")


def out_row(world: As2World, message_id: str) -> As2Message:
    with world.sessions() as session:
        row = session.scalars(select(As2Message).where(
            As2Message.message_id == message_id)).one()
        session.expunge(row)
        return row


async def test_pyas2lib_receives_our_message_and_we_verify_its_mdn(world, aiohttp_server
                                                                   ) -> None:
    partner = await start(world, aiohttp_server)
    result = await send(world, "po-1@edigate.as2")
    assert result.ok and result.mdn_status == "processed", result.detail
    [received] = partner.parsed
    assert received.content == PAYLOAD
    assert received.signed and received.encrypted and received.compressed
    assert received.mic.decode() == result.mic
    row = out_row(world, "po-1@edigate.as2")
    assert (row.status, row.mdn_status, row.attempts) == ("sent", "processed", 1)
    assert row.body == partner.requests[0][1] and row.mdn_raw
    # Sending again is recognised: no second POST, no second effect.
    again = await send(world, "po-1@edigate.as2")
    assert again.ok and again.detail == "already delivered" and len(partner.requests) == 1


async def test_retries_reuse_the_same_bytes_and_message_id(world, aiohttp_server) -> None:
    partner = await start(world, aiohttp_server, ["503", "timeout"])
    result = await send(world, "po-2@edigate.as2")
    assert result.ok and result.attempts == 3, result.log
    assert len(partner.requests) == 3
    assert len({body for _, body in partner.requests}) == 1
    assert {h["Message-ID"] for h, _ in partner.requests} == {"<po-2@edigate.as2>"}
    row = out_row(world, "po-2@edigate.as2")
    assert row.attempts == 3 and "timeout" in " ".join(row.details["log"])


async def test_a_failed_send_resumes_with_the_stored_message(world, aiohttp_server,
                                                             caplog) -> None:
    partner = await start(world, aiohttp_server, ["503", "429", "503"])
    with caplog.at_level(logging.ERROR, logger="edigate.as2"):
        first = await send(world, "po-3@edigate.as2")
    assert not first.ok and first.retryable and first.attempts == 3
    assert "AS2 alert" in caplog.text and "po-3@edigate.as2" in caplog.text
    assert out_row(world, "po-3@edigate.as2").status == "failed"
    # The dispatcher tries again later, even with other payload bytes in hand: the stored
    # message is what goes out.
    second = await send(world, "po-3@edigate.as2", payload=b"something else")
    assert second.ok
    assert len({body for _, body in partner.requests}) == 1
    assert partner.parsed[0].content == PAYLOAD
    assert out_row(world, "po-3@edigate.as2").attempts == 4


async def test_other_4xx_is_final(world, aiohttp_server, caplog) -> None:
    partner = await start(world, aiohttp_server, ["400"])
    with caplog.at_level(logging.ERROR, logger="edigate.as2"):
        result = await send(world, "po-4@edigate.as2")
    assert not result.ok and not result.retryable and result.http_status == 400
    assert len(partner.requests) == 1
    assert "refused for good" in caplog.text
    row = out_row(world, "po-4@edigate.as2")
    assert row.status == "failed" and "HTTP 400" in row.status_detail


@pytest.mark.parametrize(("fault", "expected"), [("bad-mdn-signature", "does not verify"),
                                                 ("wrong-mic", "MIC mismatch"),
                                                 ("garbage-mdn", "not an MDN")])
async def test_a_bad_mdn_raises_an_alert(world, aiohttp_server, caplog, fault,
                                         expected) -> None:
    await start(world, aiohttp_server, [fault])
    with caplog.at_level(logging.ERROR, logger="edigate.as2"):
        result = await send(world, f"{fault}@edigate.as2")
    assert not result.ok and not result.retryable
    assert result.mdn_status == "invalid" and expected in result.detail
    assert expected in caplog.text
    row = out_row(world, f"{fault}@edigate.as2")
    assert row.mdn_status == "invalid" and expected in row.status_detail


async def test_legacy_partner_gets_sha1_and_3des(world, aiohttp_server) -> None:
    partner = await start(world, aiohttp_server)
    world.set_as2(digest="sha1", cipher="tripledes_cbc")
    result = await send(world, "legacy@edigate.as2")
    assert result.ok, result.detail
    [received] = partner.parsed
    assert received.enc_alg == "tripledes_192_cbc" and received.digest_alg == "sha1"


async def test_async_mdn_is_matched_to_its_message(world, aiohttp_server, aiohttp_client
                                                   ) -> None:
    partner = await start(world, aiohttp_server)
    world.set_as2(mdn="async")
    result = await send(world, "po-async@edigate.as2")
    assert result.ok and result.awaiting_mdn and result.mdn_status == "pending"
    assert out_row(world, "po-async@edigate.as2").mdn_status == "pending"
    [mdn] = partner.async_mdns
    assert mdn.mdn_url.endswith("/as2/mdn")
    ours = await aiohttp_client(as2_app(world.runtime))
    resp = await ours.post("/as2/mdn", data=mdn.content, headers=dict(mdn.headers))
    assert resp.status == 200, await resp.text()
    row = out_row(world, "po-async@edigate.as2")
    assert row.mdn_status == "processed" and row.mdn_raw == mdn.content
    # An MDN for a message we never sent is refused with a clear 404, also on POST /as2.
    stray = build_mdn(original_message_id="never-sent@x", original_recipient=PARTNER_AS2,
                      as2_from=PARTNER_AS2, as2_to=OUR_AS2, disposition=PROCESSED,
                      mic=compute_mic(b"x", "sha256"), message_id="s@x", now=datetime.now(UTC),
                      signer=world.theirs.pair)
    resp = await ours.post("/as2", data=stray.body, headers=dict(stray.headers))
    assert resp.status == 404 and "never-sent@x" in (await resp.json())["detail"]


async def test_outbox_transport_hook(world, aiohttp_server) -> None:
    partner = await start(world, aiohttp_server, ["503"])
    now = datetime.now(UTC)
    item = OutboxItem(id=str(uuid.uuid4()), partner_id="acme-as2", document_type="orders",
                      channel="as2", status="sending", payload=PAYLOAD,
                      control_numbers={"interchange": "7"}, next_attempt_at=now,
                      created_at=now, updated_at=now)
    async with aiohttp.ClientSession() as http:
        delivery = await deliver_outbox_item(item, {}, settings=world.settings, http=http,
                                             sessions=world.sessions)
    assert delivery.ok and delivery.extra["mdn_status"] == "processed"
    assert delivery.extra["as2_message_id"] == f"{item.id}@edigate.as2"
    assert partner.parsed[0].content == PAYLOAD and len(partner.requests) == 2


async def test_missing_configuration_is_a_clear_final_failure(world) -> None:
    result = await send(world, "nourl@edigate.as2")
    assert not result.ok and not result.retryable and "url is not set" in result.detail


async def test_encryption_uses_the_newest_valid_partner_certificate(world, aiohttp_server
                                                                   ) -> None:
    partner = await start(world, aiohttp_server)
    now = datetime.now(UTC)
    rotated = make_identity("ACME-ROTATED", not_before=now - timedelta(minutes=5),
                            not_after=now + timedelta(days=700))
    world.import_partner_cert(rotated)
    partner.identity = rotated  # the partner switched: it only has the new key now
    result = await send(world, "rotated@edigate.as2")
    assert result.ok and result.mdn_status == "processed", result.detail
    assert partner.parsed[0].content == PAYLOAD
