"""Build and open AS2 messages (RFC 4130): compress, sign, encrypt — and back.

Pure: keys, certificates, identifiers and the date come in as arguments, bytes go out. The
inbound and outbound modules add storage and HTTP around it.
"""

from __future__ import annotations

import base64
import email.utils
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message

from cryptography import x509

from gateway.channels.as2 import cms, mime
from gateway.channels.as2.algorithms import DEFAULT_CIPHER, DEFAULT_DIGEST, micalg_name
from gateway.channels.as2.errors import (
    AuthenticationFailed,
    InsufficientSecurity,
    IntegrityCheckFailed,
    MalformedMessage,
)
from gateway.channels.as2.mic import Mic, compute_mic, receipt_options_header

AS2_VERSION = "1.2"
EDIINT_FEATURES = "CMS, multiple-attachments"
PKCS7_MIME = ("application/pkcs7-mime", "application/x-pkcs7-mime")
PKCS7_SIGNATURE = ("application/pkcs7-signature", "application/x-pkcs7-signature")
MAX_LAYERS = 4  # encrypt + sign + two compressions at most; deeper nesting is hostile


def quote_as2_name(name: str) -> str:
    """AS2 names with spaces or specials travel quoted (RFC 4130 §6.2)."""
    if all(c.isalnum() or c in "-_.@!#$%&'*+/=?^`{|}~" for c in name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquote_as2_name(value: str) -> str:
    # Some peers quote an already quoted name (pyas2lib does in its MDNs): unwrap every level.
    value = value.strip()
    for _ in range(3):
        if not (len(value) >= 2 and value[0] == value[-1] == '"'):
            break
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\").strip()
    return value


def strip_angle(message_id: str) -> str:
    return message_id.strip().removeprefix("<").removesuffix(">").strip()


@dataclass(frozen=True)
class OutboundOptions:
    sign: bool = True
    encrypt: bool = True
    compress: bool = False
    compress_before_sign: bool = True
    digest: str = DEFAULT_DIGEST
    cipher: str = DEFAULT_CIPHER
    key_transport: str = "rsaes_pkcs1v15"
    content_type: str = "application/edi-consent"
    subject: str = "EDI"


@dataclass(frozen=True)
class MdnRequest:
    """How the receiver should answer: nothing, synchronously, or by POST to ``url``."""

    mode: str = "sync"  # none | sync | async
    signed: bool = True
    digest: str = DEFAULT_DIGEST
    notify_to: str = "edigate"
    url: str = ""


@dataclass(frozen=True)
class BuiltMessage:
    """Everything to POST: the HTTP headers and the body, plus the MIC we expect back."""

    message_id: str
    headers: list[tuple[str, str]]
    body: bytes
    mic: Mic


def _payload_entity(payload: bytes, content_type: str, filename: str) -> bytes:
    body = mime.canonical_text(payload) if mime.is_text(content_type) else payload
    headers = [("Content-Type", content_type), ("Content-Transfer-Encoding", "binary")]
    if filename:
        safe = "".join(c for c in filename if c.isprintable() and c not in '"\\')
        headers.append(("Content-Disposition", f'attachment; filename="{safe}"'))
    return mime.entity_bytes(headers, body)


def _compressed_entity(entity: bytes) -> bytes:
    return mime.entity_bytes([
        ("Content-Type", 'application/pkcs7-mime; smime-type=compressed-data; name="smime.p7z"'),
        ("Content-Transfer-Encoding", "binary"),
        ("Content-Disposition", 'attachment; filename="smime.p7z"'),
    ], cms.compress(entity))


def _base64_lines(data: bytes) -> bytes:
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76)) + b"\r\n"


def signed_entity(content: bytes, signer: cms.KeyPair, digest: str,
                  signing_time: datetime | None = None) -> tuple[list[tuple[str, str]], bytes]:
    """A multipart/signed entity over ``content`` (an entity's exact bytes)."""
    boundary = mime.new_boundary()
    signature = cms.sign(content, signer, digest, signing_time)
    sig_part = mime.entity_bytes([
        ("Content-Type", 'application/pkcs7-signature; name="smime.p7s"; smime-type=signed-data'),
        ("Content-Transfer-Encoding", "base64"),
        ("Content-Disposition", 'attachment; filename="smime.p7s"'),
    ], _base64_lines(signature))
    delim = f"--{boundary}".encode()
    body = (delim + b"\r\n" + content + b"\r\n" + delim + b"\r\n" + sig_part + b"\r\n"
            + delim + b"--\r\n")
    content_type = (f'multipart/signed; protocol="application/pkcs7-signature"; '
                    f'micalg={micalg_name(digest)}; boundary="{boundary}"')
    return [("Content-Type", content_type)], body


