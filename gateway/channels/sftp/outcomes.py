"""How an upload ends: committed, quarantined or discarded, exactly one of them, once.

Each outcome first marks the upload FINISHING, so no other request (a rename, a second close,
the session's teardown, another session) can settle it a second time; it leaves the registry
once settled.
"""

from __future__ import annotations

import logging
from functools import partial

from asyncssh import SFTPFailure

from .model import SftpCollaborators, SftpPartner
from .uploads import Upload, UploadRegistry, UploadState, off_loop

logger = logging.getLogger("gateway.channels.sftp")


class UploadOutcomes:
    """Settles one partner's uploads through the gateway's collaborators."""

    def __init__(
        self, partner: SftpPartner, collaborators: SftpCollaborators, registry: UploadRegistry
    ) -> None:
        self._partner = partner
        self._collaborators = collaborators
        self._registry = registry

    async def commit(self, upload: Upload) -> None:
        gap = upload.first_gap()
        if gap is not None:
            reason = (f"upload refused: /inbound/{upload.name} has bytes {gap[0]} to "
                      f"{gap[1] - 1} missing (never written)")
            await self.quarantine(upload, reason)
            raise SFTPFailure(reason)
        upload.state = UploadState.FINISHING
        try:
            interchange_id = await self._collaborators.commit_upload(
                self._partner, upload.name, upload.staging_path
            )
        except Exception as exc:
            # Nothing was acknowledged: the partner sees a failed close and sends again.
            logger.exception("sftp commit failed: partner=%s file=%s",
                             self._partner.partner_id, upload.name)
            self._registry.drop(upload)
            await self._remove_staged(upload)
            raise SFTPFailure(
                f"/inbound/{upload.name} was not accepted (gateway storage error); send it again"
            ) from exc
        self._registry.drop(upload)
        await self._remove_staged(upload)
        logger.info("sftp upload committed: partner=%s file=%s bytes=%d interchange=%s",
                    self._partner.partner_id, upload.name, upload.size, interchange_id)

    async def quarantine(self, upload: Upload, reason: str) -> None:
        """Hand an unfinished upload to quarantine. Never raises (it runs during teardown)."""
        upload.state = UploadState.FINISHING
        self._registry.drop(upload)
        try:
            await self._collaborators.quarantine_upload(
                self._partner, upload.name, upload.staging_path, reason
            )
        except Exception:
            logger.exception("sftp quarantine failed; staging file %s kept for recovery",
                             upload.staging_path)
            return
        await self._remove_staged(upload)
        logger.warning("sftp upload quarantined: partner=%s file=%s reason=%s",
                       self._partner.partner_id, upload.name, reason)

    async def discard(self, upload: Upload) -> None:
        upload.state = UploadState.FINISHING
        self._registry.drop(upload)
        await self._remove_staged(upload)
        logger.info("sftp temporary upload deleted by partner: partner=%s file=%s",
                    self._partner.partner_id, upload.name)

    async def _remove_staged(self, upload: Upload) -> None:
        # The upload is settled already; a leftover file only means work for recover_staging,
        # so a failure here must not turn an acknowledged commit into an error.
        try:
            await off_loop(partial(upload.staging_path.unlink, missing_ok=True))
        except OSError:
            logger.exception("could not remove staging file %s", upload.staging_path)
