"""The gateway side of the SFTP channel: partner lookup, inbox commit, quarantine, pick-up.

The channel package never touches storage; this adapter gives it the registry (partners with a
``channels.sftp`` table and their authorized keys) and the durable inbox. A complete upload is
committed exactly like an HTTP POST and then processed; an aborted one is kept in quarantine.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from gateway.channels.sftp import (
    SftpPartner,
    SftpServerHandle,
    SftpSettings,
    ensure_host_key,
    ensure_mailbox,
    recover_staging,
    start_sftp_server,
)
from gateway.domain.lifecycle import note_picked_up
from gateway.domain.states import InterchangeStatus
from gateway.inbox.spool import spool_bytes
from gateway.inbox.store import accept
from gateway.observability import metrics
from gateway.pipeline.process import process_received
from gateway.runtime import Runtime
from gateway.storage.models import Interchange, Partner
from gateway.storage.repositories import append_audit
from gateway.web.keys import RUNTIME

log = logging.getLogger("edigate.sftp")
SFTP_SERVER = web.AppKey("sftp-server", SftpServerHandle)


def mailbox_root(runtime: Runtime, partner_id: str) -> Path:
    return runtime.settings.data_path / "mailboxes" / partner_id


def _file_chunks(path: Path, size: int = 1 << 16):
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


class GatewaySftp:
    """Implements ``SftpCollaborators`` on top of the runtime's database and inbox."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def sftp_partners(self) -> list[SftpPartner]:
        with self.runtime.sessions() as s:
            partners = s.scalars(select(Partner).where(Partner.active.is_(True))).all()
            return [p for p in (self._to_sftp(x) for x in partners) if p is not None]

    def _to_sftp(self, partner: Partner) -> SftpPartner | None:
        conf = partner.profile.get("channels", {}).get("sftp")
        if not conf or not conf.get("username"):
            return None
        keys = conf.get("authorized_keys", [])
        return SftpPartner(partner.id, conf["username"], tuple(keys),
                           mailbox_root(self.runtime, partner.id))

    async def partner_for_username(self, username: str) -> SftpPartner | None:
        def lookup() -> SftpPartner | None:
            return next((p for p in self.sftp_partners() if p.username == username), None)

        return await self.runtime.run(lookup)

    async def commit_upload(self, partner: SftpPartner, filename: str, data_path: Path) -> str:
        runtime = self.runtime
        now = datetime.now(UTC)

        def commit() -> tuple[str, bool]:
            # Copy into our own spool: the channel owns (and removes) its staging file.
            spooled = spool_bytes(_file_chunks(data_path), runtime.settings.data_path,
                                  runtime.settings.max_body_bytes)
            with runtime.sessions.begin() as s:
                accepted = accept(s, spooled, data_dir=runtime.settings.data_path,
                                  partner_id=partner.partner_id, channel="sftp", now=now,
                                  filename=filename)
                return accepted.interchange.id, accepted.duplicate

        interchange_id, duplicate = await runtime.run(commit)
        metrics.received(partner.partner_id, "sftp", "duplicate" if duplicate else "received")

        def process() -> None:
            process_received(runtime.sessions, interchange_id,
                             data_dir=runtime.settings.data_path, now=now)

        try:
            await runtime.run_processing(process)
        except Exception:
            # Committed is what the partner was promised; the resume job processes it later.
            log.exception("processing SFTP upload %s failed; will resume", interchange_id)
        return interchange_id

    async def quarantine_upload(self, partner: SftpPartner, filename: str, data_path: Path,
                                reason: str) -> None:
        runtime = self.runtime
        now = datetime.now(UTC)

        def keep() -> None:
            spooled = spool_bytes(_file_chunks(data_path), runtime.settings.data_path,
                                  runtime.settings.max_body_bytes)
            with runtime.sessions.begin() as s:
                accept(s, spooled, data_dir=runtime.settings.data_path,
                       partner_id=partner.partner_id, channel="sftp", now=now,
                       filename=filename, status=InterchangeStatus.QUARANTINED,
                       status_detail=f"incomplete SFTP upload: {reason}")

        try:
            await runtime.run(keep)
        except Exception:
            log.exception("could not keep aborted upload %s of %s", filename, partner.partner_id)
        metrics.received(partner.partner_id, "sftp", "quarantined")

    async def outbound_picked_up(self, partner: SftpPartner, filename: str) -> None:
        runtime = self.runtime
        now = datetime.now(UTC)

        def mark() -> None:
            with runtime.sessions.begin() as s:
                row = s.scalars(select(Interchange).where(
                    Interchange.partner_id == partner.partner_id,
                    Interchange.direction == "out", Interchange.filename == filename)).first()
                if row is not None:
                    note_picked_up(row)
                append_audit(s, at=now, actor=f"partner:{partner.partner_id}",
                             action="sftp.pickup", subject_type="file", subject_id=filename)

        await runtime.run(mark)


async def sftp_ctx(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    listen = runtime.settings.sftp_listen
    if not listen:
        yield
        return
    service = GatewaySftp(runtime)
    key_path = runtime.settings.data_path / "keys" / "ssh_host_ed25519_key"
    ensure_host_key(key_path)
    for partner in await runtime.run(service.sftp_partners):
        ensure_mailbox(partner.mailbox_root)
        await recover_staging(partner, service)
    host, _, port = listen.rpartition(":")
    server = await start_sftp_server(host, int(port), [key_path], service,
                                     settings=SftpSettings(
                                         max_upload_bytes=runtime.settings.max_body_bytes))
    app[SFTP_SERVER] = server
    log.info("SFTP listening on %s:%s", host, server.port)
    yield
    server.close()
    await server.wait_closed()
