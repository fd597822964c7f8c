"""The mailbox rules without a network: path parsing, temporary names, recovery, file I/O."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import asyncssh
import pytest

from gateway.channels.sftp import SftpPartner, recover_staging
from gateway.channels.sftp.mailbox import VirtualPath, ensure_mailbox, parse_virtual_path
from gateway.channels.sftp.model import DEFAULT_TEMPORARY_PATTERNS
from gateway.channels.sftp.uploads import Upload, is_temporary_name, staging_path_for
from tests.gateway.sftp_helpers import RecordingGateway, sftp_world


@pytest.mark.parametrize(("raw", "expected"), [
    (b"", VirtualPath()),
    (b"/", VirtualPath()),
    (b".", VirtualPath()),
    (b"inbound", VirtualPath("inbound")),
    (b"/inbound/", VirtualPath("inbound")),
    (b"//outbound//a.edi", VirtualPath("outbound", "a.edi")),
    (b"inbound/../outbound/./a.edi", VirtualPath("outbound", "a.edi")),
    ("archive/ordre-été.edi".encode(), VirtualPath("archive", "ordre-été.edi")),
])
def test_paths_inside_the_mailbox(raw: bytes, expected: VirtualPath) -> None:
    assert parse_virtual_path(raw) == expected


@pytest.mark.parametrize(("raw", "error", "message"), [
    (b"..", asyncssh.SFTPPermissionDenied, "leaves the mailbox"),
    (b"/inbound/../../etc/passwd", asyncssh.SFTPPermissionDenied, "leaves the mailbox"),
    (b"/etc/passwd", asyncssh.SFTPPermissionDenied, "only /inbound"),
    (b".staging/in-x", asyncssh.SFTPPermissionDenied, "only /inbound"),
    (b"../globex/outbound/x", asyncssh.SFTPPermissionDenied, "leaves the mailbox"),
    (b"inbound/a/b", asyncssh.SFTPPermissionDenied, "sub-folders"),
    (b"inbound/\xc3", asyncssh.SFTPInvalidFilename, "UTF-8"),
    (b"inbound/a\x00b", asyncssh.SFTPInvalidFilename, "NUL"),
    (b"inbound/a\nb", asyncssh.SFTPInvalidFilename, "control characters"),
    (b"inbound/" + b"n" * 201, asyncssh.SFTPInvalidFilename, "longer than 200 bytes"),
])
def test_paths_refused(raw: bytes, error: type[asyncssh.SFTPError], message: str) -> None:
    with pytest.raises(error) as refused:
        parse_virtual_path(raw)
    assert message in refused.value.reason


@pytest.mark.parametrize(("name", "temporary"), [
    ("orders.edi", False), ("orders.edi.part", True), ("orders.tmp", True),
    (".orders.edi", True), ("orders.edi.filepart", True), ("partial.edi", False),
    ("ORDERS.TMP", False),  # patterns are case-sensitive on purpose: Unix names are
])
def test_temporary_names(name: str, temporary: bool) -> None:
    assert is_temporary_name(name, DEFAULT_TEMPORARY_PATTERNS) is temporary


async def test_recovery_quarantines_uploads_left_by_a_stopped_gateway(tmp_path: Path) -> None:
    partner = SftpPartner("p1", "p1-edi", (), tmp_path / "mailbox")
    ensure_mailbox(partner.mailbox_root)
    staged = staging_path_for(partner.mailbox_root, "orders-7.edi")
    staged.write_bytes(b"UNB+half")
    leftover_outbound = partner.mailbox_root / ".staging" / "out-abc.tmp"
    leftover_outbound.write_bytes(b"never published")
    gateway = RecordingGateway()
    assert await recover_staging(partner, gateway) == 1
    [entry] = gateway.quarantined
    assert (entry.partner_id, entry.filename, entry.data) == ("p1", "orders-7.edi", b"UNB+half")
    assert "gateway stopped" in entry.reason
    assert list((partner.mailbox_root / ".staging").iterdir()) == []
    assert gateway.committed == []
    assert await recover_staging(partner, gateway) == 0


async def test_upload_writes_run_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    writer_threads: list[int] = []
    real_pwrite = os.pwrite

    def recording_pwrite(fd: int, data: bytes | memoryview, offset: int) -> int:
        writer_threads.append(threading.get_ident())
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", recording_pwrite)
    payload = os.urandom(3 * 1024 * 1024)
    async with sftp_world(tmp_path) as world:
        (world.work / "big.bin").write_bytes(payload)
        run = await world.sftp("acme", ["put big.bin inbound/big.bin"])
        assert run.returncode == 0, run.stderr
        assert world.gateway.committed[0].data == payload
    assert len(writer_threads) > 10
    assert loop_thread not in writer_threads


def test_out_of_order_writes_that_cover_everything_are_complete(tmp_path: Path) -> None:
    partner = SftpPartner("p1", "p1-edi", (), tmp_path)
    upload = Upload(partner, "x.edi", tmp_path / "x", "session")
    upload.record_write(100, 200)
    upload.record_write(300, 350)
    assert upload.first_gap() == (0, 100)
    upload.record_write(0, 100)
    assert upload.first_gap() == (200, 300)
    upload.record_write(150, 320)  # overlaps both neighbours
    assert upload.extents == [(0, 350)]
    assert upload.first_gap() is None and upload.size == 350
    upload.reset()
    assert upload.first_gap() is None and upload.size == 0
