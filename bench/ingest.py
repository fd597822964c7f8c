"""Ingest throughput and latency of a live gateway, against its own /healthz in the same run.

Starts ``edigate serve`` on a fresh SQLite database (or --database-url) with --workers inbox
worker processes (``inbox.workers``, default 1), then drives it from this separate process with
an aiohttp client:

The load generator is a minimal keep-alive HTTP/1.1 client (``--client aiohttp`` for aiohttp's,
which costs about as much per POST as the server and so measures itself).

1. GET /healthz, closed loop at --concurrency (64) -> the server's ceiling for a trivial route
2. durable ingest: POST /edi (a small X12 850, unique control numbers) with
   ``Prefer: respond-async``, closed loop: the answer comes once the bytes are committed; the
   workers process meanwhile, and the time until the inbox is empty gives the processing rate
3. the same at half of the measured ingest rate (open loop)        -> latency under normal load
4. POST /edi waiting for the processed answer (events stored, 997 built), closed loop and at
   half load: what a partner that waits for its outcome sees

Goal (issue 6): ingest >= 25% of the /healthz rate on SQLite; p99 < 100 ms at half load.

    python bench/ingest.py            # 10 s per phase
    python bench/ingest.py --quick    # 3 s per phase
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "edg_demo_bolt_supply_00000000000000000002"  # fixtures/partners/bolt-supply.toml


def x12_850(control: int) -> bytes:
    isa = (f"ISA*00*{'':10}*00*{'':10}*ZZ*{'BOLTSUPPLY':<15}*ZZ*{'EDIGATE':<15}*261122*1200*U*"
           f"00401*{control:09d}*0*P*>~")
    body = [f"BEG*00*SA*PO{control:07d}**20261122~", "PO1*1*100*EA*2.5**BP*PART-001~",
            "CTT*1~"]
    segments = [isa, f"GS*PO*BOLTSUPPLY*EDIGATE*20261122*1200*{control}*X*004010~",
                "ST*850*0001~", *body, f"SE*{len(body) + 2}*0001~", f"GE*1*{control}~",
                f"IEA*1*{control:09d}~"]
    return "\n".join(segments).encode() + b"\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, database_url: str | None,
                 workers: int = 1) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    env.update(EDIGATE_SERVER_DATA_DIR=str(data_dir), EDIGATE_SERVER_LISTEN=f"127.0.0.1:{port}",
               EDIGATE_LOG_LEVEL="warning", EDIGATE_JOBS_ENABLED="false",
               EDIGATE_INBOX_WORKERS=str(workers))
    if database_url:
        env["EDIGATE_DATABASE_URL"] = database_url
    cli = [sys.executable, "-m", "gateway"]
    subprocess.run([*cli, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*cli, "partners", "import", "fixtures/partners"], env=env, cwd=ROOT,
                   check=True, capture_output=True)
    log = (data_dir / "server.log").open("wb")
    proc = subprocess.Popen([*cli, "serve"], env=env, cwd=ROOT, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1):
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server did not start: {(data_dir / 'server.log').read_text()[-2000:]}")


class Counter:
    def __init__(self, start: int) -> None:
        self.value = start

    def next(self) -> int:
        self.value += 1
        return self.value


Send = Callable[[str, str, bytes | None, dict[str, str] | None], Awaitable[int]]


class LeanClient:
    """A minimal HTTP/1.1 keep-alive client (like wrk): a load generator must cost far less per
    request than the server it measures, or it measures itself. aiohttp's client costs about
    as much per POST as the gateway does; this one writes the request bytes and reads the
    answer by its Content-Length. Connections are pooled and reused."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def send(self, method: str, path: str, body: bytes | None,
                   headers: dict[str, str] | None) -> int:
        while self.idle:
            try:
                return await self._exchange(self.idle.pop(), method, path, body, headers)
            except (asyncio.IncompleteReadError, ConnectionError):
                continue  # the server closed an idle keep-alive connection: take another
        conn = await asyncio.open_connection(self.host, self.port)
        return await self._exchange(conn, method, path, body, headers)

    async def _exchange(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter],
                        method: str, path: str, body: bytes | None,
                        headers: dict[str, str] | None) -> int:
        reader, writer = conn
        body = body or b""
        head = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
                     f"Content-Length: {len(body)}\r\n{head}\r\n".encode() + body)
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except BaseException:
            writer.close()
            raise
        status = int(raw[9:12])
        length = 0
        for line in raw.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await reader.readexactly(length)
        self.idle.append(conn)
        return status

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


