"""Start-up sweep: uploads that were in flight when the gateway stopped."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from .mailbox import STAGING
from .model import SftpCollaborators, SftpPartner
from .uploads import STAGED_PREFIX, staged_name

logger = logging.getLogger("gateway.channels.sftp")


async def recover_staging(partner: SftpPartner, collaborators: SftpCollaborators) -> int:
    """Quarantine the partner's staged uploads left by a stopped gateway; return how many.

    Call it before `start_sftp_server`, never while sessions run: a staged file then belongs
    to no live transfer. None of them was acknowledged, so none is committed. A file whose
    commit succeeded just before a crash is quarantined as well: harmless, because the inbox
    already holds it and de-duplicates a replay by content.
    """
    staging = partner.mailbox_root / STAGING
    if not staging.is_dir():
        return 0
    found = await asyncio.to_thread(lambda: sorted(staging.iterdir()))
    count = 0
    for path in found:
        if not path.is_file() or path.is_symlink():
            continue
        if path.name.startswith(STAGED_PREFIX):
            await collaborators.quarantine_upload(
                partner, staged_name(path), path,
                "gateway stopped while this upload was in progress",
            )
            count += 1
        await asyncio.to_thread(Path.unlink, path, True)
    if count:
        logger.warning("sftp recovery: partner=%s quarantined %d unfinished upload(s)",
                       partner.partner_id, count)
    return count
