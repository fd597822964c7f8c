"""``edigate serve`` as a real process on 127.0.0.1, the way ``make run`` starts it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_readyz_and_logs_json(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    port = free_port()
    env.update(EDIGATE_SERVER_DATA_DIR=str(tmp_path), EDIGATE_LOG_FORMAT="json",
               EDIGATE_SERVER_LISTEN=f"127.0.0.1:{port}")
    subprocess.run([sys.executable, "-m", "gateway", "db", "upgrade"], env=env, cwd=ROOT,
                   check=True, capture_output=True, timeout=60)
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve"], env=env, cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    body = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.2)
        assert body == {"status": "ready"}
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any("listening on http://127.0.0.1" in r["message"] for r in records)
    assert any(r["message"].startswith("GET /readyz -> 200") and r.get("correlation_id")
               for r in records)



async def test_serve_freezes_the_start_up_heap_while_it_runs() -> None:
    # Full collections then skip modules, schemas and grammars: they were 60-70 ms pauses.
    import contextlib
    import gc

    from aiohttp import web

    from gateway.cli.commands.serve import freeze_startup_heap

    lifetime = freeze_startup_heap(web.Application())
    await lifetime.__anext__()
    try:
        assert gc.get_freeze_count() > 10_000
    finally:
        with contextlib.suppress(StopAsyncIteration):
            await lifetime.__anext__()
    assert gc.get_freeze_count() == 0
