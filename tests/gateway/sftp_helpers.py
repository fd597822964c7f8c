"""Helpers for the SFTP tests: keys, a recording gateway, a running server, the OpenSSH client.

Every server listens on 127.0.0.1 with an ephemeral port; every client process runs in its own
process group with a bounded timeout and is killed (group-wide) if it outlives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from gateway.channels.sftp import (
    RemoteSftp,
    SftpPartner,
    SftpServerHandle,
    SftpSettings,
    start_sftp_server,
)

CLIENT_TIMEOUT = 30.0
_PR_SET_CHILD_SUBREAPER = 36


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"`{name}` not found: install the openssh-client package")
    return path


def make_key(directory: Path, name: str) -> tuple[Path, str]:
    """A fresh ed25519 key pair; returns the private key path (mode 600) and the public line."""
    directory.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = directory / name
    key.write_private_key(str(path))
    os.chmod(path, 0o600)  # asyncssh writes 0644, which OpenSSH refuses
    public = key.export_public_key().decode().strip()
    return path, public


@dataclass(frozen=True)
class Committed:
    partner_id: str
    filename: str
    data: bytes
    interchange_id: str


@dataclass(frozen=True)
class Quarantined:
    partner_id: str
    filename: str
    data: bytes
    reason: str


@dataclass
class RecordingGateway:
    """A stand-in for the gateway core that records every call the SFTP channel makes."""

    partners: dict[str, SftpPartner] = field(default_factory=dict)
    committed: list[Committed] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    picked_up: list[tuple[str, str]] = field(default_factory=list)
    fail_commits: bool = False

    def partner_for_username(self, username: str) -> SftpPartner | None:
        return self.partners.get(username)

    async def commit_upload(self, partner: SftpPartner, filename: str, data_path: Path) -> str:
        if self.fail_commits:
            raise RuntimeError("database is unavailable")
        data = await asyncio.to_thread(data_path.read_bytes)
        interchange_id = f"ix-{len(self.committed) + 1}"
        self.committed.append(Committed(partner.partner_id, filename, data, interchange_id))
        return interchange_id

    async def quarantine_upload(
        self, partner: SftpPartner, filename: str, data_path: Path, reason: str
    ) -> None:
        data = await asyncio.to_thread(data_path.read_bytes)
        self.quarantined.append(Quarantined(partner.partner_id, filename, data, reason))

    async def outbound_picked_up(self, partner: SftpPartner, filename: str) -> None:
        self.picked_up.append((partner.partner_id, filename))

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"condition not met within {timeout}s: committed={self.committed} "
                    f"quarantined={self.quarantined} picked_up={self.picked_up}"
                )
            await asyncio.sleep(0.02)


@dataclass(frozen=True)
class ClientRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout without the batch commands ``sftp`` echoes."""
        return "\n".join(line for line in self.stdout.splitlines()
                         if not line.startswith("sftp> "))


def openssh_options(key: Path, port: int) -> list[str]:
    return [
        "-F", "/dev/null",
        "-i", str(key),
        "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null",
        "-o", "BatchMode=yes",
        "-o", "IdentitiesOnly=yes",
        "-o", "IdentityAgent=none",
        "-o", "LogLevel=ERROR",
        "-o", "ConnectTimeout=10",
    ]


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    children = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            children.append(int(stat_file.parent.name))
    return children


@contextlib.contextmanager
def adopting_orphans() -> Iterator[Callable[[int, float], None]]:
    """Make this process the reaper of orphaned descendants while the block runs.

    Killing ``sftp`` alone orphans its ``ssh`` child; as a child subreaper we inherit it and
    can reap it ourselves instead of leaving a zombie for init. Yields ``reap(pid, timeout)``.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")

    def reap(pid: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            except ChildProcessError:
                return  # already reaped (or never ours)
            time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)

    try:
        yield reap
    finally:
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


async def run_process(argv: Sequence[str], cwd: Path, timeout: float = CLIENT_TIMEOUT) -> ClientRun:
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, start_new_session=True,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        kill_group(proc)
        await proc.wait()
    return ClientRun(proc.returncode or 0, out.decode(errors="replace"),
                     err.decode(errors="replace"))


@dataclass(frozen=True)
class PartnerAccount:
    partner: SftpPartner
    key: Path
    public_key: str

    @property
    def mailbox(self) -> Path:
        return self.partner.mailbox_root


@dataclass
class SftpWorld:
    """A running server, its recording gateway, partners with keys, and a scratch folder."""

    work: Path
    gateway: RecordingGateway
    server: SftpServerHandle
    host_public_key: str
    accounts: dict[str, PartnerAccount]

    @property
    def port(self) -> int:
        return self.server.port

    def account(self, name: str) -> PartnerAccount:
        return self.accounts[name]

    def batch_argv(self, name: str, commands: Sequence[str], *, key: Path | None = None,
                   extra: Sequence[str] = ()) -> list[str]:
        batch = self.work / f"batch-{uuid.uuid4().hex}.txt"
        batch.write_text("\n".join(commands) + "\n")
        account = self.accounts[name]
        return [require_binary("sftp"), "-b", str(batch), "-P", str(self.port), *extra,
                *openssh_options(key or account.key, self.port),
                f"{account.partner.username}@127.0.0.1"]

    async def sftp(self, name: str, commands: Sequence[str], *, key: Path | None = None,
                   extra: Sequence[str] = ()) -> ClientRun:
        """Run an OpenSSH ``sftp -b`` batch as partner ``name`` (cwd = the scratch folder)."""
        return await run_process(self.batch_argv(name, commands, key=key, extra=extra), self.work)

    def remote(self, name: str) -> RemoteSftp:
        account = self.accounts[name]
        return RemoteSftp(host="127.0.0.1", port=self.port, username=account.partner.username,
                          client_keys=(account.key,), host_keys=(self.host_public_key,),
                          connect_timeout_seconds=10)

    @contextlib.asynccontextmanager
    async def asyncssh_client(self, name: str) -> AsyncIterator[asyncssh.SFTPClient]:
        account = self.accounts[name]
        async with asyncssh.connect(
            "127.0.0.1", self.port, username=account.partner.username,
            client_keys=[str(account.key)], known_hosts=None, config=None, agent_path=None,
            connect_timeout=10,
        ) as conn, conn.start_sftp_client() as sftp:
            yield sftp

    def staged_files(self, name: str) -> list[Path]:
        return sorted((self.accounts[name].mailbox / ".staging").iterdir())


@contextlib.asynccontextmanager
async def sftp_world(
    tmp_path: Path,
    *,
    partners: Sequence[str] = ("acme", "globex"),
    settings: SftpSettings | None = None,
) -> AsyncIterator[SftpWorld]:
    work = tmp_path / "work"
    work.mkdir()
    host_key, host_public = make_key(tmp_path / "host", "ssh_host_ed25519_key")
    gateway = RecordingGateway()
    accounts: dict[str, PartnerAccount] = {}
    for name in partners:
        key, public = make_key(tmp_path / "keys", name)
        partner = SftpPartner(
            partner_id=f"partner-{name}", username=f"{name}-edi", authorized_keys=(public,),
            mailbox_root=tmp_path / "mailboxes" / name,
        )
        gateway.partners[partner.username] = partner
        accounts[name] = PartnerAccount(partner, key, public)
    server = await start_sftp_server("127.0.0.1", 0, [host_key], gateway, settings=settings)
    try:
        yield SftpWorld(work, gateway, server, host_public, accounts)
    finally:
        server.close()
        await asyncio.wait_for(server.wait_closed(), 10)
