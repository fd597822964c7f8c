"""Payload validation: every sample passes, every error names its exact JSON pointer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from schemas import UnknownSchemaError, default_registry
from schemas.formats import is_date, is_date_time, is_gln, is_gtin, is_sscc
from schemas.validation import MAX_ERRORS
from tests.schemas.samples import DESPATCH_V1, SAMPLES, sample


def _errors(event_type: str, data: Any, version: int | None = None) -> list[dict[str, str]]:
    registry = default_registry()
    return registry.validate(event_type, version or registry.latest(event_type), data)


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_every_sample_payload_is_valid(event_type: str) -> None:
    assert _errors(event_type, sample(event_type)) == []


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_an_empty_payload_names_each_missing_required_property(event_type: str) -> None:
    schema = default_registry().json_schema(event_type)
    expected = sorted(f"/{name}" for name in schema.get("required", []))
    found = _errors(event_type, {})
    assert sorted(e["pointer"] for e in found) == expected
    assert all(e["keyword"] == "required" for e in found)


def test_error_points_at_the_bad_line_quantity() -> None:
    data = sample("purchase_order")
    data["lines"][1]["quantity"] = -3
    assert _errors("purchase_order", data) == [{
        "pointer": "/lines/1/quantity", "keyword": "minimum",
        "message": "-3 is less than the minimum of 0"}]


def test_missing_required_property_points_at_the_property() -> None:
    data = sample("purchase_order")
    del data["lines"][0]["line_number"]
    assert _errors("purchase_order", data) == [{
        "pointer": "/lines/0/line_number", "keyword": "required",
        "message": "required property 'line_number' is missing"}]


def test_unexpected_property_is_refused_because_avro_could_not_carry_it() -> None:
    data = sample("invoice")
    data["lines"][0]["qty"] = 5
    data["note/x"] = "hi"
    assert _errors("invoice", data) == [
        {"pointer": "/lines/0/qty", "keyword": "additionalProperties",
         "message": "unexpected property 'qty' (not in the schema)"},
        {"pointer": "/note~1x", "keyword": "additionalProperties",
         "message": "unexpected property 'note/x' (not in the schema)"}]


def test_v1_refuses_the_v2_fields_and_v2_accepts_v1_payloads() -> None:
    with_carrier = dict(DESPATCH_V1, carrier="DHL")
    assert [e["pointer"] for e in _errors("despatch_advice", with_carrier, 1)] == ["/carrier"]
    assert _errors("despatch_advice", DESPATCH_V1, 1) == []
    assert _errors("despatch_advice", DESPATCH_V1, 2) == []
    assert _errors("despatch_advice", dict(DESPATCH_V1, carrier=None), 2) == []


def test_optional_fields_accept_null_as_decoded_from_avro() -> None:
    data = sample("purchase_order")
    data["order_date"] = None
    data["purpose"] = None
    data["parties"][0]["address"] = None
    assert _errors("purchase_order", data) == []


def test_a_bad_nested_object_reports_the_inner_reason_not_any_of() -> None:
    data = sample("purchase_order")
    data["parties"][0]["address"] = {"country": "Germany"}
    assert _errors("purchase_order", data) == [{
        "pointer": "/parties/0/address/country", "keyword": "pattern",
        "message": "'Germany' does not match '^[A-Z]{2}$'"}]


def test_enum_value_outside_the_contract() -> None:
    data = sample("order_response")
    data["status"] = "maybe"
    (error,) = _errors("order_response", data)
    assert (error["pointer"], error["keyword"]) == ("/status", "enum")


def _as_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A payload without the fields later versions added (identifiers ...)."""
    out = {k: v for k, v in data.items()}
    out["lines"] = [{k: v for k, v in line.items()
                     if k not in ("identifiers", "manufacturer_part")} for line in data["lines"]]
    return out


def test_gtin_with_wrong_check_digit_is_refused_by_v1_only() -> None:
    # v1 asserted the GS1 check digit; from v2 on a wrong one is kept as sent (the translation
    # reports it as a data-quality warning instead of losing the event).
    data = sample("purchase_order")
    data["lines"][0]["gtin"] = "4006381333932"
    assert _errors("purchase_order", _as_v1(data), 1) == [{
        "pointer": "/lines/0/gtin", "keyword": "format",
        "message": "'4006381333932' is not a valid gtin"}]
    assert _errors("purchase_order", data) == []


def test_gln_is_checked_only_when_the_qualifier_says_gs1_in_v1() -> None:
    data = sample("invoice")
    data["parties"][1]["id"] = "4012345000008"  # wrong check digit, qualifier "9" (GS1)
    assert [e["pointer"] for e in _errors("invoice", _as_v1(data), 1)] == ["/parties/1/id"]
    assert _errors("invoice", data) == []  # v2: kept as sent (a translation warning)
    data["parties"][1]["id_qualifier"] = "92"  # buyer-assigned: any text
    assert _errors("invoice", _as_v1(data), 1) == []