def aiohttp_send(session: aiohttp.ClientSession, url: str) -> Send:
    async def send(method: str, path: str, body: bytes | None,
                   headers: dict[str, str] | None) -> int:
        async with session.request(method, url + path, data=body, headers=headers) as r:
            await r.read()
            return r.status
    return send


async def closed_loop(send: Send, seconds: float, concurrency: int,
                      make) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            method, path, body, headers = make()
            started = time.perf_counter()
            if await send(method, path, body, headers) >= 400:
                errors += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies) / (time.perf_counter() - started), latencies, errors


async def open_loop(send: Send, seconds: float, rate: float,
                    make) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    tasks = []

    async def one() -> None:
        nonlocal errors
        method, path, body, headers = make()
        started = time.perf_counter()
        if await send(method, path, body, headers) >= 400:
            errors += 1
        latencies.append(time.perf_counter() - started)

    begin = time.perf_counter()
    n = 0
    while (now := time.perf_counter()) - begin < seconds:
        due = begin + n / rate
        if due > now:
            await asyncio.sleep(due - now)
        tasks.append(asyncio.create_task(one()))
        n += 1
    await asyncio.gather(*tasks)
    return n / (time.perf_counter() - begin), latencies, errors


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100)[int(p) - 1] * 1000 if len(values) > 1 \
        else values[0] * 1000


async def run(url: str, seconds: float, concurrency: int, client: str,
              say: Callable[[str], None] = lambda _: None) -> list[tuple]:
    control = Counter(int(time.time()) % 100_000_000)
    edi_headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/edi-x12"}

    def health():
        return "GET", "/healthz", None, None

    def post():
        return "POST", "/edi", x12_850(control.next()), edi_headers

    async_headers = {**edi_headers, "Prefer": "respond-async"}

    def post_async():
        return "POST", "/edi", x12_850(control.next()), async_headers

    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        lean = LeanClient(url)
        send = lean.send if client == "lean" else aiohttp_send(session, url)
        say("1/6 GET /healthz")
        await closed_loop(send, 1.0, concurrency, health)  # warm-up
        h_rate, h_lat, h_err = await closed_loop(send, seconds, concurrency, health)
        say("2/6 durable ingest, closed loop")
        a_rate, a_lat, a_err = await closed_loop(send, seconds, concurrency, post_async)
        # The next phases measure latency with an empty inbox to begin with: the workers
        # first work off what the closed loop left (their rate is a figure of its own).
        drained = await drain(session, url, say)
        processed = a_rate * seconds / (seconds + drained)
        say("3/6 durable ingest at half load")
        # Reopen the keep-alive connections the server closed while the workers drained: an
        # open loop that must first connect hundreds of times measures connection set-up.
        await closed_loop(send, 1.0, concurrency, health)
        ah_rate, ah_lat, ah_err = await open_loop(send, seconds, a_rate / 2, post_async)
        await drain(session, url, say)
        say("5/6 waiting for processing, closed loop")
        i_rate, i_lat, i_err = await closed_loop(send, seconds, concurrency, post)
        say("6/6 waiting for processing at half load")
        await closed_loop(send, 1.0, concurrency, health)
        half_rate, half_lat, half_err = await open_loop(send, seconds, i_rate / 2, post)
        await lean.close()
    return [
        ("GET /healthz (closed loop)", h_rate, pct(h_lat, 50), pct(h_lat, 99), h_err, 1.0),
        ("durable ingest: POST /edi 850, respond-async (closed loop)", a_rate, pct(a_lat, 50),
         pct(a_lat, 99), a_err, a_rate / h_rate),
        ("durable ingest at half load", ah_rate, pct(ah_lat, 50), pct(ah_lat, 99), ah_err,
         ah_rate / h_rate),
        (f"  processed by the workers (inbox empty {drained:.1f} s after the closed loop)",
         processed, float("nan"), float("nan"), 0, processed / h_rate),
        ("POST /edi 850 waiting for processing (closed loop)", i_rate, pct(i_lat, 50),
         pct(i_lat, 99), i_err, i_rate / h_rate),
        ("waiting for processing at half load", half_rate, pct(half_lat, 50),
         pct(half_lat, 99), half_err, half_rate / h_rate),
    ]


