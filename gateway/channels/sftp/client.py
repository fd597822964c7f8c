"""Client mode: for partners that host their own SFTP server, the gateway polls and pushes.

Polling order is what keeps it loss-free: download to a local temporary file, commit it to
the gateway's inbox, and only then delete (or move) the remote file. A crash between the
commit and the remote delete makes the next poll download the file again; the gateway's inbox
de-duplicates by content, so the second copy has no effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import posixpath
import stat
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import asyncssh

from .model import DEFAULT_TEMPORARY_PATTERNS
from .uploads import is_temporary_name, off_loop

_CHUNK = 256 * 1024
T = TypeVar("T")

# commit(filename, data_path) -> interchange id; must make the bytes durable before returning.
Commit = Callable[[str, Path], Awaitable[str]]


class RemoteSftpError(Exception):
    """A poll or push against a partner's server failed; the message says where and why."""


@dataclass(frozen=True)
class RemoteSftp:
    """How to reach a partner's SFTP server.

    ``host_keys`` are the server's public host keys (OpenSSH format) and are required: the
    gateway never trusts a host key on first use. ``client_keys`` are private key file paths.
    """

    host: str
    username: str
    client_keys: tuple[str | Path, ...]
    host_keys: tuple[str, ...]
    port: int = 22
    connect_timeout_seconds: float = 30.0
    # Bounds each network step (listing, one download, one delete/move, one upload), so a
    # partner server that stalls mid-transfer cannot hang a poll forever.
    step_timeout_seconds: float = 300.0


@dataclass(frozen=True)
class PolledFile:
    filename: str
    size: int
    interchange_id: str


@asynccontextmanager
async def _sftp_client(params: RemoteSftp) -> AsyncIterator[asyncssh.SFTPClient]:
    if not params.host_keys:
        raise RemoteSftpError(f"{params.host}: no host key configured for the partner's server")
    try:
        trusted = [asyncssh.import_public_key(key) for key in params.host_keys]
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise RemoteSftpError(f"{params.host}: unreadable host key: {exc}") from exc
    try:
        async with asyncssh.connect(
            params.host,
            params.port,
            username=params.username,
            client_keys=[str(key) for key in params.client_keys],
            known_hosts=(trusted, [], []),
            config=None,
            agent_path=None,
            preferred_auth="publickey",
            connect_timeout=params.connect_timeout_seconds,
        ) as conn, conn.start_sftp_client() as sftp:
            yield sftp
    except (OSError, asyncssh.Error) as exc:
        raise RemoteSftpError(
            f"sftp {params.username}@{params.host}:{params.port}: {exc}"
        ) from exc


async def _step(params: RemoteSftp, what: str, operation: Awaitable[T]) -> T:
    try:
        return await asyncio.wait_for(operation, params.step_timeout_seconds)
    except TimeoutError:
        raise RemoteSftpError(
            f"sftp {params.host}:{params.port}: {what} timed out after "
            f"{params.step_timeout_seconds:g}s"
        ) from None


def _after_action(after: str) -> str | None:
    """Validate ``after``; return the move target folder, or None for delete."""
    if after == "delete":
        return None
    if after.startswith("move:") and after[5:]:
        return after[5:]
    raise ValueError(f"after must be 'delete' or 'move:<remote folder>', not {after!r}")


async def _download(sftp: asyncssh.SFTPClient, remote_path: str, local: Path) -> int:
    size = 0
    # Opening is instant; every write and the fsync run off the loop.
    with open(local, "wb") as out:
        async with sftp.open(remote_path, "rb") as remote:
            while chunk := await remote.read(_CHUNK):
                await off_loop(out.write, chunk)
                size += len(chunk)
        await off_loop(out.flush)
        await off_loop(os.fsync, out.fileno())
    return size


async def _move_remote(sftp: asyncssh.SFTPClient, source: str, target: str) -> None:
    try:
        await sftp.posix_rename(source, target)
    except asyncssh.SFTPOpUnsupported:
        await sftp.rename(source, target)


