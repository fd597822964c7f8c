"""CloudEvents envelopes: what we build is valid, what producers send is checked, never raised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from schemas import UnknownSchemaError, default_registry
from schemas.envelope import api_event_envelope, edi_event_envelope
from tests.schemas.samples import DESPATCH_V1, event, sample

NOW = datetime(2025, 2, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))


def _edi(**overrides: object) -> dict[str, object]:
    arguments: dict[str, object] = dict(
        event_id="ev-1", event_type="despatch_advice", version=2, partner="nova",
        interchange_id="ic-42", time=NOW, subject="S-77",
        control_numbers={"interchange": "000000123", "group": 7, "message": "0001"})
    arguments.update(overrides)
    return edi_event_envelope(**arguments)  # type: ignore[arg-type]


def test_edi_envelope_has_cloudevents_attributes_and_lineage() -> None:
    assert _edi() == {
        "specversion": "1.0", "id": "ev-1", "source": "/partners/nova/edi",
        "type": "com.edigate.despatch_advice",
        "dataschema": "https://edigate.dev/schemas/despatch_advice/v2.json",
        "datacontenttype": "application/json", "time": "2025-02-01T08:30:00Z",
        "subject": "S-77", "partner": "nova", "path": "edi", "interchangeid": "ic-42",
        "interchangecontrol": "000000123", "groupcontrol": "7", "messagecontrol": "0001"}


def test_edi_envelope_with_data_validates_and_names_its_version() -> None:
    registry = default_registry()
    full = {**_edi(version=1), "data": DESPATCH_V1}
    assert registry.validate_event(full) == []
    assert registry.type_and_version(full) == ("despatch_advice", 1)


def test_missing_control_numbers_are_left_out_and_naive_time_refused() -> None:
    envelope = _edi(control_numbers={"interchange": "1", "group": None})
    assert "groupcontrol" not in envelope and "messagecontrol" not in envelope
    with pytest.raises(ValueError, match="timezone-aware"):
        _edi(time=datetime(2025, 2, 1))


def test_api_envelope_validates() -> None:
    envelope = api_event_envelope(event_id="a-1", event_type="stock", version=1,
                                  partner="plant-erp", time=NOW.astimezone(UTC), subject="k")
    assert envelope["source"] == "/partners/plant-erp" and envelope["path"] == "api"
    assert default_registry().validate_event({**envelope, "data": sample("stock")}) == []


@pytest.mark.parametrize(("attributes", "expected"), [
    ({"type": "despatch_advice"}, ("despatch_advice", 3)),
    ({"type": "com.edigate.despatch_advice"}, ("despatch_advice", 3)),
    ({"type": "com.edigate.despatch_advice.v1"}, ("despatch_advice", 1)),
    ({"type": "despatch_advice", "dataschemaversion": 1}, ("despatch_advice", 1)),
    ({"type": "despatch_advice",
      "dataschema": "https://edigate.dev/schemas/despatch_advice/v1.json"}, ("despatch_advice", 1)),
    ({"type": "despatch_advice", "dataschema": "/schemas/despatch_advice/1"},
     ("despatch_advice", 1)),
])
def test_type_and_version_forms(attributes: dict[str, object],
                                expected: tuple[str, int]) -> None:
    full = event("despatch_advice", DESPATCH_V1, **attributes)
    registry = default_registry()
    assert registry.type_and_version(full) == expected
    assert registry.validate_event(full) == []


def test_disagreeing_versions_are_an_error() -> None:
    full = event("despatch_advice", DESPATCH_V1, type="com.edigate.despatch_advice.v2",
                 dataschemaversion=1)
    assert default_registry().validate_event(full) == [{
        "pointer": "/dataschemaversion", "keyword": "const",
        "message": "versions disagree: type says v2, dataschemaversion says v1"}]
    with pytest.raises(UnknownSchemaError, match="versions disagree"):
        default_registry().type_and_version(full)


def test_a_v1_producer_sending_a_v2_field_gets_a_pointer_to_it() -> None:
    full = event("despatch_advice", dict(DESPATCH_V1, carrier="DHL"), dataschemaversion=1)
    assert [e["pointer"] for e in default_registry().validate_event(full)] == ["/data/carrier"]


@pytest.mark.parametrize(("change", "pointer", "keyword"), [
    ({"type": "shipment"}, "/type", "enum"),
    ({"type": "com.edigate.stock.v3"}, "/type", "enum"),
    ({"type": "Stock Report"}, "/type", "pattern"),
    ({"type": None}, "/type", "required"),
    ({"specversion": "0.3"}, "/specversion", "const"),
    ({"specversion": None}, "/specversion", "required"),
    ({"id": ""}, "/id", "required"),
    ({"source": 5}, "/source", "required"),
    ({"time": "yesterday"}, "/time", "format"),
    ({"datacontenttype": "application/xml"}, "/datacontenttype", "const"),
    ({"data": "text"}, "/data", "type"),
    ({"dataschema": "https://example.com/other"}, "/dataschema", "format"),
    ({"dataschema": "https://edigate.dev/schemas/demand/v1.json"}, "/dataschema", "const"),
    ({"dataschemaversion": "1"}, "/dataschemaversion", "type"),
    ({"path": "ftp"}, "/path", "enum"),
    ({"interchange_id": "x"}, "/interchange_id", "pattern"),
    ({"lineage": {"a": 1}}, "/lineage", "type"),
    ({"data_base64": "AAAA"}, "/data_base64", "unsupported"),
])
def test_bad_envelopes_come_back_as_errors(change: dict[str, object], pointer: str,
                                           keyword: str) -> None:
    full = event("stock", **change)
    errors = default_registry().validate_event(full)
    assert (pointer, keyword) in [(e["pointer"], e["keyword"]) for e in errors], errors


def test_missing_data_and_non_objects_are_errors() -> None:
    registry = default_registry()
    full = event("stock")
    del full["data"]
    assert [e["pointer"] for e in registry.validate_event(full)] == ["/data"]
    assert registry.validate_event(["not", "an", "event"])[0]["keyword"] == "type"  # type: ignore[arg-type]


def test_payload_errors_are_prefixed_with_data() -> None:
    data = sample("stock")
    data["items"][0]["on_hand"] = None
    errors = default_registry().validate_event(event("stock", data))
    assert [(e["pointer"], e["keyword"]) for e in errors] == [("/data/items/0/on_hand", "type")]
