"""Receive a body of any size into a file: bounded memory, SHA-256 on the fly, fsync'd.

Bodies up to the inline limit are kept in the database row; larger ones become
content-addressed files under ``<data_dir>/blobs`` (renamed into place, then the directory is
fsync'd, so a crash leaves either the whole file or none).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

INLINE_LIMIT = 1 << 20


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"body exceeds the limit of {limit} bytes")
        self.limit = limit


@dataclass
class SpooledBody:
    path: Path
    sha256: str
    size: int

    def read(self) -> bytes:
        return self.path.read_bytes()

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def _spool_dir(data_dir: Path) -> Path:
    spool = data_dir / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    return spool


class _Writer:
    def __init__(self, data_dir: Path, limit: int) -> None:
        fd, name = tempfile.mkstemp(prefix="in-", dir=_spool_dir(data_dir))
        self.file = os.fdopen(fd, "wb")
        self.path = Path(name)
        self.digest = hashlib.sha256()
        self.size = 0
        self.limit = limit

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.abort()
            raise BodyTooLarge(self.limit)
        self.digest.update(chunk)
        self.file.write(chunk)

    def finish(self) -> SpooledBody:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        return SpooledBody(self.path, self.digest.hexdigest(), self.size)

    def abort(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


async def spool_stream(chunks: AsyncIterator[bytes], data_dir: Path, limit: int) -> SpooledBody:
    writer = _Writer(data_dir, limit)
    try:
        async for chunk in chunks:
            writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    return writer.finish()


def spool_bytes(chunks: Iterable[bytes] | bytes, data_dir: Path, limit: int) -> SpooledBody:
    writer = _Writer(data_dir, limit)
    try:
        for chunk in ([chunks] if isinstance(chunks, bytes) else chunks):
            writer.write(chunk)
    except BaseException:
        writer.abort()
        raise
    return writer.finish()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store_blob(body: SpooledBody, data_dir: Path) -> str:
    """Move a spooled body into the content-addressed blob store; returns its relative path."""
    relative = Path("blobs") / body.sha256[:2] / body.sha256
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        body.discard()
    else:
        os.replace(body.path, target)
        _fsync_dir(target.parent)
    return str(relative)


def load_blob(relative: str, data_dir: Path) -> bytes:
    return (data_dir / relative).read_bytes()
