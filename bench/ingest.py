"""Ingest and processing capacity of a live gateway, against its own /healthz in the same run.

Starts ``edigate serve`` with --workers inbox worker processes (default 2) on a fresh SQLite
database, or with --postgres on a scratch PostgreSQL database made for the run (dropped after),
then drives it from this separate process with a minimal keep-alive HTTP/1.1 client (like wrk;
``--client aiohttp`` for aiohttp's, which costs about as much per POST as the server).

Every figure is a ratio to a baseline measured in the same round, and the rounds interleave
them (>= 5 rounds, or as many as --budget allows; the count is printed). Each round:

1. GET /healthz, closed loop at --concurrency (64)             -> the baseline: the server's
   ceiling for a trivial route
2. a burst of durable receipts: POST /edi (a 3 KB X12 850, one message, unique control
   numbers) with ``Prefer: respond-async``, closed loop for --seconds: each answer comes once
   the bytes are committed; the workers process meanwhile
3. the backlog the burst left: seconds until the inbox is empty; the sustained processing rate
   end to end (received -> events + acknowledgment queued) is what the burst received over the
   burst plus the drain, and its ratio to the receipt rate
4. durable receipts at half of the round's receipt rate (open loop)   -> p99 at half load

Then once: a 100 MB interchange (one ISA, 1000 messages) through ``POST /edi``, with the peak
resident memory of the server and its workers (sampled every 50 ms from /proc, summed) until
it is processed. The CPU seconds of the server and the workers are read beside the wall time.

Goals (issue 25): receipts >= 0.25 x /healthz with p99 < 100 ms at half load; processed >=
0.25 x the receipt rate with 2 workers; the backlog of a 10 s burst drained within 10 s; peak
RSS of a 100 MB POST < 300 MB. A run fails (exit 1) on an impossible figure: receipts faster
than /healthz, more processed than received, a phase with no requests.

    python bench/ingest.py                      # SQLite, 5 rounds of 10 s phases
    python bench/ingest.py --postgres           # PostgreSQL (a scratch database on test's server)
    python bench/ingest.py --seconds 3 --rounds 5 --no-big    # quicker
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
import threading
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
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def x12_850(control: int, lines: int = 80, messages: int = 1) -> bytes:
    """An X12 850 interchange: ``messages`` orders of ``lines`` lines (80: about 3 KB)."""
    isa = (f"ISA*00*{'':10}*00*{'':10}*ZZ*{'BOLTSUPPLY':<15}*ZZ*{'EDIGATE':<15}*261122*1200*U*"
           f"00401*{control:09d}*0*P*>~")
    out = [isa, f"GS*PO*BOLTSUPPLY*EDIGATE*20261122*1200*{control}*X*004010~"]
    for m in range(1, messages + 1):
        body = [f"BEG*00*SA*PO{control:07d}{m:05d}**20261122~",
                *(f"PO1*{n}*100*EA*2.5**BP*PART-{n % 997:03d}~" for n in range(1, lines + 1)),
                f"CTT*{lines}~"]
        out += [f"ST*850*{m:04d}~", *body, f"SE*{len(body) + 2}*{m:04d}~"]
    out += [f"GE*{messages}*{control}~", f"IEA*1*{control:09d}~"]
    return "\n".join(out).encode() + b"\n"


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
               EDIGATE_INBOX_WORKERS=str(workers), EDIGATE_SERVER_MAX_BODY="256MiB")
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


# -- the server's processes: CPU seconds and resident memory, from /proc ---------------------

def family(pid: int) -> list[int]:
    """The server and its worker processes (its children, recursively)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


def rss_bytes(pids: list[int], field: str = "Rss:") -> int:
    """Summed resident memory; ``Pss:`` counts each shared page once across the processes
    (the server and its workers share the interpreter's and libraries' pages)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith(field):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


class PeakRss:
    """Samples the summed RSS of the server and its workers every 50 ms while it runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.peak_pss, self._stop = pid, 0, 0, threading.Event()
        self.idle = self.idle_pss = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        pids = family(self.pid)
        self.peak = max(self.peak, rss_bytes(pids))
        self.peak_pss = max(self.peak_pss, rss_bytes(pids, "Pss:"))

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.sample()

    def __enter__(self) -> PeakRss:
        pids = family(self.pid)
        self.idle, self.idle_pss = rss_bytes(pids), rss_bytes(pids, "Pss:")
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


