"""Partner profiles: the TOML files under ``fixtures/partners/`` and what ``partners import`` reads.

A profile is validated completely before anything is stored, and every problem names the file
and the key (``acme.toml: identities[0].qualifier: …``) so whoever edits it can fix it at once.

Example::

    id = "acme-fasteners"
    name = "ACME Fasteners GmbH"
    standard = "edifact"          # edifact | x12 | api
    version = "D96A"

    [[identities]]                # envelope ids this partner may send as
    standard = "edifact"          # edifact (UNB) | x12 (ISA) | x12-gs (GS02)
    qualifier = "14"
    id = "4012345000016"

    [[receivers]]                 # OUR ids this partner addresses (ISA08 / UNB receiver;
    standard = "edifact"          # x12-gs: GS03). An interchange addressed to anyone else
    qualifier = "ZZZ"             # is refused (TA1 009 / CONTRL UCI code 7) and quarantined;
    id = "EDIGATE"                # none listed: our identity.* settings (any qualifier)

    [stages]                      # strangler stage per document type; "*" for the rest
    "*" = "edi"
    order_response = "dual"

    [channels.http]               # HTTP EDI POST /edi with a token
    [channels.as2]
    as2_id = "ACMEAS2"
    [channels.sftp]
    username = "acme"

    [[tokens]]                    # API tokens: only the SHA-256 is kept in the database
    name = "erp"
    token = "edg_demo_…"          # plaintext accepted for demo fixtures; or sha256 = "…"
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.domain.states import Stage, values
from gateway.partners.validation import ProfileError, validate_profile

__all__ = ["Identity", "PartnerProfile", "ProfileError", "TokenSpec", "hash_token",
           "load_profile_file", "load_profiles", "parse_profile", "token_prefix"]

STANDARDS = ("edifact", "x12", "api")
IDENTITY_STANDARDS = ("edifact", "x12", "x12-gs")
STAGES = values(Stage)
CHANNELS = ("http", "as2", "sftp", "rest", "webhook", "api_pull")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Identity:
    standard: str
    qualifier: str
    identifier: str


@dataclass(frozen=True)
class TokenSpec:
    name: str
    sha256: str
    prefix: str


@dataclass(frozen=True)
class PartnerProfile:
    id: str
    name: str
    standard: str
    version: str
    identities: tuple[Identity, ...]
    stages: dict[str, str]
    channels: dict[str, dict[str, Any]]
    tokens: tuple[TokenSpec, ...] = ()
    outbound: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def stage_for(self, document_type: str) -> str:
        return self.stages.get(document_type, self.stages.get("*", "edi"))

    def settings(self) -> dict[str, Any]:
        """The JSON-able part stored in ``partners.profile``."""
        return {"channels": self.channels, "outbound": self.outbound, **self.extra}


def token_prefix(token: str) -> str:
    return token[:12]


def hash_token(token: str) -> str:
    # API tokens are long random strings, so a fast hash is enough; a slow KDF protects
    # low-entropy passwords, which tokens are not.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class _Reader:
    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, key: str, reason: str) -> ProfileError:
        return ProfileError(f"{self.where}: {key}: {reason}")

    def string(self, table: dict[str, Any], key: str, *, prefix: str = "",
               required: bool = True, default: str = "", choices: tuple[str, ...] = ()) -> str:
        name = f"{prefix}{key}"
        if key not in table:
            if required:
                raise self.fail(name, "is required")
            return default
        value = table[key]
        if not isinstance(value, str):
            raise self.fail(name, f"expected a string, got {type(value).__name__}")
        if choices and value not in choices:
            raise self.fail(name, f"expected one of {', '.join(choices)}, got {value!r}")
        return value


_KNOWN_KEYS = {"id", "name", "standard", "version", "identities", "stages", "channels",
               "tokens", "outbound"}


def parse_profile(table: dict[str, Any], where: str = "profile") -> PartnerProfile:
    """The profile of ``table``, validated completely (``validation.py``: the schema, then
    what a schema cannot say) before any of it is read."""
    validate_profile(table, where)
    r = _Reader(where)
    pid = r.string(table, "id")
    if not _ID_RE.match(pid):
        raise r.fail("id", f"must be lowercase letters, digits, '-' or '_' (got {pid!r})")
    name = r.string(table, "name")
    standard = r.string(table, "standard", choices=STANDARDS)
    version = r.string(table, "version", required=False)

    identities: list[Identity] = []
    raw_ids = table.get("identities", [])
    if not isinstance(raw_ids, list):
        raise r.fail("identities", "expected an array of tables ([[identities]])")
    for i, item in enumerate(raw_ids):
        key = f"identities[{i}]."
        if not isinstance(item, dict):
            raise r.fail(f"identities[{i}]", "expected a table")
        identities.append(Identity(
            standard=r.string(item, "standard", prefix=key, choices=IDENTITY_STANDARDS),
            qualifier=r.string(item, "qualifier", prefix=key, required=False),
            identifier=r.string(item, "id", prefix=key),
        ))
    if standard != "api" and not identities:
        raise r.fail("identities", "an EDI partner needs at least one envelope identity")

    stages_raw = table.get("stages", {"*": "edi" if standard != "api" else "api"})
    if not isinstance(stages_raw, dict):
        raise r.fail("stages", "expected a table of document_type = stage")
    stages: dict[str, str] = {}
    for doc, stage in stages_raw.items():
        if stage not in STAGES:
            raise r.fail(f"stages.{doc}", f"expected one of {', '.join(STAGES)}, got {stage!r}")
        stages[doc] = stage

    channels_raw = table.get("channels", {})
    if not isinstance(channels_raw, dict):
        raise r.fail("channels", "expected a table of channel tables")
    channels: dict[str, dict[str, Any]] = {}
    for ch, conf in channels_raw.items():
        if ch not in CHANNELS:
            raise r.fail(f"channels.{ch}", f"unknown channel; known: {', '.join(CHANNELS)}")
        if not isinstance(conf, dict):
            raise r.fail(f"channels.{ch}", "expected a table")
        channels[ch] = dict(conf)
    if "as2" in channels:
        r.string(channels["as2"], "as2_id", prefix="channels.as2.")
    if "sftp" in channels:
        r.string(channels["sftp"], "username", prefix="channels.sftp.")

    tokens: list[TokenSpec] = []
    raw_tokens = table.get("tokens", [])
    if not isinstance(raw_tokens, list):
        raise r.fail("tokens", "expected an array of tables ([[tokens]])")
    for i, item in enumerate(raw_tokens):
        key = f"tokens[{i}]."
        if not isinstance(item, dict):
            raise r.fail(f"tokens[{i}]", "expected a table")
        tname = r.string(item, "name", prefix=key, required=False, default=f"token-{i}")
        if "token" in item:
            plain = r.string(item, "token", prefix=key)
            if len(plain) < 24:
                raise r.fail(f"{key}token", "must be at least 24 characters")
            tokens.append(TokenSpec(tname, hash_token(plain), token_prefix(plain)))
        else:
            digest = r.string(item, "sha256", prefix=key)
            prefix = r.string(item, "prefix", prefix=key)
            if not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise r.fail(f"{key}sha256", "expected 64 lowercase hex digits")
            tokens.append(TokenSpec(tname, digest, prefix))

    outbound = table.get("outbound", {})
    if not isinstance(outbound, dict):
        raise r.fail("outbound", "expected a table")
    # Our identities this partner addresses (ISA08 / UNB receiver; "x12-gs" for GS03): an
    # interchange addressed to anyone else is refused (TA1 / CONTRL) and quarantined; with none
    # listed, the receiver must be our configured identity (gateway.pipeline.identity).
    receivers = table.get("receivers", [])
    if not isinstance(receivers, list):
        raise r.fail("receivers", "expected an array of tables ([[receivers]])")
    for i, item in enumerate(receivers):
        key = f"receivers[{i}]."
        if not isinstance(item, dict):
            raise r.fail(f"receivers[{i}]", "expected a table")
        r.string(item, "standard", prefix=key, choices=("x12", "edifact", "x12-gs"))
        r.string(item, "qualifier", prefix=key, required=False)
        r.string(item, "id", prefix=key)
    extra = {k: v for k, v in table.items() if k not in _KNOWN_KEYS}
    return PartnerProfile(pid, name, standard, version, tuple(identities), stages, channels,
                          tuple(tokens), dict(outbound), extra)


def load_profile_file(path: Path) -> PartnerProfile:
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    return parse_profile(table, where=path.name)


def load_profiles(path: Path) -> list[PartnerProfile]:
    """One file, or every ``*.toml`` in a directory (sorted, so imports are reproducible)."""
    files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
    if path.is_dir() and not files:
        raise ProfileError(f"{path}: no *.toml partner files")
    profiles = [load_profile_file(f) for f in files]
    seen: dict[str, str] = {}
    for p, f in zip(profiles, files, strict=True):
        if p.id in seen:
            raise ProfileError(f"{f.name}: id: {p.id!r} is already defined in {seen[p.id]}")
        seen[p.id] = f.name
    return profiles
