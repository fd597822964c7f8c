"""Logins: public keys from the registry only; the session offers SFTP and nothing else."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import asyncssh
import pytest

from tests.gateway.sftp_helpers import (
    make_key,
    openssh_options,
    require_binary,
    run_process,
    sftp_world,
)

pytestmark = pytest.mark.timeout(90)


async def test_wrong_key_is_refused(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        stranger, _ = make_key(tmp_path / "keys", "stranger")
        (world.work / "x.edi").write_bytes(b"x")
        run = await world.sftp("acme", ["put x.edi inbound/x.edi"], key=stranger)
        assert run.returncode != 0
        assert "Permission denied (publickey)" in run.stderr
        # Another partner's valid key does not open this partner's mailbox either.
        run = await world.sftp("acme", ["ls"], key=world.account("globex").key)
        assert "Permission denied (publickey)" in run.stderr
        assert world.gateway.committed == []


async def test_unknown_user_is_refused(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        argv = [require_binary("sftp"), "-b", "/dev/null", "-P", str(world.port),
                *openssh_options(acme.key, world.port), "nobody@127.0.0.1"]
        run = await run_process(argv, world.work)
        assert run.returncode != 0
        assert "Permission denied (publickey)" in run.stderr


async def test_password_and_keyboard_interactive_are_not_offered(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        username = world.account("acme").partner.username
        with pytest.raises(asyncssh.PermissionDenied):
            await asyncssh.connect(
                "127.0.0.1", world.port, username=username, password="secret",
                client_keys=None, known_hosts=None, config=None, agent_path=None,
                preferred_auth="password,keyboard-interactive", connect_timeout=10,
            )
        argv = ["ssh", "-p", str(world.port), *openssh_options(world.account("acme").key,
                                                               world.port),
                "-o", "PubkeyAuthentication=no",
                "-o", "PreferredAuthentications=password,keyboard-interactive",
                f"{username}@127.0.0.1", "true"]
        run = await run_process([require_binary("ssh"), *argv[1:]], world.work)
        assert run.returncode == 255
        assert "Permission denied (publickey)" in run.stderr  # the only method offered


async def test_key_rotation_takes_effect_without_restart(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        new_key, new_public = make_key(tmp_path / "keys", "acme-2027")
        assert (await world.sftp("acme", ["ls"], key=new_key)).returncode != 0
        # Overlap window: both keys are valid.
        both = dataclasses.replace(acme.partner, authorized_keys=(acme.public_key, new_public))
        world.gateway.partners[acme.partner.username] = both
        assert (await world.sftp("acme", ["ls"], key=new_key)).returncode == 0
        assert (await world.sftp("acme", ["ls"])).returncode == 0
        # Old key retired.
        world.gateway.partners[acme.partner.username] = dataclasses.replace(
            acme.partner, authorized_keys=(new_public,))
        assert (await world.sftp("acme", ["ls"], key=new_key)).returncode == 0
        run = await world.sftp("acme", ["ls"])
        assert "Permission denied (publickey)" in run.stderr


async def test_openssh_shell_and_exec_are_refused(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        base = [require_binary("ssh"), "-p", str(world.port),
                *openssh_options(acme.key, world.port), f"{acme.partner.username}@127.0.0.1"]
        run = await run_process([*base, "echo", "pwned"], world.work)
        assert (run.returncode, run.stdout) == (255, "")
        assert "exec request failed" in run.stderr
        run = await run_process([*base[:1], "-T", *base[1:]], world.work)  # shell, no tty
        assert run.returncode == 255
        assert "shell request failed" in run.stderr
        run = await run_process([*base[:1], "-s", *base[1:], "netconf"], world.work)
        assert run.returncode == 255
        assert "subsystem request failed" in run.stderr


async def test_exec_and_port_forwarding_refused_for_asyncssh_client(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        async with asyncssh.connect(
            "127.0.0.1", world.port, username=acme.partner.username,
            client_keys=[str(acme.key)], known_hosts=None, config=None, agent_path=None,
            connect_timeout=10,
        ) as conn:
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.run("id", check=False)
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.open_connection("127.0.0.1", world.port)
            with pytest.raises(asyncssh.ChannelListenError):
                await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 9)
            # The same authenticated connection still serves SFTP.
            async with conn.start_sftp_client() as sftp:
                assert sorted(await sftp.listdir("/")) == ["archive", "inbound", "outbound"]


async def test_key_options_pin_a_key_to_source_addresses(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        username = acme.partner.username
        world.gateway.partners[username] = dataclasses.replace(
            acme.partner, authorized_keys=(f'from="10.9.9.9" {acme.public_key}',))
        run = await world.sftp("acme", ["ls"])
        assert "Permission denied (publickey)" in run.stderr
        world.gateway.partners[username] = dataclasses.replace(
            acme.partner, authorized_keys=(f'from="127.0.0.1" {acme.public_key}',))
        assert (await world.sftp("acme", ["ls"])).returncode == 0


async def test_a_broken_key_line_does_not_lock_the_partner_out(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        acme = world.account("acme")
        world.gateway.partners[acme.partner.username] = dataclasses.replace(
            acme.partner, authorized_keys=("ssh-ed25519 not-base64!!", acme.public_key))
        assert (await world.sftp("acme", ["ls"])).returncode == 0
        world.gateway.partners[acme.partner.username] = dataclasses.replace(
            acme.partner, authorized_keys=("ssh-ed25519 not-base64!!",))
        run = await world.sftp("acme", ["ls"])
        assert "Permission denied (publickey)" in run.stderr


async def test_registry_outage_refuses_the_login_cleanly(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        def broken_lookup(username: str) -> None:
            raise RuntimeError("registry unavailable")

        world.gateway.partner_for_username = broken_lookup  # type: ignore[method-assign]
        run = await world.sftp("acme", ["ls"])
        assert "Permission denied (publickey)" in run.stderr
        world.gateway.partner_for_username = world.gateway.partners.get  # type: ignore[method-assign]
        assert (await world.sftp("acme", ["ls"])).returncode == 0  # server still serving


async def test_partner_lookup_may_be_a_coroutine(tmp_path: Path) -> None:
    async with sftp_world(tmp_path) as world:
        partners = dict(world.gateway.partners)
        looked_up: list[str] = []

        async def lookup(username: str) -> object:
            looked_up.append(username)
            return partners.get(username)

        world.gateway.partner_for_username = lookup  # type: ignore[method-assign,assignment]
        assert (await world.sftp("acme", ["ls"])).returncode == 0
        assert looked_up == [world.account("acme").partner.username]
