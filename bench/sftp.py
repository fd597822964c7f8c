"""SFTP upload throughput: edigate's mailbox server vs a plain asyncssh SFTPServer (same run).

Both are driven by the OpenSSH `sftp` client over loopback. The baseline writes straight into
a chroot with asyncssh's default (blocking) file I/O and does nothing else; edigate stages,
writes off the loop, fsyncs, commits (hashing the file like an inbox would) and cleans up.
"Max loop stall" is the worst lateness of a 5 ms ticker running on the server's event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import tempfile
import time
from pathlib import Path

import asyncssh
from rich.console import Console
from rich.table import Table

from gateway.channels.sftp import SftpPartner, start_sftp_server


class Gateway:
    def __init__(self, partner: SftpPartner) -> None:
        self.partner = partner
        self.count = 0

    def partner_for_username(self, username: str) -> SftpPartner | None:
        return self.partner if username == self.partner.username else None

    async def commit_upload(self, partner, filename, data_path) -> str:
        digest = await asyncio.to_thread(lambda: hashlib.sha256(data_path.read_bytes()).hexdigest())
        self.count += 1
        return digest

    async def quarantine_upload(self, partner, filename, data_path, reason) -> None:
        raise AssertionError(reason)

    async def outbound_picked_up(self, partner, filename) -> None:
        pass


class Ticker:
    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, loop.time() - start - 0.005)

    def __enter__(self) -> Ticker:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def run_sftp(work: Path, key: Path, port: int, user: str, commands: list[str]) -> float:
    batch = work / "batch.txt"
    batch.write_text("\n".join(commands) + "\n")
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        "sftp", "-b", str(batch), "-P", str(port), "-F", "/dev/null", "-i", str(key),
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
        "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
        f"{user}@127.0.0.1", cwd=work, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 600)
    if proc.returncode:
        raise RuntimeError(err.decode())
    return time.perf_counter() - start


async def main(quick: bool) -> None:
    small_count, big_mb = (30, 10) if quick else (200, 64)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        work = root / "work"
        work.mkdir()
        host = asyncssh.generate_private_key("ssh-ed25519")
        host.write_private_key(str(root / "host"))
        client = asyncssh.generate_private_key("ssh-ed25519")
        client.write_private_key(str(root / "client"))
        os.chmod(root / "client", 0o600)
        public = client.export_public_key().decode()
        for i in range(small_count):
            (work / f"s{i}.edi").write_bytes(os.urandom(10_000))
        (work / "big.bin").write_bytes(os.urandom(big_mb * 1024 * 1024))
        small_cmds = [f"put s{i}.edi inbound/s{i}.edi" for i in range(small_count)]
        big_cmds = ["put big.bin inbound/big.bin"]

        # Baseline: plain asyncssh SFTP server, chroot, default blocking file I/O.
        base_root = root / "baseline"
        (base_root / "inbound").mkdir(parents=True)
        acceptor = await asyncssh.listen(
            "127.0.0.1", 0, server_host_keys=[str(root / "host")],
            authorized_client_keys=asyncssh.import_authorized_keys(public),
            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(base_root)))
        results: dict[str, dict[str, float]] = {}
        try:
            with Ticker() as t_small:
                s = await run_sftp(work, root / "client", acceptor.get_port(), "x", small_cmds)
            with Ticker() as t_big:
                b = await run_sftp(work, root / "client", acceptor.get_port(), "x", big_cmds)
            results["asyncssh SFTPServer (baseline)"] = {
                "files/s": small_count / s, "MB/s": big_mb / b,
                "stall": max(t_small.worst, t_big.worst)}
        finally:
            acceptor.close()
            await acceptor.wait_closed()

        partner = SftpPartner("bench", "bench", (public,), root / "edigate")
        gateway = Gateway(partner)
        server = await start_sftp_server("127.0.0.1", 0, [root / "host"], gateway)
        try:
            with Ticker() as t_small:
                s = await run_sftp(work, root / "client", server.port, "bench", small_cmds)
            with Ticker() as t_big:
                b = await run_sftp(work, root / "client", server.port, "bench", big_cmds)
            assert gateway.count == small_count + 1
            results["edigate mailbox (stage+fsync+commit)"] = {
                "files/s": small_count / s, "MB/s": big_mb / b,
                "stall": max(t_small.worst, t_big.worst)}
        finally:
            server.close()
            await server.wait_closed()

    base = results["asyncssh SFTPServer (baseline)"]
    table = Table(title=f"SFTP upload via OpenSSH sftp: {small_count} x 10 KB, 1 x {big_mb} MB")
    for column in ("server", "files/s (10 KB)", "ratio", f"MB/s ({big_mb} MB)", "ratio",
                   "max loop stall ms", "ratio"):
        table.add_column(column, justify="left" if column == "server" else "right")
    for name, r in results.items():
        table.add_row(name, f"{r['files/s']:.1f}", f"{r['files/s'] / base['files/s']:.2f}",
                      f"{r['MB/s']:.1f}", f"{r['MB/s'] / base['MB/s']:.2f}",
                      f"{r['stall'] * 1000:.1f}", f"{r['stall'] / base['stall']:.2f}")
    Console(width=150).print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    asyncio.run(main(parser.parse_args().quick))
