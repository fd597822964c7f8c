"""Message Disposition Notifications (RFC 3798 as profiled by RFC 4130 §7.4): build and read.

A receipt is a multipart/report with a human-readable part and a
message/disposition-notification part, optionally wrapped in multipart/signed.
"""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from gateway.channels.as2 import cms, mime
from gateway.channels.as2.errors import (
    As2Error,
    AuthenticationFailed,
    IntegrityCheckFailed,
    MalformedMessage,
    MdnError,
)
from gateway.channels.as2.message import (
    AS2_VERSION,
    quote_as2_name,
    signed_entity,
    strip_angle,
    verify_signed,
)
from gateway.channels.as2.mic import Mic, parse_mic

REPORTING_UA = "edigate AS2"


@dataclass(frozen=True)
class Disposition:
    """``processed``, ``processed/warning: duplicate-document``, ``failed/failure: …``."""

    status: str  # processed | failed
    kind: str = ""  # "", warning, error, failure
    modifier: str = ""

    def __str__(self) -> str:
        text = self.status
        if self.kind:
            text += f"/{self.kind}"
        if self.modifier:
            text += f": {self.modifier}"
        return text

    @property
    def ok(self) -> bool:
        """Delivered and accepted (a warning such as a duplicate still means "we have it")."""
        return self.status == "processed" and self.kind in ("", "warning")

    @classmethod
    def parse(cls, value: str) -> Disposition:
        # "automatic-action/MDN-sent-automatically; processed/error: decryption-failed"
        _, _, outcome = value.partition(";")
        outcome = outcome.strip() or value.strip()
        head, _, modifier = outcome.partition(":")
        status, _, kind = head.strip().partition("/")
        return cls(status.strip().lower(), kind.strip().lower(), modifier.strip())

    @classmethod
    def for_error(cls, error: As2Error) -> Disposition:
        if error.kind == "failure":
            return cls("failed", "failure", error.modifier)
        return cls("processed", "error", error.modifier)


PROCESSED = Disposition("processed")
DUPLICATE = Disposition("processed", "warning", "duplicate-document")
# A Message-ID seen before with a *different* document. RFC 4130 section 7.5.3 reserves
# "duplicate-document" (a warning: the receiver has the document) for a resend of the same
# one. Here the new document is refused, so the disposition type must be "error" (RFC 4130
# 7.4.3/RFC 3798: the message was not processed). None of the registered error modifiers fits:
# "authentication-failed" and "integrity-check-failed" would send the partner hunting for a
# certificate or MIC fault that does not exist, "unexpected-processing-error" says nothing.
# RFC 3798 allows an extension modifier; "duplicate-message-id" names the fault, and every
# AS2 product treats any "processed/error" as a failed transfer to be resent.
REUSED_MESSAGE_ID = Disposition("processed", "error", "duplicate-message-id")


@dataclass(frozen=True)
class BuiltMdn:
    message_id: str
    headers: list[tuple[str, str]]  # HTTP headers, Content-Type included
    body: bytes


def build_mdn(*, original_message_id: str, original_recipient: str, as2_from: str,
              as2_to: str, disposition: Disposition, mic: Mic | None, message_id: str,
              now: datetime, signer: cms.KeyPair | None = None, digest: str = "sha256",
              text: str = "") -> BuiltMdn:
    """``as2_from`` is us (the receiver of the original message), ``as2_to`` its sender."""
    if not text:
        text = ("The AS2 message was received and committed." if disposition.ok else
                f"The AS2 message could not be processed: {disposition}.")
    report_lines = [
        f"Reporting-UA: {REPORTING_UA}",
        f"Original-Recipient: rfc822; {original_recipient}",
        f"Final-Recipient: rfc822; {original_recipient}",
        f"Original-Message-ID: <{strip_angle(original_message_id)}>",
        f"Disposition: automatic-action/MDN-sent-automatically; {disposition}",
    ]
    if mic is not None:
        report_lines.append(f"Received-Content-MIC: {mic.header_value()}")
    report_body = ("\r\n".join(report_lines) + "\r\n").encode("utf-8")
    boundary = mime.new_boundary()
    delim = f"--{boundary}".encode()
    text_part = mime.entity_bytes([("Content-Type", "text/plain; charset=us-ascii"),
                                   ("Content-Transfer-Encoding", "7bit")],
                                  mime.canonical_text(text.encode("ascii", "replace")) + b"\r\n")
    report_part = mime.entity_bytes([("Content-Type", "message/disposition-notification"),
                                     ("Content-Transfer-Encoding", "7bit")], report_body)
    body = (delim + b"\r\n" + text_part + b"\r\n" + delim + b"\r\n" + report_part + b"\r\n"
            + delim + b"--\r\n")
    content_type = f'multipart/report; report-type=disposition-notification; boundary="{boundary}"'
    top_headers: list[tuple[str, str]] = [("Content-Type", content_type)]
    if signer is not None:
        top_headers, body = signed_entity(mime.entity_bytes(top_headers, body), signer,
                                           digest, now)
    headers = [
        ("AS2-Version", AS2_VERSION),
        ("Message-ID", f"<{strip_angle(message_id)}>"),
        ("AS2-From", quote_as2_name(as2_from)),
        ("AS2-To", quote_as2_name(as2_to)),
        ("Date", email.utils.format_datetime(now)),
        ("Subject", "AS2 receipt"),
        ("MIME-Version", "1.0"),
        *top_headers,
    ]
    return BuiltMdn(strip_angle(message_id), headers, body)


