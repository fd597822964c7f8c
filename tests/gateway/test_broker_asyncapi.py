"""``/asyncapi.json``: an AsyncAPI 3.0 document generated from the schema registry, valid
against the official AsyncAPI 3.0.0 JSON Schema (vendored in tests/gateway/asyncapi/)."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from gateway.web.asyncapi import build_asyncapi
from schemas import default_registry
from tests.gateway.gateway_app import app_for

SPEC_SCHEMA = Path(__file__).resolve().parent / "asyncapi" / "3.0.0.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SPEC_SCHEMA.read_text(encoding="utf-8")))


def _errors(validator: jsonschema.Draft7Validator, document: dict) -> list[str]:
    return [f"{e.json_path}: {e.message[:200]}" for e in validator.iter_errors(document)]


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
async def test_served_document_is_valid_asyncapi_3(aiohttp_client, runtime, validator
                                                   ) -> None:
    runtime.settings = replace(runtime.settings, broker_url="nats://127.0.0.1:4222",
                               broker_stream="SUPPLY", broker_subject_prefix="acme")
    client = await aiohttp_client(app_for(runtime))
    answer = await client.get("/asyncapi.json")
    assert answer.status == 200
    document = await answer.json()
    assert _errors(validator, document) == []
    assert document["asyncapi"] == "3.0.0"
    assert document["servers"]["default"]["protocol"] == "nats"
    registry = default_registry()
    expected = {f"{i.event_type}.v{i.version}" for i in registry.list()}
    assert expected <= set(document["channels"])
    channel = document["channels"]["purchase_order.v1"]
    assert channel["address"] == "acme.purchase_order.v1.{partner}"
    avro = document["components"]["messages"]["purchase_order_v1_avro"]
    assert avro["payload"]["schema"] == registry.avro_schema("purchase_order", 1)
    assert avro["headers"]["properties"]["schemaid"]["const"] == "purchase_order@1"
    assert "ce-id" in avro["headers"]["required"]
    structured = document["components"]["messages"]["purchase_order_v1_json"]
    assert structured["payload"]["schema"]["properties"]["data"] == \
        registry.json_schema("purchase_order", 1)
    # Listed in the OpenAPI document beside /openapi.json.
    openapi = await (await client.get("/openapi.json")).json()
    assert "/asyncapi.json" in openapi["paths"]


def test_rabbitmq_server_and_the_check_itself(validator) -> None:
    from gateway.config import Settings

    document = build_asyncapi(Settings(broker_url="amqp://guest:guest@127.0.0.1:5672/",
                                       broker_content_mode="avro"))
    assert _errors(validator, document) == []
    server = document["servers"]["default"]
    assert server["protocol"] == "amqp" and "guest" not in json.dumps(server)
    # The validation does reject a broken document (so the test above can fail).
    broken = copy.deepcopy(document)
    broken["operations"]["receive_inbound"]["action"] = "consume"
    del broken["info"]["version"]
    assert len(_errors(validator, broken)) >= 2
