"""Certificates per partner (several, each with a validity window) and our own key pairs.

Rotation without downtime: a partner's new certificate is imported before its start date; from
then on both verify inbound signatures, outbound encryption takes the newest valid one, and the
old one simply stops being chosen when its window closes. Our own certificates work the same
way and we decrypt with whichever one the sender used.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.channels.as2.cms import KeyPair, cert_der
from gateway.storage.models_as2 import As2Certificate

LOCAL = ""  # the owner value of our own certificates
USAGES = ("sign", "encrypt", "both")


class CertificateError(ValueError):
    """A certificate or key that cannot be imported or used; the message says why."""


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load_certificate(pem_or_der: bytes) -> x509.Certificate:
    try:
        if b"-----BEGIN" in pem_or_der:
            return x509.load_pem_x509_certificate(pem_or_der)
        return x509.load_der_x509_certificate(pem_or_der)
    except ValueError as exc:
        raise CertificateError(f"not an X.509 certificate: {exc}") from None


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert_der(cert)).hexdigest()


def _store_key(key_pem: bytes, fp: str, data_dir: Path) -> str:
    relative = Path("as2") / "keys" / f"{fp}.pem"
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem)
    return str(relative)


def _load_key(pem: bytes) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CertificateError(f"not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise CertificateError(f"unsupported private key type {type(key).__name__}")
    return key


def import_certificate(session: Session, cert_pem: bytes, *, partner_id: str | None,
                       now: datetime, usage: str = "both", label: str = "",
                       key_pem: bytes | None = None, data_dir: Path | None = None
                       ) -> As2Certificate:
    """Register a partner certificate, or one of ours with its key (``partner_id`` None)."""
    if usage not in USAGES:
        raise CertificateError(f"usage must be one of {', '.join(USAGES)}, got {usage!r}")
    cert = load_certificate(cert_pem)
    not_after = _aware(cert.not_valid_after_utc)
    if not_after <= now:
        raise CertificateError(f"certificate {cert.subject.rfc4514_string()} expired on "
                               f"{not_after:%Y-%m-%d}")
    owner = partner_id or LOCAL
    fp = fingerprint(cert)
    key_path: str | None = None
    if partner_id is None:
        if key_pem is None or data_dir is None:
            raise CertificateError("our own certificate needs its private key")
        key = _load_key(key_pem)
        if key.public_key().public_numbers() != cert.public_key().public_numbers():
            raise CertificateError("the private key does not belong to the certificate")
        key_path = _store_key(key_pem, fp, data_dir)
    elif key_pem is not None:
        raise CertificateError("a partner's private key must never be imported")
    existing = session.scalars(select(As2Certificate).where(
        As2Certificate.owner == owner, As2Certificate.fingerprint == fp)).first()
    if existing is not None:
        existing.usage, existing.revoked_at = usage, None
        existing.label = label or existing.label
        existing.key_path = key_path or existing.key_path
        return existing
    row = As2Certificate(
        owner=owner, partner_id=partner_id, usage=usage, fingerprint=fp,
        subject=cert.subject.rfc4514_string()[:500], issuer=cert.issuer.rfc4514_string()[:500],
        serial=format(cert.serial_number, "x"), not_before=_aware(cert.not_valid_before_utc),
        not_after=not_after, cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        key_path=key_path, label=label, created_at=now)
    session.add(row)
    session.flush()
    return row


def _valid_rows(session: Session, owner: str, now: datetime, usage: str
                ) -> list[As2Certificate]:
    rows = session.scalars(
        select(As2Certificate)
        .where(As2Certificate.owner == owner, As2Certificate.revoked_at.is_(None),
               or_(As2Certificate.usage == usage, As2Certificate.usage == "both"))
        .order_by(As2Certificate.not_before.desc(), As2Certificate.id.desc())).all()
    return [r for r in rows if _aware(r.not_before) <= now < _aware(r.not_after)]


def partner_certificates(session: Session, partner_id: str, now: datetime,
                         usage: str = "sign") -> list[x509.Certificate]:
    """Certificates valid at ``now``, newest first (``sign``: to verify its signatures)."""
    return [load_certificate(r.cert_pem.encode()) for r in
            _valid_rows(session, partner_id, now, usage)]


def encryption_certificate(session: Session, partner_id: str, now: datetime
                           ) -> x509.Certificate | None:
    certs = partner_certificates(session, partner_id, now, usage="encrypt")
    return certs[0] if certs else None


def local_key_pairs(session: Session, now: datetime, data_dir: Path,
                    usage: str = "encrypt") -> list[KeyPair]:
    pairs: list[KeyPair] = []
    for row in _valid_rows(session, LOCAL, now, usage):
        if not row.key_path:
            continue
        path = Path(row.key_path)
        path = path if path.is_absolute() else data_dir / path
        try:
            key = _load_key(path.read_bytes())
        except OSError as exc:
            raise CertificateError(f"private key of {row.subject} unreadable: {exc}") from None
        pairs.append(KeyPair(load_certificate(row.cert_pem.encode()), key))
    return pairs


def signing_key_pair(session: Session, now: datetime, data_dir: Path) -> KeyPair | None:
    pairs = local_key_pairs(session, now, data_dir, usage="sign")
    return pairs[0] if pairs else None


@dataclass(frozen=True)
class CertificateInfo:
    owner: str
    usage: str
    subject: str
    fingerprint: str
    not_before: datetime
    not_after: datetime
    label: str
    revoked: bool

    def state(self, now: datetime) -> str:
        if self.revoked:
            return "revoked"
        if now < self.not_before:
            return "future"
        if now >= self.not_after:
            return "expired"
        return "valid"


def list_certificates(session: Session, partner_id: str | None = None
                      ) -> list[CertificateInfo]:
    query = select(As2Certificate).order_by(As2Certificate.owner, As2Certificate.not_before)
    if partner_id is not None:
        query = query.where(As2Certificate.owner == partner_id)
    return [CertificateInfo(r.owner, r.usage, r.subject, r.fingerprint, _aware(r.not_before),
                            _aware(r.not_after), r.label, r.revoked_at is not None)
            for r in session.scalars(query).all()]
