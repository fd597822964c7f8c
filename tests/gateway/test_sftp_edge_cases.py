"""Uploads that are unusual but legal (or hostile): concurrency, holes, resume, shutdown."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import asyncssh
import pytest

from gateway.channels.sftp import SftpSettings, ensure_host_key, start_sftp_server
from gateway.channels.sftp.uploads import MAX_EXTENTS
from tests.gateway.sftp_helpers import RecordingGateway, sftp_world

pytestmark = pytest.mark.timeout(90)


async def test_same_name_from_two_sessions_is_refused_not_mixed(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        async with world.asyncssh_client("acme") as first, world.asyncssh_client("acme") as second:
            async with first.open("inbound/orders.edi", "wb") as upload:
                await upload.write(b"FIRST-PART-")
                with pytest.raises(asyncssh.SFTPFailure) as refused:
                    await second.open("inbound/orders.edi", "wb")
                assert "being uploaded by another transfer" in refused.value.reason
                await upload.write(b"REST", 11)
        assert [(c.filename, c.data) for c in world.gateway.committed] == [
            ("orders.edi", b"FIRST-PART-REST")]


async def test_upload_with_a_hole_is_quarantined(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        async with world.asyncssh_client("acme") as sftp:
            upload = await sftp.open("inbound/sparse.edi", "wb")
            await upload.write(b"tail", 1000)  # e.g. a resume into a file we never had
            with pytest.raises(asyncssh.SFTPFailure) as refused:
                await upload.close()
            assert "bytes 0 to 999 missing" in refused.value.reason
        assert world.gateway.committed == []
        assert [q.filename for q in world.gateway.quarantined] == ["sparse.edi"]


async def test_resume_and_append_within_a_session_then_rename(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        async with world.asyncssh_client("acme") as sftp:
            async with sftp.open("inbound/big.edi.part", "wb") as upload:
                await upload.write(b"0123456789")
            async with sftp.open("inbound/big.edi.part", "ab") as upload:
                await upload.write(b"ABC", 0)  # offset ignored in append mode
            assert (await sftp.stat("inbound/big.edi.part")).size == 13
            await sftp.rename("inbound/big.edi.part", "inbound/big.edi")
        assert [(c.filename, c.data) for c in world.gateway.committed] == [
            ("big.edi", b"0123456789ABC")]


async def test_openssh_reput_resumes_a_temporary_upload(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        full = os.urandom(120_000)
        (world.work / "head.bin").write_bytes(full[:50_000])
        (world.work / "full.bin").write_bytes(full)
        run = await world.sftp("acme", [
            "put head.bin inbound/doc.bin.part",
            "reput full.bin inbound/doc.bin.part",
            "rename inbound/doc.bin.part inbound/doc.bin",
        ])
        assert run.returncode == 0, run.stderr
        assert [(c.filename, c.data) for c in world.gateway.committed] == [("doc.bin", full)]


async def test_open_file_limit_per_session(tmp_path: Path) -> None:
    settings = SftpSettings(max_open_files_per_session=3)
    async with sftp_world(tmp_path, settings=settings) as world:
        async with world.asyncssh_client("acme") as sftp:
            handles = [await sftp.open(f"inbound/f{i}.tmp", "wb") for i in range(3)]
            with pytest.raises(asyncssh.SFTPFailure, match="too many open files"):
                await sftp.open("inbound/f3.tmp", "wb")
            await handles[0].close()
            handles[0] = await sftp.open("inbound/f3.tmp", "wb")  # a slot was freed
            for handle in handles:
                await handle.close()


async def test_server_shutdown_quarantines_open_uploads(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        async with world.asyncssh_client("acme") as sftp:
            upload = await sftp.open("inbound/inflight.edi", "wb")
            await upload.write(b"half of it")
            world.server.close()
            await asyncio.wait_for(world.server.wait_closed(), 10)
            # wait_closed() returns only after the session settled its uploads.
            assert [(q.filename, q.data) for q in world.gateway.quarantined] == [
                ("inflight.edi", b"half of it")]
        assert world.gateway.committed == []


async def test_ensure_host_key_creates_a_private_key_once(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "ssh_host_ed25519_key"
    public = ensure_host_key(path)
    assert public.startswith("ssh-ed25519 ")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_host_key(path) == public  # existing key kept
    gateway = RecordingGateway()
    server = await start_sftp_server("127.0.0.1", 0, [path], gateway)
    pinned = ([asyncssh.import_public_key(public)], [], [])
    try:
        # The host key verifies against the pinned public key; only the login is refused.
        with pytest.raises(asyncssh.PermissionDenied):
            await asyncssh.connect(
                "127.0.0.1", server.port, username="nobody", known_hosts=pinned, config=None,
                agent_path=None, client_keys=None, connect_timeout=10,
            )
    finally:
        server.close()
        await server.wait_closed()


async def test_scattered_writes_are_refused_before_they_cost_much(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        async with world.asyncssh_client("acme") as sftp:
            upload = await sftp.open("inbound/scatter.edi", "wb")
            with pytest.raises(asyncssh.SFTPFailure) as refused:
                for piece in range(MAX_EXTENTS + 1):
                    await upload.write(b"x", piece * 2)
            assert "separate pieces" in refused.value.reason
            with pytest.raises(asyncssh.SFTPFailure):
                await upload.close()
        assert world.gateway.committed == []
        assert [q.filename for q in world.gateway.quarantined] == ["scatter.edi"]
