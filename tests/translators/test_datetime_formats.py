"""Date/time format codes (EDIFACT 2379, X12 1250 and DTM05) read by the tables in
translators/mapping/codes/*/date_formats.json, to ISO 8601 with the precision each code
carries; an unknown code is a warning and the value is left out, never a rejection."""

from __future__ import annotations

import pytest

from tests.translators.edi_builders import ORDERS, PO_850, edifact, x12
from translators import translate
from translators.mapping import to_event
from translators.mapping.values import (
    MappingError,
    Period,
    UnknownDateFormat,
    date_formats,
    parse_x12_date,
    parse_x12_time,
    read_period,
)
from translators.syntax import parse


@pytest.mark.parametrize(("raw", "fmt", "expected"), [
    ("20261207", "102", Period("2026-12-07", None, "2026-12-07", "day")),
    ("261207", "101", Period("2026-12-07", None, "2026-12-07", "day")),
    ("071226", "2", Period("2026-12-07", None, "2026-12-07", "day")),
    ("07122026", "4", Period("2026-12-07", None, "2026-12-07", "day")),
    ("2612071430", "201", Period("2026-12-07", None, "2026-12-07T14:30", "minute")),
    ("202612071430", "203", Period("2026-12-07", None, "2026-12-07T14:30", "minute")),
    ("20261207143005", "204", Period("2026-12-07", None, "2026-12-07T14:30:05", "second")),
    ("202612071430+01", "303", Period("2026-12-07", None, "2026-12-07T14:30+01", "minute")),
    ("202612071430UTC", "303", Period("2026-12-07", None, "2026-12-07T14:30[UTC]", "minute")),
    ("1430", "401", Period(None, None, "14:30", "minute")),
    ("1207", "106", Period(None, None, "--12-07", "day")),
    ("2026", "602", Period("2026-01-01", "2026-12-31", "2026", "year")),
    ("20264", "608", Period("2026-10-01", "2026-12-31", "2026-10-01/2026-12-31", "quarter")),
    ("202612", "610", Period("2026-12-01", "2026-12-31", "2026-12", "month")),
    ("202649", "616", Period("2026-11-30", "2026-12-06", "2026-W49", "week")),
    ("20261201-20261211", "718", Period("2026-12-01", "2026-12-11",
                                        "2026-12-01/2026-12-11", "day")),
    ("202612010600-202612011400", "719",
     Period("2026-12-01", "2026-12-01", "2026-12-01T06:00/2026-12-01T14:00", "minute")),
    ("2612071430-2612081200", "713",
     Period("2026-12-07", "2026-12-08", "2026-12-07T14:30/2026-12-08T12:00", "minute")),
    ("202650-202652", "715", Period("2026-12-07", "2026-12-27", "2026-W50/2026-W52", "week")),
    ("3", "804", Period(None, None, "P3D", "duration")),
    ("2", "803", Period(None, None, "P2W", "duration")),
    ("8", "805", Period(None, None, "PT8H", "duration")),
    ("1", "808", Period(None, None, "P6M", "duration")),
    ("202612071430", "102", Period("2026-12-07", None, "2026-12-07T14:30", "minute")),  # lenient
])
def test_edifact_format_codes(raw: str, fmt: str, expected: Period) -> None:
    assert read_period(raw, fmt) == expected


@pytest.mark.parametrize(("raw", "fmt", "century", "expected"), [
    ("20261207", "D8", None, Period("2026-12-07", None, "2026-12-07", "day")),
    ("261207", "D6", "19", Period("1926-12-07", None, "1926-12-07", "day")),
    ("202612071430", "DT", None, Period("2026-12-07", None, "2026-12-07T14:30", "minute")),
    ("20261201-20261207", "RD8", None, Period("2026-12-01", "2026-12-07",
                                              "2026-12-01/2026-12-07", "day")),
    ("202612", "CM", None, Period("2026-12-01", "2026-12-31", "2026-12", "month")),
    ("143005", "TS", None, Period(None, None, "14:30:05", "second")),
])
def test_x12_format_qualifiers(raw: str, fmt: str, century: str | None,
                               expected: Period) -> None:
    assert read_period(raw, fmt, "x12", century) == expected


def test_x12_dates_and_times() -> None:
    assert parse_x12_date("261207") == "2026-12-07"
    assert parse_x12_date("991207") == "1999-12-07"
    assert parse_x12_date("261207", "19") == "1926-12-07"  # DTM05 century wins
    assert parse_x12_time("1430") == "14:30"
    assert parse_x12_time("143005") == "14:30:05"
    assert parse_x12_time("1430055") == "14:30:05.5"
    assert parse_x12_time("14300512") == "14:30:05.12"
    with pytest.raises(MappingError):
        parse_x12_time("2460")


def test_the_tables_are_data_and_cover_the_supply_chain_codes() -> None:
    edifact_codes = set(date_formats("edifact"))
    assert {"102", "203", "204", "101", "201", "718", "616", "602", "610", "104", "106", "713",
            "719", "303", "401", "801", "802", "803", "804"} <= edifact_codes
    assert {"D8", "D6", "DT", "RD8", "TM"} <= set(date_formats("x12"))


def test_unknown_and_impossible_values() -> None:
    with pytest.raises(UnknownDateFormat):
        read_period("20261207", "999")
    with pytest.raises(MappingError, match="not a valid calendar date"):
        read_period("20260230", "102")
    with pytest.raises(MappingError, match="valid ISO week"):
        read_period("202654", "616")


def test_dtm_201_in_a_message_is_read_not_refused() -> None:
    body = [line.replace("DTM+137:20260105:102", "DTM+137:2601051430:201") for line in ORDERS]
    (message,) = translate(edifact(body)).messages
    assert message.status == "accepted"
    assert message.event.data["order_date"] == "2026-01-05"


def test_an_unknown_format_code_is_a_warning_and_the_message_is_accepted() -> None:
    body = [line.replace("DTM+137:20260105:102", "DTM+137:20260105:999") for line in ORDERS]
    (message,) = translate(edifact(body)).messages
    assert message.status == "accepted"
    assert message.event is not None and "order_date" not in message.event.data
    assert [(e.kind, e.severity, e.segment_tag, e.segment_position) for e in message.errors] == [
        ("data.date_format", "warning", "DTM", 3)]
    assert "'999' is not known" in message.errors[0].message


def test_x12_dtm_century_and_period_format() -> None:
    # DTM06 RD8 with its range in DTM07: the requested date is the range's first day (the
    # mapping facts; whether a grammar defines DTM07 is the grammar's business)
    body = [*PO_850[:1], "DTM*002*****RD8*20260110-20260115", *PO_850[1:]]
    (interchange,) = parse(x12(body)).interchanges
    group = interchange.groups[0]
    event = to_event(group.messages[0], interchange=interchange, group=group)
    assert event is not None and event.data["requested_delivery_date"] == "2026-01-10"
    # DTM05 century with a 6-digit DTM02
    body = [*PO_850[:1], "DTM*002*260110***19", *PO_850[1:]]
    (interchange,) = parse(x12(body)).interchanges
    group = interchange.groups[0]
    event = to_event(group.messages[0], interchange=interchange, group=group)
    assert event is not None and event.data["requested_delivery_date"] == "1926-01-10"
