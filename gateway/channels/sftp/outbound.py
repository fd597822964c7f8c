"""Outbound files: placing documents for a partner and archiving them once picked up."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

from .mailbox import (
    ARCHIVE,
    OUTBOUND,
    STAGING,
    area_dir,
    check_filename,
    ensure_mailbox,
    fsync_dir,
    link_unique,
    lstat_regular,
)
from .model import SftpPartner


class OutboundConflict(Exception):
    """A different document with the same name is still waiting in ``outbound/``."""


async def place_outbound(partner: SftpPartner, filename: str, data: bytes) -> Path:
    """Publish ``data`` as ``outbound/<filename>`` atomically; return the file's path.

    The bytes are written and fsynced under ``.staging/`` and then hard-linked into place, so
    a partner never sees a half-written file. Placing the same bytes again is a no-op (a retry
    of the dispatcher); different bytes under a name not yet picked up raise
    `OutboundConflict` instead of silently replacing a document.
    """
    return await asyncio.to_thread(_place_outbound_sync, partner.mailbox_root, filename, data)


def _place_outbound_sync(root: Path, filename: str, data: bytes) -> Path:
    check_filename(filename)
    ensure_mailbox(root)
    outbound = area_dir(root, OUTBOUND)
    target = outbound / filename
    if target.exists():
        if target.read_bytes() == data:
            return target
        raise OutboundConflict(f"outbound/{filename} already holds a different document")
    temp = root / STAGING / f"out-{uuid.uuid4().hex}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o640)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, target)
        except FileExistsError:
            # Lost a race with a concurrent placement of the same name: same rule as above.
            if target.read_bytes() != data:
                raise OutboundConflict(
                    f"outbound/{filename} already holds a different document"
                ) from None
        fsync_dir(outbound)
    finally:
        temp.unlink(missing_ok=True)
    return target


def archive_outbound_sync(root: Path, filename: str, archive_name: str | None = None) -> str:
    """Move ``outbound/<filename>`` into ``archive/`` (never overwriting); return the new name.

    ``archive_name`` is the name the partner asked for when it renamed instead of deleting;
    a name already taken in the archive gets a ``.N`` suffix.
    """
    outbound = area_dir(root, OUTBOUND)
    archive = area_dir(root, ARCHIVE)
    source = outbound / filename
    lstat_regular(source)
    archived = link_unique(source, archive, check_filename(archive_name or filename))
    fsync_dir(archive)
    source.unlink()
    fsync_dir(outbound)
    return archived
