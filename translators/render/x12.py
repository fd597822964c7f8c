"""Payload -> X12 transaction sets (850, 860, 830, 862) and their ISA/GS envelope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from translators.mapping.values import format_x12_date
from translators.render.build import code, gtin_qualifier_x12, num, required, seg, text
from translators.render.profile import ControlNumbers, RenderError, RenderProfile
from translators.syntax.tree import Delimiters, Group, Interchange, Message, Segment

Body = Callable[[dict[str, Any]], list[Segment]]


def _date(value: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        return format_x12_date(str(value))
    except ValueError as exc:
        raise RenderError(str(exc)) from None


def _parties(data: dict[str, Any]) -> list[Segment]:
    out: list[Segment] = []
    for party in data.get("parties", []):
        out.append(seg("N1", code("x12/party_role", required(party, "role", "party")),
                       text(party.get("name")),
                       code("x12/party_id_qualifier", party.get("id_qualifier")),
                       text(party.get("id"))))
        address = party.get("address") or {}
        if address.get("street"):
            out.append(seg("N3", text(address["street"])))
        if any(address.get(k) for k in ("city", "region", "postal_code", "country")):
            out.append(seg("N4", text(address.get("city")), text(address.get("region")),
                           text(address.get("postal_code")), text(address.get("country"))))
    return out


def _part_pairs(line: dict[str, Any], *, gtin: bool = True, order: bool = False) -> list[str]:
    pairs: list[str] = []
    if line.get("buyer_part"):
        pairs += ["BP", text(line["buyer_part"])]
    if line.get("supplier_part"):
        pairs += ["VP", text(line["supplier_part"])]
    if gtin and line.get("gtin"):
        pairs += [gtin_qualifier_x12(str(line["gtin"])), text(line["gtin"])]
    if order and line.get("order_number"):
        pairs += ["PO", text(line["order_number"])]
    return pairs


def _purchase_order(data: dict[str, Any]) -> list[Segment]:
    out = [seg("BEG", code("x12/purpose", data.get("purpose") or "original"),
               text(data.get("order_type") or "SA"),
               text(required(data, "order_number", "purchase_order")), "",
               _date(required(data, "order_date", "purchase_order")))]
    if data.get("currency"):
        out.append(seg("CUR", "BY", text(data["currency"])))
    if data.get("requested_delivery_date"):
        out.append(seg("DTM", "002", _date(data["requested_delivery_date"])))
    out += _parties(data)
    lines = required(data, "lines", "purchase_order")
    for line in lines:
        out.append(seg("PO1", text(required(line, "line_number", "line")),
                       num(required(line, "quantity", "line")), code("x12/units", line.get("unit")),
                       num(line.get("unit_price")), "", *_part_pairs(line)))
        if line.get("description"):
            out.append(seg("PID", "F", "", "", "", text(line["description"])))
        if line.get("requested_delivery_date"):
            out.append(seg("DTM", "002", _date(line["requested_delivery_date"])))
    out.append(seg("CTT", str(len(lines))))
    return out


def _order_change(data: dict[str, Any]) -> list[Segment]:
    out = [seg("BCH", code("x12/purpose", data.get("purpose") or "replace"), "SA",
               text(required(data, "order_number", "order_change")), "",
               text(data.get("change_number")),
               _date(required(data, "change_date", "order_change")))]
    out += _parties(data)
    lines = data.get("lines", [])
    for line in lines:
        out.append(seg("POC", text(required(line, "line_number", "line")),
                       code("x12/change_type", line.get("change") or "other"),
                       num(line.get("quantity")), "", code("x12/units", line.get("unit")),
                       num(line.get("unit_price")), "", *_part_pairs(line, gtin=False)))
        if line.get("requested_delivery_date"):
            out.append(seg("DTM", "002", _date(line["requested_delivery_date"])))
    if lines:
        out.append(seg("CTT", str(len(lines))))
    return out


def _schedule_items(data: dict[str, Any]) -> list[Segment]:
    out: list[Segment] = []
    for item in required(data, "items", "delivery_schedule"):
        out.append(seg("LIN", "", *_part_pairs(item, gtin=False, order=True)))
        if item.get("unit"):
            out.append(seg("UIT", code("x12/units", item["unit"])))
        for period in item.get("periods", []):
            end = _date(period.get("end"))
            out.append(seg("FST", num(required(period, "quantity", "period")),
                           code("x12/commitment", period.get("commitment") or "forecast"),
                           "F" if end else "D", _date(required(period, "start", "period")), end))
        if item.get("cumulative_received") is not None:
            out.append(seg("SHP", "02", num(item["cumulative_received"])))
    return out


def _schedule_horizon(data: dict[str, Any], now: datetime) -> tuple[str, str, str]:
    starts = [p["start"] for i in data.get("items", []) for p in i.get("periods", [])
              if p.get("start")]
    issue = _date(data.get("issue_date")) or now.strftime("%Y%m%d")
    start = _date(data.get("horizon_start")) or (_date(min(starts)) if starts else issue)
    return issue, start, _date(data.get("horizon_end"))


def _forecast(data: dict[str, Any], now: datetime) -> list[Segment]:
    issue, start, end = _schedule_horizon(data, now)
    out = [seg("BFR", "00", text(required(data, "schedule_number", "delivery_schedule")), "",
               "DL", "A", start, end, issue)]
    out += _parties(data)
    out += _schedule_items(data)
    out.append(seg("CTT", str(len(data["items"]))))
    return out


def _firm(data: dict[str, Any], now: datetime) -> list[Segment]:
    issue, start, end = _schedule_horizon(data, now)
    out = [seg("BSS", "00", text(required(data, "schedule_number", "delivery_schedule")), issue,
               "DL", start, end or start, "", "", "", "", "A")]
    out += _parties(data)
    out += _schedule_items(data)
    out.append(seg("CTT", str(len(data["items"]))))
    return out


# (transaction set, functional identifier, body builder) per outbound document
def document(event_type: str, data: dict[str, Any],
             now: datetime) -> tuple[str, str, list[Segment]]:
    if event_type == "purchase_order":
        return "850", "PO", _purchase_order(data)
    if event_type == "order_change":
        return "860", "PC", _order_change(data)
    if event_type == "delivery_schedule":
        if data.get("schedule_type") == "firm":
            return "862", "SS", _firm(data, now)
        return "830", "PS", _forecast(data, now)
    raise RenderError(f"no X12 document is rendered for event type {event_type!r}")


def default_delimiters(version: str) -> Delimiters:
    return Delimiters(segment="~", element="*", component=">",
                      repetition="^" if version >= "00501" else "")


def envelope(profile: RenderProfile, control: ControlNumbers, now: datetime,
             message_type: str, functional_id: str, body: list[Segment],
             delimiters: Delimiters) -> Interchange:
    isa_version = profile.version[:5]
    st_control = f"{control.message:04d}"
    st = [message_type, st_control]
    if profile.version >= "005010":
        st.append(profile.version)  # ST03 implementation convention reference
    # SE, GE and IEA (counts and control numbers) are filled in by syntax.finalize.
    message = Message(type=message_type, version=profile.version, control=st_control,
                      segments=[seg("ST", *st), *body])
    gs = seg("GS", functional_id, profile.sender_id, profile.receiver_id,
             now.strftime("%Y%m%d"), now.strftime("%H%M"), str(control.group), "X",
             profile.version)
    isa = Segment("ISA", [[[v]] for v in (
        "00", " " * 10, "00", " " * 10,
        profile.sender_qualifier.ljust(2), profile.sender_id.ljust(15),
        profile.receiver_qualifier.ljust(2), profile.receiver_id.ljust(15),
        now.strftime("%y%m%d"), now.strftime("%H%M"),
        delimiters.repetition or "U", isa_version, f"{control.interchange:09d}", "0",
        "T" if profile.test_indicator else "P", delimiters.component,
    )])
    return Interchange(standard="x12", delimiters=delimiters, header=isa, trailer=None,
                       groups=[Group(header=gs, trailer=None, messages=[message])])


def check_envelope_fields(profile: RenderProfile) -> None:
    for name, value, width in (("sender_id", profile.sender_id, 15),
                               ("receiver_id", profile.receiver_id, 15),
                               ("sender_qualifier", profile.sender_qualifier, 2),
                               ("receiver_qualifier", profile.receiver_qualifier, 2)):
        if len(value) > width:
            raise RenderError(f"X12 {name} {value!r} is longer than {width} characters")
        if not value.strip():
            raise RenderError(f"X12 {name} is empty")
