"""Acknowledgments we send read back into the same error model (what a partner's 997/999/CONTRL
about our documents becomes)."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from tests.translators.edi_builders import ORDERS, PO_850, edifact, x12
from translators import build_acknowledgments, translate

NOW = datetime(2026, 3, 4, 5, 6)
BAD_850 = ["BEG*99*SA*PO-1001**20261340", "ZZZ*1", *PO_850[1:]]
BAD_ORDERS = ["BGM+220+PO-2001+99", *ORDERS[1:4], "QTY+21:.5:PCE", *ORDERS[5:]]


def _round_trip(data: bytes, x12_ack: str | None = None):  # type: ignore[no-untyped-def]
    original = translate(data)
    counter = itertools.count(1)
    docs = build_acknowledgments(original, lambda s: next(counter), NOW, x12_ack=x12_ack)
    functional = [d for d in docs if d.kind != "TA1"]
    assert len(functional) == 1
    return original, translate(functional[0].data)


@pytest.mark.parametrize(("data", "ack"), [(x12(BAD_850), None), (x12(BAD_850), "999"),
                                           (x12(BAD_850, version="005010"), None),
                                           (edifact(BAD_ORDERS), None)])
def test_our_ack_reads_back_as_the_same_faults(data: bytes, ack: str | None) -> None:
    original, answer = _round_trip(data, ack)
    assert answer.ok, answer.error_report()
    ack_message = answer.messages[0]
    assert ack_message.status == "accepted"
    assert ack_message.event.event_type == "functional_ack"
    payload = ack_message.event.data
    assert payload["status"] == "rejected"
    sent = original.messages[0]
    acked = payload["messages"][0]
    assert acked["control_number"] == sent.message_control
    assert acked["status"] == "rejected"
    expected = sorted((e.kind, e.segment_position, e.element_position) for e in sent.errors)
    got = sorted((e.kind, e.segment_position, e.element_position)
                 for e in ack_message.reported_errors if e.kind != "message.reported"
                 and e.segment_position is not None)
    assert got == expected


def test_accepted_ack_payload() -> None:
    _, answer = _round_trip(x12(PO_850))
    payload = answer.messages[0].event.data
    assert payload == {"ack_type": "997", "acknowledged_group": "77", "status": "accepted",
                       "messages": [{"control_number": "0001", "message_type": "850",
                                     "status": "accepted"}]}
    assert answer.messages[0].event.business_key == "997/77"


def test_contrl_payload_business_key() -> None:
    _, answer = _round_trip(edifact(ORDERS))
    event = answer.messages[0].event
    assert event.data["acknowledged_interchange"] == "IC42"
    assert event.data["status"] == "accepted"
    assert event.business_key == "CONTRL/IC42"


def test_ta1_read_back() -> None:
    data = x12(PO_850).decode().replace("IEA*1*000000123", "IEA*1*000000999").encode()
    counter = itertools.count(1)
    docs = build_acknowledgments(translate(data), lambda s: next(counter), NOW)
    ta1 = next(d for d in docs if d.kind == "TA1")
    answer = translate(ta1.data)
    event = answer.messages[0].event
    assert answer.messages[0].message_type == "TA1"
    assert event.data["acknowledged_interchange"] == "000000123"
    assert event.data["status"] == "accepted_with_errors"
    assert [e.kind for e in answer.messages[0].reported_errors] == [
        "interchange.control_mismatch"]


def test_functional_ack_payloads_match_schema() -> None:
    import jsonschema

    from schemas.registry import Registry

    schema = Registry.from_directory().json_schema("functional_ack", 1)
    for data in (x12(BAD_850), x12(BAD_850, version="005010"), edifact(BAD_ORDERS)):
        _, answer = _round_trip(data)
        jsonschema.validate(answer.messages[0].event.data, schema)
