"""Compatibility checking: the real evolution passes, each kind of breaking change is refused
with its own specific reason (one test per rule), modes and transitivity behave as documented."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from schemas import IncompatibleSchemaError, Mode, Registry, build_version, default_registry
from schemas.compat import compatibility_problems, reader_problems
from schemas.envelope import schema_uri

Document = dict[str, Any]


def _po_v1() -> Document:
    return default_registry().json_schema("purchase_order", 1)


def _next_version(document: Document, mutate: Callable[[Document], None]) -> Document:
    new = copy.deepcopy(document)
    new["x-version"] = document["x-version"] + 1
    new["$id"] = schema_uri(new["x-event-type"], new["x-version"])
    mutate(new)
    return new


def _refusal(mode: Mode, mutate: Callable[[Document], None]) -> list[str]:
    """Register v1 then a mutated v2 of purchase_order in ``mode``; the reasons of the refusal."""
    v1 = _po_v1()
    registry = Registry([build_version(v1)], {"purchase_order": mode})
    with pytest.raises(IncompatibleSchemaError) as refused:
        registry.register(build_version(_next_version(v1, mutate)))
    assert refused.value.subject == "purchase_order@2"
    assert registry.versions("purchase_order") == [1], "a refused version is not registered"
    return refused.value.problems


def _accepted(mode: Mode, mutate: Callable[[Document], None]) -> Registry:
    v1 = _po_v1()
    registry = Registry([build_version(v1)], {"purchase_order": mode})
    registry.register(build_version(_next_version(v1, mutate)))
    return registry


def _line(document: Document) -> Document:
    return document["properties"]["lines"]["items"]


# --- the real evolution -------------------------------------------------------------------

@pytest.mark.parametrize("mode", list(Mode))
def test_despatch_advice_v2_is_compatible_with_v1_in_every_mode(mode: Mode) -> None:
    registry = default_registry()
    v1 = registry.get("despatch_advice", 1).avro_schema
    v2 = registry.get("despatch_advice", 2).avro_schema
    assert compatibility_problems(mode, v2, [(1, v1)]) == []


def test_v2_only_adds_the_two_optional_fields_with_null_defaults() -> None:
    registry = default_registry()
    v1 = {f["name"] for f in registry.get("despatch_advice", 1).avro_schema["fields"]}
    v2_fields = registry.get("despatch_advice", 2).avro_schema["fields"]
    added = [f for f in v2_fields if f["name"] not in v1]
    assert [(f["name"], f["type"], f["default"]) for f in added] == [
        ("carrier", ["null", "string"], None), ("tracking_number", ["null", "string"], None)]


# --- one test per rule --------------------------------------------------------------------

def test_new_required_field_without_default_is_refused_backward() -> None:
    def add_required(doc: Document) -> None:
        doc["properties"]["priority"] = {"type": "string"}
        doc["required"].append("priority")

    assert _refusal(Mode.BACKWARD, add_required) == [
        "BACKWARD vs v1: /priority: new required field 'priority' has no default "
        "(old data does not have it)"]


def test_field_removed_without_default_is_refused_forward() -> None:
    def remove_order_number(doc: Document) -> None:
        del doc["properties"]["order_number"]
        doc["required"].remove("order_number")

    assert _refusal(Mode.FORWARD, remove_order_number) == [
        "FORWARD vs v1: /order_number: field 'order_number' removed without a default "
        "(old readers need it)"]


def test_removing_a_field_that_has_a_default_is_allowed_forward() -> None:
    registry = _accepted(Mode.FULL, lambda doc: doc["properties"].pop("order_type"))
    assert registry.versions("purchase_order") == [1, 2]


def test_type_changed_is_refused_with_old_and_new_type() -> None:
    def quantity_as_text(doc: Document) -> None:
        _line(doc)["properties"]["quantity"] = {"type": "string"}

    assert _refusal(Mode.BACKWARD, quantity_as_text) == [
        "BACKWARD vs v1: /lines/*/quantity: type changed from double to string"]


def test_type_promotion_long_to_double_is_allowed_backward_but_not_forward() -> None:
    registry = default_registry()
    capacity = registry.json_schema("supplier_capacity", 1)
    v2 = _next_version(capacity, lambda doc: doc["properties"]["items"]["items"]["properties"]
                       .__setitem__("lead_time_days", {"type": ["number", "null"]}))
    old, new = build_version(capacity).avro_schema, build_version(v2).avro_schema
    assert compatibility_problems(Mode.BACKWARD, new, [(1, old)]) == []
    assert compatibility_problems(Mode.FORWARD, new, [(1, old)]) == [
        "FORWARD vs v1: /items/*/lead_time_days: type changed from long to double"]


def test_enum_narrowed_is_refused_naming_the_dropped_symbol() -> None:
    def drop_other(doc: Document) -> None:
        doc["properties"]["purpose"]["enum"].remove("other")

    assert _refusal(Mode.BACKWARD, drop_other) == [
        "BACKWARD vs v1: /purpose: enum narrowed: the new version no longer accepts other"]


def test_enum_widened_is_allowed_backward_and_refused_forward() -> None:
    def add_draft(doc: Document) -> None:
        doc["properties"]["purpose"]["enum"].insert(0, "draft")

    assert _accepted(Mode.BACKWARD, add_draft).versions("purchase_order") == [1, 2]
    assert _refusal(Mode.FORWARD, add_draft) == [
        "FORWARD vs v1: /purpose: enum widened: old readers do not know draft"]


def test_optional_field_made_required_is_refused_because_old_data_holds_null() -> None:
    def require_order_date(doc: Document) -> None:
        doc["properties"]["order_date"]["type"] = "string"
        doc["required"].append("order_date")

    assert _refusal(Mode.BACKWARD, require_order_date) == [
        "BACKWARD vs v1: /order_date: null no longer accepted (old data may hold null)"]


def test_required_field_made_optional_is_refused_forward() -> None:
    def optional_order_number(doc: Document) -> None:
        doc["properties"]["order_number"]["type"] = ["string", "null"]
        doc["required"].remove("order_number")

    assert _refusal(Mode.FORWARD, optional_order_number) == [
        "FORWARD vs v1: /order_number: new version may write null, which old readers refuse"]


def test_record_renamed_is_refused() -> None:
    def rename_line(doc: Document) -> None:
        _line(doc)["title"] = "OrderLine"

    assert _refusal(Mode.BACKWARD, rename_line) == [
        "BACKWARD vs v1: /lines/*: record renamed from PurchaseOrderLine to OrderLine "
        "without an alias"]


def test_business_key_change_is_refused_even_in_mode_none() -> None:
    def rekey(doc: Document) -> None:
        doc["x-business-key"] = {"alternatives": [["/order_number", "/order_date"]]}

    assert _refusal(Mode.NONE, rekey) == [
        "x-business-key changed: keys must stay stable across versions so events of "
        "different versions still pair"]


# --- modes ----------------------------------------------------------------------------------

def test_full_reports_both_directions() -> None:
    def quantity_as_text(doc: Document) -> None:
        _line(doc)["properties"]["quantity"] = {"type": "string"}

    assert _refusal(Mode.FULL, quantity_as_text) == [
        "BACKWARD vs v1: /lines/*/quantity: type changed from double to string",
        "FORWARD vs v1: /lines/*/quantity: type changed from double to string"]


def test_mode_none_accepts_a_breaking_change() -> None:
    registry = _accepted(Mode.NONE, lambda doc: _line(doc)["properties"].__setitem__(
        "quantity", {"type": "string"}))
    assert registry.latest("purchase_order") == 2


def _three_versions() -> list[Document]:
    """v1 has order_type as text, v2 drops it, v3 brings it back as a number: each step is
    backward compatible with the previous one, but v3 cannot read v1 data."""
    v1 = _po_v1()
    v2 = _next_version(v1, lambda doc: doc["properties"].pop("order_type"))
    v3 = _next_version(v2, lambda doc: doc["properties"].__setitem__(
        "order_type", {"type": ["integer", "null"]}))
    return [v1, v2, v3]


def test_non_transitive_mode_checks_only_the_previous_version() -> None:
    registry = Registry([build_version(d) for d in _three_versions()],
                        {"purchase_order": Mode.BACKWARD})
    assert registry.versions("purchase_order") == [1, 2, 3]


def test_transitive_mode_checks_every_earlier_version() -> None:
    v1, v2, v3 = _three_versions()
    registry = Registry([build_version(v1), build_version(v2)],
                        {"purchase_order": Mode.BACKWARD_TRANSITIVE})
    with pytest.raises(IncompatibleSchemaError) as refused:
        registry.register(build_version(v3))
    assert refused.value.problems == [
        "BACKWARD vs v1: /order_type: type changed from string to long"]
    assert "purchase_order@3 is incompatible: BACKWARD vs v1" in str(refused.value)


def test_versions_must_be_registered_in_order() -> None:
    v1 = _po_v1()
    v3 = _next_version(_next_version(v1, lambda d: None), lambda d: None)
    registry = Registry([build_version(v1)])
    with pytest.raises(Exception, match="the next version of purchase_order is v2"):
        registry.register(build_version(v3))


def test_checker_reads_plain_avro_enums_and_aliases() -> None:
    """The checker is general Avro, not only what our derivation emits."""
    writer = {"type": "record", "name": "R", "fields": [
        {"name": "a", "type": {"type": "enum", "name": "E", "symbols": ["X", "Y"]}}]}
    reader = json.loads(json.dumps(writer))
    reader["fields"][0]["type"]["symbols"] = ["X"]
    assert [p.rule for p in reader_problems(reader, writer)] == ["enum_narrowed"]
    reader["fields"][0]["type"]["default"] = "X"
    assert reader_problems(reader, writer) == []
    renamed = {"type": "record", "name": "R", "fields": [
        {"name": "b", "aliases": ["a"], "type": {"type": "enum", "name": "E",
                                                 "symbols": ["X", "Y"]}}]}
    assert reader_problems(renamed, writer) == []
