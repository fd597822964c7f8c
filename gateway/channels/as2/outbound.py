"""Sending AS2: build once, persist the exact bytes and MIC, POST with retries, check the MDN.

``send_as2`` is what an outbox dispatcher calls. A stable Message-ID identifies the message:
the first call builds and stores it, every later call (a retry in this process, a resend after
a crash) reuses those exact bytes, so the partner sees one message, possibly repeated, never two
different ones. Connection errors, timeouts, 5xx and 429 are retried with exponential backoff
(tenacity); any other 4xx is final. The returned MDN is verified against the partner's
registered certificates and its MIC against ours; a problem is an alert: logged at ERROR and
recorded on the message row (``status``/``mdn_status``) for the dashboard.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import tenacity
from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway.channels.as2 import mime
from gateway.channels.as2.certstore import (
    CertificateError,
    encryption_certificate,
    partner_certificates,
    signing_key_pair,
)
from gateway.channels.as2.errors import MdnError
from gateway.channels.as2.mdn import BuiltMdn, ParsedMdn, read_mdn
from gateway.channels.as2.message import build_message, strip_angle, unquote_as2_name
from gateway.channels.as2.mic import Mic
from gateway.channels.as2.partner import (
    As2ConfigError,
    As2Partner,
    as2_settings_of,
    find_partner_by_as2_id,
)
from gateway.channels.as2.station import local_as2_id, local_mdn_url, message_domain
from gateway.config import Settings
from gateway.domain.states import As2OutboundStatus, MdnStatus
from gateway.storage.models import OutboxItem, Partner
from gateway.storage.models_as2 import As2Message

log = logging.getLogger("edigate.as2")
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
DEFAULT_WAIT = tenacity.wait_exponential_jitter(multiplier=1, max=30, jitter=1)


class SendError(Exception):
    """A send that cannot succeed as configured (no URL, no certificate, …): final."""


class _Retryable(Exception):
    def __init__(self, detail: str, http_status: int | None = None) -> None:
        super().__init__(detail)
        self.http_status = http_status


@dataclass
class SendResult:
    """The outcome of one ``send_as2`` call.

    ``ok``: delivered, and the MDN (if one was asked for synchronously) says processed with our
    MIC. ``retryable``: worth trying again later with the same Message-ID.
    """

    ok: bool
    message_id: str
    retryable: bool = False
    http_status: int | None = None
    mdn_status: str = MdnStatus.NONE
    disposition: str = ""
    detail: str = ""
    attempts: int = 0
    mic: str = ""
    awaiting_mdn: bool = False
    log: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Prepared:
    row_id: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    mic: Mic
    config: As2Partner
    trusted: tuple[x509.Certificate, ...]
    already: SendResult | None = None


def new_message_id(settings: Settings) -> str:
    return f"{uuid.uuid4()}@{message_domain(settings)}"


def _prepare(sessions: sessionmaker[Session], settings: Settings, *, partner_id: str,
             payload: bytes, message_id: str, filename: str, outbox_id: str | None,
             now: datetime) -> _Prepared:
    with sessions.begin() as session:
        partner = session.get(Partner, partner_id)
        if partner is None:
            raise SendError(f"unknown partner {partner_id!r}")
        try:
            config = as2_settings_of(partner, max_body_bytes=settings.max_body_bytes)
        except As2ConfigError as exc:
            raise SendError(str(exc)) from None
        if config is None:
            raise SendError(f"partner {partner_id} has no [channels.as2] in its profile")
        if not config.url:
            raise SendError(f"partner {partner_id}: channels.as2.url is not set")
        trusted = tuple(partner_certificates(session, partner_id, now, "sign"))
        row = session.scalars(select(As2Message).where(
            As2Message.partner_id == partner_id, As2Message.direction == "out",
            As2Message.message_id == message_id)).first()
        if row is not None and row.body is not None:
            if row.status == As2OutboundStatus.SENT and row.mdn_status in (
                    MdnStatus.PROCESSED, MdnStatus.WARNING, MdnStatus.PENDING, MdnStatus.NONE):
                done = SendResult(ok=True, message_id=message_id, mdn_status=row.mdn_status,
                                  disposition=row.mdn_disposition, attempts=row.attempts,
                                  mic=row.mic, awaiting_mdn=row.mdn_status == MdnStatus.PENDING,
                                  detail="already delivered")
                return _Prepared(row.id, config.url, [], b"", Mic(row.mic, row.mic_algorithm),
                                 config, trusted, already=done)
            headers = [(str(k), str(v)) for k, v in row.headers]
            return _Prepared(row.id, config.url, headers, row.body,
                             Mic(row.mic, row.mic_algorithm), config, trusted)
        try:
            signer = signing_key_pair(session, now, settings.data_path) \
                if config.options.sign else None
        except CertificateError as exc:
            raise SendError(str(exc)) from None
        recipient = encryption_certificate(session, partner_id, now) \
            if config.options.encrypt else None
        if config.options.sign and signer is None:
            raise SendError("no valid signing certificate of ours (edigate certs import --own)")
        if config.options.encrypt and recipient is None:
            raise SendError(f"partner {partner_id} has no certificate valid at "
                            f"{now:%Y-%m-%d %H:%M} for encryption")
        built = build_message(
            payload, message_id=message_id, as2_from=local_as2_id(settings),
            as2_to=config.as2_id, now=now, options=config.options,
            mdn=config.mdn_request(our_mdn_url=local_mdn_url(settings),
                                   notify_to=local_as2_id(settings)),
            signer=signer, recipient=recipient, filename=filename)
        row = As2Message(
            id=str(uuid.uuid4()), direction="out", message_id=built.message_id,
            partner_id=partner_id, as2_from=local_as2_id(settings)[:128],
            as2_to=config.as2_id[:128], status=As2OutboundStatus.BUILT, created_at=now,
            updated_at=now,
            headers=[list(h) for h in built.headers], body=built.body, size=len(built.body),
            signed=config.options.sign, encrypted=config.options.encrypt,
            compressed=config.options.compress, mic=built.mic.value,
            mic_algorithm=built.mic.algorithm, outbox_id=outbox_id,
            mdn_mode=config.mdn_mode,
            mdn_status=MdnStatus.PENDING if config.mdn_mode != "none" else MdnStatus.NONE,
            details={"filename": filename, "cipher": config.options.cipher,
                     "digest": config.options.digest})
        session.add(row)
        return _Prepared(row.id, config.url, built.headers, built.body, built.mic, config,
                         trusted)


async def _post_once(http: aiohttp.ClientSession, url: str, headers: list[tuple[str, str]],
                     body: bytes, timeout: float) -> tuple[int, dict[str, str], bytes]:
    try:
        async with http.post(url, data=body, headers=headers,
                             timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            content = await resp.read()
            status = resp.status
            response_headers = {k: v for k, v in resp.headers.items()}
    except TimeoutError:
        raise _Retryable(f"timeout after {timeout:g}s posting to {url}") from None
    except aiohttp.ClientError as exc:
        raise _Retryable(f"{type(exc).__name__}: {exc}") from None
    if status in RETRYABLE_STATUS or status >= 500:
        raise _Retryable(f"HTTP {status}: {content[:200].decode('utf-8', 'replace')}", status)
    return status, response_headers, content


def _mdn_from_http(headers: dict[str, str], body: bytes) -> mime.Entity:
    lowered = {k.lower(): v for k, v in headers.items()}
    entity_headers = tuple((name, lowered[name.lower()]) for name in
                           ("Content-Type", "Content-Transfer-Encoding")
                           if name.lower() in lowered)
    return mime.Entity(entity_headers, body)


def judge_mdn(parsed: ParsedMdn, *, message_id: str, mic: Mic) -> tuple[str, str]:
    """(mdn_status, detail): processed | warning | error | failed | invalid."""
    if parsed.original_message_id != strip_angle(message_id):
        return MdnStatus.INVALID, (f"MDN is for {parsed.original_message_id!r}, "
                                   f"not for {message_id!r}")
    disposition = parsed.disposition
    if disposition.status == "processed" and disposition.kind in ("", "warning"):
        if parsed.mic is None:
            return MdnStatus.INVALID, "MDN carries no Received-Content-MIC"
        if not mic.matches(parsed.mic):
            return MdnStatus.INVALID, (
                f"MIC mismatch: partner computed {parsed.mic.header_value()}, "
                f"we sent {mic.header_value()}")
        return (MdnStatus.WARNING if disposition.kind else MdnStatus.PROCESSED), str(disposition)
    if disposition.status == "processed":
        return MdnStatus.ERROR, str(disposition)
    return MdnStatus.FAILED, str(disposition)


def _record(sessions: sessionmaker[Session], row_id: str, *, now: datetime,
            **values: Any) -> None:
    with sessions.begin() as session:
        row = session.get(As2Message, row_id)
        if row is None:
            return
        extra_log = values.pop("log_line", None)
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = now
        if extra_log:
            row.details = {**(row.details or {}),
                           "log": [*(row.details or {}).get("log", []), extra_log][-20:]}


def _alert(partner_id: str, message_id: str, what: str) -> None:
    log.error("AS2 alert: partner %s message %s: %s", partner_id, message_id, what,
              extra={"alert": "as2", "partner": partner_id, "message_id": message_id})


async def send_as2(http: aiohttp.ClientSession, sessions: sessionmaker[Session],
                   settings: Settings, *, partner_id: str, payload: bytes, message_id: str,
                   filename: str = "", outbox_id: str | None = None,
                   now: datetime | None = None,
                   wait: tenacity.wait.wait_base = DEFAULT_WAIT) -> SendResult:
    """Send ``payload`` to ``partner_id`` as the AS2 message ``message_id``.

    ``message_id`` must be stable for the document (e.g. derived from the outbox row id): a
    repeated call reuses the stored bytes and MIC, and a message already confirmed by an MDN is
    not sent again. Returns once the partner answered for good or the attempts ran out.
    """
    now = now or datetime.now(UTC)
    try:
        prepared = await asyncio.to_thread(
            _prepare, sessions, settings, partner_id=partner_id, payload=payload,
            message_id=message_id, filename=filename, outbox_id=outbox_id, now=now)
    except SendError as exc:
        _alert(partner_id, message_id, str(exc))
        return SendResult(ok=False, message_id=message_id, detail=str(exc))
    if prepared.already is not None:
        return prepared.already
    config = prepared.config
    result = SendResult(ok=False, message_id=message_id, mic=prepared.mic.value)
    stored_attempts = await asyncio.to_thread(_attempts_of, sessions, prepared.row_id)

    async def record(**values: Any) -> None:
        await asyncio.to_thread(_record, sessions, prepared.row_id, now=datetime.now(UTC),
                                attempts=stored_attempts, **values)

    async def attempt() -> tuple[int, dict[str, str], bytes]:
        nonlocal stored_attempts
        result.attempts += 1
        stored_attempts += 1
        try:
            return await _post_once(http, prepared.url, prepared.headers, prepared.body,
                                    config.timeout)
        except _Retryable as exc:
            result.log.append(str(exc))
            result.http_status = exc.http_status
            await record(status=As2OutboundStatus.SENDING, log_line=str(exc))
            raise

    try:
        status, headers, body = await tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(config.max_attempts), wait=wait,
            retry=tenacity.retry_if_exception_type(_Retryable), reraise=True)(attempt)
    except _Retryable as exc:
        result.retryable = True
        result.detail = f"gave up after {result.attempts} attempts: {exc}"
        _alert(partner_id, message_id, result.detail)
        await record(status=As2OutboundStatus.FAILED, status_detail=result.detail[:2000])
        return result
    result.http_status = status
    if not 200 <= status < 300:
        result.detail = f"HTTP {status}: {body[:300].decode('utf-8', 'replace')}"
        _alert(partner_id, message_id, f"refused for good: {result.detail}")
        await record(status=As2OutboundStatus.FAILED, status_detail=result.detail)
        return result
    if config.mdn_mode == "none":
        result.ok, result.detail = True, f"HTTP {status}; no MDN requested"
        await record(status=As2OutboundStatus.SENT, mdn_status=MdnStatus.NONE)
        return result
    if config.mdn_mode == "async":
        result.ok, result.awaiting_mdn, result.mdn_status = True, True, MdnStatus.PENDING
        result.detail = f"HTTP {status}; asynchronous MDN expected"
        await record(status=As2OutboundStatus.SENT, mdn_status=MdnStatus.PENDING)
        return result
    try:
        parsed = read_mdn(_mdn_from_http(headers, body), trusted=prepared.trusted,
                          require_signed=config.mdn_signed)
    except MdnError as exc:
        result.mdn_status, result.detail = MdnStatus.INVALID, str(exc)
        _alert(partner_id, message_id, f"bad MDN: {exc}")
        await record(status=As2OutboundStatus.SENT, mdn_status=MdnStatus.INVALID,
                     status_detail=str(exc)[:2000], mdn_raw=body, mdn_at=datetime.now(UTC))
        return result
    mdn_status, detail = judge_mdn(parsed, message_id=message_id, mic=prepared.mic)
    result.mdn_status, result.disposition = mdn_status, str(parsed.disposition)
    result.detail = detail
    result.ok = mdn_status in (MdnStatus.PROCESSED, MdnStatus.WARNING)
    if not result.ok:
        _alert(partner_id, message_id, f"MDN {mdn_status}: {detail}")
    await record(status=As2OutboundStatus.SENT, mdn_status=mdn_status,
                 mdn_disposition=str(parsed.disposition)[:300], status_detail=detail[:2000],
                 mdn_raw=body, mdn_at=datetime.now(UTC))
    return result


def _attempts_of(sessions: sessionmaker[Session], row_id: str) -> int:
    with sessions.begin() as session:
        row = session.get(As2Message, row_id)
        return row.attempts if row else 0


# -- asynchronous MDNs ----------------------------------------------------------------------------

@dataclass(frozen=True)
class AsyncMdnOutcome:
    http_status: int
    detail: str
    mdn_status: str = ""
    message_row: str = ""


def receive_async_mdn(sessions: sessionmaker[Session], settings: Settings,
                      headers: dict[str, str], body: bytes, now: datetime) -> AsyncMdnOutcome:
    """Match an MDN POSTed to us with the message it answers and record its verdict."""
    lowered = {k.lower(): " ".join(v.split()) for k, v in headers.items()}
    as2_from = unquote_as2_name(lowered.get("as2-from", ""))
    if not as2_from:
        return AsyncMdnOutcome(400, "an MDN needs the AS2-From header")
    with sessions.begin() as session:
        partner = find_partner_by_as2_id(session, as2_from)
        if partner is None:
            return AsyncMdnOutcome(403, f"AS2-From {as2_from!r} is not a registered partner")
        if not body or not lowered.get("content-type"):
            return AsyncMdnOutcome(400, "an MDN needs a Content-Type and a body")
        try:
            config = as2_settings_of(partner, max_body_bytes=settings.max_body_bytes)
        except As2ConfigError as exc:
            return AsyncMdnOutcome(403, str(exc))
        trusted: Sequence[x509.Certificate] = partner_certificates(session, partner.id, now,
                                                                   "sign")
        require_signed = bool(config and config.mdn_signed)
        try:
            parsed = read_mdn(_mdn_from_http(headers, body), trusted=trusted,
                              require_signed=require_signed)
        except MdnError as exc:
            _alert(partner.id, "?", f"bad asynchronous MDN: {exc}")
            return AsyncMdnOutcome(400, f"MDN refused: {exc}")
        row = session.scalars(select(As2Message).where(
            As2Message.partner_id == partner.id, As2Message.direction == "out",
            As2Message.message_id == parsed.original_message_id)).first()
        if row is None:
            return AsyncMdnOutcome(404, f"no message {parsed.original_message_id!r} was sent "
                                        f"to {partner.id}")
        mdn_status, detail = judge_mdn(parsed, message_id=row.message_id,
                                       mic=Mic(row.mic, row.mic_algorithm))
        if mdn_status not in (MdnStatus.PROCESSED, MdnStatus.WARNING):
            _alert(partner.id, row.message_id, f"MDN {mdn_status}: {detail}")
        row.mdn_status, row.mdn_disposition = mdn_status, str(parsed.disposition)[:300]
        row.mdn_raw, row.mdn_at, row.updated_at = body, now, now
        row.status_detail = detail[:2000]
        return AsyncMdnOutcome(200, detail, mdn_status, row.id)


async def post_mdn(http: aiohttp.ClientSession, url: str, mdn: BuiltMdn, *,
                   timeout: float = 30, attempts: int = 4,
                   wait: tenacity.wait.wait_base = DEFAULT_WAIT) -> tuple[bool, str]:
    """POST an asynchronous MDN; retried like a message. Returns (delivered, detail)."""

    async def once() -> int:
        status, _, _ = await _post_once(http, url, mdn.headers, mdn.body, timeout)
        return status

    try:
        status = await tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(attempts), wait=wait,
            retry=tenacity.retry_if_exception_type(_Retryable), reraise=True)(once)
    except _Retryable as exc:
        return False, f"MDN not delivered to {url}: {exc}"
    except ValueError as exc:  # an unusable URL from the partner's header
        return False, f"MDN not delivered to {url!r}: {exc}"
    if 200 <= status < 300:
        return True, f"MDN delivered to {url} (HTTP {status})"
    return False, f"MDN refused by {url} (HTTP {status})"


# -- the outbox transport hook (gateway.outbound.transports calls this) ---------------------------

@functools.cache
def _sessions_for(database_url: str) -> sessionmaker[Session]:
    from gateway.storage.db import make_engine, session_factory

    return session_factory(make_engine(database_url))


async def deliver_outbox_item(item: OutboxItem, profile: dict[str, Any], *, settings: Settings,
                              http: aiohttp.ClientSession,
                              sessions: sessionmaker[Session] | None = None) -> Any:
    """Deliver one outbox row over AS2 and answer with the dispatcher's ``Delivery``.

    The Message-ID derives from the outbox row id, so the dispatcher's own retries (and a
    restart mid-delivery) resend the same stored message. A resend because the partner's
    acknowledgment is overdue is a new transmission of the same document: it gets its own
    Message-ID (``<row>.r<n>``), otherwise the stored, MDN-confirmed first message would be
    taken as "already delivered" and nothing would reach the partner.
    """
    from gateway.outbound.transports import Delivery

    del profile  # read fresh from the database, together with the certificates
    sessions = sessions or _sessions_for(settings.resolved_database_url)
    number = item.control_numbers.get("interchange") or item.id[:8]
    resends = int((item.ack_detail or {}).get("overdue_resends", 0) or 0)
    local = item.id if resends <= 0 else f"{item.id}.r{resends}"
    result = await send_as2(http, sessions, settings, partner_id=item.partner_id,
                            payload=item.payload or b"",
                            message_id=f"{local}@{message_domain(settings)}",
                            filename=f"{item.document_type.replace(':', '-')}-{number}.edi",
                            outbox_id=item.id,
                            wait=tenacity.wait_exponential_jitter(multiplier=0.5, max=5,
                                                                  jitter=0.5))
    extra = {"as2_message_id": result.message_id, "mdn_status": result.mdn_status,
             "mic": result.mic, "attempts": result.attempts}
    return Delivery(ok=result.ok, retryable=result.retryable, detail=result.detail,
                    http_status=result.http_status, extra=extra)
