"""AS2 test helpers: throw-away certificates and pyas2lib (GPL, test-only) as the partner.

pyas2lib 1.4.4 cannot be imported on OpenSSL 3.0.x as released: its dependency oscrypto 1.3.0
reads the library version with a regex that stops at one-digit patch numbers ("3.0.19" does
not match; oscrypto issues #75/#78). ``import_pyas2lib`` loads the two affected oscrypto modules
with the regex fixed, the same one-line change oscrypto's main branch carries.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.channels.as2.certstore import import_certificate
from gateway.channels.as2.cms import KeyPair
from gateway.config import Settings
from gateway.runtime import Runtime
from gateway.storage.db import session_factory
from gateway.storage.models import Partner
from gateway.web import as2 as as2_routes
from gateway.web.keys import RUNTIME
from gateway.web.problems import problem_middleware

_OSCRYPTO_MODULES = ("oscrypto._openssl._libcrypto_cffi", "oscrypto._openssl._libcrypto_ctypes")
_BROKEN = r"'\\b(\\d\\.\\d\\.\\d[a-z]*)\\b'"
_FIXED = r"'\\b(\\d+\\.\\d+\\.\\d+[a-z]*)\\b'"


class _PatchedSource(importlib.abc.SourceLoader):
    def __init__(self, fullname: str, path: str) -> None:
        self.fullname, self.path = fullname, path

    def get_filename(self, fullname: str) -> str:
        return self.path

    def get_data(self, path: str) -> bytes:
        with open(path, "rb") as handle:
            source = handle.read()
        if path == self.path:
            source = source.replace(_BROKEN.encode(), _FIXED.encode())
        return source

    def path_stats(self, path: str) -> dict[str, float]:
        raise OSError("no bytecode cache for patched modules")


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: object, target: object = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _OSCRYPTO_MODULES:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.origin is None:
            return None
        return importlib.util.spec_from_file_location(
            fullname, spec.origin, loader=_PatchedSource(fullname, spec.origin))


@cache
def import_pyas2lib() -> ModuleType:
    finder = _Finder()
    sys.meta_path.insert(0, finder)
    try:
        import pyas2lib
    finally:
        sys.meta_path.remove(finder)
    return pyas2lib


@dataclass(frozen=True)
class TestIdentity:
    """A generated key pair with a self-signed certificate, in every form the tests need."""

    pair: KeyPair

    @property
    def cert(self) -> x509.Certificate:
        return self.pair.certificate

    @property
    def cert_pem(self) -> bytes:
        return self.pair.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.pair.key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())

    @property
    def bundle_pem(self) -> bytes:
        """Key + certificate in one PEM, the form pyas2lib's Organization loads."""
        return self.key_pem + self.cert_pem


