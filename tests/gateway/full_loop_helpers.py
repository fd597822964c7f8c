"""Real peers for the outbound full-loop tests, all on 127.0.0.1.

- ``LiveGateway``: the whole aiohttp app (``create_app``) served by aiohttp's test server, with
  its cleanup contexts running: the dispatcher (``jobs.enabled``), the scheduler and the hosted
  SFTP server.
- ``As2Peer``: a supplier's AS2 station built on pyas2lib (GPL, test-only): it opens and verifies
  what we send, answers with a signed MDN, and acknowledges with a 997 its translator (ours, as
  any partner's) builds, sent back to ``POST /as2`` as a signed and encrypted AS2 message.
- ``WebhookReceiver``: a supplier's webhook endpoint checking our HMAC-SHA256 signature with its
  own code (written from the documented scheme, not with ``gateway.outbound.webhook``), refusing
  stale and replayed signatures, and answering a script of statuses.
- ``sftp_batch``: the OpenSSH ``sftp`` client against the gateway's hosted SFTP server.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from gateway.channels.as2.certstore import import_certificate
from gateway.channels.sftp_service import SFTP_SERVER
from gateway.config import Settings
from gateway.partners.profile import parse_profile
from gateway.planning.documents import Calendar, order_payload
from gateway.runtime import Runtime
from gateway.storage.db import session_factory
from gateway.storage.models import OutboxAttempt, OutboxItem
from gateway.storage.models_planning import HELD, PlanAction, PlanRun
from gateway.storage.repositories import issue_token, upsert_partner
from gateway.web.app import create_app
from optimizer import OrderChange
from tests.gateway.as2_helpers import (
    OUR_AS2,
    TestIdentity,
    http_headers_of,
    import_pyas2lib,
    make_identity,
    pyas2_message,
    pyas2_org,
    pyas2_view_of_us,
    raw_request,
)
from tests.gateway.sftp_helpers import ClientRun, openssh_options, require_binary, run_process
from translators import build_acknowledgments, translate

OPERATOR = "edg_test_full_loop_operator_00000000000001"
WEBHOOK_SECRET = "whsec_full_loop_5f0e2c9a7d1b4e63"
BUYER = "EDIGATE"
T = TypeVar("T")


# -- the gateway --------------------------------------------------------------------------------

@dataclass
class LiveGateway:
    runtime: Runtime
    server: TestServer
    ours: TestIdentity  # our AS2 key pair and certificate

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    @property
    def sftp_port(self) -> int:
        return self.server.app[SFTP_SERVER].port

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.runtime.run(fn, *args)

    def add_partner(self, table: dict[str, Any]) -> None:
        with self.runtime.sessions.begin() as session:
            upsert_partner(session, parse_profile(table), now=datetime.now(UTC), actor="test")

    def trust_partner_certificate(self, partner_id: str, identity: TestIdentity) -> None:
        with self.runtime.sessions.begin() as session:
            import_certificate(session, identity.cert_pem, partner_id=partner_id,
                               now=datetime.now(UTC), usage="both")

    def rows(self, **where: Any) -> list[OutboxItem]:
        with self.runtime.sessions() as session:
            query = select(OutboxItem).order_by(OutboxItem.created_at, OutboxItem.id)
            for key, value in where.items():
                query = query.where(getattr(OutboxItem, key) == value)
            rows = list(session.scalars(query).all())
            for row in rows:
                session.expunge(row)
            return rows

    def row(self, row_id: str) -> OutboxItem:
        with self.runtime.sessions() as session:
            row = session.get(OutboxItem, row_id)
            assert row is not None, row_id
            session.expunge(row)
            return row

    def attempts(self, row_id: str) -> list[OutboxAttempt]:
        with self.runtime.sessions() as session:
            found = list(session.scalars(select(OutboxAttempt).where(
                OutboxAttempt.outbox_id == row_id).order_by(OutboxAttempt.id)).all())
            for attempt in found:
                session.expunge(attempt)
            return found

    async def wait_row(self, row_id: str, done: Callable[[OutboxItem], bool], *,
                       timeout: float = 30.0, what: str = "") -> OutboxItem:
        """Poll one outbox row until ``done(row)``; fail with the row's state if it never is."""
        deadline = time.monotonic() + timeout
        while True:
            row = await self.runtime.run(self.row, row_id)
            if done(row):
                return row
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"outbox {row_id} never got {what or 'there'} in {timeout}s: "
                    f"status={row.status} attempts={row.attempts} ack={row.ack_status} "
                    f"last_error={row.last_error!r}")
            await asyncio.sleep(0.05)

    async def approve(self, action_id: str) -> list[str]:
        """Approve a held plan action over HTTP, as an operator would; returns its outbox ids."""
        async with aiohttp.ClientSession() as http, http.post(
                f"{self.url}/api/v1/approvals/{action_id}/approve",
                json={"reason": "full-loop test"},
                headers={"Authorization": f"Bearer {OPERATOR}"}) as resp:
            body = await resp.json()
            assert resp.status == 200, body
        assert body["status"] == "approved", body
        with self.runtime.sessions() as session:
            action = session.get(PlanAction, action_id)
            assert action is not None
            return list(action.outbox_ids)


