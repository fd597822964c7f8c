"""The AS2 routes answer as their OpenAPI description says, under schemathesis-generated
(hostile) requests: never a 500, always a described status and content type."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings

from gateway.storage.db import make_engine
from gateway.storage.migrate import upgrade
from gateway.web import as2, openapi
from tests.gateway.as2_helpers import as2_app, make_world


@schemathesis.serializer("multipart/report", "multipart/signed")
def _raw_mime(ctx, value) -> bytes:
    # S/MIME bodies are opaque bytes to the description; send what was generated as is.
    return value if isinstance(value, bytes) else str(value).encode()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data: Path = tmp_path_factory.mktemp("as2-openapi")
    engine = make_engine(f"sqlite:///{data / 'edigate.db'}")
    upgrade(engine)
    app = as2_app(make_world(engine, data).runtime)
    app.add_routes(openapi.route(openapi.build_spec([as2])))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/openapi.json", timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield url
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    engine.dispose()


def test_as2_routes_answer_as_described(live: str) -> None:
    # schemathesis' pytest plugin does not run on pytest 9; drive hypothesis directly.
    api = schemathesis.openapi.from_url(f"{live}/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert {op.path for op in operations} >= {"/as2", "/as2/mdn"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        def check(case) -> None:
            case.call_and_validate(base_url=live)

        check()
