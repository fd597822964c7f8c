"""event -> EDI -> event is the identity for every outbound document, in both standards."""

from __future__ import annotations

import string
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import default_registry
from translators.mapping import to_event
from translators.render import ControlNumbers, RenderProfile, render_document
from translators.syntax import parse

NOW = datetime(2024, 3, 1, 12, 30)
DIALECTS = [("x12", "004010"), ("x12", "005010"), ("edifact", "D96A"), ("edifact", "D01B")]

# X12 has no escape character, so X12 payloads avoid its delimiters; EDIFACT payloads use the
# release character for them and get them on purpose.
X12_TEXT = string.ascii_letters + string.digits + " -./()&#"
EDIFACT_TEXT = X12_TEXT + "?'+:*äöüÄÖÜß"


def _text(alphabet: str, max_size: int = 20) -> st.SearchStrategy[str]:
    # The mapper strips surrounding blanks (fixed-width senders pad), so payloads have none.
    return st.text(alphabet, min_size=1, max_size=max_size).map(str.strip).filter(bool)


def _gtin(body: str) -> str:
    digits = [int(c) for c in reversed(body)]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits))
    return body + str((10 - total % 10) % 10)


GTINS = st.sampled_from([7, 11, 12, 13]).flatmap(
    lambda n: st.text(string.digits, min_size=n, max_size=n)).map(_gtin)
DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)).map(date.isoformat)
QUANTITIES = st.one_of(st.integers(0, 10**9), st.integers(1, 10**9).map(lambda n: n / 1000))
PRICES = st.integers(0, 10**8).map(lambda n: n / 100)
UNITS = st.sampled_from(["EA", "KGM", "LBR", "PCE", "C62", "CS", "MTR", "LTR", "DZN"])
ROLES = st.sampled_from(["buyer", "seller", "ship_to", "ship_from", "bill_to", "supplier",
                         "carrier", "other"])


def _optional(draw: st.DrawFn, out: dict[str, Any], name: str, strategy: Any) -> None:
    if draw(st.booleans()):
        out[name] = draw(strategy)


GLNS = ("4012345000009", "5601234000016", "7312345000014", "9012345000011")


@st.composite
def parties(draw: st.DrawFn, alphabet: str) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(0, 3))):
        party: dict[str, Any] = {"role": draw(ROLES), "name": draw(_text(alphabet, 35))}
        if draw(st.booleans()):
            qualifier = draw(st.sampled_from(["92", "ZZZ", "16", "91", "9"]))
            party["id_qualifier"] = qualifier
            # "9" declares a GS1 GLN, whose check digit the schema verifies.
            party["id"] = (GLNS[draw(st.integers(0, len(GLNS) - 1))] if qualifier == "9"
                           else draw(_text(string.ascii_uppercase + string.digits, 17)))
        address: dict[str, Any] = {}
        _optional(draw, address, "street", _text(alphabet, 35))
        _optional(draw, address, "city", _text(alphabet, 30))
        _optional(draw, address, "postal_code", _text(string.digits, 9))
        _optional(draw, address, "country", st.sampled_from(["US", "DE", "FR"]))
        if address:
            party["address"] = address
        out.append(party)
    return out


def _line_numbers(count: int) -> st.SearchStrategy[list[str]]:
    return st.lists(st.integers(1, 99999).map(str), min_size=count, max_size=count,
                    unique=True)


@st.composite
def purchase_orders(draw: st.DrawFn, standard: str) -> dict[str, Any]:
    alphabet = X12_TEXT if standard == "x12" else EDIFACT_TEXT
    data: dict[str, Any] = {
        "order_number": draw(_text(string.ascii_uppercase + string.digits + "-", 22)),
        "order_date": draw(DATES),
        "purpose": draw(st.sampled_from(["original", "replace", "cancel", "confirmation",
                                         "other"])),
        "order_type": draw(st.sampled_from(["SA", "NE"] if standard == "x12"
                                           else ["220", "221", "226"])),
    }
    _optional(draw, data, "currency", st.sampled_from(["EUR", "USD"]))
    _optional(draw, data, "requested_delivery_date", DATES)
    found = draw(parties(alphabet))
    if found:
        data["parties"] = found
    lines = []
    numbers = draw(_line_numbers(draw(st.integers(1, 4))))
    for number in numbers:
        line: dict[str, Any] = {"line_number": number, "quantity": draw(QUANTITIES)}
        _optional(draw, line, "buyer_part", _text(string.ascii_uppercase + string.digits, 20))
        _optional(draw, line, "supplier_part", _text(string.ascii_uppercase + string.digits, 20))
        _optional(draw, line, "gtin", GTINS)
        _optional(draw, line, "description", _text(alphabet, 35))
        _optional(draw, line, "unit", UNITS)
        _optional(draw, line, "unit_price", PRICES)
        _optional(draw, line, "requested_delivery_date", DATES)
        lines.append(line)
    data["lines"] = lines
    return data


