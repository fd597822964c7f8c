"""The SFTP channel's contract with the gateway: partners, settings and collaborators.

The channel never imports the storage layer. The gateway hands it a `SftpCollaborators`
object; every durable effect (commit, quarantine, pick-up) goes through it.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

# Names many clients use while a transfer is still running (WinSCP: .filepart, FileZilla and
# scripts: .part/.tmp, rsync-style: leading dot). A file with such a name waits for a rename.
DEFAULT_TEMPORARY_PATTERNS: tuple[str, ...] = (
    "*.tmp", "*.temp", "*.part", "*.partial", "*.filepart", ".*",
)


@dataclass(frozen=True)
class SftpPartner:
    """One partner as the SFTP channel sees it.

    ``mailbox_root`` is the partner's own folder (with ``inbound/``, ``outbound/``,
    ``archive/``); the partner is chrooted to it. ``authorized_keys`` are OpenSSH
    authorized_keys lines (a bare public key, or with options such as ``from="..."`` or
    ``cert-authority``); several keys allow a rotation without downtime.
    """

    partner_id: str
    username: str
    authorized_keys: tuple[str, ...]
    mailbox_root: Path

    def __post_init__(self) -> None:
        # Accept any iterable of keys from callers (e.g. a list from the registry).
        object.__setattr__(self, "authorized_keys", tuple(self.authorized_keys))
        object.__setattr__(self, "mailbox_root", Path(self.mailbox_root))


@dataclass(frozen=True)
class SftpSettings:
    """Tunables of the hosted server."""

    max_upload_bytes: int = 256 * 1024 * 1024
    max_open_files_per_session: int = 32
    temporary_name_patterns: tuple[str, ...] = field(default=DEFAULT_TEMPORARY_PATTERNS)
    login_timeout_seconds: float = 30.0
    keepalive_interval_seconds: float = 30.0


class SftpCollaborators(Protocol):
    """What the gateway provides to the SFTP channel.

    ``partner_for_username`` is consulted on every login, so a key rotation or a new partner
    is a registry change with no restart; it may be a plain function or return an awaitable.
    ``commit_upload`` is called only for complete uploads and must make the bytes durable
    before it returns (the partner's SFTP close is acknowledged only afterwards); it returns
    the interchange id. ``data_path`` is only valid during the call.
    """

    def partner_for_username(
        self, username: str
    ) -> SftpPartner | Awaitable[SftpPartner | None] | None: ...

    async def commit_upload(self, partner: SftpPartner, filename: str, data_path: Path) -> str: ...

    async def quarantine_upload(
        self, partner: SftpPartner, filename: str, data_path: Path, reason: str
    ) -> None: ...

    async def outbound_picked_up(self, partner: SftpPartner, filename: str) -> None: ...
