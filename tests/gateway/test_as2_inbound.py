"""``POST /as2`` with pyas2lib as the sending partner, on SQLite and PostgreSQL.

The raw request is stored first, the payload reaches the inbox (channel ``as2``) before the
MDN, duplicates get ``duplicate-document``, unknown names a clear 4xx, and certificate
rotation needs no downtime.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select

from gateway.channels.as2 import mime
from gateway.channels.as2.mdn import read_mdn
from gateway.inbox.store import raw_bytes
from gateway.storage.models import Interchange
from gateway.storage.models_as2 import As2Message
from tests.gateway.as2_helpers import (
    OUR_AS2,
    PARTNER_AS2,
    As2World,
    as2_app,
    http_headers_of,
    import_pyas2lib,
    make_identity,
    make_world,
    pyas2_message,
    pyas2_org,
    pyas2_view_of_us,
    raw_request,
)

EDI = b"UNA:+.? 'UNB+UNOC:3+4012345000009:14+EDIGATE:ZZZ+261122:1200+42'\r\nUNZ+0+42'\r\n"


@pytest.fixture
def world(engine, tmp_path: Path) -> As2World:
    return make_world(engine, tmp_path)


@pytest.fixture
async def client(world, aiohttp_client):
    return await aiohttp_client(as2_app(world.runtime))


def mdn_raw(resp_headers, body: bytes) -> bytes:
    return raw_request({k: v for k, v in resp_headers.items()}, body)


def rows(world: As2World, model):
    with world.sessions() as session:
        return session.scalars(select(model)).all()


async def post(client, message, **override: str):
    headers = {**http_headers_of(message), **override}
    return await client.post("/as2", data=message.content, headers=headers)


async def test_signed_encrypted_compressed_message_gets_a_signed_mdn(world, client) -> None:
    sent = pyas2_message(pyas2_org(world.theirs), pyas2_view_of_us(world.ours), EDI)
    resp = await post(client, sent)
    body = await resp.read()
    assert resp.status == 200, body
    status, detail = import_pyas2lib().as2.Mdn().parse(mdn_raw(resp.headers, body),
                                                       find_message_cb=lambda *_: sent)
    assert (status, detail) == ("processed", None)
    assert resp.headers["Content-Type"].startswith("multipart/signed")
    [message] = rows(world, As2Message)
    assert (message.status, message.direction, message.partner_id) == ("processed", "in",
                                                                        "acme-as2")
    assert message.body == sent.content  # the raw request, byte for byte
    assert ["AS2-From", PARTNER_AS2] in [[k, v.strip('"')] for k, v in message.headers]
    assert message.signed and message.encrypted and message.compressed
    assert message.mic == sent.mic.decode() and message.mdn_status == "pending"
    [interchange] = rows(world, Interchange)
    assert interchange.channel == "as2" and interchange.id == message.interchange_id
    assert raw_bytes(interchange, world.data_dir) == EDI


async def test_resent_message_id_gets_duplicate_document(world, client) -> None:
    """The same document again (newly signed and encrypted, so other bytes on the wire)."""
    org, view = pyas2_org(world.theirs), pyas2_view_of_us(world.ours)
    first = pyas2_message(org, view, EDI, message_id="order-77")
    assert (await post(client, first)).status == 200
    again = pyas2_message(org, view, EDI, message_id="order-77")
    assert again.content != first.content
    resp = await post(client, again)
    body = await resp.read()
    top = mime.Entity((("Content-Type", resp.headers["Content-Type"]),), body)
    parsed = read_mdn(top, trusted=[world.ours.cert], require_signed=True)
    assert str(parsed.disposition) == "processed/warning: duplicate-document"
    assert len(rows(world, Interchange)) == 1  # no second effect
    assert sorted(m.status for m in rows(world, As2Message)) == ["duplicate", "processed"]


async def test_a_reused_message_id_with_another_document_is_refused(world, client) -> None:
    """Not a duplicate: answered with an error disposition, never dropped behind a warning."""
    org, view = pyas2_org(world.theirs), pyas2_view_of_us(world.ours)
    first = pyas2_message(org, view, EDI, message_id="order-78")
    assert (await post(client, first)).status == 200
    other = pyas2_message(org, view, EDI.replace(b"42", b"43"), message_id="order-78")
    resp = await post(client, other)
    body = await resp.read()
    top = mime.Entity((("Content-Type", resp.headers["Content-Type"]),), body)
    parsed = read_mdn(top, trusted=[world.ours.cert], require_signed=True)
    assert str(parsed.disposition) == "processed/error: duplicate-message-id"
    # The partner's own AS2 software reads it as a failed transfer.
    status, detail = import_pyas2lib().as2.Mdn().parse(mdn_raw(resp.headers, body),
                                                       find_message_cb=lambda *_: other)
    assert status == "processed/error" and "duplicate-message-id" in str(detail)
    assert len(rows(world, Interchange)) == 1  # the first document only
    refused = [m for m in rows(world, As2Message) if m.status == "rejected"]
    assert len(refused) == 1 and "different document" in refused[0].status_detail
    # Sent again with a new Message-ID, it is accepted.
    renamed = pyas2_message(org, view, EDI.replace(b"42", b"43"), message_id="order-79")
    assert (await post(client, renamed)).status == 200
    assert len(rows(world, Interchange)) == 2


async def test_resend_after_a_failure_is_not_a_duplicate(world, client) -> None:
    org, view = pyas2_org(world.theirs), pyas2_view_of_us(world.ours)
    broken = pyas2_message(pyas2_org(make_identity("IMPOSTOR")), view, EDI,
                           message_id="retry-1")
    resp = await post(client, broken)
    body = await resp.read()
    top = mime.Entity((("Content-Type", resp.headers["Content-Type"]),), body)
    parsed = read_mdn(top, trusted=[world.ours.cert], require_signed=True)
    assert str(parsed.disposition) == "processed/error: authentication-failed"
    assert rows(world, Interchange) == []
    fixed = pyas2_message(org, view, EDI, message_id="retry-1")
    resp = await post(client, fixed)
    status, _ = import_pyas2lib().as2.Mdn().parse(mdn_raw(resp.headers, await resp.read()),
                                                  find_message_cb=lambda *_: fixed)
    assert status == "processed"
    assert len(rows(world, Interchange)) == 1


async def test_unknown_names_get_a_clear_4xx_and_the_request_is_kept(world, client) -> None:
    sent = pyas2_message(pyas2_org(world.theirs, name="NOBODY"), pyas2_view_of_us(world.ours),
                         EDI)
    resp = await post(client, sent)
    problem = await resp.json()
    assert resp.status == 403 and "NOBODY" in problem["detail"]
    resp = await post(client, sent, **{"AS2-From": PARTNER_AS2, "AS2-To": "ELSEWHERE"})
    assert resp.status == 404 and "ELSEWHERE" in (await resp.json())["detail"]
    resp = await client.post("/as2", data=b"hello", headers={"Content-Type": "text/plain"})
    assert resp.status == 400 and "AS2-From" in (await resp.json())["detail"]
    stored = rows(world, As2Message)
    assert len(stored) == 3 and {m.status for m in stored} == {"rejected"}
    assert rows(world, Interchange) == []


async def test_empty_and_oversized_bodies(world, client) -> None:
    resp = await client.post("/as2", data=b"", headers={"AS2-From": PARTNER_AS2})
    assert resp.status == 400 and "AS2-To" in (await resp.json())["detail"]
    too_big = b"x" * (world.settings.max_body_bytes + 1)
    resp = await client.post("/as2", data=too_big, headers={"Content-Type": "text/plain"})
    assert resp.status == 413


async def test_bodies_over_one_mebibyte_are_accepted(world, client) -> None:
    payload = b"UNB+UNOC:3+A+B+261122:1200+1'" + b"X" * (2 << 20) + b"'UNZ+0+1'"
    sent = pyas2_message(pyas2_org(world.theirs), pyas2_view_of_us(world.ours, compress=False),
                         payload, content_type="application/octet-stream")
    assert len(sent.content) > 2 << 20
    resp = await post(client, sent)
    assert resp.status == 200
    [interchange] = rows(world, Interchange)
    assert raw_bytes(interchange, world.data_dir) == payload


async def test_garbage_with_valid_names_gets_an_error_mdn(world, client) -> None:
    headers = {"AS2-From": PARTNER_AS2, "AS2-To": OUR_AS2, "Message-ID": "<junk@acme>",
               "Content-Type": "application/pkcs7-mime; smime-type=enveloped-data",
               "Disposition-Notification-To": "x@acme"}
    resp = await client.post("/as2", data=b"\x30\x82\xff\xffnot cms", headers=headers)
    body = await resp.read()
    assert resp.status == 200
    top = mime.Entity((("Content-Type", resp.headers["Content-Type"]),), body)
    parsed = read_mdn(top, trusted=[], require_signed=False)
    assert parsed.disposition.kind == "error" and not parsed.disposition.ok
    [message] = rows(world, As2Message)
    assert message.status == "failed" and "CMS" in message.status_detail


async def test_unsigned_message_refused_by_partner_policy(world, client) -> None:
    sent = pyas2_message(pyas2_org(world.theirs),
                         pyas2_view_of_us(world.ours, sign=False, mdn_digest_alg=None), EDI)
    resp = await post(client, sent)
    top = mime.Entity((("Content-Type", resp.headers["Content-Type"]),), await resp.read())
    parsed = read_mdn(top, trusted=[], require_signed=False)
    assert parsed.disposition.modifier == "insufficient-message-security"
    assert rows(world, Interchange) == []


async def test_async_mdn_is_posted_to_the_receipt_url(world, client, aiohttp_server) -> None:
    received: list[bytes] = []

    async def take(request: web.Request) -> web.Response:
        received.append(raw_request(dict(request.headers), await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/mdn", take)
    server = await aiohttp_server(app)
    org = pyas2_org(world.theirs, mdn_url=str(server.make_url("/mdn")))
    sent = pyas2_message(org, pyas2_view_of_us(world.ours, mdn_mode="ASYNC"), EDI)
    resp = await post(client, sent)
    assert resp.status == 200 and "MDN will be posted" in await resp.text()
    for _ in range(100):
        [message] = rows(world, As2Message)
        if message.mdn_status != "pending":
            break
        await asyncio.sleep(0.05)
    assert message.mdn_status == "sent" and message.mdn_mode == "async"
    [raw] = received
    status, _ = import_pyas2lib().as2.Mdn().parse(raw, find_message_cb=lambda *_: sent)
    assert status == "processed"


async def test_certificate_rotation_needs_no_downtime(world, client) -> None:
    now = datetime.now(UTC)
    new_theirs = make_identity("ACME-NEXT", not_before=now - timedelta(hours=1),
                               not_after=now + timedelta(days=700))
    world.import_partner_cert(new_theirs)
    new_ours = make_identity("EDIGATE-NEXT", not_before=now - timedelta(hours=1),
                             not_after=now + timedelta(days=700))
    world.import_own(new_ours)
    # During the overlap: old and new partner keys both verify; both of our keys decrypt.
    # Our MDNs are signed with our newest valid certificate (its start date is the switch).
    for signer, recipient in ((world.theirs, world.ours), (new_theirs, new_ours),
                              (world.theirs, new_ours)):
        sent = pyas2_message(pyas2_org(signer), pyas2_view_of_us(recipient), EDI + b"\n" +
                             signer.cert.subject.rfc4514_string().encode() +
                             recipient.cert.subject.rfc4514_string().encode())
        resp = await post(client, sent)
        sent.receiver = pyas2_view_of_us(new_ours)
        status, _ = import_pyas2lib().as2.Mdn().parse(mdn_raw(resp.headers, await resp.read()),
                                                      find_message_cb=lambda *_, s=sent: s)
        assert status == "processed", signer.cert.subject
    assert len(rows(world, Interchange)) == 3
    # A certificate outside its window does not count: one that starts tomorrow is refused.
    future = make_identity("ACME-FUTURE", not_before=now + timedelta(days=1),
                           not_after=now + timedelta(days=800))
    world.import_partner_cert(future)
    sent = pyas2_message(pyas2_org(future), pyas2_view_of_us(world.ours), EDI + b"future")
    resp = await post(client, sent)
    top = mime.Entity((("Content-Type", resp.headers["Content-Type"]),), await resp.read())
    parsed = read_mdn(top, trusted=[new_ours.cert], require_signed=True)
    assert parsed.disposition.modifier == "authentication-failed"
    assert len(rows(world, Interchange)) == 3


@pytest.mark.parametrize(("content_type", "body"), [
    ('multipart/signed; boundary="\u00e9t\u00e9"', b"--x\r\n\r\n"),
    ("multipart/signed; boundary=", b"--\r\n--\r\n"),
    ("application/pkcs7-mime; smime-type=compressed-data", b"\x30\x0a" + b"\x00" * 10),
    ("application/pkcs7-mime; smime-type=enveloped-data", b"\x30\x84\xff\xff\xff\xff"),
    ("text/plain", b"\xff\xfe plain unsigned text"),
    ("multipart/report; boundary=b", b"--b\r\nnot a report\r\n--b--\r\n"),
    ("application/pkcs7-mime; smime-type=certs-only", b"0"),
])
async def test_hostile_bodies_get_an_answer_never_a_500(world, client, content_type,
                                                        body) -> None:
    headers = {"AS2-From": f'"{PARTNER_AS2}"', "AS2-To": OUR_AS2,
               "Message-ID": "<hostile@acme>", "Content-Type": content_type,
               "Disposition-Notification-To": "x@acme"}
    resp = await client.post("/as2", data=body, headers=headers)
    text = await resp.read()
    assert resp.status in (200, 400, 403, 404), text
    assert b"Traceback" not in text
    assert rows(world, Interchange) == []


async def test_no_mdn_leaves_before_the_payload_is_committed(world, client,
                                                             monkeypatch) -> None:
    from gateway.channels.as2 import inbound

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    org, view = pyas2_org(world.theirs), pyas2_view_of_us(world.ours)
    sent = pyas2_message(org, view, EDI, message_id="crash-1")
    monkeypatch.setattr(inbound, "accept", disk_full)
    resp = await post(client, sent)
    assert resp.status == 500
    assert resp.headers["Content-Type"].startswith("application/problem+json")  # no MDN
    [message] = rows(world, As2Message)
    assert message.status == "received" and message.body == sent.content  # raw kept
    assert rows(world, Interchange) == []
    # The partner resends (no MDN came): the same Message-ID is processed, not a duplicate.
    monkeypatch.undo()
    resp = await post(client, pyas2_message(org, view, EDI, message_id="crash-1"))
    top = mime.Entity((("Content-Type", resp.headers["Content-Type"]),), await resp.read())
    assert str(read_mdn(top, trusted=[world.ours.cert], require_signed=True).disposition) == \
        "processed"
    assert len(rows(world, Interchange)) == 1
