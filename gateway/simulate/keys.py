"""Demo credentials, generated at set-up and never committed: SFTP keys and AS2 certificates.

Everything lives under ``<data_dir>/demo-keys/`` (private keys mode 0600) and is registered in
the gateway the way an operator would: the SFTP public key into the partner's
``channels.sftp.authorized_keys``, the partner's AS2 certificate into the certificate store, and
— when the gateway has none — a key pair of our own for AS2. Re-running reuses what exists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy.orm import Session, sessionmaker

from gateway.storage.models import Partner


def keys_dir(data_dir: Path) -> Path:
    return data_dir / "demo-keys"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def ensure_sftp_key(sessions: sessionmaker[Session], data_dir: Path, partner_id: str) -> Path:
    """The partner's SSH key (created once) and its public half in the partner's profile."""
    import asyncssh

    path = keys_dir(data_dir) / "sftp" / partner_id
    if not path.exists():
        key = asyncssh.generate_private_key("ssh-ed25519")
        _write_private(path, key.export_private_key())
    public = asyncssh.read_private_key(str(path)).export_public_key().decode().strip()
    with sessions.begin() as session:
        partner = session.get(Partner, partner_id)
        if partner is None:
            raise LookupError(f"partner {partner_id} is not imported")
        profile: dict[str, Any] = dict(partner.profile or {})
        channels = dict(profile.get("channels", {}))
        sftp = dict(channels.get("sftp", {}))
        keys = list(sftp.get("authorized_keys", []))
        if public not in keys:
            sftp["authorized_keys"] = [*keys, public]
            channels["sftp"] = sftp
            profile["channels"] = channels
            partner.profile = profile  # a new dict, so the JSON column is written
    return path


@dataclass(frozen=True)
class As2Identity:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate


def _self_signed(common_name: str, key: rsa.RSAPrivateKey, now: datetime) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "edigate demo")])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=730))
            .sign(key, hashes.SHA256()))


def _identity(directory: Path, name: str, now: datetime) -> As2Identity:
    key_path, cert_path = directory / f"{name}.key.pem", directory / f"{name}.cert.pem"
    if key_path.exists() and cert_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if isinstance(key, rsa.RSAPrivateKey) and cert.not_valid_after_utc > now:
            return As2Identity(key, cert)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _self_signed(name, key, now)
    _write_private(key_path, key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return As2Identity(key, cert)


def ensure_as2(sessions: sessionmaker[Session], data_dir: Path, partner_ids: list[str]
               ) -> tuple[x509.Certificate, dict[str, As2Identity]]:
    """Our AS2 certificate (an existing one, or a demo one) and each partner's demo identity,
    registered in the certificate store."""
    from gateway.channels.as2.certstore import (
        import_certificate,
        local_key_pairs,
    )

    now = datetime.now(UTC)
    directory = keys_dir(data_dir) / "as2"
    with sessions.begin() as session:
        ours = local_key_pairs(session, now, data_dir, usage="encrypt")
        if ours:
            our_cert = ours[0].certificate
        else:
            mine = _identity(directory, "edigate-gateway", now)
            import_certificate(session, mine.certificate.public_bytes(serialization.Encoding.PEM),
                               partner_id=None, now=now, label="demo",
                               key_pem=mine.key.private_bytes(
                                   serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()), data_dir=data_dir)
            our_cert = mine.certificate
        identities: dict[str, As2Identity] = {}
        for pid in partner_ids:
            ident = _identity(directory, pid, now)
            import_certificate(session, ident.certificate.public_bytes(serialization.Encoding.PEM),
                               partner_id=pid, now=now, label="demo")
            identities[pid] = ident
    return our_cert, identities
