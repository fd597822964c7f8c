"""Receive a body of any size: bounded memory, SHA-256 on the fly, large bodies fsync'd to disk.

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
from typing import BinaryIO

INLINE_LIMIT = 1 << 20


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"body exceeds the limit of {limit} bytes")
        self.limit = limit


@dataclass
class SpooledBody:
    """A received body: in memory up to the inline limit (it goes into the database row, whose
    commit makes it durable), otherwise in an fsync'd spool file."""

    path: Path | None
    sha256: str
    size: int
    data: bytes | None = None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def to_file(self, data_dir: Path) -> Path:
        """The body as a spool file (a large body already is one)."""
        if self.path is None:
            fd, name = tempfile.mkstemp(prefix="in-", dir=_spool_dir(data_dir))
            with os.fdopen(fd, "wb") as out:
                out.write(self.data or b"")
                out.flush()
                os.fsync(out.fileno())
            self.path = Path(name)
        return self.path


def _spool_dir(data_dir: Path) -> Path:
    spool = data_dir / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    return spool


class _Writer:
    """Buffers in memory up to the inline limit; beyond it, streams to a spool file, so memory
    stays bounded whatever the body's size. Small bodies (nearly all EDI) cost no file and no
    extra fsync: the database commit is what makes them durable."""

    def __init__(self, data_dir: Path, limit: int) -> None:
        self.data_dir = data_dir
        self.buffer = bytearray()
        self.file: BinaryIO | None = None
        self.path: Path | None = None
        self.digest = hashlib.sha256()
        self.size = 0
        self.limit = limit

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.abort()
            raise BodyTooLarge(self.limit)
        self.digest.update(chunk)
        if self.file is None and self.size <= INLINE_LIMIT:
            self.buffer += chunk
            return
        if self.file is None:
            fd, name = tempfile.mkstemp(prefix="in-", dir=_spool_dir(self.data_dir))
            self.file = os.fdopen(fd, "wb")
            self.path = Path(name)
            self.file.write(self.buffer)
            self.buffer = bytearray()
        self.file.write(chunk)

    def finish(self) -> SpooledBody:
        if self.file is None:
            return SpooledBody(None, self.digest.hexdigest(), self.size, bytes(self.buffer))
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        return SpooledBody(self.path, self.digest.hexdigest(), self.size)

    def abort(self) -> None:
        self.buffer = bytearray()
        if self.file is not None:
            self.file.close()
        if self.path is not None:
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
        os.replace(body.to_file(data_dir), target)
        _fsync_dir(target.parent)
    return str(relative)


def keep(body: SpooledBody, data_dir: Path) -> tuple[bytes | None, str | None]:
    """Where a received body lives from now on: ``(bytes, None)`` inline in its database row
    when small, ``(None, blob path)`` in the blob store otherwise."""
    if body.size <= INLINE_LIMIT:
        raw = body.read()
        body.discard()
        return raw, None
    return None, store_blob(body, data_dir)


def kept_bytes(raw: bytes | None, blob_path: str | None, data_dir: Path) -> bytes:
    """The bytes :func:`keep` kept, wherever it kept them."""
    if raw is not None:
        return raw
    return load_blob(blob_path, data_dir) if blob_path else b""


def load_blob(relative: str, data_dir: Path) -> bytes:
    return (data_dir / relative).read_bytes()
