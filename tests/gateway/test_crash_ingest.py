"""Promise 1 and 2 under fire: SIGKILL the gateway at random moments while 2,000 interchanges
arrive, restart it, and prove every acknowledged interchange is stored and processed exactly
once, and that resending the unacknowledged ones is safe. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import Engine, create_engine, func, select

from gateway.storage.models import Event, Interchange
from tests.gateway.edi_samples import x12_850
from tests.gateway.live_server import LiveServer

TOKEN = "edg_demo_bolt_supply_00000000000000000002"
TOTAL = 2000
KILLS = 4


async def post(session: aiohttp.ClientSession, url: str, body: bytes) -> int | None:
    try:
        async with session.post(f"{url}/edi", data=body, headers={
                "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/edi-x12"},
                timeout=aiohttp.ClientTimeout(total=20)) as response:
            await response.read()
            return response.status
    except (TimeoutError, aiohttp.ClientError):
        return None


async def drive(server: LiveServer, bodies: list[bytes],
                seed: int) -> tuple[dict[int, int | None], set[int]]:
    """Send every body like a partner would: on a refused or cut connection, wait and resend
    the same bytes. Returns the final status per body and the bodies that were interrupted."""
    results: dict[int, int | None] = {}
    interrupted: set[int] = set()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(bodies)):
        queue.put_nowait(i)
    rng = random.Random(seed)

    async def client() -> None:
        async with aiohttp.ClientSession() as session:
            while not queue.empty():
                i = queue.get_nowait()
                for _ in range(60):
                    results[i] = await post(session, server.url, bodies[i])
                    if results[i] is not None:
                        break
                    interrupted.add(i)
                    await asyncio.sleep(0.1)

    async def killer() -> None:
        for _ in range(KILLS):
            await asyncio.sleep(rng.uniform(0.5, 2.5))
            server.kill()
            await asyncio.sleep(rng.uniform(0.05, 0.3))
            await asyncio.to_thread(server.start)

    await asyncio.gather(killer(), *(client() for _ in range(8)))
    return results, interrupted


def wait_processed(engine: Engine, expected: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            pending = conn.scalar(select(func.count()).select_from(Interchange).where(
                Interchange.status == "received"))
            stored = conn.scalar(select(func.count()).select_from(Interchange).where(
                Interchange.direction == "in"))
        if pending == 0 and stored >= expected:
            return
        time.sleep(0.5)
    raise AssertionError(f"{pending} interchange(s) still unprocessed after {timeout}s")


@pytest.mark.slow
def test_sigkill_loses_nothing_and_duplicates_nothing(db_backend: str, tmp_path: Path,
                                                      request: pytest.FixtureRequest) -> None:
    if db_backend == "postgresql":
        pg = request.getfixturevalue("engine")  # migrated, truncated
        url = pg.url.render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'crash.db'}"
    bodies = [x12_850(100_000 + i) for i in range(TOTAL)]
    with LiveServer(tmp_path / "data", url) as server:
        server.prepare().start()
        results, interrupted = asyncio.run(drive(server, bodies, seed=7))
        if server.proc is None or server.proc.poll() is not None:
            server.start()
        acked = {i for i, status in results.items() if status is not None and status < 300}
        assert interrupted, "the kills should have cut some requests"
        assert len(acked) > TOTAL // 2, "resent bodies should be acknowledged after restarts"
        engine = create_engine(url)
        wait_processed(engine, len(acked))

        with engine.connect() as conn:
            rows = {r.sha256: r for r in conn.execute(select(
                Interchange.id, Interchange.sha256, Interchange.status).where(
                Interchange.direction == "in"))}
            events_per = dict(conn.execute(select(Event.interchange_id, func.count())
                                           .group_by(Event.interchange_id)).all())
        for i in acked:
            row = rows.get(hashlib.sha256(bodies[i]).hexdigest())
            assert row is not None, f"interchange {i} got 2xx but is not stored"
            assert row.status == "processed", (i, row.status)
            assert events_per.get(row.id) == 1, f"interchange {i} has {events_per.get(row.id)}"

        # Resending everything that was not acknowledged (and a sample that was) is safe.
        retry = sorted(set(range(TOTAL)) - acked) + sorted(acked)[:50]
        again = asyncio.run(drive_plain(server.url, [bodies[i] for i in retry]))
        assert all(status == 200 for status in again), again
        wait_processed(engine, TOTAL)
        with engine.connect() as conn:
            stored = conn.scalar(select(func.count()).select_from(Interchange).where(
                Interchange.direction == "in"))
            events = conn.scalar(select(func.count()).select_from(Event))
            keys = conn.scalar(select(func.count(func.distinct(Event.business_key))))
        assert stored == TOTAL
        assert events == TOTAL and keys == TOTAL
        engine.dispose()


async def drive_plain(url: str, bodies: list[bytes]) -> list[int | None]:
    async with aiohttp.ClientSession() as session:
        sem = asyncio.Semaphore(8)

        async def one(body: bytes) -> int | None:
            async with sem:
                return await post(session, url, body)

        return await asyncio.gather(*(one(b) for b in bodies))