# -- one round -------------------------------------------------------------------------------

async def backlog(session: aiohttp.ClientSession, url: str) -> float:
    async with session.get(f"{url}/metrics") as resp:
        text = await resp.text()
    for line in text.splitlines():
        if line.startswith("edigate_inbox_backlog "):
            return float(line.split()[1])
    return float("nan")


async def drain(session: aiohttp.ClientSession, url: str, say: Callable[[str], None],
                timeout: float) -> float:
    """Seconds until the inbox has nothing left to process (nan: not within ``timeout``)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        left = await backlog(session, url)
        if left == 0:
            return time.monotonic() - started
        say(f"workers processing the backlog: {left:,.0f} left after "
            f"{time.monotonic() - started:.0f} s")
        await asyncio.sleep(0.25)
    return float("nan")


async def one_round(number: int, url: str, pid: int, send: Send,
                    session: aiohttp.ClientSession, seconds: float, concurrency: int,
                    control: Counter, say: Callable[[str], None]) -> dict[str, float]:
    edi = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/edi-x12",
           "Prefer": "respond-async"}

    def health():
        return "GET", "/healthz", None, None

    def post():
        return "POST", "/edi", x12_850(control.next()), edi

    say(f"round {number}: GET /healthz (baseline)")
    await closed_loop(send, 1.0, concurrency, health)  # warm-up; reopens keep-alives
    h_rate, _, h_err = await closed_loop(send, seconds, concurrency, health)
    say(f"round {number}: burst of durable receipts")
    cpu0, t0 = cpu_seconds(family(pid)), time.perf_counter()
    r_rate, r_lat, r_err = await closed_loop(send, seconds, concurrency, post)
    burst = time.perf_counter() - t0
    received = r_rate * burst
    drained = await drain(session, url, lambda t: say(f"round {number}: {t}"),
                          timeout=max(120.0, 30 * seconds))
    cpu = cpu_seconds(family(pid)) - cpu0
    say(f"round {number}: durable receipts at half load")
    await closed_loop(send, 1.0, concurrency, health)
    half_rate, half_lat, half_err = await open_loop(send, seconds, r_rate / 2, post)
    await drain(session, url, lambda t: say(f"round {number}: {t}"),
                timeout=max(120.0, 30 * seconds))
    processed = received / (burst + drained)
    return {"healthz": h_rate, "receipts": r_rate, "receipts_ratio": r_rate / h_rate,
            "receipts_p99": pct(r_lat, 99), "half_rate": half_rate,
            "half_p50": pct(half_lat, 50), "half_p99": pct(half_lat, 99),
            "received": received, "drain_s": drained, "processed": processed,
            "processed_ratio": processed / r_rate, "cpu_ms_per_doc": cpu / received * 1000,
            "errors": h_err + r_err + half_err}


async def big_post(url: str, pid: int, body: bytes, say: Callable[[str], None],
                   timeout: float) -> tuple[float, float, PeakRss, float]:
    """POST one large interchange; (seconds to commit, seconds until processed, the memory
    of server + workers, CPU seconds)."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/edi-x12",
               "Prefer": "respond-async"}
    cpu0 = cpu_seconds(family(pid))
    timeout_cfg = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(timeout=timeout_cfg) as session:
        with PeakRss(pid) as peak:
            started = time.monotonic()
            say(f"POST /edi of {len(body) / 1e6:.0f} MB")

            async def chunks():
                for at in range(0, len(body), 1 << 20):
                    yield body[at:at + (1 << 20)]

            async with session.post(f"{url}/edi", data=chunks(), headers={
                    **headers, "Content-Length": str(len(body))}) as resp:
                answer = await resp.text()
                if resp.status != 202:
                    raise SystemExit(f"the large POST was answered {resp.status}: "
                                     f"{answer[:300]}")
            committed = time.monotonic() - started
            drained = await drain(session, url, lambda t: say(f"large interchange: {t}"),
                                  timeout)
            peak.sample()  # the last moments of processing may end between two samples
    return committed, drained, peak, cpu_seconds(family(pid)) - cpu0


