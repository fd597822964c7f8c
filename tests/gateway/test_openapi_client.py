"""A client generated from the served /openapi.json works: openapi-python-client builds it, it
imports, and it posts an order response to a live gateway (a real subprocess) and reads it
back. And the description itself: every operation has schemas and examples, every example is
valid for its schema, the event envelope states its rules."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gateway.web import app as app_module
from gateway.web.events import EXAMPLE_EVENT
from gateway.web.openapi import build_spec
from schemas import default_registry
from tests.gateway.live_server import LiveServer

NOVA = "edg_demo_nova_plastics_000000000000000003"
MODULES = [app_module.health, app_module.edi, app_module.as2, app_module.events,
           app_module.read, app_module.schemas_api, app_module.reconcile_api,
           app_module.plans_api, app_module.suppliers_api, app_module.outbox_api,
           app_module.admin_api, app_module.dashboard_pages, app_module.reconcile_pages,
           app_module.plans_pages, app_module.supplier_pages, app_module.outbox_pages,
           app_module.asyncapi]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return build_spec(MODULES)


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    # The examples' "#/components/..." references resolve against the document root.
    return jsonschema.Draft202012Validator({**schema, "components": spec["components"]},
                                           format_checker=jsonschema.FormatChecker())


def test_every_operation_has_schemas_and_valid_examples(spec: dict[str, Any]) -> None:
    problems = []
    for name, operation in _operations(spec):
        bodies = [("request", operation.get("requestBody", {}))] + [
            (code, response) for code, response in operation["responses"].items()]
        for where, body in bodies:
            for media, content in body.get("content", {}).items():
                schema = content.get("schema")
                if schema is None:
                    problems.append(f"{name} {where} {media}: no schema")
                    continue
                examples = ([content["example"]] if "example" in content else
                            [e["value"] for e in content.get("examples", {}).values()])
                if not examples:
                    problems.append(f"{name} {where} {media}: no example")
                if media.startswith(("application/json", "application/problem+json")):
                    for example in examples:
                        for error in _validator(spec, schema).iter_errors(example):
                            problems.append(f"{name} {where} {media}: {error.message[:200]}")
    assert not problems, "\n".join(problems)


def test_the_event_body_is_the_cloudevent_envelope_with_each_types_schema(
        spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    operation = spec["paths"]["/api/v1/events"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["oneOf"][0] == {"$ref": "#/components/schemas/TypedCloudEvent"}
    registry = default_registry()
    typed = {ref["$ref"].rsplit("/", 1)[1] for ref in schemas["TypedCloudEvent"]["oneOf"]}
    assert typed == {"".join(p.capitalize() for p in t.split("_")) + "Event"
                     for t in registry.types()}

    order_response = schemas["OrderResponseEvent"]
    envelope = order_response["properties"]
    assert set(order_response["required"]) == {"specversion", "id", "source", "type", "data"}
    source = re.compile(envelope["source"]["pattern"])
    assert source.match("/partners/nova-plastics") and source.match("/partners/nova/erp")
    assert not source.match("/suppliers/nova") and not source.match("/partners/")
    kind = re.compile(envelope["type"]["pattern"])
    for spelled in ("order_response", "com.edigate.order_response",
                    "com.edigate.order_response.v2"):
        assert kind.match(spelled), spelled
    assert not kind.match("com.edigate.purchase_order")
    assert envelope["dataschemaversion"] == {**envelope["dataschemaversion"],
                                             "type": "integer", "minimum": 1}
    # Each version's data schema is the registry's, linked to where /schemas serves it.
    versions = registry.versions("order_response")
    assert [ref["$ref"] for ref in envelope["data"]["anyOf"]] == [
        f"#/components/schemas/OrderResponseV{v}" for v in sorted(versions, reverse=True)]
    for version in versions:
        data = schemas[f"OrderResponseV{version}"]
        assert data["externalDocs"]["url"] == f"/schemas/order_response/{version}"
        assert data["properties"].keys() == \
            registry.json_schema("order_response", version)["properties"].keys()
    # A schema-valid event by the description is a valid event for the gateway, and back.
    assert not list(_validator(spec, {"$ref": "#/components/schemas/TypedCloudEvent"})
                    .iter_errors(EXAMPLE_EVENT))
    assert registry.validate_event(EXAMPLE_EVENT) == []
    bad = {**EXAMPLE_EVENT, "data": {"order_number": ""}}
    assert list(_validator(spec, order_response).iter_errors(bad))
    assert registry.validate_event(bad) != []


def test_the_replay_is_described_as_it_behaves(spec: dict[str, Any]) -> None:
    responses = spec["paths"]["/api/v1/events"]["post"]["responses"]
    assert "200" not in responses  # a replay answers the original status, not 200
    for code in ("201", "400", "422"):
        assert responses[code]["headers"]["Idempotent-Replayed"]["schema"]["enum"] == ["true"]


# -- a generated client against a live gateway --------------------------------------------------

@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("client"),
                        extra_env={"EDIGATE_JOBS_ENABLED": "false"}).prepare()
    server.start()
    yield server
    server.stop()


def _generate(url: str, where: Path) -> str:
    with urllib.request.urlopen(f"{url}/openapi.json") as response:
        (where / "openapi.json").write_bytes(response.read())
    # No post-hooks: the test needs the generated code, not its formatting.
    (where / "config.json").write_text(json.dumps({"post_hooks": [],
                                                   "project_name_override": "edigate-client",
                                                   "package_name_override": "edigate_client"}))
    tool = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent)) or \
        shutil.which("openapi-python-client")
    assert tool, "openapi-python-client is part of the test extra"
    run = subprocess.run([tool, "generate", "--path", "openapi.json", "--config",
                          "config.json", "--meta", "none", "--output-path", "edigate_client"],
                         cwd=where, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return "edigate_client"


def test_a_generated_client_posts_an_order_response(live: LiveServer, tmp_path: Path) -> None:
    package = _generate(live.url, tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        client_module = importlib.import_module(f"{package}.client")
        post_events = importlib.import_module(f"{package}.api.default.post_events")
        list_events = importlib.import_module(f"{package}.api.default.list_events")
        models = importlib.import_module(f"{package}.models")
    finally:
        sys.path.remove(str(tmp_path))

    client = client_module.AuthenticatedClient(base_url=live.url, token=NOVA)
    # The bare type on input; stored and answered in the canonical spelling.
    event = models.OrderResponseEvent.from_dict(
        {**EXAMPLE_EVENT, "id": "client-or-1", "type": "order_response"})
    first = post_events.sync_detailed(client=client, body=event, idempotency_key="client-1")
    assert first.status_code == 201, first.content
    assert isinstance(first.parsed, models.EventsStored)
    assert (first.parsed.accepted, first.parsed.events) == (1, ["client-or-1"])
    assert "Idempotent-Replayed" not in first.headers

    again = post_events.sync_detailed(client=client, body=event, idempotency_key="client-1")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.parsed.to_dict() == first.parsed.to_dict()

    for spelled in ("order_response", "com.edigate.order_response"):
        page = list_events.sync_detailed(client=client, type_=spelled)
        assert page.status_code == 200, page.content
        found = [e for e in json.loads(page.content)["events"] if e["id"] == "client-or-1"]
        assert [e["type"] for e in found] == ["com.edigate.order_response"], spelled