def gateway_settings(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    base = Settings(database_url=database_url, data_dir=str(data_dir), jobs_enabled=True,
                    dispatch_interval=0.1, dispatch_max_attempts=3, sftp_listen="127.0.0.1:0",
                    max_body_bytes=8 << 20, log_level="warning")
    return replace(base, **overrides)


def prepare_runtime(runtime: Runtime, ours: TestIdentity) -> None:
    """Our AS2 certificate (with its key) and an operator token, before the app starts."""
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        import_certificate(session, ours.cert_pem, partner_id=None, now=now, usage="both",
                           key_pem=ours.key_pem, data_dir=runtime.settings.data_path)
        issue_token(session, token=OPERATOR, now=now, partner_id=None, role="operator",
                    name="full-loop operator")


async def start_gateway(engine: Any, data_dir: Path,
                        serve: Callable[[web.Application], Awaitable[TestServer]],
                        **overrides: Any) -> LiveGateway:
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = gateway_settings(data_dir, engine.url.render_as_string(hide_password=False),
                                **overrides)
    runtime = Runtime(settings=settings, engine=engine, sessions=session_factory(engine))
    ours = make_identity(OUR_AS2)
    prepare_runtime(runtime, ours)
    server = await serve(create_app(settings, runtime))
    return LiveGateway(runtime, server, ours)


# -- plan actions, the way the planner writes them ----------------------------------------------

def held_order(gateway: LiveGateway, supplier: str, number: str, *, part: str = "P-100",
               quantity: int = 40, price: float = 2.5) -> str:
    """A plan run with one held purchase order, its payload built by the planner's own
    ``order_payload``; returns the action id for the approval API."""
    today = datetime.now(UTC).date()
    calendar = Calendar(today, 1)
    change = OrderChange(kind="new", part=part, supplier=supplier, period=0, arrival_period=3,
                         quantity=quantity, previous_quantity=0, unit_price=price, firm=True)
    document_type, data = order_payload(change, number, "", calendar, BUYER)
    now = datetime.now(UTC)
    run_id, action_id = str(uuid.uuid4()), str(uuid.uuid4())
    with gateway.runtime.sessions.begin() as session:
        session.add(PlanRun(id=run_id, created_at=now, trigger="test", actor="full-loop",
                            status="adopted", source="optimizer", horizon_start=today,
                            periods=7))
        session.flush()
        session.add(PlanAction(
            id=action_id, run_id=run_id, created_at=now, supplier_id=supplier, kind="new",
            document_type=document_type, business_id=number, order_number=number,
            value=quantity * price, status=HELD, reasons=["test: needs approval"],
            lines=[{"part": part, "order_date": today.isoformat(),
                    "arrival_date": calendar.day(3).isoformat(), "quantity": quantity,
                    "previous_quantity": 0, "unit_price": price}], data=data))
    return action_id


def order_number(n: int) -> str:
    return f"EG{date.today():%y%m%d}FL{n:08d}"


# -- EDI as the partner reads it ----------------------------------------------------------------

@dataclass(frozen=True)
class Envelope:
    interchange: str
    group: str
    message: str
    message_type: str
    event_type: str
    data: dict[str, Any]


def read_document(raw: bytes) -> Envelope:
    """Parse a document we sent with the translators, as the partner's system would."""
    result = translate(raw)
    assert result.ok, result.error_report()
    [message] = result.messages
    assert message.status == "accepted" and message.event is not None, message.errors
    return Envelope(str(message.interchange_control), str(message.group_control or ""),
                    str(message.message_control), message.message_type,
                    message.event.event_type, message.event.data)


def acknowledgment(raw: bytes, kind: str, *, first_control: int, reject: bool = False
                   ) -> bytes:
    """The partner's 997/CONTRL for ``raw``, built by our translators. ``reject``: the
    partner's translator finds a non-numeric quantity in PO1 (an AK5 R with AK3/AK4 detail)."""
    if reject:
        raw, count = re.subn(rb"(PO1\*[^*~]*\*)(\d+)", rb"\g<1>4X", raw, count=1)
        assert count == 1
    counter = itertools.count(first_control)
    docs = build_acknowledgments(translate(raw), next_control=lambda _scope: next(counter),
                                 now=datetime.now(UTC))
    [doc] = [d for d in docs if d.kind == kind]
    return doc.data


# -- an AS2 supplier (pyas2lib) ------------------------------------------------------------------

@dataclass
class Received:
    message_id: str
    headers: dict[str, str]
    body: bytes
    payload: bytes
    mic: str
    signed: bool
    encrypted: bool
    at: float


@dataclass
class As2Peer:
    """pyas2lib as the supplier's AS2 station. ``on_receive`` runs before the MDN goes back (a
    partner whose translator answers at once)."""

    as2_name: str
    identity: TestIdentity
    ours: TestIdentity
    received: list[Received] = field(default_factory=list)
    sent_acks: list[tuple[str, bytes, str]] = field(default_factory=list)
    on_receive: Callable[[Received], Awaitable[None]] | None = None
    gateway_url: str = ""
    url: str = ""
    _controls: itertools.count[int] = field(default_factory=lambda: itertools.count(700))

    def _view_of_us(self) -> Any:
        return pyas2_view_of_us(self.ours)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        message = import_pyas2lib().as2.Message()
        _status, (exc, _tb), mdn = message.parse(
            raw_request(dict(request.headers), body),
            find_org_cb=lambda _name: pyas2_org(self.identity, name=self.as2_name),
            find_partner_cb=lambda _name: self._view_of_us())
        if exc is not None:  # a real partner answers with a failed MDN; we want the test red
            return web.Response(status=400, text=f"peer could not open the message: {exc}")
        got = Received(str(message.message_id), dict(request.headers), body,
                       bytes(message.content), message.mic.decode() if message.mic else "",
                       bool(message.signed), bool(message.encrypted), time.monotonic())
        self.received.append(got)
        if self.on_receive is not None:
            await self.on_receive(got)
        return web.Response(body=mdn.content, headers=dict(mdn.headers))

    async def send(self, payload: bytes, *, content_type: str = "application/edi-x12") -> str:
        """Send ``payload`` to the gateway's POST /as2, signed and encrypted; verify its MDN
        with pyas2lib and return the MDN's status."""
        assert self.gateway_url, "the gateway's URL is not known yet"
        message = pyas2_message(pyas2_org(self.identity, name=self.as2_name), self._view_of_us(),
                                payload, content_type=content_type)
        async with aiohttp.ClientSession() as http, http.post(
                f"{self.gateway_url}/as2", data=message.content,
                headers=http_headers_of(message)) as resp:
            body = await resp.read()
            assert resp.status == 200, body[:500]
            headers = {k: v for k, v in resp.headers.items()}
        status, detail = import_pyas2lib().as2.Mdn().parse(
            raw_request(headers, body), find_message_cb=lambda *_: message)
        self.sent_acks.append((str(message.message_id), payload, str(status)))
        assert (status, detail) == ("processed", None), (status, detail)
        return str(status)

    async def acknowledge(self, received: Received, *, reject: bool = False) -> bytes:
        """Translate what we received and answer with a 997 over AS2."""
        ack = acknowledgment(received.payload, "997", first_control=next(self._controls) * 10,
                             reject=reject)
        await self.send(ack)
        return ack

    def by_interchange(self) -> dict[str, list[Received]]:
        found: dict[str, list[Received]] = {}
        for got in self.received:
            found.setdefault(str(int(read_document(got.payload).interchange)), []).append(got)
        return found


async def serve_app(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def start_as2_peer(peer: As2Peer) -> web.AppRunner:
    app = web.Application(client_max_size=16 << 20)
    app.router.add_post("/as2", peer.handle)
    runner, base = await serve_app(app)
    peer.url = f"{base}/as2"
    return runner


def as2_supplier(pid: str, peer: As2Peer, *, x12_id: str, window_minutes: int = 30,
                 resend_overdue: bool = False) -> dict[str, Any]:
    return {
        "id": pid, "name": f"{pid} (AS2 X12 supplier)", "standard": "x12", "version": "004010",
        "identities": [{"standard": "x12", "qualifier": "ZZ", "id": x12_id},
                       {"standard": "x12-gs", "id": x12_id}],
        "stages": {"*": "edi"},
        "channels": {"as2": {"as2_id": peer.as2_name, "url": peer.url, "mdn": "sync",
                             "timeout_seconds": 20, "max_attempts": 2}},
        "outbound": {"ack_window_minutes": window_minutes, "resend_overdue": resend_overdue,
                     "max_overdue_resends": 1},
    }


def new_as2_peer(as2_name: str, ours: TestIdentity) -> As2Peer:
    return As2Peer(as2_name, make_identity(as2_name), ours)


# -- a webhook receiver ----------------------------------------------------------------------------

def sign_like_a_sender(secret: str, body: bytes, timestamp: int) -> str:
    """The documented scheme, independently: hex HMAC-SHA256 of "<t>." + body."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@dataclass
class Delivered:
    headers: dict[str, str]
    body: bytes
    timestamp: int
    status: int
    at: float


@dataclass
class WebhookReceiver:
    """Checks ``Edigate-Signature: t=<unix>,v1=<hex>`` itself, refuses stale or replayed
    signatures (401) and answers ``script`` (then ``default``) to the valid ones."""

    secret: str = WEBHOOK_SECRET
    tolerance: int = 300
    script: list[int] = field(default_factory=list)
    default: int = 200
    requests: list[Delivered] = field(default_factory=list)  # valid ones, with our answer
    refused: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    url: str = ""

    def check(self, header: str, body: bytes, now: float) -> tuple[int, str]:
        """(timestamp, "") or (0, why it is refused)."""
        fields: dict[str, list[str]] = {}
        for part in header.split(","):
            key, sep, value = part.strip().partition("=")
            if sep:
                fields.setdefault(key, []).append(value)
        stamp = (fields.get("t") or [""])[0]
        if not stamp.isdigit():
            return 0, "no timestamp"
        if abs(now - int(stamp)) > self.tolerance:
            return 0, "stale timestamp"
        expected = hmac.new(self.secret.encode(), stamp.encode() + b"." + body,
                            hashlib.sha256).hexdigest()
        if not any(hmac.compare_digest(expected, given) for given in fields.get("v1", [])):
            return 0, "bad signature"
        if expected in self.seen:
            return 0, "replayed signature"
        self.seen.add(expected)
        return int(stamp), ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        stamp, problem = self.check(request.headers.get("Edigate-Signature", ""), body,
                                    time.time())
        if problem:
            self.refused.append(problem)
            return web.Response(status=401, text=problem)
        status = self.script.pop(0) if self.script else self.default
        self.requests.append(Delivered(dict(request.headers), body, stamp, status,
                                       time.monotonic()))
        return web.Response(status=status, text="ok" if status == 200 else "scripted failure")


async def start_receiver(receiver: WebhookReceiver) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/hooks/edigate", receiver.handle)
    runner, base = await serve_app(app)
    receiver.url = f"{base}/hooks/edigate"
    return runner


def api_supplier(pid: str, receiver: WebhookReceiver) -> dict[str, Any]:
    return {"id": pid, "name": f"{pid} (API supplier)", "standard": "api",
            "stages": {"*": "api"},
            "channels": {"rest": {}, "webhook": {"url": receiver.url,
                                                 "secret": receiver.secret,
                                                 "timeout_seconds": 10}}}


# -- the SFTP mailbox through OpenSSH ------------------------------------------------------------

def sftp_supplier(pid: str, username: str, public_key: str, *, edifact_id: str,
                  stage: str = "edi", webhook: WebhookReceiver | None = None
                  ) -> dict[str, Any]:
    channels: dict[str, Any] = {"sftp": {"username": username, "authorized_keys": [public_key]}}
    if webhook is not None:
        channels["webhook"] = {"url": webhook.url, "secret": webhook.secret}
    return {
        "id": pid, "name": f"{pid} (EDIFACT SFTP supplier)", "standard": "edifact",
        "version": "D96A",
        "identities": [{"standard": "edifact", "qualifier": "14", "id": edifact_id}],
        "stages": {"*": stage}, "channels": channels,
        "outbound": {"ack_window_minutes": 60},
    }


async def sftp_batch(gateway: LiveGateway, key: Path, username: str, commands: Sequence[str],
                     work: Path) -> ClientRun:
    """Run an OpenSSH ``sftp -b`` batch against the gateway's hosted SFTP server."""
    work.mkdir(parents=True, exist_ok=True)
    batch = work / f"batch-{uuid.uuid4().hex}.txt"
    batch.write_text("\n".join(commands) + "\n")
    argv = [require_binary("sftp"), "-b", str(batch), "-P", str(gateway.sftp_port),
            *openssh_options(key, gateway.sftp_port), f"{username}@127.0.0.1"]
    run = await run_process(argv, work)
    assert run.returncode == 0, f"sftp failed: {run.stderr}\n{run.stdout}"
    return run