# -- the run ---------------------------------------------------------------------------------

def spread(values: list[float]) -> str:
    good = [v for v in values if v == v]
    if not good:
        return "n/a"
    med = statistics.median(good)
    return f"{med:,.2f} [{min(good):,.2f}–{max(good):,.2f}]" if med < 10 else \
        f"{med:,.0f} [{min(good):,.0f}–{max(good):,.0f}]"


def scratch_postgres(url: str) -> tuple[str, Callable[[], None]]:
    """A fresh database beside ``url``'s for this run (other users of ``test`` truncate it);
    returns its URL and how to drop it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"edigate_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(url).set(database=name).render_as_string(hide_password=False), drop


async def drive(url: str, pid: int, args: argparse.Namespace,
                say: Callable[[str], None]) -> tuple[list[dict[str, float]], tuple | None]:
    control = Counter(int(time.time()) % 100_000_000)
    rounds: list[dict[str, float]] = []
    started = time.monotonic()
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        lean = LeanClient(url)
        send = lean.send if args.client == "lean" else aiohttp_send(session, url)
        while len(rounds) < args.rounds:
            if rounds and time.monotonic() - started > args.budget:
                say(f"time budget spent after {len(rounds)} round(s)")
                break
            rounds.append(await one_round(len(rounds) + 1, url, pid, send, session,
                                          args.seconds, args.concurrency, control, say))
            r = rounds[-1]
            say(f"round {len(rounds)}: receipts {r['receipts_ratio']:.2f} × /healthz, "
                f"processed {r['processed_ratio']:.2f} × receipts, drained in "
                f"{r['drain_s']:.1f} s")
        await lean.close()
    big = None
    if args.big_mb:
        # 1000 orders; lines per order from the size of one line, so the body is --big-mb
        per_line = len(x12_850(1, lines=2)) - len(x12_850(1, lines=1))
        body = x12_850(control.next(), messages=1000,
                       lines=max(1, int(args.big_mb * 1e6 / 1000 / per_line) + 1))
        big = (len(body), *await big_post(url, pid, body, say, timeout=args.big_timeout))
    return rounds, big


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="length of each phase; the burst's too (goal: a 10 s burst)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=900.0,
                        help="seconds after which no further round starts")
    # Each durable receipt waits for an fsync; with few senders in flight the figure measures
    # the disk's latency rather than the gateway's capacity. A gateway serves many partners
    # at once: 64 concurrent senders (the same for /healthz) saturate it on this kind of box.
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--postgres", nargs="?", const=POSTGRES, default=None,
                        help="run on a scratch database on this PostgreSQL server "
                             f"(default {POSTGRES})")
    parser.add_argument("--client", choices=("lean", "aiohttp"), default="lean")
    parser.add_argument("--workers", type=int, default=2,
                        help="inbox worker processes beside the server (inbox.workers)")
    parser.add_argument("--big-mb", type=float, default=100.0,
                        help="size of the large POST (0: none)")
    parser.add_argument("--no-big", dest="big_mb", action="store_const", const=0.0)
    parser.add_argument("--big-timeout", type=float, default=900.0)
    args = parser.parse_args()
    console = Console()
    database_url, drop = args.database_url, None
    if args.postgres:
        database_url, drop = scratch_postgres(args.postgres)
    db_name = "PostgreSQL" if database_url and "postgres" in database_url else "SQLite"
    try:
        with tempfile.TemporaryDirectory(prefix="edigate-bench-") as tmp:
            proc, url = start_server(Path(tmp), database_url, args.workers)
            try:
                with console.status("starting…") as status:
                    def say(text: str) -> None:
                        status.update(text)
                        if (text.startswith("round") and "×" in text) or "budget" in text:
                            console.log(text)
                    rounds, big = asyncio.run(drive(url, proc.pid, args, say))
            finally:
                stop(proc)
    finally:
        if drop is not None:
            drop()
    report(console, db_name, args, rounds, big)


def stop(proc: subprocess.Popen) -> None:
    """Stop the server and its workers (a worker busy with a large interchange may not stop
    within the server's own grace period)."""
    pids = family(proc.pid)[1:]
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for pid in pids:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            continue


def report(console: Console, db_name: str, args: argparse.Namespace,
           rounds: list[dict[str, float]], big: tuple | None) -> None:
    col = {k: [r[k] for r in rounds] for k in rounds[0]}
    table = Table(title=f"ingest and processing on {db_name}: {len(rounds)} interleaved "
                        f"round(s) of {args.seconds:g} s phases, concurrency "
                        f"{args.concurrency}, {args.workers} inbox worker(s); median "
                        "[min–max]")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")
    rows = [
        ("GET /healthz, req/s (baseline)", col["healthz"], ""),
        ("durable receipts (POST /edi respond-async), req/s", col["receipts"], ""),
        ("  × /healthz of the same round", col["receipts_ratio"], ">= 0.25"),
        ("  p99 ms, closed loop", col["receipts_p99"], ""),
        ("  p50 ms at half load", col["half_p50"], ""),
        ("  p99 ms at half load", col["half_p99"], "< 100"),
        (f"backlog after the {args.seconds:g} s burst, interchanges", col["received"], ""),
        ("  drained in, s", col["drain_s"], f"<= {args.seconds:g}"),
        ("processed end to end, interchanges/s", col["processed"], ""),
        ("  × receipt rate of the same round", col["processed_ratio"], ">= 0.25"),
        ("  CPU ms per interchange (server + workers)", col["cpu_ms_per_doc"], ""),
    ]
    for name, values, goal in rows:
        table.add_row(name, spread(values), goal)
    console.print(table)
    median = {k: statistics.median([v for v in vals if v == v] or [float("nan")])
              for k, vals in col.items()}
    per_core = 1000 / median["cpu_ms_per_doc"]
    console.print(f"documents/s per worker: {median['processed'] / args.workers:,.0f}; "
                  f"per core (CPU time of server and workers): {per_core:,.0f}")
    verdicts = [
        ("receipts >= 0.25 × /healthz", median["receipts_ratio"] >= 0.25),
        ("p99 < 100 ms at half load", median["half_p99"] < 100),
        ("processed >= 0.25 × receipts", median["processed_ratio"] >= 0.25),
        (f"backlog of a {args.seconds:g} s burst drained within {args.seconds:g} s",
         median["drain_s"] <= args.seconds),
    ]
    impossible = []
    if any(r > 1.0 for r in col["receipts_ratio"]):
        impossible.append("durable receipts faster than /healthz")
    if any(r > 1.0 for r in col["processed_ratio"]):
        impossible.append("more processed than received")
    if any(v == 0 for v in col["received"]) or any(v == 0 for v in col["healthz"]):
        impossible.append("a phase completed no request")
    if any(v != v for v in col["drain_s"]):
        impossible.append("a backlog did not drain within the timeout")
    if big is not None:
        size, committed, drained, peak, cpu = big
        console.print(f"large POST: {size / 1e6:.0f} MB committed in {committed:.1f} s, "
                      f"processed in {drained:.1f} s more ({cpu:.0f} CPU s); server + "
                      f"workers: peak RSS {peak.peak / 1e6:,.0f} MB (idle before: "
                      f"{peak.idle / 1e6:,.0f}), peak PSS {peak.peak_pss / 1e6:,.0f} MB "
                      f"(idle before: {peak.idle_pss / 1e6:,.0f})")
        verdicts.append(("peak RSS of a 100 MB POST < 300 MB", peak.peak < 300e6))
        if drained != drained:
            impossible.append("the large interchange was not processed within the timeout")
    for name, ok in verdicts:
        console.print(f"goal {name}: {'met' if ok else 'NOT met'}")
    if sum(col["errors"]):
        console.print(f"[red]{sum(col['errors']):.0f} request(s) answered with an error[/red]")
    if impossible:
        console.print(f"[red]impossible figures, the run is void: {'; '.join(impossible)}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
