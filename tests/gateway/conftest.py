"""Fixtures shared by the gateway tests: the real app on the test database (SQLite and
PostgreSQL) with the demo partners and operator tokens. A module that needs another set-up
defines its own ``runtime`` or ``client``, which takes precedence."""

from __future__ import annotations

import pytest

from tests.gateway.gateway_app import app_for, make_runtime


@pytest.fixture
def runtime(engine, tmp_path):
    rt = make_runtime(engine, tmp_path)
    yield rt
    rt.stop_threads()


@pytest.fixture
async def client(aiohttp_client, runtime):
    return await aiohttp_client(app_for(runtime))
