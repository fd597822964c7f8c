"""Business keys and line keys come from the schema files' declarations."""

from __future__ import annotations

import pytest

from schemas import SchemaDefinitionError, default_registry
from schemas.keys import business_key, check_key_spec
from tests.schemas.samples import sample


@pytest.mark.parametrize(("event_type", "key"), [
    ("purchase_order", "PO-1001"), ("order_change", "PO-1001"), ("order_response", "PO-1001"),
    ("despatch_advice", "S-77"), ("invoice", "INV-9"), ("inventory_report", "INV-REP-3"),
    ("delivery_schedule", "DS-12"), ("functional_ack", "997/123"),
    ("application_advice", "AA-1"), ("demand", "STR1/2025-02-01"),
    ("stock", "STR1/2025-02-01T06:00:00Z"),
    ("supplier_capacity", "nova-plastics/2025-02-01T06:00:00+01:00"),
])
def test_business_key_of_each_type(event_type: str, key: str) -> None:
    assert default_registry().business_key_of(event_type, sample(event_type)) == key


def test_inventory_report_without_number_uses_date_and_sender() -> None:
    data = sample("inventory_report")
    del data["report_number"]
    assert default_registry().business_key_of("inventory_report", data) == "2025-02-01/NOVA"
    data["parties"] = [{"role": "buyer", "id": "X"}, {"role": "seller", "id": "SELL"}]
    assert default_registry().business_key_of("inventory_report", data) == "2025-02-01/SELL"
    data["parties"] = []
    assert default_registry().business_key_of("inventory_report", data) == "2025-02-01/"


def test_functional_ack_without_group_uses_the_interchange() -> None:
    data = {"ack_type": "TA1", "acknowledged_interchange": "000000123"}
    assert default_registry().business_key_of("functional_ack", data) == "TA1/000000123"


def test_key_of_a_v1_payload_equals_key_of_the_same_document_as_v2() -> None:
    registry = default_registry()
    data = sample("despatch_advice")
    assert registry.business_key_of("despatch_advice", registry.upcast(
        "despatch_advice", {k: v for k, v in data.items() if k != "carrier"}, 1)) == "S-77"


def test_keys_never_raise_on_odd_data() -> None:
    registry = default_registry()
    assert registry.business_key_of("purchase_order", {}) == ""
    assert registry.business_key_of("purchase_order", {"order_number": 17}) == "17"
    assert registry.business_key_of("purchase_order", {"order_number": {"x": 1}}) == ""
    assert registry.line_keys_of("purchase_order", {"lines": "nope"}) == []


def test_line_keys() -> None:
    registry = default_registry()
    assert registry.line_keys_of("purchase_order", sample("purchase_order")) == [
        "PO-1001/1", "PO-1001/2"]
    assert registry.line_keys_of("despatch_advice", sample("despatch_advice")) == [
        "S-77/PO-1001/1"]
    assert registry.line_keys_of("demand", sample("demand")) == []


def test_malformed_key_declarations_are_refused() -> None:
    with pytest.raises(SchemaDefinitionError, match="non-empty 'alternatives'"):
        check_key_spec({"alternatives": []}, "x")
    with pytest.raises(SchemaDefinitionError, match="is not a JSON pointer"):
        check_key_spec({"alternatives": [["order_number"]]}, "x")
    with pytest.raises(SchemaDefinitionError, match="needs 'find' and 'take'"):
        check_key_spec({"alternatives": [[{"find": "/parties"}]]}, "x")
    assert business_key({"alternatives": [["/a/0/b~1c"]]}, {"a": [{"b/c": "v"}]}) == "v"


def test_json_pointers_resolve_escapes_and_refuse_a_relative_pointer_every_time() -> None:
    from schemas.keys import _MISSING, resolve_pointer

    document = {"a/b": {"c~d": [10, 20]}, "": 1}
    assert resolve_pointer(document, "/a~1b/c~0d/1") == 20
    assert resolve_pointer(document, "/a~1b/c~0d/2") is _MISSING
    assert resolve_pointer(document, "/") == 1
    assert resolve_pointer(document, "") is document
    for _ in range(2):  # (the split pointers are cached; a refusal must not be)
        with pytest.raises(SchemaDefinitionError, match="must start with '/'"):
            resolve_pointer(document, "a/b")


def _reference_key(spec: dict, data: object) -> str:
    """The key as the declaration reads, part by part, with nothing worked out in advance."""
    from schemas.keys import _part_value

    separator = str(spec.get("separator", "/"))
    for alternative in spec["alternatives"]:
        values = [_part_value(part, data) for part in alternative]
        if all(v is not None for v in values):
            return separator.join(v for v in values if v is not None)
    return separator.join(_part_value(p, data) or "" for p in spec["alternatives"][-1])


def test_compiled_keys_equal_the_declared_reading_on_odd_data() -> None:
    import random

    rnd = random.Random(4)
    odd = [None, "", "A-1", 17, 2.0, 2.5, True, False, {"x": 1}, [1], [], {}, "0", 0]
    registry = default_registry()
    specs = [registry.get(t).business_key for t in registry.types()]
    specs += [{"alternatives": [["/a/b"], ["/a/0", "/c"]], "separator": "-"},
              {"alternatives": [["0/x", "/a"]]}, {"alternatives": [["/~1a~0"]]}]
    fields = ["order_number", "report_number", "report_date", "parties", "a", "c", "/a", "~a",
              "ack_type", "acknowledged_interchange", "acknowledged_group", "shipment_number"]
    checked = 0
    for _ in range(3000):
        data: dict = {}
        for name in rnd.sample(fields, rnd.randint(0, len(fields))):
            value = rnd.choice(odd)
            if name == "parties" and rnd.random() < 0.7:
                value = [{"role": rnd.choice(["supplier", "seller", "buyer", None]),
                          "id": rnd.choice(odd)} for _ in range(rnd.randint(0, 3))]
            elif name == "a" and rnd.random() < 0.5:
                value = rnd.choice([{"b": rnd.choice(odd)}, [rnd.choice(odd)]])
            data[name] = value
        for spec in specs:
            assert business_key(spec, data) == _reference_key(spec, data), (spec, data)
            checked += 1
    assert registry.business_key_of("purchase_order", {"order_number": 2.0}) == "2"
    assert checked > 30000
