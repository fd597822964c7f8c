"""Outbound documents: atomic placement, download, pick-up into the archive."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import asyncssh
import pytest

from gateway.channels.sftp import OutboundConflict, SftpPartner, place_outbound
from tests.gateway.sftp_helpers import sftp_world

pytestmark = pytest.mark.timeout(90)

DELFOR = b"UNB+UNOC:3+BUYER+SUPPLIER+240101:1200+7'UNH+1+DELFOR:D:96A:UN'UNT+2+1'UNZ+1+7'"


def _partner(tmp_path: Path) -> SftpPartner:
    return SftpPartner("p1", "p1-edi", (), tmp_path / "mailbox")


async def test_place_outbound_is_atomic_idempotent_and_refuses_conflicts(tmp_path: Path) -> None:
    partner = _partner(tmp_path)
    path = await place_outbound(partner, "delfor-7.edi", DELFOR)
    assert path == partner.mailbox_root / "outbound" / "delfor-7.edi"
    assert path.read_bytes() == DELFOR
    # A dispatcher retry with the same bytes changes nothing.
    assert await place_outbound(partner, "delfor-7.edi", DELFOR) == path
    with pytest.raises(OutboundConflict):
        await place_outbound(partner, "delfor-7.edi", DELFOR + b"changed")
    assert path.read_bytes() == DELFOR
    # No temporary file is left anywhere, and none was ever written in outbound/.
    assert sorted(p.name for p in (partner.mailbox_root / "outbound").iterdir()) == [
        "delfor-7.edi"]
    assert list((partner.mailbox_root / ".staging").iterdir()) == []
    with pytest.raises(asyncssh.SFTPError):
        await place_outbound(partner, "../escape.edi", DELFOR)


async def test_outbound_file_appears_only_once_its_bytes_are_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    partner = _partner(tmp_path)
    outbound = partner.mailbox_root / "outbound"
    big = os.urandom(4 * 1024 * 1024)
    visible_at_fsync: list[list[tuple[str, int]]] = []
    real_fsync = os.fsync

    def spying_fsync(fd: int) -> None:
        visible_at_fsync.append(sorted((p.name, p.stat().st_size) for p in outbound.iterdir()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spying_fsync)
    await place_outbound(partner, "plan.bin", big)
    # fsync of the staged bytes: nothing published yet; fsync of outbound/: the whole file.
    assert visible_at_fsync == [[], [("plan.bin", len(big))]]
    assert (outbound / "plan.bin").read_bytes() == big


async def test_concurrent_placements_all_land(tmp_path: Path) -> None:
    partner = _partner(tmp_path)
    docs = {f"doc-{i}.bin": os.urandom(256 * 1024) for i in range(6)}
    await asyncio.gather(*(place_outbound(partner, name, data) for name, data in docs.items()))
    outbound = partner.mailbox_root / "outbound"
    assert {p.name: p.read_bytes() for p in outbound.iterdir()} == docs


async def test_get_then_rm_archives_the_file_and_reports_pick_up(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        await place_outbound(acme.partner, "delfor-7.edi", DELFOR)
        run = await world.sftp("acme", ["ls outbound", "get outbound/delfor-7.edi",
                                        "rm outbound/delfor-7.edi", "ls archive"])
        assert run.returncode == 0, run.stderr
        assert (world.work / "delfor-7.edi").read_bytes() == DELFOR
        assert world.gateway.picked_up == [("partner-acme", "delfor-7.edi")]
        assert not (acme.mailbox / "outbound" / "delfor-7.edi").exists()
        assert (acme.mailbox / "archive" / "delfor-7.edi").read_bytes() == DELFOR
        assert "archive/delfor-7.edi" in run.output


async def test_rename_into_archive_is_a_pick_up_and_names_never_clobber(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        await place_outbound(acme.partner, "a.edi", b"first")
        run = await world.sftp("acme", ["get outbound/a.edi",
                                        "rename outbound/a.edi archive/a.edi"])
        assert run.returncode == 0, run.stderr
        # The same name is sent again later: the archive keeps both versions.
        await place_outbound(acme.partner, "a.edi", b"second")
        run = await world.sftp("acme", ["get outbound/a.edi", "rm outbound/a.edi"])
        assert run.returncode == 0, run.stderr
        assert (acme.mailbox / "archive" / "a.edi").read_bytes() == b"first"
        assert (acme.mailbox / "archive" / "a.edi.1").read_bytes() == b"second"
        assert world.gateway.picked_up == [("partner-acme", "a.edi")] * 2


async def test_missing_outbound_file_is_not_a_pick_up(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        run = await world.sftp("acme", ["rm outbound/nothing.edi"])
        assert run.returncode != 0
        assert world.gateway.picked_up == []


async def test_pick_up_callback_failure_is_reported_but_file_is_archived(
    tmp_path: Path,
) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        await place_outbound(acme.partner, "b.edi", b"B")

        async def broken(partner: SftpPartner, filename: str) -> None:
            raise RuntimeError("database is unavailable")

        world.gateway.outbound_picked_up = broken  # type: ignore[method-assign]
        async with world.asyncssh_client("acme") as sftp:
            with pytest.raises(asyncssh.SFTPFailure) as failed:
                await sftp.remove("outbound/b.edi")
        assert "could not be recorded" in failed.value.reason
        assert (acme.mailbox / "archive" / "b.edi").read_bytes() == b"B"


async def test_large_download_is_byte_exact(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        data = os.urandom(9 * 1024 * 1024 + 17)
        await place_outbound(world.account("acme").partner, "plan.bin", data)
        run = await world.sftp("acme", ["get outbound/plan.bin"])
        assert run.returncode == 0, run.stderr
        assert (world.work / "plan.bin").read_bytes() == data
        async with world.asyncssh_client("acme") as sftp:
            async with sftp.open("outbound/plan.bin", "rb") as remote:
                assert await remote.read() == data
        assert world.gateway.picked_up == []  # reading alone is not a pick-up


async def test_asyncssh_client_get_put_and_server_side_copy(tmp_path: Path) -> None:
    """asyncssh's own client asks for data ranges (ranges@asyncssh.com) during get/copy."""
    async with sftp_world(tmp_path) as world:
        data = os.urandom(3_000_000)
        await place_outbound(world.account("acme").partner, "p.bin", data)
        (world.work / "u.bin").write_bytes(data[::-1])
        async with world.asyncssh_client("acme") as sftp:
            await sftp.get("outbound/p.bin", str(world.work / "p.bin"))
            await sftp.put(str(world.work / "u.bin"), "inbound/u.bin")
            await sftp.copy("outbound/p.bin", "inbound/c.bin")
        assert (world.work / "p.bin").read_bytes() == data
        assert [(c.filename, c.data) for c in world.gateway.committed] == [
            ("u.bin", data[::-1]), ("c.bin", data)]
