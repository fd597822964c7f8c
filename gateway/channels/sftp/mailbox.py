"""A partner's mailbox on disk and the only paths a partner may name inside it.

Layout of one mailbox root::

    inbound/    partner uploads land here (virtually: bytes are staged, see uploads.py)
    outbound/   documents the gateway places for the partner to download
    archive/    outbound documents the partner has picked up
    .staging/   in-progress uploads and outbound temp files; never visible to the partner

Every client path is parsed into a `VirtualPath` before anything touches the disk: ``..``
that would leave the mailbox, unknown top-level folders, sub-folders and malformed names are
refused here, so the server methods only ever see one of three shapes.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from asyncssh import SFTPInvalidFilename, SFTPNoSuchFile, SFTPPermissionDenied

INBOUND = "inbound"
OUTBOUND = "outbound"
ARCHIVE = "archive"
AREAS: tuple[str, ...] = (INBOUND, OUTBOUND, ARCHIVE)
STAGING = ".staging"
MAX_NAME_BYTES = 200  # leaves room for the staging prefix within NAME_MAX (255)


@dataclass(frozen=True)
class VirtualPath:
    """A validated path inside the mailbox: the root, an area, or a file in an area."""

    area: str | None = None
    name: str | None = None

    def __str__(self) -> str:
        return "/" + "/".join(part for part in (self.area, self.name) if part)

    @property
    def is_root(self) -> bool:
        return self.area is None

    @property
    def is_area(self) -> bool:
        return self.area is not None and self.name is None


def ensure_mailbox(root: Path) -> None:
    """Create the mailbox folders if missing (idempotent)."""
    for folder in (*AREAS, STAGING):
        (root / folder).mkdir(parents=True, exist_ok=True, mode=0o750)


def check_filename(name: str) -> str:
    """Return ``name`` if it can be a file name in an area, else raise a precise SFTP error."""
    if not name or name in (".", "..") or "/" in name or "\x00" in name:
        raise SFTPInvalidFilename(f"invalid file name {name!r}")
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise SFTPInvalidFilename(f"file name longer than {MAX_NAME_BYTES} bytes")
    if any(ord(char) < 0x20 for char in name):
        raise SFTPInvalidFilename("control characters are not allowed in file names")
    return name


def parse_virtual_path(raw: bytes | str) -> VirtualPath:
    """Parse a client path; the mailbox is ``/`` whatever the client believes."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SFTPInvalidFilename("path is not valid UTF-8") from None
    else:
        text = raw
    if "\x00" in text:
        raise SFTPInvalidFilename("path contains a NUL byte")
    parts: list[str] = []
    for component in text.split("/"):
        if component in ("", "."):
            continue
        if component == "..":
            if not parts:
                raise SFTPPermissionDenied("path leaves the mailbox")
            parts.pop()
            continue
        parts.append(component)
    if not parts:
        return VirtualPath()
    if parts[0] not in AREAS:
        raise SFTPPermissionDenied(
            f"/{parts[0]}: only /inbound, /outbound and /archive exist in this mailbox"
        )
    if len(parts) == 1:
        return VirtualPath(parts[0])
    if len(parts) > 2:
        raise SFTPPermissionDenied(f"{text}: sub-folders are not allowed")
    return VirtualPath(parts[0], check_filename(parts[1]))


def area_dir(root: Path, area: str) -> Path:
    """The real folder of an area, refused if it was replaced by a link leading elsewhere."""
    folder = root / area
    real = os.path.realpath(folder)
    if os.path.dirname(real) != os.path.realpath(root):
        raise SFTPPermissionDenied(f"/{area} is not inside the mailbox")
    return folder


def lstat_regular(path: Path) -> os.stat_result:
    """lstat a file that must be a plain file: links (which could lead out) are refused."""
    try:
        result = os.lstat(path)
    except FileNotFoundError:
        raise SFTPNoSuchFile(f"{path.name}: no such file") from None
    if stat.S_ISLNK(result.st_mode):
        raise SFTPPermissionDenied(f"{path.name}: links are not served")
    if not stat.S_ISREG(result.st_mode):
        raise SFTPNoSuchFile(f"{path.name}: not a file")
    return result


def open_regular_for_read(path: Path) -> int:
    """Open a plain file without following a link and without blocking on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise SFTPNoSuchFile(f"{path.name}: no such file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SFTPPermissionDenied(f"{path.name}: links are not served") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise SFTPNoSuchFile(f"{path.name}: not a file")
    os.set_blocking(fd, True)
    return fd


def fsync_dir(folder: Path) -> None:
    """Make a rename or link in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def link_unique(source: Path, folder: Path, name: str) -> str:
    """Hard-link ``source`` into ``folder`` under ``name`` or ``name.N``; never overwrites.

    Returns the name used. ``os.link`` fails atomically when the target exists, so two
    concurrent archivers can never clobber each other.
    """
    candidate = name
    for attempt in range(1, 10_000):
        try:
            os.link(source, folder / candidate, follow_symlinks=False)
            return candidate
        except FileExistsError:
            candidate = f"{name}.{attempt}"
    raise SFTPPermissionDenied(f"{name}: too many archived copies")