def build_message(payload: bytes, *, message_id: str, as2_from: str, as2_to: str,
                  now: datetime, options: OutboundOptions, mdn: MdnRequest,
                  signer: cms.KeyPair | None = None,
                  recipient: x509.Certificate | None = None, filename: str = "") -> BuiltMessage:
    if options.sign and signer is None:
        raise ValueError("signing is enabled but no signing key is available")
    if options.encrypt and recipient is None:
        raise ValueError("encryption is enabled but the partner has no valid certificate")
    entity = _payload_entity(payload, options.content_type, filename)
    mic: Mic | None = None
    if options.compress and options.compress_before_sign:
        entity = _compressed_entity(entity)
    if options.sign:
        assert signer is not None
        mic = compute_mic(entity, options.digest)
        headers, body = signed_entity(entity, signer, options.digest, now)
        entity = mime.entity_bytes(headers, body)
    if options.compress and not options.compress_before_sign:
        entity = _compressed_entity(entity)
    if mic is None:
        # Unsigned: encrypted messages use the MIME entity, plain ones the content (§7.3.1).
        mic = compute_mic(entity if options.encrypt else payload, mdn.digest)
    if options.encrypt:
        assert recipient is not None
        entity = mime.entity_bytes([
            ("Content-Type",
             'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"'),
            ("Content-Transfer-Encoding", "binary"),
            ("Content-Disposition", 'attachment; filename="smime.p7m"'),
        ], cms.encrypt(entity, recipient, options.cipher, key_transport=options.key_transport))
    top = mime.parse_entity(entity)
    headers = [
        ("AS2-Version", AS2_VERSION),
        ("EDIINT-Features", EDIINT_FEATURES),
        ("Message-ID", f"<{strip_angle(message_id)}>"),
        ("AS2-From", quote_as2_name(as2_from)),
        ("AS2-To", quote_as2_name(as2_to)),
        ("Subject", options.subject),
        ("Date", email.utils.format_datetime(now)),
        ("MIME-Version", "1.0"),
        ("Content-Type", top.header("Content-Type")),
    ]
    if mdn.mode != "none":
        headers.append(("Disposition-Notification-To", mdn.notify_to))
        if mdn.signed:
            headers.append(("Disposition-Notification-Options",
                            receipt_options_header(mdn.digest)))
        if mdn.mode == "async":
            if not mdn.url:
                raise ValueError("an asynchronous MDN needs our MDN URL")
            headers.append(("Receipt-Delivery-Option", mdn.url))
    return BuiltMessage(strip_angle(message_id), headers, top.body, mic)


@dataclass(frozen=True)
class SecurityPolicy:
    require_signed: bool = False
    require_encrypted: bool = False
    max_content_bytes: int = 64 << 20


@dataclass
class OpenedMessage:
    payload: bytes
    content_type: str
    filename: str
    signed: bool = False
    encrypted: bool = False
    compressed: bool = False
    cipher: str = ""
    mic: Mic | None = None
    signer: x509.Certificate | None = None
    layers: list[str] = field(default_factory=list)


def verify_signed(entity: mime.Entity,
                   trusted: Sequence[x509.Certificate]) -> tuple[bytes, cms.Verified]:
    parts = mime.split_multipart(entity.body, entity.param("boundary"))
    if len(parts) != 2:
        raise MalformedMessage(f"multipart/signed has {len(parts)} parts, expected 2")
    signature_part = mime.parse_entity(parts[1])
    if signature_part.content_type not in PKCS7_SIGNATURE:
        raise MalformedMessage(f"second part of multipart/signed is "
                               f"{signature_part.content_type}, not a PKCS#7 signature")
    signature = signature_part.decoded_body()
    signed = parts[0]
    try:
        return signed, cms.verify(signed, signature, trusted)
    except IntegrityCheckFailed as first:
        # Some peers sign the canonical (CRLF) form but transmit LF line ends.
        canonical = mime.canonical_text(signed)
        if canonical == signed:
            raise
        try:
            return canonical, cms.verify(canonical, signature, trusted)
        except (AuthenticationFailed, IntegrityCheckFailed):
            raise first from None


def filename_of(entity: mime.Entity) -> str:
    disposition = entity.header("Content-Disposition")
    if not disposition:
        return ""
    msg = Message()
    msg["Content-Disposition"] = disposition
    name = msg.get_filename() or ""
    return name.replace("/", "_").replace("\\", "_")[:200]


def open_message(top: mime.Entity, *, ours: Sequence[cms.KeyPair],
                 trusted: Sequence[x509.Certificate], policy: SecurityPolicy,
                 mic_algorithm: str = DEFAULT_DIGEST) -> OpenedMessage:
    """Decrypt, decompress and verify, in whatever order the sender applied them."""
    entity = top
    opened = OpenedMessage(b"", "", "")
    unsigned_mic_source: bytes | None = None
    for _ in range(MAX_LAYERS + 1):
        ctype = entity.content_type
        if ctype in PKCS7_MIME:
            smime_type = entity.param("smime-type").lower()
            der = entity.decoded_body()
            if smime_type in ("enveloped-data", ""):
                if opened.encrypted:
                    raise MalformedMessage("message is encrypted twice")
                decrypted = cms.decrypt(der, ours)
                opened.encrypted, opened.cipher = True, decrypted.cipher
                opened.layers.append("encrypted")
                unsigned_mic_source = decrypted.content
                entity = mime.parse_entity(decrypted.content)
                continue
            if smime_type == "compressed-data":
                inner = cms.decompress(der, limit=policy.max_content_bytes)
                opened.compressed = True
                opened.layers.append("compressed")
                entity = mime.parse_entity(inner)
                continue
            raise MalformedMessage(f"unsupported smime-type {smime_type!r}")
        if ctype == "multipart/signed":
            if opened.signed:
                raise MalformedMessage("message is signed twice")
            signed_bytes, verified = verify_signed(entity, trusted)
            opened.signed, opened.signer = True, verified.certificate
            opened.layers.append("signed")
            opened.mic = compute_mic(signed_bytes, verified.digest)
            entity = mime.parse_entity(signed_bytes)
            continue
        break
    else:
        raise MalformedMessage(f"more than {MAX_LAYERS} nested S/MIME layers")
    if policy.require_encrypted and not opened.encrypted:
        raise InsufficientSecurity("the partner's profile requires encrypted messages")
    if policy.require_signed and not opened.signed:
        raise InsufficientSecurity("the partner's profile requires signed messages")
    opened.payload = entity.decoded_body()
    opened.content_type = entity.content_type
    opened.filename = filename_of(entity)
    if opened.mic is None:
        opened.mic = compute_mic(unsigned_mic_source if unsigned_mic_source is not None
                                 else opened.payload, mic_algorithm)
    return opened