@pytest.mark.parametrize(("value", "ok"), [
    ("2025-02-28", True), ("2024-02-29", True), ("2025-02-29", False), ("20250228", False),
    ("2025-W05-1", False), ("2025-2-8", False), ("", False)])
def test_date_format_is_strict(value: str, ok: bool) -> None:
    assert is_date(value) is ok
    data = sample("invoice")
    data["invoice_date"] = value
    assert (_errors("invoice", data) == []) is ok


@pytest.mark.parametrize(("value", "ok"), [
    ("2025-02-01T06:00:00Z", True), ("2025-02-01T06:00:00.123+01:00", True),
    ("2016-12-31T23:59:60Z", True), ("2025-02-01T06:00:00", False),
    ("2025-02-01 06:00", False), ("2025-02-30T06:00:00Z", False), ("2025-02-01T24:00:00Z", False)])
def test_date_time_needs_rfc3339_with_offset(value: str, ok: bool) -> None:
    assert is_date_time(value) is ok


def test_gs1_identifiers() -> None:
    assert is_gtin("4006381333931") and is_gtin("96385074") and is_gtin("036000291452")
    assert is_gtin("10036000291459") and not is_gtin("4006381333930")
    assert not is_gtin("400638133393") and not is_gtin("40063813339３1")
    assert is_gln("4012345000009") and not is_gln("4012345000001")
    assert is_sscc("106141411234567897") and not is_sscc("106141411234567898")  # GS1 example


def test_wrong_types_are_reported_not_raised() -> None:
    data = sample("stock")
    data["items"][0]["on_hand"] = "12"
    data["items"].append("not an object")
    pointers = [(e["pointer"], e["keyword"]) for e in _errors("stock", data)]
    assert pointers == [("/items/0/on_hand", "type"), ("/items/1", "type")]
    assert _errors("stock", ["not", "a", "dict"])[0]["keyword"] == "type"
    assert _errors("stock", None)[0]["pointer"] == ""


def test_a_hostile_payload_gets_a_capped_error_list() -> None:
    data = {"supplier": "s", "items": [{"part": "p", "period_start": "x", "capacity": -1}
                                       for _ in range(5000)]}
    found = _errors("supplier_capacity", data)
    assert len(found) == MAX_ERRORS + 1
    assert found[-1]["keyword"] == "maxErrors"


def test_oversized_strings_and_lists_are_refused_without_echoing_them() -> None:
    data = sample("demand")
    data["site"] = "x" * 100_000
    (error,) = _errors("demand", data)
    assert error["pointer"] == "/site" and error["keyword"] == "maxLength"
    assert len(error["message"]) <= 300


def test_deeply_nested_garbage_is_an_error_not_a_crash() -> None:
    nested: Any = {}
    for _ in range(500):
        nested = {"a": nested}
    data = sample("demand")
    data["lines"][0]["unit"] = nested
    assert [e["pointer"] for e in _errors("demand", data)] == ["/lines/0/unit"]


def test_unknown_type_or_version_raises_a_clear_lookup_error() -> None:
    registry = default_registry()
    with pytest.raises(UnknownSchemaError, match="unknown event type 'shipment'"):
        registry.validate("shipment", 1, {})
    with pytest.raises(UnknownSchemaError, match=r"has no version 9 \(known: v1, v2, v3\)"):
        registry.validate("despatch_advice", 9, {})


def _mutations(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """Every leaf path of a payload, each with hostile replacement values."""
    if isinstance(value, dict):
        return [m for k, v in value.items() for m in _mutations(v, (*path, k))]
    if isinstance(value, list):
        return [m for i, v in enumerate(value) for m in _mutations(v, (*path, i))]
    odd: list[Any] = [None, -1, 0.5, "", "x" * 600, "2025-13-01", "０１２３", True, {"a": 1}, []]
    return [(path, o) for o in odd]


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy_ = json.loads(json.dumps(data))
    target = copy_
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy_


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_fast_path_agrees_with_the_reference_validator(event_type: str) -> None:
    """The accelerated yes/no must never call valid what the reference rejects (or back)."""
    validator = default_registry().get(event_type).validator
    assert validator.fast is not None, "jsonschema_rs is installed with the test extra"
    data = sample(event_type)
    for path, odd in _mutations(data):
        mutated = _set(data, path, odd)
        reference_ok = not list(validator.reference.iter_errors(mutated))
        assert validator.fast.is_valid(mutated) is reference_ok, (path, odd)


def test_a_broken_schema_fails_at_load_with_the_reference_message() -> None:
    from jsonschema.exceptions import SchemaError

    from schemas.validation import compile_validator

    with pytest.raises(SchemaError, match="12 is not valid"):
        compile_validator({"$schema": "https://json-schema.org/draft/2020-12/schema",
                           "type": 12})
    assert compile_validator({"type": "object"}).is_valid({})
