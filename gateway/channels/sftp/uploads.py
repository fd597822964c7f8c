"""Uploads in flight: staged bytes, their lifecycle, and file I/O kept off the event loop.

An upload's bytes are written to ``.staging/`` (invisible to the partner and to processing),
never to ``inbound/`` itself. An upload ends in exactly one of three ways, each exactly once:
committed (handed to the gateway's inbox), quarantined (aborted or refused), or discarded (the
partner deleted its own unfinished temporary file).
"""

from __future__ import annotations

import asyncio
import enum
import fnmatch
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .mailbox import STAGING
from .model import SftpPartner

T = TypeVar("T")
STAGED_PREFIX = "in-"
# Sequential clients keep one extent; a client scattering tiny writes would otherwise make
# every write slower (the list is re-merged each time), so past this the upload is refused.
MAX_EXTENTS = 1024


class UploadState(enum.Enum):
    WRITING = "writing"          # a handle is open
    AWAITING_RENAME = "awaiting rename"  # closed under a temporary name
    FINISHING = "finishing"      # being committed or quarantined; no one may touch it


def is_temporary_name(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


@dataclass(eq=False)
class Upload:
    partner: SftpPartner
    name: str
    staging_path: Path
    session_id: str
    state: UploadState = UploadState.WRITING
    size: int = 0
    # Why the upload can no longer complete (e.g. it went over the size limit).
    refused: str | None = None
    # Byte ranges written so far, merged and sorted: a complete upload has no holes.
    extents: list[tuple[int, int]] = field(default_factory=list)

    def record_write(self, offset: int, end: int) -> None:
        self.size = max(self.size, end)
        merged: list[tuple[int, int]] = []
        for start, stop in sorted([*self.extents, (offset, end)]):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
            else:
                merged.append((start, stop))
        self.extents = merged

    def reset(self) -> None:
        self.size = 0
        self.extents = []

    def first_gap(self) -> tuple[int, int] | None:
        """The first byte range never written (a resume into a fresh file, a lost write)."""
        covered = 0
        for start, stop in self.extents:
            if start > covered:
                return covered, start
            covered = stop
        return (covered, self.size) if covered < self.size else None


class UploadRegistry:
    """Uploads not yet finished, across all sessions, keyed by partner and virtual name."""

    def __init__(self) -> None:
        self._uploads: dict[tuple[str, str], Upload] = {}

    def get(self, partner: SftpPartner, name: str) -> Upload | None:
        return self._uploads.get((partner.partner_id, name))

    def add(self, upload: Upload) -> None:
        self._uploads[(upload.partner.partner_id, upload.name)] = upload

    def drop(self, upload: Upload) -> None:
        key = (upload.partner.partner_id, upload.name)
        if self._uploads.get(key) is upload:
            del self._uploads[key]

    def rename(self, upload: Upload, new_name: str) -> None:
        self.drop(upload)
        upload.name = new_name
        self.add(upload)

    def of_partner(self, partner: SftpPartner) -> list[Upload]:
        return [u for (pid, _), u in self._uploads.items() if pid == partner.partner_id]

    def of_session(self, session_id: str) -> list[Upload]:
        return [u for u in self._uploads.values() if u.session_id == session_id]


async def off_loop(func: Callable[..., T], *args: object) -> T:
    """Run blocking file I/O in the default executor so one slow disk never stalls the loop."""
    return await asyncio.get_running_loop().run_in_executor(None, func, *args)


def staging_path_for(root: Path, name: str) -> Path:
    return root / STAGING / f"{STAGED_PREFIX}{uuid.uuid4().hex}-{name}"


def create_staging_file(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)


def open_staging_file(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_CLOEXEC)


def write_at(fd: int, offset: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written


def sync_and_close(fd: int) -> None:
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def staged_name(path: Path) -> str:
    """The partner's file name recorded in a staging file's name (for crash recovery)."""
    # in-<32 hex>-<name>
    return path.name[len(STAGED_PREFIX) + 33:]
