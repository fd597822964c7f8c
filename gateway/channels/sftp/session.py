"""One partner's SFTP session: the mailbox view, uploads, downloads and pick-ups.

Every path goes through `parse_virtual_path` first; the partner sees exactly ``/inbound``
(write-only), ``/outbound`` (read, delete = pick-up) and ``/archive`` (read-only). asyncssh's
chroot is set to the mailbox as a second fence. Links are never followed or created.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import asyncssh
from asyncssh import (
    SFTPAttrs,
    SFTPFailure,
    SFTPFileAlreadyExists,
    SFTPName,
    SFTPNoSuchFile,
    SFTPOpUnsupported,
    SFTPPermissionDenied,
    SFTPQuotaExceeded,
)

from .mailbox import (
    ARCHIVE,
    AREAS,
    INBOUND,
    OUTBOUND,
    VirtualPath,
    area_dir,
    ensure_mailbox,
    lstat_regular,
    open_regular_for_read,
    parse_virtual_path,
)
from .model import SftpCollaborators, SftpPartner, SftpSettings
from .outbound import archive_outbound_sync
from .outcomes import UploadOutcomes
from .uploads import (
    MAX_EXTENTS,
    Upload,
    UploadRegistry,
    UploadState,
    create_staging_file,
    is_temporary_name,
    off_loop,
    open_staging_file,
    staging_path_for,
    sync_and_close,
    write_at,
)

logger = logging.getLogger("gateway.channels.sftp")

# The read size asyncssh advertises (limits@openssh.com); a larger request gets a short read
# instead of a buffer of whatever size the client asked for.
_MAX_READ = 4 * 1024 * 1024
_WRITE_FLAGS = asyncssh.FXF_WRITE | asyncssh.FXF_APPEND | asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC


class _Seekable:
    fd: int

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        # asyncssh's ranges@asyncssh.com extension (used by its client's get/copy to skip
        # holes) asks the handle for SEEK_DATA/SEEK_HOLE; a metadata call, cheap on the loop.
        return os.lseek(self.fd, offset, whence)


@dataclass(eq=False)
class _UploadHandle(_Seekable):
    upload: Upload
    fd: int
    # Opened for appending: SFTP says the server ignores the client's offsets then.
    append: bool = False


@dataclass(eq=False)
class _DownloadHandle(_Seekable):
    path: VirtualPath
    fd: int
    size: int


async def _iterate(names: Iterable[SFTPName]) -> AsyncIterator[SFTPName]:
    for name in names:
        yield name


def _attrs(result: os.stat_result) -> SFTPAttrs:
    attrs = SFTPAttrs.from_local(result)
    # Local uids and account names are none of the partner's business.
    attrs.uid = attrs.gid = None
    attrs.owner = attrs.group = None
    return attrs


class MailboxSFTPServer(asyncssh.SFTPServer):
    """The SFTP server for one authenticated partner session."""

    def __init__(
        self,
        chan: asyncssh.SSHServerChannel,
        *,
        partner: SftpPartner,
        collaborators: SftpCollaborators,
        registry: UploadRegistry,
        settings: SftpSettings,
        on_finished: Callable[[MailboxSFTPServer], None] | None = None,
    ) -> None:
        ensure_mailbox(partner.mailbox_root)
        super().__init__(chan, chroot=os.fsencode(partner.mailbox_root))
        assert self._chroot is not None
        self._root = Path(os.fsdecode(self._chroot))
        self._partner = partner
        self._collaborators = collaborators
        self._registry = registry
        self._settings = settings
        self._session_id = uuid.uuid4().hex
        self._outcomes = UploadOutcomes(partner, collaborators, registry)
        self._downloaded: set[str] = set()
        self._open_files = 0
        self._on_finished = on_finished
        # Set once the session has settled every upload it held (see exit()).
        self.finished = asyncio.Event()

    # -- completeness -----------------------------------------------------------------------

    def _client_gone(self) -> bool:
        """True when the session's input has ended (client exited, was killed, or vanished).

        asyncssh closes handles a dead session left open through the same ``close()`` hook a
        client's CLOSE request uses, so ``close()`` alone cannot tell a finished upload from an
        aborted one. A client waiting for the answer to its CLOSE has not sent EOF; when the
        session is being torn down, the channel has received EOF or lost its session. asyncssh
        has no public accessor for this, so anything unexpected counts as "gone": a future
        asyncssh can then only make uploads fail safe (quarantined), never accept a partial.
        """
        session = getattr(self.channel, "_session", None)
        at_eof = getattr(session, "at_eof", None)
        if at_eof is None:
            return True
        try:
            return bool(at_eof(None))
        except Exception:  # the internal API drifted: fail safe
            return True

    # -- paths, listing, attributes ---------------------------------------------------------

    def format_user(self, uid: int | None) -> str:
        return self._partner.username

    def format_group(self, gid: int | None) -> str:
        return "edigate"

    def realpath(self, path: bytes) -> bytes:
        return str(parse_virtual_path(path)).encode()

    def stat(self, path: bytes) -> SFTPAttrs:
        return self._stat(parse_virtual_path(path))

    def lstat(self, path: bytes) -> SFTPAttrs:
        return self._stat(parse_virtual_path(path))

    def _stat(self, vpath: VirtualPath) -> SFTPAttrs:
        if vpath.area is None:
            return _attrs(os.stat(self._root))
        folder = area_dir(self._root, vpath.area)
        if vpath.name is None:
            return _attrs(os.stat(folder))
        if vpath.area == INBOUND:
            upload = self._registry.get(self._partner, vpath.name)
            if upload is None:
                raise SFTPNoSuchFile(f"{vpath}: no such file")
            return _attrs(os.stat(upload.staging_path))
        return _attrs(lstat_regular(folder / vpath.name))

    def fstat(self, file_obj: object) -> SFTPAttrs:
        return _attrs(os.fstat(self._handle(file_obj).fd))

    def scandir(self, path: bytes) -> AsyncIterator[SFTPName]:
        # Not a generator itself: a refused path must fail the OPENDIR request, not a READDIR.
        vpath = parse_virtual_path(path)
        if vpath.name is not None:
            raise SFTPNoSuchFile(f"{vpath} is not a folder")
        return _iterate(self._list(vpath))

    def _list(self, vpath: VirtualPath) -> list[SFTPName]:
        if vpath.area is None:
            return [
                SFTPName(area.encode(), attrs=_attrs(os.stat(area_dir(self._root, area))))
                for area in AREAS
            ]
        folder = area_dir(self._root, vpath.area)
        if vpath.area == INBOUND:
            names = []
            for upload in self._registry.of_partner(self._partner):
                try:
                    names.append(SFTPName(upload.name.encode(),
                                          attrs=_attrs(os.stat(upload.staging_path))))
                except FileNotFoundError:
                    continue  # finished while we listed
            return names
        with os.scandir(folder) as entries:
            return [
                SFTPName(os.fsencode(entry.name),
                         attrs=_attrs(entry.stat(follow_symlinks=False)))
                for entry in entries
                if entry.is_file(follow_symlinks=False) and not entry.name.startswith(".")
            ]

    # -- opening, reading, writing ----------------------------------------------------------

    def _handle(self, file_obj: object) -> _UploadHandle | _DownloadHandle:
        if isinstance(file_obj, (_UploadHandle, _DownloadHandle)):
            return file_obj
        raise SFTPFailure("unknown file handle")

    async def open(self, path: bytes, pflags: int, attrs: SFTPAttrs) -> object:
        if self._open_files >= self._settings.max_open_files_per_session:
            raise SFTPFailure(f"too many open files (limit "
                              f"{self._settings.max_open_files_per_session} per session)")
        handle = await self._open(path, pflags)
        self._open_files += 1
        return handle

    async def _open(self, path: bytes, pflags: int) -> _UploadHandle | _DownloadHandle:
        vpath = parse_virtual_path(path)
        if vpath.area is None or vpath.name is None:
            raise SFTPPermissionDenied(f"{vpath} is a folder")
        wants_write = bool(pflags & _WRITE_FLAGS)
        if vpath.area != INBOUND:
            if wants_write:
                raise SFTPPermissionDenied(f"{vpath}: /{vpath.area} is read-only")
            fd = await off_loop(open_regular_for_read,
                                area_dir(self._root, vpath.area) / vpath.name)
            return _DownloadHandle(vpath, fd, os.fstat(fd).st_size)
        if pflags & asyncssh.FXF_READ or not wants_write:
            raise SFTPPermissionDenied(f"{vpath}: /inbound is write-only")
        return await self._open_upload(vpath.name, pflags)

    async def _open_upload(self, name: str, pflags: int) -> _UploadHandle:
        existing = self._registry.get(self._partner, name)
        if existing is not None:
            # Only a temporary file this session closed may be reopened (resume, rewrite).
            if (existing.session_id != self._session_id
                    or existing.state is not UploadState.AWAITING_RENAME):
                raise SFTPFailure(f"/inbound/{name} is being uploaded by another transfer")
            if pflags & asyncssh.FXF_EXCL:
                raise SFTPFileAlreadyExists(f"/inbound/{name} already exists")
            fd = await off_loop(open_staging_file, existing.staging_path)
            if pflags & asyncssh.FXF_TRUNC:
                await off_loop(os.ftruncate, fd, 0)
                existing.reset()
            existing.state = UploadState.WRITING
            return _UploadHandle(existing, fd, append=bool(pflags & asyncssh.FXF_APPEND))
        if not pflags & asyncssh.FXF_CREAT:
            raise SFTPNoSuchFile(f"/inbound/{name}: no such file")
        staging = staging_path_for(self._root, name)
        fd = await off_loop(create_staging_file, staging)
        upload = Upload(self._partner, name, staging, self._session_id)
        self._registry.add(upload)
        logger.debug("sftp upload started: partner=%s file=%s", self._partner.partner_id, name)
        return _UploadHandle(upload, fd, append=bool(pflags & asyncssh.FXF_APPEND))

    async def read(self, file_obj: object, offset: int, size: int) -> bytes:
        handle = self._handle(file_obj)
        if not isinstance(handle, _DownloadHandle):
            raise SFTPPermissionDenied("file is open for writing only")
        data = await off_loop(os.pread, handle.fd, min(size, _MAX_READ), offset)
        if offset + len(data) >= handle.size and handle.path.name:
            self._downloaded.add(handle.path.name)
        return data

    async def write(self, file_obj: object, offset: int, data: bytes) -> None:
        handle = self._handle(file_obj)
        if not isinstance(handle, _UploadHandle):
            raise SFTPPermissionDenied("file is open for reading only")
        upload = handle.upload
        if upload.refused:
            raise SFTPFailure(upload.refused)
        if handle.append:
            offset = upload.size
        end = offset + len(data)
        limit = self._settings.max_upload_bytes
        if end > limit:
            upload.refused = (f"upload refused: /inbound/{upload.name} exceeds the maximum "
                              f"upload size of {limit} bytes")
            raise SFTPQuotaExceeded(upload.refused)
        await off_loop(write_at, handle.fd, offset, data)
        upload.record_write(offset, end)
        if len(upload.extents) > MAX_EXTENTS:
            upload.refused = (f"upload refused: /inbound/{upload.name} was written in more "
                              f"than {MAX_EXTENTS} separate pieces")
            raise SFTPFailure(upload.refused)

    async def fsync(self, file_obj: object) -> None:
        handle = self._handle(file_obj)
        if isinstance(handle, _UploadHandle):
            await off_loop(os.fsync, handle.fd)

    async def close(self, file_obj: object) -> None:
        # Must be decided before the first await: the session could end meanwhile.
        client_gone = self._client_gone()
        handle = self._handle(file_obj)
        self._open_files -= 1
        if isinstance(handle, _DownloadHandle):
            os.close(handle.fd)
            return
        upload = handle.upload
        if client_gone:
            # Teardown path: raising here would stop asyncssh from settling the session.
            try:
                await off_loop(sync_and_close, handle.fd)
            except OSError:
                logger.exception("closing staging file %s failed", upload.staging_path)
            await self._outcomes.quarantine(
                upload,
                f"session ended while /inbound/{upload.name} was still open "
                f"({upload.size} bytes received): incomplete upload",
            )
            return
        await off_loop(sync_and_close, handle.fd)
        if upload.refused:
            await self._outcomes.quarantine(upload, upload.refused)
            raise SFTPFailure(upload.refused)
        if is_temporary_name(upload.name, self._settings.temporary_name_patterns):
            upload.state = UploadState.AWAITING_RENAME
            return
        await self._outcomes.commit(upload)

    def _own_finished_temp(self, name: str) -> Upload:
        upload = self._registry.get(self._partner, name)
        if upload is None:
            raise SFTPNoSuchFile(f"/inbound/{name}: no such file")
        if upload.session_id != self._session_id:
            raise SFTPFailure(f"/inbound/{name} is being uploaded by another transfer")
        if upload.state is not UploadState.AWAITING_RENAME:
            raise SFTPFailure(f"/inbound/{name} is still open; close it first")
        return upload

    # -- remove, rename: uploads and pick-ups -----------------------------------------------

    async def remove(self, path: bytes) -> None:
        vpath = parse_virtual_path(path)
        if vpath.area is None or vpath.name is None:
            raise SFTPPermissionDenied(f"{vpath}: folders cannot be removed")
        if vpath.area == INBOUND:
            await self._outcomes.discard(self._own_finished_temp(vpath.name))
        elif vpath.area == OUTBOUND:
            await self._pick_up(vpath.name, vpath.name)
        else:
            raise SFTPPermissionDenied(f"{vpath}: /archive is read-only")

    async def rename(self, oldpath: bytes, newpath: bytes) -> None:
        await self._rename(oldpath, newpath, replace=False)

    async def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        await self._rename(oldpath, newpath, replace=True)

    async def _rename(self, oldpath: bytes, newpath: bytes, *, replace: bool) -> None:
        old = parse_virtual_path(oldpath)
        new = parse_virtual_path(newpath)
        if old.name is None or new.name is None:
            raise SFTPPermissionDenied(f"{old} -> {new}: folders cannot be renamed")
        if old.area == INBOUND and new.area == INBOUND:
            await self._rename_upload(old.name, new.name, replace=replace)
        elif old.area == OUTBOUND and new.area == ARCHIVE:
            await self._pick_up(old.name, new.name)
        else:
            raise SFTPPermissionDenied(f"{old} -> {new}: not allowed")

    async def _rename_upload(self, old: str, new: str, *, replace: bool) -> None:
        upload = self._own_finished_temp(old)
        if old == new:
            return
        target = self._registry.get(self._partner, new)
        if target is not None:
            if not replace:
                raise SFTPFileAlreadyExists(f"/inbound/{new} already exists")
            await self._outcomes.discard(self._own_finished_temp(new))
        new_staging = staging_path_for(self._root, new)
        await off_loop(os.rename, upload.staging_path, new_staging)
        upload.staging_path = new_staging
        self._registry.rename(upload, new)
        if not is_temporary_name(new, self._settings.temporary_name_patterns):
            await self._outcomes.commit(upload)

    async def _pick_up(self, name: str, archive_name: str) -> None:
        archived = await off_loop(archive_outbound_sync, self._root, name, archive_name)
        logger.info("sftp outbound picked up: partner=%s file=%s archived_as=%s downloaded=%s",
                    self._partner.partner_id, name, archived, name in self._downloaded)
        try:
            await self._collaborators.outbound_picked_up(self._partner, name)
        except Exception as exc:
            logger.exception("recording the pick-up failed: partner=%s file=%s",
                             self._partner.partner_id, name)
            raise SFTPFailure(
                f"/outbound/{name} moved to /archive/{archived} but the pick-up could not be "
                "recorded"
            ) from exc

    # -- attributes and everything a mailbox does not offer ---------------------------------

    def _settable(self, path: bytes) -> None:
        vpath = parse_virtual_path(path)
        if vpath.area == INBOUND and vpath.name is not None:
            # Clients preserving times set them after the upload, often on the final name
            # that was already handed over (WinSCP, sftp -p): accept and keep nothing.
            return
        raise SFTPPermissionDenied(f"{vpath}: attributes cannot be changed")

    def setstat(self, path: bytes, attrs: SFTPAttrs) -> None:
        self._settable(path)

    def lsetstat(self, path: bytes, attrs: SFTPAttrs) -> None:
        self._settable(path)

    def fsetstat(self, file_obj: object, attrs: SFTPAttrs) -> None:
        if not isinstance(self._handle(file_obj), _UploadHandle):
            raise SFTPPermissionDenied("attributes cannot be changed")

    def mkdir(self, path: bytes, attrs: SFTPAttrs) -> None:
        raise SFTPPermissionDenied("the mailbox folders are fixed")

    def rmdir(self, path: bytes) -> None:
        raise SFTPPermissionDenied("the mailbox folders are fixed")

    def readlink(self, path: bytes) -> bytes:
        raise SFTPPermissionDenied("links are not served")

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        raise SFTPPermissionDenied("links are not allowed")

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        raise SFTPPermissionDenied("links are not allowed")

    def open56(self, path: bytes, desired_access: int, flags: int, attrs: SFTPAttrs) -> object:
        # The server speaks SFTPv3 only; asyncssh's default here would bypass the mailbox rules.
        raise SFTPOpUnsupported("SFTP versions above 3 are not offered")

    def statvfs(self, path: bytes) -> object:
        raise SFTPOpUnsupported("statvfs is not offered")

    def fstatvfs(self, file_obj: object) -> object:
        raise SFTPOpUnsupported("statvfs is not offered")

    async def exit(self) -> None:
        try:
            for upload in self._registry.of_session(self._session_id):
                if upload.state is UploadState.AWAITING_RENAME:
                    reason = (f"/inbound/{upload.name} was uploaded under a temporary name and "
                              "never renamed before the session ended")
                else:
                    reason = f"session ended while /inbound/{upload.name} was still open"
                await self._outcomes.quarantine(upload, reason)
        finally:
            self.finished.set()
            if self._on_finished is not None:
                self._on_finished(self)
