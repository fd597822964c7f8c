"""Inbox worker processes started by ``edigate serve`` (``inbox.workers`` > 0).

Processing an interchange is CPU-bound Python; in the serving process it competes with every
request for one interpreter lock. Workers in their own processes use the other cores, so the
serving process only authenticates, commits and answers. A worker that dies is started again;
all of them stop with the server. They are not run at a lower CPU priority: a worker holding
SQLite's writer lock must finish quickly (receipts wait for it); receipts are put first at the
lock instead (see ``gateway.storage.db``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from gateway.observability.metrics import worker_metrics_env
from gateway.web.keys import RUNTIME

log = logging.getLogger("edigate.workers")

RESTART_DELAY = 1.0


def workers_ctx(count: int, config_path: str | None
                ) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def context(app: web.Application) -> AsyncIterator[None]:
        if count <= 0:
            yield
            return
        env = dict(os.environ)
        if config_path:
            env["EDIGATE_CONFIG"] = config_path
        env.update(worker_metrics_env(app[RUNTIME].settings.data_path))  # /metrics sums them
        stopping = asyncio.Event()
        procs: list[asyncio.subprocess.Process | None] = [None] * count

        async def keep_running(slot: int) -> None:
            while not stopping.is_set():
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "gateway", "work", "--parent", str(os.getpid()),
                    "--share", f"{slot}/{count}", env=env)
                procs[slot] = proc
                code = await proc.wait()
                if not stopping.is_set():
                    log.warning("inbox worker %d exited with %s; starting it again", slot, code)
                    await asyncio.sleep(RESTART_DELAY)

        tasks = [asyncio.create_task(keep_running(slot)) for slot in range(count)]
        log.info("started %d inbox worker process(es)", count)
        try:
            yield
        finally:
            stopping.set()
            for proc in procs:
                if proc is not None and proc.returncode is None:
                    proc.terminate()
            for proc in procs:
                if proc is not None:
                    try:
                        await asyncio.wait_for(proc.wait(), 15)
                    except TimeoutError:
                        proc.kill()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    return context