@st.composite
def order_changes(draw: st.DrawFn, standard: str) -> dict[str, Any]:
    alphabet = X12_TEXT if standard == "x12" else EDIFACT_TEXT
    data: dict[str, Any] = {
        "order_number": draw(_text(string.ascii_uppercase + string.digits, 22)),
        "change_number": draw(st.integers(1, 999).map(str)),
        "change_date": draw(DATES),
        "purpose": draw(st.sampled_from(["original", "replace", "cancel", "other"])),
    }
    found = draw(parties(alphabet))
    if found:
        data["parties"] = found
    lines = []
    for number in draw(_line_numbers(draw(st.integers(1, 4)))):
        line: dict[str, Any] = {
            "line_number": number,
            "change": draw(st.sampled_from(["add", "cancel", "quantity", "price", "date",
                                            "replace", "other"])),
        }
        _optional(draw, line, "buyer_part", _text(string.ascii_uppercase + string.digits, 20))
        _optional(draw, line, "supplier_part", _text(string.ascii_uppercase + string.digits, 20))
        _optional(draw, line, "quantity", QUANTITIES)
        if "quantity" in line:
            _optional(draw, line, "unit", UNITS)
        _optional(draw, line, "unit_price", PRICES)
        _optional(draw, line, "requested_delivery_date", DATES)
        lines.append(line)
    data["lines"] = lines
    return data


@st.composite
def delivery_schedules(draw: st.DrawFn, standard: str, schedule_type: str,
                       version: str = "") -> dict[str, Any]:
    alphabet = X12_TEXT if standard == "x12" else EDIFACT_TEXT
    start, end = sorted(draw(st.lists(DATES, min_size=2, max_size=2)))
    data: dict[str, Any] = {
        "schedule_number": draw(_text(string.ascii_uppercase + string.digits, 20)),
        "schedule_type": schedule_type,
        "issue_date": draw(DATES), "horizon_start": start, "horizon_end": end,
    }
    found = draw(parties(alphabet))
    if found:
        data["parties"] = found
    items = []
    for _ in range(draw(st.integers(1, 3))):
        item: dict[str, Any] = {"unit": draw(UNITS)}
        _optional(draw, item, "buyer_part", _text(string.ascii_uppercase + string.digits, 20))
        _optional(draw, item, "supplier_part", _text(string.ascii_uppercase + string.digits, 20))
        _optional(draw, item, "order_number", _text(string.ascii_uppercase + string.digits, 20))
        _optional(draw, item, "cumulative_received", QUANTITIES)
        periods = []
        for _ in range(draw(st.integers(1, 4))):
            period: dict[str, Any] = {"start": draw(DATES), "quantity": draw(QUANTITIES)}
            if draw(st.booleans()):
                period["end"] = max(period["start"], draw(DATES))
            _optional(draw, period, "commitment", st.sampled_from(["firm", "planned",
                                                                   "forecast"]))
            if standard == "x12":  # FST02 is mandatory: X12 always states the commitment
                period.setdefault("commitment", "forecast")
            elif schedule_type == "forecast" and version == "D01B":
                # from D96B a DELFOR period sits in an SCC group (SCC mandatory): stated too
                period.setdefault("commitment", "forecast")
            periods.append(period)
        item["periods"] = periods
        items.append(item)
    data["items"] = items
    return data


def _back(event_type: str, data: dict[str, Any], standard: str, version: str) -> Any:
    profile = RenderProfile(standard=standard, version=version,  # type: ignore[arg-type]
                            sender_id="BUYER", sender_qualifier="ZZ", receiver_id="SUPPLIER",
                            receiver_qualifier="ZZ",
                            charset="" if standard == "x12" else "UNOY",
                            segment_suffix="\n")
    raw = render_document(event_type, data, profile=profile,
                          control=ControlNumbers(interchange=5, group=6, message=7), now=NOW)
    result = parse(raw)
    assert not getattr(result, "errors", []), getattr(result, "errors", [])
    (interchange,) = result.interchanges
    (group,) = interchange.groups
    (message,) = group.messages
    event = to_event(message, interchange=interchange, group=group)
    assert event is not None
    assert event.event_type == event_type
    registry = default_registry()
    assert registry.validate(event_type, event.version, event.data) == []
    assert event.business_key == registry.business_key_of(event_type, event.data)
    _take_identifiers(event.data)
    return event


def _take_identifiers(value: Any) -> None:
    """Every line carries its identifiers list, and each convenient field comes from it: check
    that, then drop the lists (the rendered payloads do not have them)."""
    if isinstance(value, list):
        for item in value:
            _take_identifiers(item)
    elif isinstance(value, dict):
        if "identifiers" in value:
            ids = {i["id"] for i in value.pop("identifiers")}
            for name in ("buyer_part", "supplier_part", "gtin"):
                assert name not in value or value[name] in ids, (name, value)
        for item in value.values():
            _take_identifiers(item)


SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(("standard", "version"), DIALECTS)
@SETTINGS
@given(data=st.data())
def test_purchase_order_round_trip(standard: str, version: str, data: st.DataObject) -> None:
    payload = data.draw(purchase_orders(standard))
    event = _back("purchase_order", payload, standard, version)
    assert event.data == payload
    assert event.business_key == payload["order_number"]


@pytest.mark.parametrize(("standard", "version"), DIALECTS)
@SETTINGS
@given(data=st.data())
def test_order_change_round_trip(standard: str, version: str, data: st.DataObject) -> None:
    payload = data.draw(order_changes(standard))
    event = _back("order_change", payload, standard, version)
    assert event.data == payload


@pytest.mark.parametrize(("standard", "version"), DIALECTS)
@pytest.mark.parametrize("schedule_type", ["forecast", "firm"])
@SETTINGS
@given(data=st.data())
def test_delivery_schedule_round_trip(standard: str, version: str, schedule_type: str,
                                      data: st.DataObject) -> None:
    payload = data.draw(delivery_schedules(standard, schedule_type, version))
    event = _back("delivery_schedule", payload, standard, version)
    assert event.data == payload