@dataclass(frozen=True)
class ParsedMdn:
    original_message_id: str
    disposition: Disposition
    mic: Mic | None
    signed: bool
    signer: x509.Certificate | None
    text: str


def _fields(report: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    current = ""
    for raw_line in report.decode("utf-8", "replace").splitlines():
        if not raw_line.strip():
            continue
        if raw_line[0] in " \t" and current:
            fields[current] += " " + raw_line.strip()
            continue
        key, sep, value = raw_line.partition(":")
        if sep:
            current = key.strip().lower()
            fields[current] = value.strip()
    return fields


def read_mdn(top: mime.Entity, *, trusted: Sequence[x509.Certificate],
             require_signed: bool) -> ParsedMdn:
    """Read (and, when signed, verify) a receipt. Raises MdnError for anything unusable."""
    try:
        entity = top
        signed = False
        signer: x509.Certificate | None = None
        if entity.content_type == "multipart/signed":
            try:
                signed_bytes, verified = verify_signed(entity, trusted)
            except (AuthenticationFailed, IntegrityCheckFailed) as exc:
                raise MdnError(f"MDN signature does not verify: {exc}") from None
            signed, signer = True, verified.certificate
            entity = mime.parse_entity(signed_bytes)
        elif entity.content_type != "multipart/report":
            raise MdnError(f"not an MDN: content type {entity.content_type}")
        elif require_signed:
            raise MdnError("a signed MDN was requested but the MDN is not signed")
        if entity.content_type != "multipart/report":
            raise MdnError(f"not an MDN: content type {entity.content_type}")
        parts = [mime.parse_entity(p)
                 for p in mime.split_multipart(entity.body, entity.param("boundary"))]
        report = next((p for p in parts
                       if p.content_type == "message/disposition-notification"), None)
        if report is None:
            raise MdnError("MDN has no message/disposition-notification part")
        fields = _fields(report.decoded_body())
        text_part = next((p for p in parts if p.content_type == "text/plain"), None)
        text = text_part.decoded_body().decode("utf-8", "replace").strip() if text_part else ""
        if "original-message-id" not in fields or "disposition" not in fields:
            raise MdnError("MDN lacks Original-Message-ID or Disposition")
        return ParsedMdn(strip_angle(fields["original-message-id"]),
                         Disposition.parse(fields["disposition"]),
                         parse_mic(fields.get("received-content-mic", "")), signed, signer,
                         text[:1000])
    except As2Error as exc:  # malformed MIME or CMS, an unsupported algorithm
        raise MdnError(f"unreadable MDN: {exc}") from None




def looks_like_mdn(content_type: str, body: bytes) -> bool:
    """Tell an MDN from a message on a shared endpoint, from the outermost entity only."""
    outer = mime.Entity((("Content-Type", content_type),), b"")
    if outer.content_type == "multipart/report":
        return True
    if outer.content_type != "multipart/signed":
        return False
    try:
        first = mime.parse_entity(mime.split_multipart(body, outer.param("boundary"))[0])
    except MalformedMessage:
        return False
    return first.content_type == "multipart/report"
