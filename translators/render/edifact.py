"""Payload -> EDIFACT messages (ORDERS, ORDCHG, DELFOR, DELJIT) and their UNB envelope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from translators.mapping.values import format_edifact_date, format_edifact_range
from translators.render.build import code, num, required, seg, text
from translators.render.profile import ControlNumbers, RenderError, RenderProfile
from translators.syntax.tree import Delimiters, Group, Interchange, Message, Segment

# Kinds of change that EDIFACT 1229 cannot express are carried in FTX+CHG (see the code list).
_LINE_ACTIONS = {"add": "1", "cancel": "2", "other": "3"}
_NAME_PART = 35  # an..35 per C080/C059 component


class _Writer:
    """Builds one message body; knows the decimal mark of the interchange."""

    def __init__(self, decimal_mark: str) -> None:
        self.mark = decimal_mark

    def num(self, value: Any) -> str:
        return num(value, self.mark)

    @staticmethod
    def dtm(qualifier: str, value: Any) -> Segment:
        try:
            digits, fmt = format_edifact_date(str(value))
        except ValueError as exc:
            raise RenderError(str(exc)) from None
        return seg("DTM", [qualifier, digits, fmt])

    @staticmethod
    def dtm_range(qualifier: str, start: Any, end: Any) -> Segment:
        try:
            digits, fmt = format_edifact_range(str(start), str(end))
        except ValueError as exc:
            raise RenderError(str(exc)) from None
        return seg("DTM", [qualifier, digits, fmt])

    def parties(self, data: dict[str, Any]) -> list[Segment]:
        out = []
        for party in data.get("parties", []):
            address = party.get("address") or {}
            name = _split(text(party.get("name")), "party name")
            street = _split(text(address.get("street")), "street")
            out.append(seg("NAD", code("edifact/party_role", required(party, "role", "party")),
                           [text(party.get("id")), "", text(party.get("id_qualifier"))],
                           "", name, street, text(address.get("city")),
                           text(address.get("region")), text(address.get("postal_code")),
                           text(address.get("country"))))
        return out

    def parts(self, line: dict[str, Any]) -> list[Segment]:
        ids = []
        if line.get("buyer_part"):
            ids.append([text(line["buyer_part"]), "BP"])
        if line.get("supplier_part"):
            ids.append([text(line["supplier_part"]), "SA"])
        return [seg("PIA", "1", *ids)] if ids else []

    def qty(self, qualifier: str, value: Any, unit: Any) -> Segment:
        return seg("QTY", [qualifier, self.num(value), code("edifact/units", unit)])

    def price(self, value: Any) -> list[Segment]:
        return [seg("PRI", ["AAA", self.num(value)])] if value is not None else []


def _split(value: str, what: str) -> list[str]:
    """Text longer than one component continues in the next ones (up to five), at spaces."""
    if len(value) <= _NAME_PART:
        return [value]
    words, parts, current = value.split(" "), [], ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= _NAME_PART:
            current = candidate
        else:
            parts.append(current)
            current = word
    parts.append(current)
    if len(parts) > 4 or any(len(p) > _NAME_PART for p in parts):
        raise RenderError(f"{what} {value!r} does not fit in 4 x {_NAME_PART} characters")
    return parts


def _purchase_order(w: _Writer, data: dict[str, Any]) -> list[Segment]:
    out = [seg("BGM", text(data.get("order_type") or "220"),
               text(required(data, "order_number", "purchase_order")),
               code("edifact/purpose", data.get("purpose") or "original")),
           w.dtm("137", required(data, "order_date", "purchase_order"))]
    if data.get("requested_delivery_date"):
        out.append(w.dtm("2", data["requested_delivery_date"]))
    out += w.parties(data)
    if data.get("currency"):
        out.append(seg("CUX", ["2", text(data["currency"]), "9"]))
    lines = required(data, "lines", "purchase_order")
    for line in lines:
        gtin = [text(line["gtin"]), "SRV"] if line.get("gtin") else ""
        out.append(seg("LIN", text(required(line, "line_number", "line")), "", gtin))
        out += w.parts(line)
        if line.get("description"):
            out.append(seg("IMD", "F", "", ["", "", "", text(line["description"])]))
        out.append(w.qty("21", required(line, "quantity", "line"), line.get("unit")))
        if line.get("requested_delivery_date"):
            out.append(w.dtm("2", line["requested_delivery_date"]))
        out += w.price(line.get("unit_price"))
    out += [seg("UNS", "S"), seg("CNT", ["2", str(len(lines))])]
    return out


def _order_change(w: _Writer, data: dict[str, Any]) -> list[Segment]:
    out = [seg("BGM", "230", text(data.get("change_number")),
               code("edifact/purpose", data.get("purpose") or "replace"))]
    if data.get("change_date"):
        out.append(w.dtm("137", data["change_date"]))
    out.append(seg("RFF", ["ON", text(required(data, "order_number", "order_change"))]))
    out += w.parties(data)
    lines = data.get("lines", [])
    for line in lines:
        change = line.get("change") or "other"
        out.append(seg("LIN", text(required(line, "line_number", "line")),
                       _LINE_ACTIONS.get(change, "3")))
        out += w.parts(line)
        if line.get("quantity") is not None:
            out.append(w.qty("21", line["quantity"], line.get("unit")))
        if line.get("requested_delivery_date"):
            out.append(w.dtm("2", line["requested_delivery_date"]))
        if change not in _LINE_ACTIONS:
            out.append(seg("FTX", "CHG", "", "", [code("edifact/change_detail", change)]))
        out += w.price(line.get("unit_price"))
    out += [seg("UNS", "S"), seg("CNT", ["2", str(len(lines))])]
    return out


def _schedule(w: _Writer, data: dict[str, Any], now: datetime, *, firm: bool,
              version: str) -> list[Segment]:
    out = [seg("BGM", "242" if firm else "241",
               text(required(data, "schedule_number", "delivery_schedule")), "9"),
           w.dtm("137", data.get("issue_date") or now.date().isoformat())]
    if data.get("horizon_start"):
        out.append(w.dtm("158", data["horizon_start"]))
    if data.get("horizon_end"):
        out.append(w.dtm("159", data["horizon_end"]))
    out += w.parties(data)
    items = required(data, "items", "delivery_schedule")
    sections = not firm and not _gis_directory(version)
    if firm:
        out.append(seg("SEQ", "", "1"))
    elif sections:
        # Up to D96A the DELFOR detail is a section of its own (UNS+D ... UNS+S) whose line
        # items sit directly under it; from D96B on there is no UNS and GIS opens each group.
        out.append(seg("UNS", "D"))
    else:
        out.append(seg("GIS", "37"))
    for number, item in enumerate(items, start=1):
        out.append(seg("LIN", str(number)))
        out += w.parts(item)
        if item.get("order_number"):
            out.append(seg("RFF", ["ON", text(item["order_number"])]))
        if item.get("cumulative_received") is not None:
            out.append(w.qty("70", item["cumulative_received"], item.get("unit")))
        commitment = None
        for period in item.get("periods", []):
            if firm or sections:  # DELJIT, and DELFOR up to D96A: QTY, SCC, DTM
                out.append(w.qty("1", required(period, "quantity", "period"), item.get("unit")))
                if period.get("commitment"):
                    out.append(seg("SCC", code("edifact/commitment", period["commitment"])))
            else:
                # From D96B the DELFOR SCC group comes first and holds the QTY/DTM groups of
                # its periods: one SCC per run of periods of the same commitment (none given:
                # forecast, what a DELFOR states).
                level = code("edifact/commitment", period.get("commitment") or "forecast")
                if level != commitment:
                    out.append(seg("SCC", level))
                    commitment = level
                out.append(w.qty("1", required(period, "quantity", "period"), item.get("unit")))
            start = required(period, "start", "period")
            if period.get("end"):
                out.append(w.dtm_range("2", start, period["end"]))
            else:
                out.append(w.dtm("2", start))
    if sections:
        out.append(seg("UNS", "S"))
    return out


def _gis_directory(version: str) -> bool:
    """True for DELFOR directories from D96B on (GIS groups, no UNS sections)."""
    year, release = version[1:3], version[3:]
    if not (len(version) == 4 and year.isascii() and year.isdigit()):
        return True
    full = (1900 if int(year) >= 90 else 2000) + int(year)
    return (full, release) >= (1996, "B")


def document(event_type: str, data: dict[str, Any], now: datetime,
             decimal_mark: str, version: str = "D96A") -> tuple[str, list[Segment]]:
    w = _Writer(decimal_mark)
    if event_type == "purchase_order":
        return "ORDERS", _purchase_order(w, data)
    if event_type == "order_change":
        return "ORDCHG", _order_change(w, data)
    if event_type == "delivery_schedule":
        firm = data.get("schedule_type") == "firm"
        return ("DELJIT" if firm else "DELFOR"), _schedule(w, data, now, firm=firm,
                                                                 version=version)
    raise RenderError(f"no EDIFACT message is rendered for event type {event_type!r}")


def default_delimiters(syntax_version: str) -> Delimiters:
    return Delimiters(segment="'", element="+", component=":", release="?",
                      repetition="*" if syntax_version == "4" else "", decimal=".")


def syntax_version(profile: RenderProfile) -> str:
    return "4" if (profile.charset == "UNOY" or profile.version == "D01B") else "3"


def envelope(profile: RenderProfile, control: ControlNumbers, now: datetime,
             message_type: str, body: list[Segment], delimiters: Delimiters) -> Interchange:
    version = syntax_version(profile)
    charset = profile.charset or "UNOC"
    ref = str(control.message)
    # UNT and UNZ (counts and references) are filled in by syntax.finalize.
    message = Message(type=message_type, version=profile.version, control=ref,
                      segments=[seg("UNH", ref, [message_type, "D", profile.version[1:], "UN"]),
                                *body], identifier={"agency": "UN"})
    when = now.strftime("%Y%m%d" if version == "4" else "%y%m%d")
    unb = seg("UNB", [charset, version], [profile.sender_id, profile.sender_qualifier],
              [profile.receiver_id, profile.receiver_qualifier], [when, now.strftime("%H%M")],
              str(control.interchange), "", "", "", "", "", "1" if profile.test_indicator else "")
    d = delimiters
    una = f"UNA{d.component}{d.element}{d.decimal}{d.release or ' '}{d.repetition or ' '}" \
          f"{d.segment}"
    return Interchange(standard="edifact", delimiters=delimiters, header=unb, trailer=None,
                       groups=[Group(header=None, trailer=None, messages=[message])], una=una)
