"""Each partner is fenced into its own mailbox: no escapes, no links, no neighbours' files."""

from __future__ import annotations

import os
from pathlib import Path

import asyncssh
import pytest

from gateway.channels.sftp import place_outbound
from tests.gateway.sftp_helpers import SftpWorld, sftp_world

pytestmark = pytest.mark.timeout(90)


async def _refused(world: SftpWorld, command: str, partner: str = "acme") -> str:
    """Run one command as a batch; it must fail. Returns the client's error text."""
    run = await world.sftp(partner, [command])
    assert run.returncode != 0, f"{command!r} was not refused: {run.stdout}"
    # Refused by the mailbox rules, not by a failed login or a dropped connection.
    assert "publickey" not in run.stderr and "Connection closed" not in run.stderr, run.stderr
    return run.stderr


async def test_mailbox_root_shows_only_the_three_folders(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        run = await world.sftp("acme", ["pwd", "cd inbound", "pwd"])
        assert run.returncode == 0, run.stderr
        assert "Remote working directory: /\n" in run.stdout
        assert "Remote working directory: /inbound" in run.stdout
        run = await world.sftp("acme", ["ls -a /"])
        assert run.returncode == 0, run.stderr
        listed = {name.lstrip("/") for name in run.output.split()}
        assert listed == {"inbound", "outbound", "archive"}  # .staging stays hidden


@pytest.mark.parametrize(("command", "error"), [
    ("cd ..", "path leaves the mailbox"),
    ("cd /..", "path leaves the mailbox"),
    ("cd inbound/../..", "path leaves the mailbox"),
    ("ls ..", "not found"),
    ("get /etc/passwd", "not found"),
    ("get ../../../../etc/passwd", "not found"),
    ("get .staging/x", "not found"),
    ("ls /etc", "not found"),
    ("ls .staging", "not found"),
    ("mkdir inbound/sub", "Permission denied"),
    ("mkdir /tmp", "Permission denied"),
])
async def test_escape_attempts_are_refused(tmp_path: Path, command: str, error: str) -> None:
    async with sftp_world(tmp_path) as world:
        assert error in await _refused(world, command)
        assert not (world.work / "passwd").exists()


async def test_upload_outside_inbound_is_refused(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        (world.work / "x").write_bytes(b"payload")
        for command in ("put x ../../y", "put x /y", "put x outbound/y", "put x archive/y",
                        "put x inbound/../../y", "put x inbound/sub/y"):
            await _refused(world, command)
        mailboxes = tmp_path / "mailboxes"
        written = [p for p in mailboxes.rglob("*") if p.is_file()]
        assert written == []
        assert not (tmp_path / "y").exists()
        assert world.gateway.committed == []


async def test_links_are_neither_created_nor_followed(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        await place_outbound(acme.partner, "real.edi", b"DATA")
        # A link planted on disk (by an operator mistake or an attacker) leads outside.
        os.symlink("/etc/passwd", acme.mailbox / "outbound" / "passwd-link")
        secret = tmp_path / "secret.txt"
        secret.write_text("top secret")
        os.symlink(secret, acme.mailbox / "archive" / "secret-link")

        await _refused(world, "symlink /etc/passwd inbound/pw")
        await _refused(world, "ln -s /etc/passwd inbound/pw")
        await _refused(world, "ln outbound/real.edi archive/hard")
        await _refused(world, "get outbound/passwd-link")
        await _refused(world, "get archive/secret-link")
        run = await world.sftp("acme", ["ls outbound", "ls archive"])
        assert run.returncode == 0, run.stderr
        assert "real.edi" in run.output
        assert "link" not in run.output
        assert not (world.work / "passwd-link").exists()
        assert not (world.work / "secret-link").exists()

        async with world.asyncssh_client("acme") as sftp:
            with pytest.raises(asyncssh.SFTPPermissionDenied):
                await sftp.readlink("outbound/passwd-link")
            with pytest.raises(asyncssh.SFTPPermissionDenied):
                await sftp.stat("outbound/passwd-link")


async def test_area_folder_replaced_by_a_link_is_refused(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        await place_outbound(acme.partner, "x.edi", b"DATA")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        (elsewhere / "leak.txt").write_text("not yours")
        archive = acme.mailbox / "archive"
        archive.rmdir()
        os.symlink(elsewhere, archive)
        await _refused(world, "ls archive")
        await _refused(world, "get archive/leak.txt")


async def test_other_partners_files_are_invisible(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        globex = world.account("globex")
        await place_outbound(globex.partner, "globex-orders.edi", b"GLOBEX ONLY")
        await place_outbound(world.account("acme").partner, "acme-orders.edi", b"ACME")
        run = await world.sftp("acme", ["ls outbound"])
        assert run.returncode == 0, run.stderr
        assert "acme-orders.edi" in run.output
        assert "globex" not in run.output
        for command in ("get ../globex/outbound/globex-orders.edi",
                        "get /globex/outbound/globex-orders.edi",
                        "ls ../globex",
                        "rm ../globex/outbound/globex-orders.edi"):
            await _refused(world, command)
        assert not (world.work / "globex-orders.edi").exists()
        assert (globex.mailbox / "outbound" / "globex-orders.edi").read_bytes() == b"GLOBEX ONLY"
        assert world.gateway.picked_up == []


async def test_folder_rules_read_write_and_delete(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        await place_outbound(acme.partner, "a.edi", b"A")
        (world.work / "in.edi").write_bytes(b"IN")
        await world.sftp("acme", ["put in.edi inbound/kept.tmp"])  # session ends: quarantined
        await _refused(world, "get inbound/kept.tmp")
        await _refused(world, "rmdir outbound")
        await _refused(world, "rename outbound/a.edi inbound/a.edi")
        await _refused(world, "chmod 777 outbound/a.edi")
        run = await world.sftp("acme", ["get outbound/a.edi", "rename outbound/a.edi archive/a"])
        assert run.returncode == 0, run.stderr
        await _refused(world, "rm archive/a")
        await _refused(world, "rename archive/a outbound/a.edi")
        assert (acme.mailbox / "archive" / "a").read_bytes() == b"A"


async def test_invalid_names_get_precise_errors(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        async with world.asyncssh_client("acme") as sftp:
            with pytest.raises(asyncssh.SFTPError) as bad_utf8:
                await sftp.stat(b"inbound/\xff\xfe")
            assert "UTF-8" in bad_utf8.value.reason
            with pytest.raises(asyncssh.SFTPError) as too_long:
                await sftp.open("inbound/" + "x" * 300, "wb")
            assert "longer than" in too_long.value.reason
            with pytest.raises(asyncssh.SFTPError) as control:
                await sftp.open("inbound/a\x07b", "wb")
            assert "control characters" in control.value.reason
        assert world.gateway.committed == []
