"""The hosted SFTP server: public-key logins from the partner registry, SFTP and nothing else."""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import asyncssh

from .model import SftpCollaborators, SftpPartner, SftpSettings
from .session import MailboxSFTPServer
from .uploads import UploadRegistry

logger = logging.getLogger("gateway.channels.sftp")

_PARTNER_INFO = "edigate_sftp_partner"


def _authorized_keys(partner: SftpPartner) -> asyncssh.SSHAuthorizedKeys | None:
    """The partner's keys as an authorized_keys list, skipping (and logging) bad lines.

    Lines may carry OpenSSH options: ``from="198.51.100.0/24" ssh-ed25519 AAAA...`` pins a
    key to the partner's addresses, and ``cert-authority`` trusts a partner's CA.
    """
    valid: list[str] = []
    for line in partner.authorized_keys:
        try:
            asyncssh.import_authorized_keys(line)
        except (asyncssh.KeyImportError, ValueError) as exc:
            logger.warning("partner %s has an unusable authorized key: %s",
                           partner.partner_id, exc)
            continue
        valid.append(line.strip())
    return asyncssh.import_authorized_keys("\n".join(valid) + "\n") if valid else None


class _PartnerLogin(asyncssh.SSHServer):
    """Authentication for one connection: public keys only, looked up at every login."""

    def __init__(
        self, collaborators: SftpCollaborators, connections: set[asyncssh.SSHServerConnection]
    ) -> None:
        self._collaborators = collaborators
        self._connections = connections
        self._conn: asyncssh.SSHServerConnection | None = None
        self._partner: SftpPartner | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._connections.discard(self._conn)

    async def begin_auth(self, username: str) -> bool:
        try:
            found = self._collaborators.partner_for_username(username)
            if inspect.isawaitable(found):
                found = await found
        except Exception:
            # A registry outage refuses the login; it must not crash the connection handler.
            logger.exception("partner lookup failed for sftp user %r", username)
            found = None
        self._partner = found if found is not None and found.username == username else None
        if self._partner is None:
            logger.warning("sftp login for unknown user %r", username)
        else:
            assert self._conn is not None
            keys = _authorized_keys(self._partner)
            if keys is not None:
                self._conn.set_authorized_keys(keys)
        return True  # always demand authentication, known user or not

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        # Offered to unknown users too, so a refusal does not reveal which names exist.
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return False  # only keys from the partner's authorized list (checked by asyncssh)

    def auth_completed(self) -> None:
        assert self._conn is not None and self._partner is not None
        self._conn.set_extra_info(**{_PARTNER_INFO: self._partner})
        logger.info("sftp login: partner=%s user=%s peer=%s", self._partner.partner_id,
                    self._partner.username, self._conn.get_extra_info("peername"))


class SftpServerHandle:
    """A running server. ``close()`` stops listening and drops live sessions;
    ``wait_closed()`` returns once every session has settled its uploads (each one still
    open is quarantined, never committed)."""

    def __init__(
        self,
        acceptor: asyncssh.SSHAcceptor,
        connections: set[asyncssh.SSHServerConnection],
        sessions: set[MailboxSFTPServer],
    ) -> None:
        self._acceptor = acceptor
        self._connections = connections
        self._sessions = sessions

    @property
    def port(self) -> int:
        return self._acceptor.get_port()

    def close(self) -> None:
        self._acceptor.close()
        for conn in list(self._connections):
            conn.close()

    async def wait_closed(self) -> None:
        await self._acceptor.wait_closed()
        for conn in list(self._connections):
            await conn.wait_closed()
        for session in list(self._sessions):
            await session.finished.wait()

    async def __aenter__(self) -> SftpServerHandle:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
        await self.wait_closed()


def ensure_host_key(path: Path) -> str:
    """Create an ed25519 host key at ``path`` (mode 0600) unless one exists; return its
    public key line, the value partners pin in their known_hosts."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = asyncssh.generate_private_key("ssh-ed25519")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key.export_private_key())
    return asyncssh.read_private_key(str(path)).export_public_key().decode().strip()


async def start_sftp_server(
    host: str,
    port: int,
    host_key_paths: Iterable[Path | str],
    collaborators: SftpCollaborators,
    *,
    settings: SftpSettings | None = None,
) -> SftpServerHandle:
    """Listen for partner SFTP sessions on ``host:port`` (port 0 picks a free one)."""
    settings = settings or SftpSettings()
    registry = UploadRegistry()
    connections: set[asyncssh.SSHServerConnection] = set()
    sessions: set[MailboxSFTPServer] = set()

    def new_session(chan: asyncssh.SSHServerChannel) -> MailboxSFTPServer:
        partner = chan.get_connection().get_extra_info(_PARTNER_INFO)
        session = MailboxSFTPServer(chan, partner=partner, collaborators=collaborators,
                                    registry=registry, settings=settings,
                                    on_finished=sessions.discard)
        sessions.add(session)
        return session

    acceptor = await asyncssh.listen(
        host,
        port,
        server_host_keys=[str(path) for path in host_key_paths],
        server_factory=lambda: _PartnerLogin(collaborators, connections),
        sftp_factory=new_session,
        sftp_version=3,
        allow_scp=False,
        agent_forwarding=False,
        x11_forwarding=False,
        allow_pty=False,
        login_timeout=settings.login_timeout_seconds,
        keepalive_interval=settings.keepalive_interval_seconds,
    )
    logger.info("sftp server listening on %s:%d", host, acceptor.get_port())
    return SftpServerHandle(acceptor, connections, sessions)
