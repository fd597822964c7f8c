"""Client mode (partners hosting their own server), proven against our own server."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from gateway.channels.sftp import (
    RemoteSftp,
    RemoteSftpError,
    place_outbound,
    poll_remote,
    push_remote,
)
from tests.gateway.sftp_helpers import make_key, sftp_world

pytestmark = pytest.mark.timeout(90)


class Inbox:
    """Records commits; optionally fails on one file name."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.files: list[tuple[str, bytes]] = []
        self.fail_on = fail_on

    async def commit(self, filename: str, data_path: Path) -> str:
        if filename == self.fail_on:
            raise RuntimeError("inbox unavailable")
        self.files.append((filename, data_path.read_bytes()))
        return f"ix-{len(self.files)}"


async def test_poll_downloads_commits_then_deletes(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        await place_outbound(acme.partner, "b.edi", b"BBB")
        await place_outbound(acme.partner, "a.edi", b"A" * 300_000)
        await place_outbound(acme.partner, "c.edi.part", b"still uploading")
        inbox = Inbox()
        work = tmp_path / "poll-work"
        work.mkdir()
        polled = await poll_remote(world.remote("acme"), "/outbound", commit=inbox.commit,
                                   work_dir=work)
        assert [(p.filename, p.size, p.interchange_id) for p in polled] == [
            ("a.edi", 300_000, "ix-1"), ("b.edi", 3, "ix-2")]
        assert inbox.files == [("a.edi", b"A" * 300_000), ("b.edi", b"BBB")]
        assert list(work.iterdir()) == []  # temporary downloads removed
        # Remote delete on our server = pick-up: archived and reported.
        assert sorted(world.gateway.picked_up) == [("partner-acme", "a.edi"),
                                                  ("partner-acme", "b.edi")]
        assert sorted(p.name for p in (acme.mailbox / "outbound").iterdir()) == ["c.edi.part"]
        assert await poll_remote(world.remote("acme"), "/outbound", commit=inbox.commit) == []


async def test_poll_can_move_instead_of_delete(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        await place_outbound(acme.partner, "x.edi", b"X")
        inbox = Inbox()
        polled = await poll_remote(world.remote("acme"), "outbound", commit=inbox.commit,
                                   after="move:archive")
        assert [p.filename for p in polled] == ["x.edi"]
        assert (acme.mailbox / "archive" / "x.edi").read_bytes() == b"X"
        assert world.gateway.picked_up == [("partner-acme", "x.edi")]
        with pytest.raises(ValueError):
            await poll_remote(world.remote("acme"), "outbound", commit=inbox.commit,
                              after="shred")


async def test_failed_commit_leaves_the_remote_file_for_the_next_poll(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        await place_outbound(acme.partner, "a.edi", b"A")
        await place_outbound(acme.partner, "b.edi", b"B")
        failing = Inbox(fail_on="b.edi")
        with pytest.raises(RuntimeError):
            await poll_remote(world.remote("acme"), "outbound", commit=failing.commit)
        assert failing.files == [("a.edi", b"A")]
        assert (acme.mailbox / "outbound" / "b.edi").exists()  # not deleted: not committed
        healthy = Inbox()
        polled = await poll_remote(world.remote("acme"), "outbound", commit=healthy.commit)
        assert [p.filename for p in polled] == ["b.edi"]


async def test_failed_remote_delete_is_explained_and_next_poll_fetches_again(
    tmp_path: Path,
) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        (acme.mailbox / "archive").mkdir(parents=True, exist_ok=True)
        (acme.mailbox / "archive" / "keep.edi").write_bytes(b"K")
        inbox = Inbox()
        # /archive is read-only for partners: commit succeeds, the delete is refused.
        with pytest.raises(RemoteSftpError, match="committed as ix-1 but could not be deleted"):
            await poll_remote(world.remote("acme"), "archive", commit=inbox.commit)
        with pytest.raises(RemoteSftpError):
            await poll_remote(world.remote("acme"), "archive", commit=inbox.commit)
        # Fetched twice: the gateway's inbox de-duplicates by content.
        assert inbox.files == [("keep.edi", b"K"), ("keep.edi", b"K")]


async def test_push_uploads_via_temporary_name_and_rename(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        data = b"ISA*00*" + b"x" * 600_000 + b"~IEA*1*000000001~"
        final = await push_remote(world.remote("acme"), "/inbound", "po-850.x12", data)
        assert final == "/inbound/po-850.x12"
        assert [(c.filename, c.data) for c in world.gateway.committed] == [("po-850.x12", data)]
        assert world.gateway.quarantined == []
        with pytest.raises(RemoteSftpError, match="read-only"):
            await push_remote(world.remote("acme"), "/outbound", "no.edi", b"x")
        with pytest.raises(ValueError):
            await push_remote(world.remote("acme"), "/inbound", "../x", b"x")


async def test_client_mode_verifies_the_servers_host_key(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        _, impostor = make_key(tmp_path / "keys", "impostor-host")
        wrong = dataclasses.replace(world.remote("acme"), host_keys=(impostor,))
        inbox = Inbox()
        with pytest.raises(RemoteSftpError) as untrusted:
            await poll_remote(wrong, "outbound", commit=inbox.commit)
        assert "not trusted" in str(untrusted.value)
        unset = dataclasses.replace(world.remote("acme"), host_keys=())
        with pytest.raises(RemoteSftpError, match="no host key"):
            await push_remote(unset, "inbound", "x.edi", b"x")
        assert world.gateway.committed == [] and inbox.files == []


async def test_a_silent_server_times_out_instead_of_hanging(tmp_path: Path) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accept TCP, never speak SSH
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _, host_key = make_key(tmp_path / "keys", "host")
    key, _ = make_key(tmp_path / "keys", "client")
    remote = RemoteSftp("127.0.0.1", "acme", (key,), (host_key,), port=port,
                        connect_timeout_seconds=0.5)
    inbox = Inbox()
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(RemoteSftpError):
            await poll_remote(remote, "outbound", commit=inbox.commit)
        assert asyncio.get_running_loop().time() - started < 5
    finally:
        server.close()
        await server.wait_closed()


async def test_a_stalled_step_times_out_and_keeps_the_file(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        await place_outbound(acme.partner, "x.edi", b"X")

        async def slow_pick_up(partner: object, filename: str) -> None:
            await asyncio.sleep(1.5)

        world.gateway.outbound_picked_up = slow_pick_up  # type: ignore[method-assign,assignment]
        remote = dataclasses.replace(world.remote("acme"), step_timeout_seconds=0.3)
        inbox = Inbox()
        with pytest.raises(RemoteSftpError, match=r"timed out after 0\.3s"):
            await poll_remote(remote, "outbound", commit=inbox.commit)
        assert inbox.files == [("x.edi", b"X")]  # committed; the next poll may fetch it again
