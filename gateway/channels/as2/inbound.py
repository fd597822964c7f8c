"""Receiving AS2: raw request first, then open, commit the payload, and only then the MDN.

Order (promise 1): the request's headers and body are committed as an ``as2_messages`` row
before anything is parsed; the payload is committed to the inbox (channel ``as2``) before an
MDN is built; an MDN that says ``processed`` therefore never covers bytes we could lose.
Every failure is answered: unknown AS2 names with a 4xx, cryptographic and MIME faults with an
MDN carrying the RFC 4130 disposition modifier, never a traceback.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from sqlalchemy import select

from gateway.channels.as2 import mime
from gateway.channels.as2.certstore import (
    CertificateError,
    local_key_pairs,
    partner_certificates,
    signing_key_pair,
)
from gateway.channels.as2.cms import KeyPair
from gateway.channels.as2.errors import As2Error, MalformedMessage
from gateway.channels.as2.mdn import (
    DUPLICATE,
    PROCESSED,
    REUSED_MESSAGE_ID,
    BuiltMdn,
    Disposition,
    build_mdn,
)
from gateway.channels.as2.message import (
    OpenedMessage,
    open_message,
    strip_angle,
    unquote_as2_name,
)
from gateway.channels.as2.mic import Mic, ReceiptOptions, parse_receipt_options
from gateway.channels.as2.partner import (
    As2ConfigError,
    As2Partner,
    as2_settings_of,
    find_partner_by_as2_id,
)
from gateway.channels.as2.station import local_as2_id, message_domain
from gateway.channels.as2.storage import body_of, keep_spooled
from gateway.domain.states import As2InboundStatus, MdnStatus
from gateway.inbox.spool import SpooledBody, spool_bytes
from gateway.inbox.store import accept
from gateway.observability import metrics
from gateway.runtime import Runtime
from gateway.storage.models import Interchange
from gateway.storage.models_as2 import As2Message

log = logging.getLogger("edigate.as2")

# Headers never stored with the raw request: they may carry credentials.
_SECRET_HEADERS = {"authorization", "cookie", "proxy-authorization"}
# Headers of the HTTP request that belong to the top-level MIME entity.
_ENTITY_HEADERS = ("Content-Type", "Content-Transfer-Encoding", "Content-Disposition")


@dataclass
class InboundAnswer:
    """What the HTTP layer answers: a sync MDN, or a status with a plain explanation."""

    http_status: int
    detail: str
    message_row: str = ""
    mdn: BuiltMdn | None = None
    async_mdn_url: str = ""
    interchange_id: str = ""
    disposition: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Request:
    as2_from: str
    as2_to: str
    message_id: str
    notify_to: str
    receipt: ReceiptOptions
    receipt_url: str
    top: mime.Entity


def _header(headers: Mapping[str, str], name: str) -> str:
    return " ".join(str(headers.get(name, "")).split())


def _top_entity(headers: Mapping[str, str], body: bytes) -> mime.Entity:
    entity_headers = tuple((name, _header(headers, name)) for name in _ENTITY_HEADERS
                           if _header(headers, name))
    entity = mime.Entity(entity_headers, body)
    encoding = entity.header("Content-Transfer-Encoding").lower()
    if encoding in ("base64", "quoted-printable"):
        # Sent as an HTTP header by some products (a known interop fault): decode once here.
        kept = tuple(h for h in entity_headers if h[0] != "Content-Transfer-Encoding")
        entity = mime.Entity(kept, entity.decoded_body())
    return entity


def _read_request(headers: Mapping[str, str], body: bytes) -> _Request:
    # Without a Content-Type the body is text/plain (RFC 2045); the partner's security policy
    # then decides, after its name has been checked.
    missing = [h for h in ("AS2-From", "AS2-To", "Message-ID") if not _header(headers, h)]
    if missing:
        raise MalformedMessage(f"missing header(s): {', '.join(missing)}")
    return _Request(
        as2_from=unquote_as2_name(_header(headers, "AS2-From")),
        as2_to=unquote_as2_name(_header(headers, "AS2-To")),
        message_id=strip_angle(_header(headers, "Message-ID"))[:255],
        notify_to=_header(headers, "Disposition-Notification-To"),
        receipt=parse_receipt_options(_header(headers, "Disposition-Notification-Options")),
        receipt_url=_header(headers, "Receipt-Delivery-Option"),
        top=_top_entity(headers, body))


def stored_headers(headers: Iterable[tuple[str, str]]) -> list[list[str]]:
    return [[k, v] for k, v in headers if k.lower() not in _SECRET_HEADERS]


class Inbound:
    """One inbound AS2 request, step by step; each storage step is its own transaction."""

    def __init__(self, runtime: Runtime, headers: Mapping[str, str],
                 header_items: Iterable[tuple[str, str]], now: datetime,
                 correlation_id: str = "") -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.headers = headers
        self.header_items = list(header_items)
        self.now = now
        self.cid = correlation_id
        self.row_id = str(uuid.uuid4())
        self.partner_id: str | None = None

    # -- step 1: the raw request, before anything else ---------------------------------------
    def record_raw(self, spooled: SpooledBody) -> None:
        with self.runtime.sessions.begin() as session:
            row = As2Message(
                id=self.row_id, direction="in",
                message_id=strip_angle(_header(self.headers, "Message-ID"))[:255],
                as2_from=unquote_as2_name(_header(self.headers, "AS2-From"))[:128],
                as2_to=unquote_as2_name(_header(self.headers, "AS2-To"))[:128],
                status=As2InboundStatus.RECEIVED, created_at=self.now, updated_at=self.now,
                headers=stored_headers(self.header_items),
                details={"correlation_id": self.cid} if self.cid else {})
            keep_spooled(row, spooled, self.settings.data_path)
            session.add(row)

    def _finish_row(self, status: str, detail: str, **values: object) -> None:
        with self.runtime.sessions.begin() as session:
            row = session.get(As2Message, self.row_id)
            assert row is not None
            row.status, row.status_detail, row.updated_at = status, detail[:2000], self.now
            for key, value in values.items():
                setattr(row, key, value)

    # -- step 2..n ------------------------------------------------------------------------------
    def process(self) -> InboundAnswer:
        """Everything after the raw commit; runs in a worker thread (CPU and database)."""
        with self.runtime.sessions.begin() as session:
            row = session.get(As2Message, self.row_id)
            assert row is not None
            body = body_of(row, self.settings.data_path)
        try:
            request = _read_request(self.headers, body)
        except MalformedMessage as exc:
            self._finish_row(As2InboundStatus.REJECTED, str(exc))
            return InboundAnswer(400, f"not an AS2 message: {exc}", self.row_id)
        if request.as2_to != local_as2_id(self.settings):
            self._finish_row(As2InboundStatus.REJECTED,
                             f"AS2-To {request.as2_to!r} is not this station")
            return InboundAnswer(404, f"AS2-To {request.as2_to!r} is not an AS2 name of this "
                                      f"gateway", self.row_id)
        resolved = self._resolve_partner(request)
        if isinstance(resolved, InboundAnswer):
            return resolved
        config, trusted, ours, signer = resolved
        mdn_signer = signer if request.receipt.signed else None
        try:
            opened = open_message(request.top, ours=ours, trusted=trusted, policy=config.policy,
                                  mic_algorithm=request.receipt.mic_algorithm)
        except Exception as exc:  # every input gets an answer (promise 3), never a 500
            if isinstance(exc, As2Error):
                disposition = Disposition.for_error(exc)
                log.warning("AS2 message %s from %s refused: %s (%s)", request.message_id,
                            request.as2_from, exc, disposition)
            else:
                disposition = Disposition("processed", "error", "unexpected-processing-error")
                log.exception("AS2 message %s from %s: unexpected failure", request.message_id,
                              request.as2_from)
            # Our own faults stay in our log; the partner learns only the disposition.
            text = str(exc) if isinstance(exc, As2Error) else ""
            mdn = self._mdn(request, disposition, None, mdn_signer, text=text)
            self._finish_row(As2InboundStatus.FAILED, f"{disposition}: {exc}",
                             **self._mdn_fields(mdn, request, disposition))
            metrics.received(self.partner_id, "as2", "failed")
            return self._answer(request, mdn, disposition, str(exc))
        earlier = self._already_processed(request)
        if earlier is not None and earlier != hashlib.sha256(opened.payload).hexdigest():
            # The same Message-ID with another document: not a resend. Answering it as a
            # duplicate (a warning, i.e. "we have it") would drop the new document silently.
            text = (f"Message-ID <{request.message_id}> was already used for a different "
                    "document; this document was not accepted: send it with a new Message-ID")
            mdn = self._mdn(request, REUSED_MESSAGE_ID, opened.mic, mdn_signer, text=text)
            self._finish_row(As2InboundStatus.REJECTED, text, **self._flags(opened),
                             **self._mdn_fields(mdn, request, REUSED_MESSAGE_ID))
            metrics.received(self.partner_id, "as2", "message-id-reused")
            log.warning("AS2 message %s from %s refused: Message-ID reused with a different "
                        "document", request.message_id, request.as2_from)
            return self._answer(request, mdn, REUSED_MESSAGE_ID, text)
        if earlier is not None:
            mdn = self._mdn(request, DUPLICATE, opened.mic, mdn_signer)
            self._finish_row(As2InboundStatus.DUPLICATE, "Message-ID already processed",
                             **self._flags(opened), **self._mdn_fields(mdn, request, DUPLICATE))
            metrics.received(self.partner_id, "as2", "duplicate")
            return self._answer(request, mdn, DUPLICATE, "duplicate Message-ID")
        interchange_id, mdn = self._commit_payload(request, opened, mdn_signer)
        metrics.received(self.partner_id, "as2", "received")
        answer = self._answer(request, mdn, PROCESSED, "processed")
        answer.interchange_id = interchange_id
        return answer

    def _resolve_partner(self, request: _Request) -> InboundAnswer | tuple[
            As2Partner, list[x509.Certificate], list[KeyPair], KeyPair | None]:
        """The sender's profile and certificates, and our keys, valid at this moment."""
        with self.runtime.sessions.begin() as session:
            row = session.get(As2Message, self.row_id)
            assert row is not None
            partner = find_partner_by_as2_id(session, request.as2_from)
            config = None
            if partner is not None:
                row.partner_id = self.partner_id = partner.id
                try:
                    config = as2_settings_of(partner,
                                             max_body_bytes=self.settings.max_body_bytes)
                except As2ConfigError as exc:
                    log.error("AS2 profile of %s unusable: %s", partner.id, exc)
            if partner is None or config is None:
                row.status = As2InboundStatus.REJECTED
                row.status_detail = (f"unknown AS2-From {request.as2_from!r}" if partner is None
                                     else "the partner's AS2 profile is unusable")
                return InboundAnswer(403, f"AS2-From {request.as2_from!r} is not a registered "
                                          f"AS2 partner of this gateway", self.row_id)
            try:
                return (config, partner_certificates(session, partner.id, self.now, "sign"),
                        local_key_pairs(session, self.now, self.settings.data_path, "encrypt"),
                        signing_key_pair(session, self.now, self.settings.data_path))
            except CertificateError as exc:
                # Verification and decryption then fail with a precise MDN; the cause is here.
                log.error("AS2 certificates unusable: %s", exc)
                return config, [], [], None

    def _already_processed(self, request: _Request) -> str | None:
        """The SHA-256 of the document an earlier processed message with this Message-ID
        carried (None: no such message; "" when it is unknown)."""
        with self.runtime.sessions.begin() as session:
            found = session.execute(
                select(As2Message.id, Interchange.sha256)
                .outerjoin(Interchange, Interchange.id == As2Message.interchange_id)
                .where(As2Message.partner_id == self.partner_id, As2Message.direction == "in",
                       As2Message.message_id == request.message_id,
                       As2Message.status == As2InboundStatus.PROCESSED,
                       As2Message.id != self.row_id)).first()
            return None if found is None else (found[1] or "")

    def _commit_payload(self, request: _Request, opened: OpenedMessage,
                        signer: KeyPair | None) -> tuple[str, BuiltMdn | None]:
        data_dir = self.settings.data_path
        spooled = spool_bytes(opened.payload, data_dir, max(len(opened.payload), 1))
        # Built before the commit so it is stored with it; it leaves only after the commit.
        mdn = self._mdn(request, PROCESSED, opened.mic, signer)
        with self.runtime.sessions.begin() as session:
            accepted = accept(session, spooled, data_dir=data_dir, partner_id=self.partner_id,
                              channel="as2", now=self.now, content_type=opened.content_type,
                              filename=opened.filename or request.message_id,
                              correlation_id=self.cid)
            row = session.get(As2Message, self.row_id)
            assert row is not None
            row.status, row.status_detail, row.updated_at = As2InboundStatus.PROCESSED, "", self.now
            row.interchange_id = accepted.interchange.id
            for key, value in {**self._flags(opened),
                               **self._mdn_fields(mdn, request, PROCESSED)}.items():
                setattr(row, key, value)
            return accepted.interchange.id, mdn

    @staticmethod
    def _flags(opened: OpenedMessage) -> dict[str, object]:
        return {"signed": opened.signed, "encrypted": opened.encrypted,
                "compressed": opened.compressed,
                "mic": opened.mic.value if opened.mic else "",
                "mic_algorithm": opened.mic.algorithm if opened.mic else "",
                "details": {"layers": opened.layers, "cipher": opened.cipher,
                            "content_type": opened.content_type,
                            "filename": opened.filename}}

    def _mdn(self, request: _Request, disposition: Disposition, mic: Mic | None,
             signer: KeyPair | None, text: str = "") -> BuiltMdn | None:
        if not request.notify_to:
            return None
        return build_mdn(original_message_id=request.message_id,
                         original_recipient=request.as2_to, as2_from=request.as2_to,
                         as2_to=request.as2_from, disposition=disposition,
                         mic=mic,
                         message_id=f"{uuid.uuid4()}@{message_domain(self.settings)}",
                         now=self.now, signer=signer,
                         digest=request.receipt.mic_algorithm, text=text)

    @staticmethod
    def _mdn_fields(mdn: BuiltMdn | None, request: _Request,
                    disposition: Disposition) -> dict[str, object]:
        if mdn is None:
            return {"mdn_mode": "none", "mdn_status": MdnStatus.NONE}
        raw = mime.render_headers(mdn.headers) + b"\r\n" + mdn.body
        return {"mdn_mode": "async" if request.receipt_url else "sync",
                "mdn_url": request.receipt_url[:500], "mdn_status": MdnStatus.PENDING,
                "mdn_disposition": str(disposition)[:300], "mdn_message_id": mdn.message_id,
                "mdn_raw": raw}

    def _answer(self, request: _Request, mdn: BuiltMdn | None, disposition: Disposition,
                detail: str) -> InboundAnswer:
        answer = InboundAnswer(200, detail, self.row_id, disposition=str(disposition))
        if mdn is None:
            return answer
        if request.receipt_url:
            answer.async_mdn_url = request.receipt_url
        answer.mdn = mdn
        return answer

    def mdn_delivered(self, ok: bool, detail: str) -> None:
        with self.runtime.sessions.begin() as session:
            row = session.get(As2Message, self.row_id)
            if row is not None:
                row.mdn_status = MdnStatus.SENT if ok else MdnStatus.SEND_FAILED
                row.mdn_at = self.now
                row.details = {**(row.details or {}), "mdn_delivery": detail[:500]}


def process_committed(runtime: Runtime, interchange_id: str, now: datetime) -> None:
    """Hand the committed payload to the pipeline; a failure leaves it for the resume job."""
    try:
        from gateway.pipeline.process import process_received
    except ImportError as exc:  # the pipeline is optional for the AS2 layer itself
        log.warning("pipeline unavailable (%s); %s waits for the resume job", exc,
                    interchange_id)
        return
    try:
        from gateway.inbox.poison import RetryPolicy

        process_received(runtime.sessions, interchange_id, data_dir=runtime.settings.data_path,
                         now=now, policy=RetryPolicy.from_settings(runtime.settings))
    except Exception:
        log.exception("processing of %s failed; the resume job retries it", interchange_id)
