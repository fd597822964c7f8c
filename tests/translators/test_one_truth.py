"""One truth: what the translation result, the JSON error report and the acknowledgment say
about a message is the same — a message whose event cannot be produced is rejected with the
reason; warnings (our data-quality findings) never decide a status or an error code."""

from __future__ import annotations

import itertools
from datetime import datetime

from tests.translators.edi_builders import ORDERS, PO_850, edifact, x12
from translators import build_acknowledgments, translate

NOW = datetime(2026, 3, 4, 5, 6)


def _acks(result) -> list[str]:
    counter = itertools.count(500)
    docs = build_acknowledgments(result, lambda scope: next(counter), NOW)
    text = b"".join(doc.data for doc in docs).decode()
    return [s.strip() for s in text.replace("\n", "").replace("'", "~").split("~") if s.strip()]


# An 850 line with a negative price: PO104 (R) may be negative, the event's unit_price not.
PO_NEGATIVE_PRICE = ["BEG*00*SA*PO-1001**20260105", "PO1*1*10*EA*-2.5**BP*PART-1", "CTT*1"]
# An ORDERS without any line: the grammar allows it, the purchase_order event does not.
ORDERS_WITHOUT_LINES = ["BGM+220+PO-2001+9", "DTM+137:20260105:102", "UNS+S"]


def test_x12_message_without_a_valid_event_is_rejected_in_the_997() -> None:
    result = translate(x12(PO_NEGATIVE_PRICE))
    (message,) = result.messages
    assert message.status == "rejected" and message.event is None
    (error,) = [e for e in message.errors if e.severity == "error"]
    assert error.kind == "event.invalid"
    assert "/lines/0/unit_price" in error.message
    assert error.extra["pointer"] == "/lines/0/unit_price"
    segments = _acks(result)
    assert "AK5*R*5" in segments and any(s.startswith("AK9*R*1*1*0") for s in segments)
    report = result.error_report()
    assert report["ok"] is False and report["error_count"] == 1
    assert report["messages"][0]["status"] == "rejected"
    assert report["errors"][0]["kind"] == "event.invalid"
    assert report["errors"][0]["codes"] == {"x12_ak5": "5", "edifact": "12"}


def test_edifact_message_without_a_valid_event_is_rejected_in_the_contrl() -> None:
    result = translate(edifact(ORDERS_WITHOUT_LINES))
    (message,) = result.messages
    assert message.status == "rejected" and message.event is None
    assert [e.kind for e in message.errors] == ["event.invalid"]
    assert "/lines" in message.errors[0].message
    segments = _acks(result)
    ucm = next(s for s in segments if s.startswith("UCM"))
    assert ucm.split("+")[3] == "4" and ucm.split("+")[4] == "12"  # rejected, invalid value


def test_a_bad_check_digit_is_a_warning_that_decides_no_code() -> None:
    body = [line.replace("4000862141404:SRS", "4000862141405:EN") for line in ORDERS]
    result = translate(edifact(body))
    (message,) = result.messages
    assert message.status == "accepted" and message.event is not None
    assert message.event.data["lines"][0]["gtin"] == "4000862141405"
    assert [(e.kind, e.severity, e.segment_tag) for e in message.errors] == [
        ("data.check_digit", "warning", "LIN")]
    ucm = next(s for s in _acks(result) if s.startswith("UCM"))
    assert ucm.split("+")[3] == "7" and len(ucm.split("+")) == 4  # accepted, no error code
    report = result.error_report()
    assert (report["error_count"], report["warning_count"]) == (0, 1)


def test_x12_warning_leaves_the_997_accepted() -> None:
    body = [line.replace("*VP*SUP-1", "*VP*SUP-1*UP*036000291453") for line in PO_850]
    result = translate(x12(body))
    (message,) = result.messages
    assert message.status == "accepted"
    assert [e.kind for e in message.errors] == ["data.check_digit"]
    assert message.event.data["lines"][0]["gtin"] == "036000291453"
    segments = _acks(result)
    assert "AK5*A" in segments and not any(s.startswith("AK3") for s in segments)


def test_party_gln_with_a_wrong_check_digit_is_kept_with_a_warning() -> None:
    body = [line.replace("NAD+BY+5412345000013::9", "NAD+BY+5412345000014::9")
            for line in ORDERS]
    result = translate(edifact(body))
    (message,) = result.messages
    assert message.status == "accepted"
    assert message.event.data["parties"][0]["id"] == "5412345000014"
    assert [(e.kind, e.severity) for e in message.errors] == [("data.check_digit", "warning")]
    assert "GLN" in message.errors[0].message


def test_strict_translation_rejects_the_whole_interchange_for_an_invalid_event() -> None:
    good = x12(PO_850)
    bad = x12(PO_NEGATIVE_PRICE)
    # two transaction sets in one group: the good one and the bad one
    start = good.index(b"ST*850")
    end = good.index(b"GE*")
    bad_set = bad[bad.index(b"ST*850"):bad.index(b"GE*")].replace(b"*0001", b"*0002")
    both = good[:end] + bad_set + good[end:].replace(b"GE*1*", b"GE*2*")
    assert start > 0
    lenient = translate(both)
    assert [m.status for m in lenient.messages] == ["accepted", "rejected"]
    strict = translate(both, lenient=False)
    assert [m.status for m in strict.messages] == ["rejected", "rejected"]
    assert all(m.event is None for m in strict.messages)