async def drain(session: aiohttp.ClientSession, url: str,
                say: Callable[[str], None] = lambda _: None, timeout: float = 1200) -> float:
    """Seconds until the inbox has nothing left to process (respond-async answers early)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        async with session.get(f"{url}/metrics") as resp:
            text = await resp.text()
        backlog = [line for line in text.splitlines()
                   if line.startswith("edigate_inbox_backlog ")]
        if backlog and float(backlog[0].split()[1]) == 0:
            return time.monotonic() - started
        if backlog:
            say(f"workers processing the inbox: {float(backlog[0].split()[1]):,.0f} left "
                f"after {time.monotonic() - started:.0f} s")
        await asyncio.sleep(0.5)
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per phase")
    parser.add_argument("--seconds", type=float, default=10.0)
    # Each durable receipt waits for an fsync; with few senders in flight the figure measures
    # the disk's latency rather than the gateway's capacity. A gateway serves many partners
    # at once: 64 concurrent senders (the same for /healthz) saturate it on this kind of box.
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--client", choices=("lean", "aiohttp"), default="lean",
                        help="load generator: a minimal keep-alive HTTP/1.1 client (default) "
                             "or aiohttp's (costs about as much per POST as the server)")
    parser.add_argument("--workers", type=int, default=1,
                        help="inbox worker processes beside the server (inbox.workers)")
    args = parser.parse_args()
    seconds = 3.0 if args.quick else args.seconds
    console = Console()
    with tempfile.TemporaryDirectory(prefix="edigate-bench-") as tmp:
        proc, url = start_server(Path(tmp), args.database_url, args.workers)
        try:
            with console.status("driving the live server…") as status:
                rows = asyncio.run(run(url, seconds, args.concurrency, args.client,
                                       lambda text: status.update(f"phase {text}"
                                                                  if text[0].isdigit()
                                                                  else text)))
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    table = Table(title=f"ingest on {'PostgreSQL' if args.database_url else 'SQLite'} "
                        f"({seconds:.0f} s per phase, concurrency {args.concurrency}, "
                        f"{args.workers} inbox worker(s), {args.client} client)")
    for col in ("phase", "req/s", "p50 ms", "p99 ms", "errors", "× /healthz rate"):
        table.add_column(col, justify="right" if col != "phase" else "left")
    for name, rate, p50, p99, errors, ratio in rows:
        table.add_row(name, f"{rate:,.0f}", "-" if p50 != p50 else f"{p50:.1f}",
                      "-" if p99 != p99 else f"{p99:.1f}", str(errors), f"{ratio:.2f}")
    console.print(table)
    ingest_ratio, half_p99 = rows[1][5], rows[2][3]
    console.print(
        f"durable ingest (respond-async): goal ingest >= 0.25 × /healthz "
        f"{'met' if ingest_ratio >= 0.25 else 'NOT met'} ({ingest_ratio:.2f}); "
        f"goal p99 < 100 ms at half load {'met' if half_p99 < 100 else 'NOT met'} "
        f"({half_p99:.1f} ms)")
    console.print(
        f"waiting for processing (for comparison, not the ingest goal: each answer includes "
        f"translating and storing events): {rows[4][5]:.2f} × /healthz, p99 at half load "
        f"{rows[5][3]:.1f} ms")

if __name__ == "__main__":
    main()
