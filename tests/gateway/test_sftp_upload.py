"""Uploads through the real OpenSSH client: complete ones are committed once, others never."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import asyncssh
import pytest

from gateway.channels.sftp import SftpSettings
from tests.gateway.sftp_helpers import adopting_orphans, child_pids, kill_group, sftp_world

pytestmark = pytest.mark.timeout(90)

ORDERS = b"UNA:+.? 'UNB+UNOC:3+SUPPLIER+BUYER+240101:1200+42'UNZ+0+42'"


def _write(work: Path, name: str, data: bytes) -> Path:
    path = work / name
    path.write_bytes(data)
    return path


async def test_plain_upload_is_committed_once_with_exact_bytes(tmp_path: Path) -> None:
    payload = ORDERS + os.urandom(100_000)
    async with sftp_world(tmp_path) as world:
        _write(world.work, "orders.edi", payload)
        run = await world.sftp("acme", ["put orders.edi inbound/orders.edi", "ls -l inbound"])
        assert run.returncode == 0, run.stderr
        # Committed before the close was acknowledged, so it is there when sftp returns.
        assert [(c.partner_id, c.filename) for c in world.gateway.committed] == [
            ("partner-acme", "orders.edi")
        ]
        assert world.gateway.committed[0].data == payload
        assert "orders.edi" not in run.output  # handed over: nothing lingers in inbound
    assert len(world.gateway.committed) == 1  # settled sessions: still exactly once
    assert world.gateway.quarantined == []
    assert world.staged_files("acme") == []


async def test_openssh_rename_from_temporary_name_commits_only_after_rename(
    tmp_path: Path,
) -> None:
    async with sftp_world(tmp_path) as world:
        _write(world.work, "d.edi", ORDERS)
        run = await world.sftp("acme", [
            "put d.edi inbound/delfor.edi.part",
            "ls inbound",
            "rename inbound/delfor.edi.part inbound/delfor.edi",
        ])
        assert run.returncode == 0, run.stderr
        assert "delfor.edi.part" in run.output  # visible to its uploader while waiting
        assert [(c.filename, c.data) for c in world.gateway.committed] == [("delfor.edi", ORDERS)]
    assert len(world.gateway.committed) == 1
    assert world.gateway.quarantined == []


@pytest.mark.parametrize("method", ["rename", "posix_rename"])
async def test_both_rename_operations_complete_an_upload(tmp_path: Path, method: str) -> None:
    async with sftp_world(tmp_path) as world:
        async with world.asyncssh_client("acme") as sftp:
            async with sftp.open("inbound/.x12-850.tmp", "wb") as remote:
                await remote.write(b"ISA*00*...~")
            assert world.gateway.committed == []  # a temporary name is not a finished upload
            await getattr(sftp, method)("inbound/.x12-850.tmp", "inbound/po-850.x12")
            assert [c.filename for c in world.gateway.committed] == ["po-850.x12"]
            with pytest.raises(asyncssh.SFTPNoSuchFile):
                await getattr(sftp, method)("inbound/.x12-850.tmp", "inbound/again.x12")
    assert len(world.gateway.committed) == 1
    assert world.gateway.quarantined == []


async def test_temporary_upload_never_renamed_is_quarantined_at_session_end(
    tmp_path: Path,
) -> None:
    async with sftp_world(tmp_path) as world:
        _write(world.work, "d.edi", ORDERS)
        run = await world.sftp("acme", ["put d.edi inbound/d.edi.filepart"])
        assert run.returncode == 0, run.stderr
        await world.gateway.wait_for(lambda: len(world.gateway.quarantined) == 1)
        quarantined = world.gateway.quarantined[0]
        assert (quarantined.filename, quarantined.data) == ("d.edi.filepart", ORDERS)
        assert "never renamed" in quarantined.reason
        assert world.gateway.committed == []
        assert world.staged_files("acme") == []


async def test_partner_may_delete_its_own_unfinished_temporary_file(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        _write(world.work, "d.edi", ORDERS)
        run = await world.sftp("acme", ["put d.edi inbound/d.tmp", "rm inbound/d.tmp"])
        assert run.returncode == 0, run.stderr
    # Leaving the world waits until every session has settled its uploads.
    assert world.gateway.committed == [] and world.gateway.quarantined == []
    assert world.staged_files("acme") == []


@pytest.mark.parametrize("kill", ["sftp-process", "whole-client"])
async def test_killed_upload_is_quarantined_never_committed(tmp_path: Path, kill: str) -> None:
    """close() also runs when a session dies: a killed transfer must not look finished.

    Killing only ``sftp`` lets its ``ssh`` child end the channel cleanly (EOF on stdin), the
    case that fools a close()-based check; killing the group drops the TCP connection.
    """
    payload = os.urandom(400_000)
    async with sftp_world(tmp_path) as world:
        _write(world.work, "big.edi", payload)
        argv = world.batch_argv("acme", ["put big.edi inbound/big.edi"], extra=["-l", "200"])
        with adopting_orphans() as reap:
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=world.work, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                staging = world.account("acme").mailbox / ".staging"
                await world.gateway.wait_for(
                    lambda: staging.is_dir()
                    and any(p.stat().st_size > 0 for p in staging.iterdir()),
                    timeout=20,
                )
                ssh_children = child_pids(proc.pid)
                assert ssh_children, "sftp runs ssh as its child"
                if kill == "sftp-process":
                    proc.kill()
                else:
                    kill_group(proc)
                await asyncio.wait_for(proc.wait(), 10)
                await world.gateway.wait_for(lambda: len(world.gateway.quarantined) == 1,
                                             timeout=20)
            finally:
                kill_group(proc)
                await proc.wait()
            for pid in ssh_children:
                await asyncio.to_thread(reap, pid, 10.0)
        quarantined = world.gateway.quarantined[0]
        assert quarantined.filename == "big.edi"
        assert 0 < len(quarantined.data) < len(payload)
        assert payload.startswith(quarantined.data)
        assert "incomplete" in quarantined.reason
    # Leaving the world waits until every session has settled its uploads.
    assert world.gateway.committed == []
    assert len(world.gateway.quarantined) == 1
    assert world.staged_files("acme") == []


async def test_oversize_upload_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    settings = SftpSettings(max_upload_bytes=50_000)
    async with sftp_world(tmp_path, settings=settings) as world:
        _write(world.work, "huge.edi", os.urandom(200_000))
        _write(world.work, "small.edi", ORDERS)
        run = await world.sftp("acme", ["put huge.edi inbound/huge.edi"])
        assert run.returncode != 0
        async with world.asyncssh_client("acme") as sftp:
            with pytest.raises(asyncssh.SFTPError) as refused:
                async with sftp.open("inbound/huge2.edi", "wb") as remote:
                    await remote.write(os.urandom(60_000))
            assert "maximum upload size of 50000 bytes" in refused.value.reason
        # The limit is per upload, not per session: a small file still goes through.
        run = await world.sftp("acme", ["put small.edi inbound/small.edi"])
        assert run.returncode == 0, run.stderr
        assert [c.filename for c in world.gateway.committed] == ["small.edi"]
        await world.gateway.wait_for(lambda: len(world.gateway.quarantined) == 2)
        assert {q.filename for q in world.gateway.quarantined} == {"huge.edi", "huge2.edi"}
        assert all("maximum upload size" in q.reason for q in world.gateway.quarantined)
        assert all(len(q.data) <= 50_000 for q in world.gateway.quarantined)


async def test_failed_commit_is_reported_to_the_partner_and_not_kept(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        world.gateway.fail_commits = True
        _write(world.work, "d.edi", ORDERS)
        run = await world.sftp("acme", ["put d.edi inbound/d.edi"])
        assert run.returncode != 0  # the partner knows it must send again
        assert world.gateway.committed == []
        assert world.staged_files("acme") == []


async def test_preserving_times_does_not_fail_a_finished_upload(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        _write(world.work, "d.edi", ORDERS)
        run = await world.sftp("acme", ["put -p d.edi inbound/d.edi",
                                        "put -p d.edi inbound/e.edi.filepart",
                                        "rename inbound/e.edi.filepart inbound/e.edi"])
        assert run.returncode == 0, run.stderr
        async with world.asyncssh_client("acme") as sftp:
            await sftp.utime("inbound/e.edi", (1_700_000_000, 1_700_000_000))  # after handover
            with pytest.raises(asyncssh.SFTPPermissionDenied):
                await sftp.chmod("archive", 0o777)
        assert [c.filename for c in world.gateway.committed] == ["d.edi", "e.edi"]
