"""Rendering outbound documents: envelopes, dialects, escaping and refusals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from translators.render import ControlNumbers, RenderError, RenderProfile, render_document
from translators.syntax.tree import Delimiters

NOW = datetime(2024, 3, 1, 12, 30)
CONTROL = ControlNumbers(interchange=42, group=7, message=3)


def _profile(standard: str = "x12", version: str = "004010", **kw: Any) -> RenderProfile:
    return RenderProfile(standard=standard, version=version, sender_id="BUYER",  # type: ignore[arg-type]
                         sender_qualifier="ZZ", receiver_id="SUPPLIER", receiver_qualifier="ZZ",
                         **kw)


def _po(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "order_number": "PO-1", "order_date": "2024-03-01", "purpose": "original",
        "order_type": "SA", "currency": "EUR",
        "parties": [{"role": "supplier", "id": "SUP1", "id_qualifier": "92", "name": "Acme"}],
        "lines": [{"line_number": "1", "buyer_part": "B-1", "quantity": 12.5, "unit": "KGM",
                   "unit_price": 3.25, "requested_delivery_date": "2024-03-11"}],
    }
    data.update(overrides)
    return data


def test_x12_850_exact_document() -> None:
    out = render_document("purchase_order", _po(), profile=_profile(), control=CONTROL, now=NOW)
    assert out.decode("ascii") == (
        "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SUPPLIER       *240301*1230*U*"
        "00401*000000042*0*P*>~"
        "GS*PO*BUYER*SUPPLIER*20240301*1230*7*X*004010~"
        "ST*850*0003~"
        "BEG*00*SA*PO-1**20240301~"
        "CUR*BY*EUR~"
        "N1*SU*Acme*92*SUP1~"
        "PO1*1*12.5*KG*3.25**BP*B-1~"  # KGM -> X12 KG
        "DTM*002*20240311~"
        "CTT*1~"
        "SE*8*0003~"
        "GE*1*7~"
        "IEA*1*000000042~")


def test_x12_isa_is_fixed_width() -> None:
    out = render_document("purchase_order", _po(), profile=_profile(), control=CONTROL, now=NOW)
    assert len(out.split(b"~")[0]) == 105  # 106 with the terminator


def test_x12_5010_envelope_test_indicator_and_suffix() -> None:
    profile = _profile(version="005010", test_indicator=True, segment_suffix="\r\n")
    out = render_document("purchase_order", _po(), profile=profile, control=CONTROL, now=NOW)
    lines = out.decode().split("\r\n")
    isa = lines[0].split("*")
    assert (isa[11], isa[12], isa[15]) == ("^", "00501", "T")  # repetition sep, version, test
    assert lines[1].endswith("*X*005010~")
    assert lines[2] == "ST*850*0003*005010~"
    assert lines[-1] == ""  # every segment, the last one too, is followed by the suffix


def test_x12_refuses_data_holding_a_delimiter() -> None:
    data = _po(parties=[{"role": "buyer", "name": "A*B Corp"}])
    with pytest.raises(RenderError, match=r"N102 value 'A\*B Corp' contains the delimiter '\*'"):
        render_document("purchase_order", data, profile=_profile(), control=CONTROL, now=NOW)


def test_x12_custom_delimiters_allow_the_default_ones_in_data() -> None:
    delimiters = Delimiters(segment="!", element="|", component="@", repetition="")
    data = _po(parties=[{"role": "buyer", "name": "A*B~C"}])
    out = render_document("purchase_order", data, profile=_profile(delimiters=delimiters),
                          control=CONTROL, now=NOW).decode()
    assert "N1|BY|A*B~C!" in out
    assert out.split("!")[0].endswith("|@")  # ISA16 is the component separator


def test_x12_refuses_non_ascii() -> None:
    data = _po(parties=[{"role": "buyer", "name": "Müller"}])
    with pytest.raises(RenderError, match="not printable ASCII"):
        render_document("purchase_order", data, profile=_profile(), control=CONTROL, now=NOW)


def test_edifact_orders_envelope_and_escaping() -> None:
    data = _po(parties=[{"role": "buyer", "name": "O'Neil + Sons? 1:1"}])
    out = render_document("purchase_order", data, profile=_profile("edifact", "D96A"),
                          control=CONTROL, now=NOW).decode("latin-1")
    segments = out.split("'")
    assert out.startswith("UNA:+.? 'UNB+UNOC:3+BUYER:ZZ+SUPPLIER:ZZ+240301:1230+42'")
    assert "UNH+3+ORDERS:D:96A:UN'" in out
    assert "NAD+BY+++O?'Neil ?+ Sons?? 1?:1'" in out
    assert "QTY+21:12.5:KGM'" in out
    assert out.endswith("UNZ+1+42'")
    unt = next(s for s in out.split("'") if s.startswith("UNT"))
    assert unt == "UNT+13+3"
    assert len(segments) > 10


def test_edifact_decimal_comma_profile() -> None:
    delimiters = Delimiters(segment="'", element="+", component=":", release="?", decimal=",")
    out = render_document("purchase_order", _po(),
                          profile=_profile("edifact", "D96A", delimiters=delimiters),
                          control=CONTROL, now=NOW).decode()
    assert out.startswith("UNA:+,? '")
    assert "QTY+21:12,5:KGM'" in out and "PRI+AAA:3,25'" in out


def test_edifact_d01b_uses_syntax_4_dates_and_test_flag() -> None:
    out = render_document("purchase_order", _po(),
                          profile=_profile("edifact", "D01B", test_indicator=True,
                                           charset="UNOY"),
                          control=CONTROL, now=NOW).decode("utf-8")
    assert "UNB+UNOY:4+BUYER:ZZ+SUPPLIER:ZZ+20240301:1230+42++++++1'" in out
    assert "UNH+3+ORDERS:D:01B:UN'" in out


def test_edifact_character_sets() -> None:
    data = _po(parties=[{"role": "buyer", "name": "Müller 東京"}])
    utf8 = render_document("purchase_order", data, profile=_profile("edifact", "D96A",
                                                                    charset="UNOY"),
                           control=CONTROL, now=NOW)
    assert "Müller 東京".encode() in utf8
    with pytest.raises(RenderError, match=r"'東京' cannot be written in latin-1 \(charset UNOC\)"):
        render_document("purchase_order", data, profile=_profile("edifact", "D96A"),
                        control=CONTROL, now=NOW)
    lower = _po(parties=[{"role": "buyer", "name": "Acme"}])
    with pytest.raises(RenderError, match="character 'c' is not in the UNOA character set"):
        render_document("purchase_order", lower,
                        profile=_profile("edifact", "D96A", charset="UNOA"),
                        control=CONTROL, now=NOW)


def test_long_names_continue_in_the_next_component() -> None:
    name = "The Very Long Name Of A Supplier Company Limited"
    out = render_document("purchase_order", _po(parties=[{"role": "supplier", "name": name}]),
                          profile=_profile("edifact", "D96A"), control=CONTROL,
                          now=NOW).decode()
    assert "NAD+SU+++The Very Long Name Of A Supplier:Company Limited'" in out
    with pytest.raises(RenderError, match="does not fit"):
        render_document("purchase_order", _po(parties=[{"role": "supplier", "name": "x" * 36}]),
                        profile=_profile("edifact", "D96A"), control=CONTROL, now=NOW)


@pytest.mark.parametrize(("event_type", "data", "message"), [
    ("purchase_order", _po(order_number=None), "required field 'order_number' is missing"),
    ("purchase_order", _po(lines=[]), "required field 'lines' is missing"),
    ("purchase_order", _po(lines=[{"line_number": "1"}]), "required field 'quantity'"),
    ("purchase_order", _po(order_date="01.03.2024"), "not an ISO date"),
    ("purchase_order", _po(lines=[{"line_number": "1", "quantity": "many"}]), "not a number"),
    ("purchase_order", _po(parties=[{"role": "boss"}]), "no code for value 'boss'"),
    ("invoice", {"invoice_number": "1"}, "no X12 document is rendered for event type 'invoice'"),
    ("delivery_schedule", {"schedule_number": "S"}, "required field 'items'"),
])
def test_bad_payloads_get_one_clear_error(event_type: str, data: Any, message: str) -> None:
    with pytest.raises(RenderError, match=message):
        render_document(event_type, data, profile=_profile(), control=CONTROL, now=NOW)


@pytest.mark.parametrize(("profile", "control", "message"), [
    (_profile(version="003040"), CONTROL, "X12 version '003040'"),
    (_profile("edifact", "D93A"), CONTROL, "EDIFACT version 'D93A'"),
    (_profile("edifact", "D96A", charset="UNOZ"), CONTROL, "charset 'UNOZ'"),
    (_profile(segment_suffix="\t"), CONTROL, "segment_suffix"),
    (_profile(), ControlNumbers(0, 1, 1), "interchange=0"),
    (_profile(), ControlNumbers(1, 10**9, 1), "group=1000000000"),
    (RenderProfile("x12", "004010", "A" * 16, "ZZ", "B", "ZZ"), CONTROL, "longer than 15"),
    (RenderProfile("x12", "004010", " ", "ZZ", "B", "ZZ"), CONTROL, "sender_id is empty"),
    (_profile(delimiters=Delimiters("~", "*", "*")), CONTROL, "must be distinct"),
    (_profile(delimiters=Delimiters("~", "A", ">")), CONTROL, "non-alphanumeric"),
    (_profile(delimiters=Delimiters("~", "*", ">", release="?")), CONTROL, "no release"),
    (_profile(version="005010", delimiters=Delimiters("~", "*", ">")), CONTROL,
     "needs a repetition separator"),
    (_profile("edifact", "D96A", delimiters=Delimiters("'", "+", ":", decimal=";")), CONTROL,
     "decimal mark"),
])
def test_bad_profiles_are_refused(profile: RenderProfile, control: ControlNumbers,
                                  message: str) -> None:
    with pytest.raises(RenderError, match=message):
        render_document("purchase_order", _po(), profile=profile, control=control, now=NOW)


def test_payload_must_be_an_object() -> None:
    with pytest.raises(RenderError, match="must be a JSON object"):
        render_document("purchase_order", ["x"], profile=_profile(),  # type: ignore[arg-type]
                        control=CONTROL, now=NOW)


def test_schedules_choose_the_document_by_schedule_type() -> None:
    base = {"schedule_number": "S-1", "issue_date": "2024-03-01", "horizon_start": "2024-03-04",
            "horizon_end": "2024-03-31",
            "items": [{"buyer_part": "B-1", "unit": "EA",
                       "periods": [{"start": "2024-03-04", "quantity": 5}]}]}
    for schedule_type, x12_type, edifact_type in (("forecast", "ST*830", "DELFOR"),
                                                  ("firm", "ST*862", "DELJIT")):
        data = {**base, "schedule_type": schedule_type}
        x12 = render_document("delivery_schedule", data, profile=_profile(), control=CONTROL,
                              now=NOW)
        assert x12_type.encode() in x12
        edi = render_document("delivery_schedule", data, profile=_profile("edifact", "D96A"),
                              control=CONTROL, now=NOW)
        assert f"+{edifact_type}:D:96A:UN'".encode() in edi