async def poll_remote(
    conn_params: RemoteSftp,
    remote_dir: str,
    *,
    commit: Commit,
    after: str = "delete",
    work_dir: Path | None = None,
    temporary_name_patterns: Sequence[str] = DEFAULT_TEMPORARY_PATTERNS,
    max_files: int | None = None,
) -> list[PolledFile]:
    """Fetch every finished file in ``remote_dir``, commit it, then delete or move it remotely.

    ``after`` is ``"delete"`` or ``"move:<remote folder>"``. Files still carrying a temporary
    name (the partner is uploading them) are left alone. Stops at the first failure, leaving
    that file and the rest in place for the next poll.
    """
    move_to = _after_action(after)
    polled: list[PolledFile] = []
    async with _sftp_client(conn_params) as sftp:
        try:
            entries = await _step(conn_params, f"listing {remote_dir}", sftp.readdir(remote_dir))
        except asyncssh.SFTPError as exc:
            raise RemoteSftpError(f"listing {remote_dir}: {exc.reason}") from exc
        names = sorted(
            entry.filename for entry in entries
            if isinstance(entry.filename, str)
            and entry.attrs.permissions is not None and stat.S_ISREG(entry.attrs.permissions)
            and not is_temporary_name(entry.filename, temporary_name_patterns)
        )
        for name in names[:max_files]:
            remote_path = posixpath.join(remote_dir, name)
            fd, temp_name = tempfile.mkstemp(prefix="edigate-poll-", suffix=".part",
                                             dir=work_dir)
            os.close(fd)
            local = Path(temp_name)
            try:
                try:
                    size = await _step(conn_params, f"downloading {remote_path}",
                                       _download(sftp, remote_path, local))
                except asyncssh.SFTPError as exc:
                    raise RemoteSftpError(f"downloading {remote_path}: {exc.reason}") from exc
                interchange_id = await commit(name, local)
            finally:
                await off_loop(local.unlink, True)
            action = "deleted" if move_to is None else "moved"
            cleanup = (sftp.remove(remote_path) if move_to is None
                       else _move_remote(sftp, remote_path, posixpath.join(move_to, name)))
            try:
                await _step(conn_params, f"removing {remote_path}", cleanup)
            except (asyncssh.SFTPError, RemoteSftpError) as exc:
                reason = exc.reason if isinstance(exc, asyncssh.SFTPError) else str(exc)
                raise RemoteSftpError(
                    f"{remote_path} was committed as {interchange_id} but could not be "
                    f"{action}: {reason} (the next poll fetches it again; the inbox ignores "
                    "the duplicate)"
                ) from exc
            polled.append(PolledFile(name, size, interchange_id))
    return polled


async def _upload(sftp: asyncssh.SFTPClient, temp: str, final: str, data: bytes) -> None:
    async with sftp.open(temp, "wb") as remote:
        for start in range(0, len(data), _CHUNK):
            await remote.write(data[start:start + _CHUNK], start)
    await _move_remote(sftp, temp, final)


async def push_remote(
    conn_params: RemoteSftp, remote_dir: str, filename: str, data: bytes
) -> str:
    """Upload ``data`` as ``remote_dir/filename`` via a temporary name and a rename.

    The partner's processing never sees a partial file. Returns the final remote path.
    """
    if not filename or "/" in filename or filename in (".", ".."):
        raise ValueError(f"invalid remote file name {filename!r}")
    final = posixpath.join(remote_dir, filename)
    temp = posixpath.join(remote_dir, f".{filename}.{uuid.uuid4().hex[:12]}.part")
    async with _sftp_client(conn_params) as sftp:
        try:
            await _step(conn_params, f"uploading {final}", _upload(sftp, temp, final, data))
        except (asyncssh.SFTPError, RemoteSftpError) as exc:
            # Never created, already gone, or the server stalls: the temp name is harmless.
            with contextlib.suppress(asyncssh.SFTPError, RemoteSftpError):
                await _step(conn_params, f"removing {temp}", sftp.remove(temp))
            reason = exc.reason if isinstance(exc, asyncssh.SFTPError) else str(exc)
            raise RemoteSftpError(f"uploading {final}: {reason}") from exc
    return final
