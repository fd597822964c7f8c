"""The schema files themselves: valid, consistent, derived forms current, registry loads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from schemas import Registry, SchemaDefinitionError, default_registry
from schemas.avro import derive_avro
from schemas.generate import main as generate_main
from schemas.generate import stale_files
from schemas.registry import COMPATIBILITY_FILE, EVENTS_DIR

EVENT_TYPES = ["purchase_order", "order_change", "order_response", "despatch_advice",
               "invoice", "inventory_report", "delivery_schedule", "functional_ack",
               "application_advice", "demand", "stock", "supplier_capacity"]
SOURCES = sorted(EVENTS_DIR.glob("*/v*.json"))


def test_every_event_type_of_the_issue_is_registered() -> None:
    assert sorted(default_registry().types()) == sorted(EVENT_TYPES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_schema_is_a_valid_json_schema_2020_12(path: Path) -> None:
    document = json.loads(path.read_text())
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(document)
    assert document["x-event-type"] == path.parent.name
    assert f"v{document['x-version']}" == path.stem


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_checked_in_avro_file_is_current(path: Path) -> None:
    derived = derive_avro(json.loads(path.read_text()))
    checked_in = json.loads(path.with_suffix(".avsc").read_text())
    assert checked_in == derived, f"run `python -m schemas.generate` ({path.stem}.avsc stale)"


def test_no_derived_file_is_stale_or_orphaned() -> None:
    assert stale_files() == []


@pytest.fixture
def events_copy(tmp_path: Path) -> Path:
    target = tmp_path / "events"
    shutil.copytree(EVENTS_DIR, target)
    return target


def test_stale_check_notices_an_edited_source(events_copy: Path) -> None:
    source = events_copy / "stock" / "v1.json"
    document = json.loads(source.read_text())
    document["properties"]["site"]["type"] = ["integer", "null"]
    source.write_text(json.dumps(document))
    assert stale_files(events_copy) == ["stock/v1.avsc: stale (differs from its .json source)"]


def test_stale_check_notices_missing_and_orphaned_files(events_copy: Path) -> None:
    (events_copy / "stock" / "v1.avsc").unlink()
    (events_copy / "stock" / "v7.avsc").write_text("{}")
    assert stale_files(events_copy) == ["stock/v1.avsc: missing", "stock/v7.avsc: no .json source"]


def test_generate_check_fails_when_stale_and_generate_repairs(
        events_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (events_copy / "demand" / "v1.avsc").unlink()
    assert generate_main(["--check"], events_copy) == 1
    assert "demand/v1.avsc: missing" in capsys.readouterr().err
    assert not (events_copy / "demand" / "v1.avsc").exists(), "--check writes nothing"
    assert generate_main([], events_copy) == 0
    assert generate_main(["--check"], events_copy) == 0


def test_whole_registry_passes_its_compatibility_modes() -> None:
    """Loading runs the check; asking again per version proves nothing was skipped."""
    registry = Registry.from_directory(EVENTS_DIR, COMPATIBILITY_FILE)
    for item in registry.list():
        assert registry.compatibility_problems(item) == [], item.subject
    assert registry.versions("despatch_advice") == [1, 2, 3]


def test_every_version_declares_a_business_key_that_evaluates() -> None:
    registry = default_registry()
    for item in registry.list():
        assert item.business_key["alternatives"], item.subject


def test_a_file_named_for_another_version_is_refused(events_copy: Path) -> None:
    shutil.copy(events_copy / "stock" / "v1.json", events_copy / "stock" / "v2.json")
    with pytest.raises(SchemaDefinitionError, match=r"declares stock@1; the file must be "):
        Registry.from_directory(events_copy, None)


def test_a_file_that_is_not_json_is_refused_with_its_name(events_copy: Path) -> None:
    (events_copy / "stock" / "v2.json").write_text('{"x-event-type": ')
    with pytest.raises(SchemaDefinitionError, match=r"stock/v2.json: not valid JSON"):
        Registry.from_directory(events_copy, None)


def test_an_invalid_json_schema_is_refused(events_copy: Path) -> None:
    source = events_copy / "demand" / "v1.json"
    document = json.loads(source.read_text())
    document["properties"]["site"]["minLength"] = "one"
    source.write_text(json.dumps(document))
    with pytest.raises(SchemaDefinitionError, match=r"demand/v1.json: not a valid JSON Schema"):
        Registry.from_directory(events_copy, None)


def test_a_bad_compatibility_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "compatibility.json"
    config.write_text('{"default": "SIDEWAYS"}')
    with pytest.raises(SchemaDefinitionError, match="SIDEWAYS"):
        Registry.from_directory(EVENTS_DIR, config)
