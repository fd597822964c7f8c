"""The event loop stays responsive under attack: the real server (``edigate serve``) gets
large pathological documents, synchronously and with ``Prefer: respond-async``, while a probe
asks ``/healthz`` every 20 ms. Every probe answers within 250 ms (the issue's goal is 100 ms;
this machine is shared: the bound is on top of the worst probe before the attack), and every
posted interchange ends in a final state."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import BOLT, OPERATOR, auth
from tests.gateway.live_server import ROOT, LiveServer

SHIPMENT = (ROOT / "docs" / "examples" / "bolt-supply-856.x12").read_bytes()
FINAL = {"processed", "partial", "rejected", "quarantined"}
BOUND = 0.250


def _hostile() -> dict[str, bytes]:
    hl_chain = b"".join(b"HL*%d*%d*I~" % (n, n - 1) for n in range(6, 5006))
    return {
        "20,000 order lines (700 KB)": x12_850(900, lines=20_000),
        "a 1 MB element": x12_850(901).replace(b"CTT*1~", b"N1*BY*" + b"N" * 1_000_000
                                               + b"~CTT*1~"),
        "30,000 unknown segments": x12_850(902).replace(b"CTT*1~", b"ZZZ*1~" * 30_000
                                                        + b"CTT*1~"),
        "a 5,000-deep HL chain": SHIPMENT.replace(b"CTT*5~", hl_chain + b"CTT*5~"),
        "1 MB of binary garbage": bytes(range(256)) * 4_000,
        "a 5,000-digit SE01": SHIPMENT.replace(b"SE*18*4711~", b"SE*" + b"9" * 5_000
                                               + b"*4711~"),
        "a non-ASCII segment terminator": x12_850(903).replace(b"~", b"\xa7"),
        # The critical input: 40k digits then a letter in a decimal element (SN102),
        # which once backtracked quadratically in the decimal check and froze the loop for 55 s.
        "a 40,000-digit SN102 ending in a letter": SHIPMENT.replace(
            b"SN1**500*EA", b"SN1**" + b"5" * 40_000 + b"X*EA", 1),
    }


async def test_healthz_answers_while_hostile_documents_are_processed(tmp_path: Path) -> None:
    # Failing documents are retried at once (no backoff) and quarantined after the second try:
    # the resume job's 15 s pass is then the longest wait.
    server = LiveServer(tmp_path / "live", extra_env={
        "EDIGATE_INBOX_MAX_ATTEMPTS": "2", "EDIGATE_INBOX_RETRY_BASE_SECONDS": "0"}).prepare()
    server.start(timeout=60)
    latencies: list[float] = []
    stop = asyncio.Event()
    try:
        async with aiohttp.ClientSession() as http:
            async def probe() -> None:
                while not stop.is_set():
                    started = time.perf_counter()
                    async with http.get(f"{server.url}/healthz") as resp:
                        await resp.read()
                        assert resp.status == 200
                    latencies.append(time.perf_counter() - started)
                    await asyncio.sleep(0.02)

            async def post(body: bytes, respond_async: bool) -> str:
                headers = {**auth(BOLT), "Content-Type": "application/edi-x12"}
                if respond_async:
                    headers["Prefer"] = "respond-async"
                async with http.post(f"{server.url}/edi", data=body, headers=headers) as resp:
                    answer = await resp.json(content_type=None)
                    assert resp.status in (200, 202, 403, 409, 422), answer
                    return str(answer["interchange_id"])

            prober = asyncio.create_task(probe())
            await asyncio.sleep(1.0)
            # What this (shared) machine costs a probe with no attack: the bound is on top.
            idle_worst = max(latencies)
            calm = len(latencies)
            documents = _hostile()
            ids = await asyncio.gather(*(post(body, n % 2 == 1)
                                         for n, body in enumerate(documents.values())))
            deadline = time.monotonic() + 120
            statuses: dict[str, str] = {}
            while time.monotonic() < deadline:
                for ident in ids:
                    async with http.get(f"{server.url}/interchanges/{ident}",
                                        headers=auth(OPERATOR)) as resp:
                        statuses[ident] = (await resp.json())["status"]
                if set(statuses.values()) <= FINAL:
                    break
                await asyncio.sleep(0.5)
            stop.set()
            await prober
    finally:
        server.stop()
    named = dict(zip(documents, (statuses[i] for i in ids), strict=True))
    assert set(named.values()) <= FINAL, named
    assert len(latencies) - calm > 20, "the probe ran throughout"
    worst = max(latencies[calm:])
    attacked = sorted(latencies[calm:])
    print(f"/healthz under attack: {len(attacked)} probes, worst {worst * 1000:.1f} ms, "
          f"median {attacked[len(attacked) // 2] * 1000:.1f} ms (idle worst "
          f"{idle_worst * 1000:.1f} ms); outcomes {named}")
    assert worst < BOUND + idle_worst, (
        f"/healthz took {worst * 1000:.0f} ms at worst ({len(attacked)} probes; idle worst "
        f"{idle_worst * 1000:.0f} ms)")
    # A processing failure logs its traceback once, at the first attempt (to find the bug);
    # the retries log one line each, never the traceback again.
    log = server.log.read_text()
    poisoned = sum(1 for status in named.values() if status == "quarantined")
    assert log.count("Traceback") <= poisoned, log[-6000:]
