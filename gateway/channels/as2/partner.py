"""A partner's AS2 settings, read from its profile (``[channels.as2]``) with precise errors.

Keys (all optional except ``as2_id``)::

    [channels.as2]
    as2_id = "ACMEAS2"          # the partner's AS2 name (AS2-From on its messages)
    url = "https://…/as2"       # where we POST outbound messages
    sign = true                 # outbound: sign / encrypt / compress
    encrypt = true
    compress = false
    compress_before_sign = true
    digest = "sha256"           # sha1 | sha224 | sha256 | sha384 | sha512
    cipher = "aes128_cbc"       # aes192_cbc | aes256_cbc | tripledes_cbc (legacy)
    mdn = "sync"                # none | sync | async: how we ask for receipts
    mdn_signed = true
    require_signed = true       # inbound policy: refuse unsigned / unencrypted messages
    require_encrypted = true
    content_type = "application/edi-consent"
    timeout_seconds = 60
    max_attempts = 4            # tenacity attempts within one delivery
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.channels.as2.algorithms import (
    DEFAULT_CIPHER,
    DEFAULT_DIGEST,
    cipher_spec,
    digest_key,
)
from gateway.channels.as2.errors import UnsupportedAlgorithm
from gateway.channels.as2.message import MdnRequest, OutboundOptions, SecurityPolicy
from gateway.storage.models import Partner


class As2ConfigError(ValueError):
    """``[channels.as2]`` of a profile that cannot be used; the message names the key."""


@dataclass(frozen=True)
class As2Partner:
    partner_id: str
    as2_id: str
    url: str
    options: OutboundOptions
    mdn_mode: str
    mdn_signed: bool
    policy: SecurityPolicy
    timeout: float
    max_attempts: int

    def mdn_request(self, *, our_mdn_url: str, notify_to: str) -> MdnRequest:
        return MdnRequest(mode=self.mdn_mode, signed=self.mdn_signed,
                          digest=self.options.digest, notify_to=notify_to, url=our_mdn_url)


def _get(conf: dict[str, Any], key: str, kind: type, default: Any, pid: str) -> Any:
    value = conf.get(key, default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise As2ConfigError(f"{pid}: channels.as2.{key}: expected {kind.__name__}, "
                             f"got {value!r}")
    return value


def parse_as2_settings(partner_id: str, conf: dict[str, Any], *,
                       max_body_bytes: int = 64 << 20) -> As2Partner:
    as2_id = _get(conf, "as2_id", str, "", partner_id)
    if not as2_id.strip():
        raise As2ConfigError(f"{partner_id}: channels.as2.as2_id is required")
    try:
        digest = digest_key(_get(conf, "digest", str, DEFAULT_DIGEST, partner_id))
        cipher = cipher_spec(_get(conf, "cipher", str, DEFAULT_CIPHER, partner_id)).key
    except UnsupportedAlgorithm as exc:
        raise As2ConfigError(f"{partner_id}: channels.as2: {exc}") from None
    mdn = _get(conf, "mdn", str, "sync", partner_id).lower()
    if mdn not in ("none", "sync", "async"):
        raise As2ConfigError(f"{partner_id}: channels.as2.mdn: expected none, sync or async, "
                             f"got {mdn!r}")
    options = OutboundOptions(
        sign=_get(conf, "sign", bool, True, partner_id),
        encrypt=_get(conf, "encrypt", bool, True, partner_id),
        compress=_get(conf, "compress", bool, False, partner_id),
        compress_before_sign=_get(conf, "compress_before_sign", bool, True, partner_id),
        digest=digest, cipher=cipher,
        content_type=_get(conf, "content_type", str, "application/edi-consent", partner_id),
        subject=_get(conf, "subject", str, "EDI", partner_id))
    policy = SecurityPolicy(
        require_signed=_get(conf, "require_signed", bool, True, partner_id),
        require_encrypted=_get(conf, "require_encrypted", bool, True, partner_id),
        max_content_bytes=max_body_bytes * 4)
    attempts = _get(conf, "max_attempts", int, 4, partner_id)
    if attempts < 1:
        raise As2ConfigError(f"{partner_id}: channels.as2.max_attempts must be at least 1")
    return As2Partner(partner_id, as2_id.strip(), _get(conf, "url", str, "", partner_id),
                      options, mdn, _get(conf, "mdn_signed", bool, True, partner_id), policy,
                      _get(conf, "timeout_seconds", float, 60.0, partner_id), attempts)


def as2_settings_of(partner: Partner, *, max_body_bytes: int = 64 << 20) -> As2Partner | None:
    conf = (partner.profile or {}).get("channels", {}).get("as2")
    if not isinstance(conf, dict):
        return None
    return parse_as2_settings(partner.id, conf, max_body_bytes=max_body_bytes)


def find_partner_by_as2_id(session: Session, as2_id: str) -> Partner | None:
    """AS2 names compare exactly (RFC 4130 says they are case-sensitive)."""
    for partner in session.scalars(select(Partner).where(Partner.active.is_(True))).all():
        conf = (partner.profile or {}).get("channels", {}).get("as2")
        if isinstance(conf, dict) and conf.get("as2_id") == as2_id:
            return partner
    return None