@cache
def _rsa_key(seed: str, bits: int) -> rsa.RSAPrivateKey:
    del seed  # one key per (name, bits) per test session; generation is the slow part
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def make_identity(common_name: str, *, not_before: datetime | None = None,
                  not_after: datetime | None = None, bits: int = 2048,
                  serial: int | None = None) -> TestIdentity:
    key = _rsa_key(common_name, bits)
    now = datetime.now(UTC)
    start = not_before or now - timedelta(days=1)
    end = not_after or now + timedelta(days=365)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "edigate tests")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(serial or x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=True, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return TestIdentity(KeyPair(cert, key))


def rotated(identity: TestIdentity, common_name: str, *, not_before: datetime,
            not_after: datetime) -> TestIdentity:
    """A second certificate (new key) for the same party, for rotation tests."""
    return make_identity(common_name, not_before=not_before, not_after=not_after)


def raw_request(headers: list[tuple[str, str]] | dict[str, str], body: bytes) -> bytes:
    """Headers + body as one byte string: the form pyas2lib's parse functions take."""
    items = headers.items() if isinstance(headers, dict) else headers
    return b"".join(f"{k}: {v}\r\n".encode() for k, v in items) + b"\r\n" + body


# -- a gateway with one AS2 partner, for route and sender tests ---------------------------------

OUR_AS2 = "EDIGATE"
PARTNER_ID = "acme-as2"
PARTNER_AS2 = "ACME AS2"  # with a space: AS2 names travel quoted


def add_partner(session: Session, partner_id: str = PARTNER_ID, as2_id: str = PARTNER_AS2,
                **as2: object) -> Partner:
    now = datetime.now(UTC)
    partner = Partner(id=partner_id, name=partner_id, standard="edifact", version="D96A",
                      profile={"channels": {"as2": {"as2_id": as2_id, **as2}}}, active=True,
                      created_at=now, updated_at=now)
    session.add(partner)
    session.flush()
    return partner


@dataclass
class As2World:
    runtime: Runtime
    ours: TestIdentity
    theirs: TestIdentity
    data_dir: Path

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.runtime.sessions

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def import_partner_cert(self, identity: TestIdentity, usage: str = "both") -> None:
        with self.sessions.begin() as session:
            import_certificate(session, identity.cert_pem, partner_id=PARTNER_ID,
                               now=datetime.now(UTC) - timedelta(days=2), usage=usage)

    def import_own(self, identity: TestIdentity, usage: str = "both") -> None:
        with self.sessions.begin() as session:
            import_certificate(session, identity.cert_pem, partner_id=None,
                               now=datetime.now(UTC) - timedelta(days=2), usage=usage,
                               key_pem=identity.key_pem, data_dir=self.data_dir)

    def set_as2(self, **as2: object) -> None:
        with self.sessions.begin() as session:
            partner = session.get(Partner, PARTNER_ID)
            assert partner is not None
            conf = dict(partner.profile["channels"]["as2"])
            conf.update(as2)
            partner.profile = {**partner.profile, "channels": {"as2": conf}}


def make_world(engine: Engine, data_dir: Path, **as2: object) -> As2World:
    settings = Settings(data_dir=str(data_dir), max_body_bytes=8 << 20)
    runtime = Runtime(settings=settings, engine=engine, sessions=session_factory(engine))
    world = As2World(runtime, make_identity("EDIGATE"), make_identity("ACME"), data_dir)
    with world.sessions.begin() as session:
        add_partner(session, **as2)
    world.import_own(world.ours)
    world.import_partner_cert(world.theirs)
    return world


def as2_app(runtime: Runtime) -> web.Application:
    """Our AS2 routes on their own application, with the real app's body limit and errors."""
    app = web.Application(client_max_size=runtime.settings.max_body_bytes,
                          middlewares=[problem_middleware])
    app[RUNTIME] = runtime
    app.add_routes(as2_routes.routes)
    return app


def pyas2_org(identity: TestIdentity, name: str = PARTNER_AS2, mdn_url: str | None = None
              ) -> Any:
    as2 = import_pyas2lib().as2
    return as2.Organization(as2_name=name, sign_key=identity.bundle_pem,
                            decrypt_key=identity.bundle_pem, mdn_url=mdn_url,
                            domain="acme.example")


def pyas2_view_of_us(identity: TestIdentity, **options: Any) -> Any:
    """How pyas2lib (the partner) is configured to talk to us."""
    as2 = import_pyas2lib().as2
    defaults: dict[str, Any] = {"sign": True, "encrypt": True, "compress": True,
                                "enc_alg": "aes_128_cbc", "digest_alg": "sha256",
                                "mdn_mode": "SYNC", "mdn_digest_alg": "sha256"}
    defaults.update(options)
    return as2.Partner(as2_name=OUR_AS2, verify_cert=identity.cert_pem,
                       encrypt_cert=identity.cert_pem, **defaults)


def pyas2_message(org: Any, receiver: Any, payload: bytes, *,
                  content_type: str = "application/edifact", message_id: str | None = None
                  ) -> Any:
    message = import_pyas2lib().as2.Message(sender=org, receiver=receiver)
    message.build(payload, content_type=content_type, message_id=message_id,
                  disposition_notification_to="edi@acme.example")
    return message


def http_headers_of(message: Any) -> dict[str, str]:
    """pyas2lib's headers as an HTTP client sends them (Content-Transfer-Encoding included:
    pyas2lib puts it there, a real-world interop fault we must tolerate)."""
    return {k: v for k, v in message.headers.items() if k.lower() != "mime-version"}
