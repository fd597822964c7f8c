from __future__ import annotations

from pathlib import Path

from gateway.config import load_settings
from gateway.runtime import Runtime
from gateway.storage.migrate import upgrade
from gateway.web.app import create_app
from tests.gateway.live_server import refused_port


def settings_for(tmp_path: Path):
    return load_settings(None, environ={"EDIGATE_SERVER_DATA_DIR": str(tmp_path)})


async def test_healthz_answers_without_a_database(aiohttp_client, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(settings_for(tmp_path)))
    response = await client.get("/healthz")
    assert response.status == 200
    assert (await response.json()) == {"status": "ok"}
    assert len(response.headers["X-Correlation-Id"]) == 32


async def test_readyz_reports_missing_schema_then_ready(aiohttp_client, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    runtime = Runtime.from_settings(settings)
    client = await aiohttp_client(create_app(settings, runtime=runtime))
    response = await client.get("/readyz")
    assert response.status == 503
    assert "edigate db upgrade" in (await response.json())["problems"][0]
    upgrade(runtime.engine)
    response = await client.get("/readyz")
    assert response.status == 200
    runtime.close()


async def test_readyz_reports_unreachable_database(aiohttp_client, tmp_path: Path) -> None:
    settings = load_settings(None, environ={
        "EDIGATE_DATABASE_URL": f"postgresql+psycopg://nobody@127.0.0.1:{refused_port()}/none"})
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/readyz")
    assert response.status == 503
    assert "unreachable" in (await response.json())["problems"][0]


async def test_correlation_id_is_echoed(aiohttp_client, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(settings_for(tmp_path)))
    response = await client.get("/healthz", headers={"X-Correlation-Id": "abc123"})
    assert response.headers["X-Correlation-Id"] == "abc123"
    response = await client.get("/healthz", headers={"X-Correlation-Id": "bad id; drop"})
    assert response.headers["X-Correlation-Id"] != "bad id; drop"
