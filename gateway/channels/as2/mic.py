"""Message Integrity Check values (RFC 4130 §7.3.1) and the receipt options that ask for them."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from gateway.channels.as2.algorithms import DEFAULT_DIGEST, digest_key, is_digest, micalg_name


@dataclass(frozen=True)
class Mic:
    value: str  # base64 of the digest
    algorithm: str  # normalised key, e.g. "sha256"

    def header_value(self) -> str:
        """``Received-Content-MIC`` form: ``<base64>, sha-256``."""
        return f"{self.value}, {micalg_name(self.algorithm)}"

    def matches(self, other: Mic | None) -> bool:
        return other is not None and other.value == self.value and \
            other.algorithm == self.algorithm


def compute_mic(data: bytes, algorithm: str) -> Mic:
    """Digest over exactly the bytes that were signed (or, unsigned, the agreed content).

    Canonicalisation happens before this: text parts already carry CRLF line ends and binary
    parts are byte-exact, so the MIC is reproducible by both sides.
    """
    key = digest_key(algorithm)
    return Mic(base64.b64encode(hashlib.new(key, data).digest()).decode("ascii"), key)


def parse_mic(header: str) -> Mic | None:
    """``<base64>, sha-256`` -> Mic; an empty or unreadable value gives None."""
    value, _, alg = header.partition(",")
    value, alg = value.strip(), alg.strip()
    if not value or not alg or not is_digest(alg):
        return None
    return Mic(value, digest_key(alg))


@dataclass(frozen=True)
class ReceiptOptions:
    """What ``Disposition-Notification-Options`` asks for."""

    signed: bool
    micalgs: tuple[str, ...]  # normalised, in the sender's order of preference, supported only

    @property
    def mic_algorithm(self) -> str:
        return self.micalgs[0] if self.micalgs else DEFAULT_DIGEST


def parse_receipt_options(header: str) -> ReceiptOptions:
    """``signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional,
    sha-256, sha1`` -> ReceiptOptions. Unknown algorithms are skipped, never fatal."""
    signed = False
    micalgs: list[str] = []
    for clause in header.split(";"):
        name, _, values = clause.partition("=")
        items = [v.strip().strip('"') for v in values.split(",")]
        name = name.strip().lower()
        if name == "signed-receipt-protocol":
            signed = any(v.lower() == "pkcs7-signature" for v in items[1:])
        elif name == "signed-receipt-micalg":
            micalgs.extend(digest_key(v) for v in items[1:] if is_digest(v))
    return ReceiptOptions(signed, tuple(micalgs))


def receipt_options_header(digest: str) -> str:
    return ("signed-receipt-protocol=optional, pkcs7-signature; "
            f"signed-receipt-micalg=optional, {micalg_name(digest)}")
