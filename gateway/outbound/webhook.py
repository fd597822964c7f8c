"""Signed JSON webhooks: HMAC-SHA256 over ``timestamp.body``, like Stripe's scheme.

The header ``Edigate-Signature: t=<unix seconds>,v1=<hex>`` lets the partner reject forged
bodies and replays older than its tolerance window. ``verify`` is what a partner runs; it is
here so our tests (and partners writing Python) use exactly the code we sign with.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Edigate-Signature"


class SignatureError(ValueError):
    pass


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> int:
    """Return the signed timestamp, or raise SignatureError saying what is wrong."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise SignatureError("signature header has no valid t= timestamp") from None
    if abs(now - timestamp) > tolerance:
        raise SignatureError(f"timestamp {timestamp} is outside the {tolerance}s window")
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, given) for given in parts.get("v1", [])):
        raise SignatureError("no v1 signature matches the body")
    return timestamp
