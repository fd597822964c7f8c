"""The HTTP routes, on a tiny app of their own (the lead wires them into the gateway)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator

from gateway.web import schemas_api
from schemas import default_registry

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def client(aiohttp_client: Callable[[web.Application], Awaitable[Client]]) -> Client:
    app = web.Application()
    app.add_routes(schemas_api.routes)
    return await aiohttp_client(app)


async def test_list_names_every_type_with_versions_and_mode(client: Client) -> None:
    response = await client.get("/schemas")
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    by_type = {s["type"]: s for s in body["schemas"]}
    assert sorted(by_type) == default_registry().types()
    assert by_type["despatch_advice"]["versions"] == [1, 2, 3]
    assert by_type["despatch_advice"]["latest"] == 3
    assert by_type["despatch_advice"]["compatibility"] == "FULL_TRANSITIVE"
    assert by_type["purchase_order"]["business_key"]["alternatives"] == [["/order_number"]]


async def test_type_route_serves_the_latest_json_schema(client: Client) -> None:
    response = await client.get("/schemas/despatch_advice")
    assert response.status == 200
    assert response.content_type == "application/schema+json"
    schema = await response.json(content_type=None)
    Draft202012Validator.check_schema(schema)
    assert schema["x-version"] == 3 and "carrier" in schema["properties"]
    assert response.headers["X-Schema-Version"] == "3"
    assert "immutable" not in response.headers["Cache-Control"]


@pytest.mark.parametrize("version", ["1", "v1"])
async def test_version_route_serves_that_version_immutably(client: Client, version: str) -> None:
    response = await client.get(f"/schemas/despatch_advice/{version}")
    assert response.status == 200
    schema = await response.json(content_type=None)
    assert schema == default_registry().json_schema("despatch_advice", 1)
    assert "immutable" in response.headers["Cache-Control"]


async def test_avro_form_on_request(client: Client) -> None:
    response = await client.get("/schemas/despatch_advice/2?format=avro")
    assert response.status == 200
    assert await response.json() == default_registry().avro_schema("despatch_advice", 2)


@pytest.mark.parametrize(("path", "status", "detail"), [
    ("/schemas/shipment", 404, "unknown event type 'shipment'"),
    ("/schemas/despatch_advice/9", 404, "despatch_advice has no version 9"),
    ("/schemas/despatch_advice/two", 404, "is not a number"),
    ("/schemas/despatch_advice/99999999999999999999", 404, "is not a number"),
    ("/schemas/stock?format=xml", 400, "expected json or avro"),
])
async def test_unknown_schemas_get_a_problem_answer(client: Client, path: str, status: int,
                                                    detail: str) -> None:
    response = await client.get(path)
    assert response.status == status
    assert response.content_type == "application/problem+json"
    body = await response.json(content_type=None)
    assert detail in body["detail"] and body["status"] == status


def test_openapi_describes_exactly_the_three_routes() -> None:
    assert set(schemas_api.OPENAPI) == {"/schemas", "/schemas/{type}",
                                        "/schemas/{type}/{version}"}
    described = {path for path in schemas_api.OPENAPI}
    served = {route.path for route in schemas_api.routes}  # type: ignore[attr-defined]
    assert described == served
