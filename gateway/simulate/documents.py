"""The documents a simulated supplier sends, built as interchange trees and serialized.

Order responses (855 / ORDRSP), despatch advices (856 / DESADV), invoices (810 / INVOIC) and
inventory reports (846 / INVRPT) are built segment by segment from the same event payloads the
REST path carries (see /api/v1/events), wrapped in the supplier's envelope, and written with the
translators' writer — so the bytes are exactly what a real supplier's EDI system would send and
exactly what our own parser reads back. The segment layout follows the maps in
``translators/mapping/maps`` (the fields the gateway extracts).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from translators.render import edifact as edifact_env
from translators.render import x12 as x12_env
from translators.render.build import code, num, seg
from translators.render.profile import ControlNumbers, RenderProfile
from translators.syntax import finalize, serialize
from translators.syntax.tree import Segment

SUPPLIER_DOCUMENTS = ("order_response", "despatch_advice", "invoice", "inventory_report")
X12_TYPES = {"order_response": ("855", "PR"), "despatch_advice": ("856", "SH"),
             "invoice": ("810", "IN"), "inventory_report": ("846", "IB")}
EDIFACT_TYPES = {"order_response": "ORDRSP", "despatch_advice": "DESADV",
                 "invoice": "INVOIC", "inventory_report": "INVRPT"}


@dataclass(frozen=True)
class Dialect:
    """Who sends to whom, in which standard and version (the supplier's side of the profile)."""

    standard: str  # x12 | edifact
    version: str  # 004010 | 005010 | D96A
    sender_id: str
    sender_qualifier: str
    receiver_id: str
    receiver_qualifier: str
    supplier_name: str = ""

    def profile(self) -> RenderProfile:
        return RenderProfile(standard=self.standard,  # type: ignore[arg-type]
                             version=self.version, sender_id=self.sender_id,
                             sender_qualifier=self.sender_qualifier,
                             receiver_id=self.receiver_id,
                             receiver_qualifier=self.receiver_qualifier)


def _d8(value: Any) -> str:
    """A payload date ("2027-01-05") as CCYYMMDD."""
    if isinstance(value, datetime | date):
        return value.strftime("%Y%m%d")
    return str(value or "").replace("-", "")[:8]


def _x12_parts(item: dict[str, Any]) -> list[str]:
    pairs: list[str] = []
    if item.get("buyer_part"):
        pairs += ["BP", str(item["buyer_part"])]
    if item.get("supplier_part"):
        pairs += ["VP", str(item["supplier_part"])]
    return pairs


def _pia(item: dict[str, Any]) -> Segment | None:
    comps: list[Any] = []
    if item.get("buyer_part"):
        comps.append([str(item["buyer_part"]), "BP"])
    if item.get("supplier_part"):
        comps.append([str(item["supplier_part"]), "SA"])
    return seg("PIA", "5", *comps) if comps else None


def _unit(standard: str, unit: Any) -> str:
    return code(f"{standard}/units", unit or "EA")


# -- X12 bodies ------------------------------------------------------------------------------

def _x12_855(d: Dialect, data: dict[str, Any]) -> list[Segment]:
    out = [seg("BAK", "00", code("x12/ack_status", data.get("status", "accepted")),
               data["order_number"], _d8(data.get("order_date") or data.get("response_date")),
               "", "", "", str(data.get("response_number", "")), _d8(data.get("response_date"))),
           seg("N1", "SU", d.supplier_name[:60], "92", d.sender_id)]
    for line in data.get("lines", []):
        out.append(seg("PO1", str(line["line_number"]), num(line.get("ordered_quantity")),
                       _unit("x12", line.get("unit")), num(line.get("unit_price")), "",
                       *_x12_parts(line)))
        out.append(seg("ACK", code("x12/line_status", line.get("status", "accepted")),
                       num(line.get("confirmed_quantity")), _unit("x12", line.get("unit")),
                       "068", _d8(line.get("confirmed_delivery_date"))))
    out.append(seg("CTT", str(len(data.get("lines", [])))))
    return out


def _x12_856(d: Dialect, data: dict[str, Any]) -> list[Segment]:
    out = [seg("BSN", "00", data["shipment_number"], _d8(data.get("despatch_date")), "1200")]
    hl = 1
    out.append(seg("HL", "1", "", "S"))
    if data.get("carrier"):
        out.append(seg("TD5", "", "2", str(data["carrier"])))
    if data.get("tracking_number"):
        out.append(seg("REF", "CN", str(data["tracking_number"])))
    out.append(seg("DTM", "011", _d8(data.get("despatch_date"))))
    if data.get("expected_delivery_date"):
        out.append(seg("DTM", "017", _d8(data["expected_delivery_date"])))
    out.append(seg("N1", "SF", d.supplier_name[:60], "92", d.sender_id))
    for order in data.get("orders", []):
        hl += 1
        order_hl = hl
        out += [seg("HL", str(hl), "1", "O"), seg("PRF", str(order["order_number"]))]
        for pack in order.get("packs", []):
            hl += 1
            pack_hl = hl
            out += [seg("HL", str(hl), str(order_hl), "P"),
                    seg("MAN", "GM", str(pack["pack_id"]))]
            for item in pack.get("items", []):
                hl += 1
                out += [seg("HL", str(hl), str(pack_hl), "I"),
                        seg("LIN", str(item.get("line_number", "")), *_x12_parts(item)),
                        seg("SN1", "", num(item.get("quantity")), _unit("x12", item.get("unit")))]
    out.append(seg("CTT", str(hl)))
    return out


def _x12_810(d: Dialect, data: dict[str, Any]) -> list[Segment]:
    out = [seg("BIG", _d8(data.get("invoice_date")), data["invoice_number"], "",
               str(data.get("order_number", ""))),
           seg("CUR", "SE", str(data.get("currency", "USD"))),
           seg("N1", "SU", d.supplier_name[:60], "92", d.sender_id)]
    for line in data.get("lines", []):
        out.append(seg("IT1", str(line["line_number"]), num(line.get("quantity")),
                       _unit("x12", line.get("unit")), num(line.get("unit_price")), "",
                       *_x12_parts(line)))
    cents = round(float(data.get("total_amount", 0)) * 100)
    out.append(seg("TDS", str(cents)))
    if data.get("tax_amount") is not None:  # what a real 810 carries: the tax in TXI
        out.append(seg("TXI", "ST", num(data["tax_amount"])))
    out.append(seg("CTT", str(len(data.get("lines", [])))))
    return out


_X12_QTY = {"on_hand": "17", "available": "33", "committed": "02", "in_transit": "QP"}
_EDIFACT_QTY = {"on_hand": "145", "available": "198", "committed": "200", "in_transit": "201"}


def _x12_846(d: Dialect, data: dict[str, Any]) -> list[Segment]:
    out = [seg("BIA", "00", "SI", str(data.get("report_number", "")),
               _d8(data.get("report_date"))),
           seg("N1", "SU", d.supplier_name[:60], "92", d.sender_id)]
    for item in data.get("items", []):
        out.append(seg("LIN", "", *_x12_parts(item)))
        for q in item.get("quantities", []):
            out.append(seg("QTY", _X12_QTY.get(q.get("kind", ""), "33"), num(q.get("quantity")),
                           _unit("x12", q.get("unit"))))
    out.append(seg("CTT", str(len(data.get("items", [])))))
    return out


# -- EDIFACT bodies --------------------------------------------------------------------------

def _nad_su(d: Dialect) -> Segment:
    return seg("NAD", "SU", [d.sender_id, "", "9"], "", d.supplier_name[:35])


def _edifact_ordrsp(d: Dialect, data: dict[str, Any]) -> list[Segment]:
    status = {"accepted": "29", "accepted_with_changes": "4", "rejected": "27"}.get(
        data.get("status", "accepted"), "29")
    out = [seg("BGM", "231", str(data.get("response_number", "")), status),
           seg("DTM", ["137", _d8(data.get("response_date")), "102"]),
           seg("RFF", ["ON", str(data["order_number"])])]
    if data.get("order_date"):  # SG1: the order's own date next to its reference
        out.append(seg("DTM", ["171", _d8(data["order_date"]), "102"]))
    out.append(_nad_su(d))
    for line in data.get("lines", []):
        line_status = {"accepted": "5", "changed": "3", "rejected": "7",
                       "backordered": "21"}.get(line.get("status", "accepted"), "5")
        unit = _unit("edifact", line.get("unit"))
        out.append(seg("LIN", str(line["line_number"]), line_status))
        pia = _pia(line)
        if pia is not None:
            out.append(pia)
        out.append(seg("QTY", ["21", num(line.get("ordered_quantity")), unit]))
        out.append(seg("QTY", ["113", num(line.get("confirmed_quantity")), unit]))
        if line.get("confirmed_delivery_date"):
            out.append(seg("DTM", ["69", _d8(line["confirmed_delivery_date"]), "102"]))
        if line.get("unit_price") is not None:
            out.append(seg("PRI", ["AAA", num(line["unit_price"])]))
    out.append(seg("UNS", "S"))
    return out


def _edifact_desadv(d: Dialect, data: dict[str, Any]) -> list[Segment]:
    out = [seg("BGM", "351", str(data["shipment_number"]), "9"),
           seg("DTM", ["137", _d8(data.get("despatch_date")), "102"]),
           seg("DTM", ["11", _d8(data.get("despatch_date")), "102"])]
    if data.get("expected_delivery_date"):
        out.append(seg("DTM", ["132", _d8(data["expected_delivery_date"]), "102"]))
    if data.get("tracking_number"):
        out.append(seg("RFF", ["CN", str(data["tracking_number"])]))
    out.append(_nad_su(d))
    if data.get("carrier"):
        out.append(seg("TDT", "20", "", "30", "", [str(data["carrier"])]))
    out.append(seg("CPS", "1"))
    cps = 1
    for order in data.get("orders", []):
        for pack in order.get("packs", []):
            cps += 1
            out += [seg("CPS", str(cps), "1"), seg("PAC", "1", "", ["CT"]),
                    seg("PCI", "33E"), seg("GIN", "BJ", [str(pack["pack_id"])])]
            for item in pack.get("items", []):
                out.append(seg("LIN", str(item.get("line_number", ""))))
                pia = _pia(item)
                if pia is not None:
                    out.append(pia)
                out.append(seg("QTY", ["12", num(item.get("quantity")),
                                       _unit("edifact", item.get("unit"))]))
                out.append(seg("RFF", ["ON", str(order["order_number"])]))
    out.append(seg("CNT", ["2", str(sum(len(p.get("items", [])) for o in data.get("orders", [])
                                        for p in o.get("packs", [])))]))
    return out


def _edifact_invoic(d: Dialect, data: dict[str, Any]) -> list[Segment]:
    out = [seg("BGM", "380", str(data["invoice_number"]), "9"),
           seg("DTM", ["137", _d8(data.get("invoice_date")), "102"]),
           seg("RFF", ["ON", str(data.get("order_number", ""))]), _nad_su(d),
           seg("CUX", ["2", str(data.get("currency", "EUR")), "4"])]
    for line in data.get("lines", []):
        out.append(seg("LIN", str(line["line_number"])))
        pia = _pia(line)
        if pia is not None:
            out.append(pia)
        out.append(seg("QTY", ["47", num(line.get("quantity")),
                               _unit("edifact", line.get("unit"))]))
        out.append(seg("MOA", ["203", num(line.get("amount"))]))
        out.append(seg("PRI", ["AAA", num(line.get("unit_price"))]))
    out.append(seg("UNS", "S"))
    out.append(seg("MOA", ["77", num(data.get("total_amount"))]))
    if data.get("tax_amount") is not None:
        out.append(seg("MOA", ["176", num(data["tax_amount"])]))
    return out


def _edifact_invrpt(d: Dialect, data: dict[str, Any]) -> list[Segment]:
    out = [seg("BGM", "35", str(data.get("report_number", "")), "9"),
           seg("DTM", ["137", _d8(data.get("report_date")), "102"]), _nad_su(d)]
    for index, item in enumerate(data.get("items", []), start=1):
        out.append(seg("LIN", str(index)))
        pia = _pia(item)
        if pia is not None:
            out.append(pia)
        for q in item.get("quantities", []):
            out.append(seg("QTY", [_EDIFACT_QTY.get(q.get("kind", ""), "198"),
                                   num(q.get("quantity")), _unit("edifact", q.get("unit"))]))
    return out


_X12_BODIES = {"order_response": _x12_855, "despatch_advice": _x12_856,
               "invoice": _x12_810, "inventory_report": _x12_846}
_EDIFACT_BODIES = {"order_response": _edifact_ordrsp, "despatch_advice": _edifact_desadv,
                   "invoice": _edifact_invoic, "inventory_report": _edifact_invrpt}


def build_document(document_type: str, data: dict[str, Any], *, dialect: Dialect,
                   control: int, now: datetime, corrupt: bool = False) -> bytes:
    """One interchange holding one supplier document. ``corrupt`` drops a mandatory trailer
    count, the kind of fault real partners send, so rejections show up in the demo."""
    profile = dialect.profile()
    numbers = ControlNumbers(interchange=control, group=control, message=control)
    if dialect.standard == "x12":
        message_type, functional_id = X12_TYPES[document_type]
        body = _X12_BODIES[document_type](dialect, data)
        delimiters = replace(x12_env.default_delimiters(dialect.version[:5]), suffix="\n")
        tree = finalize(x12_env.envelope(profile, numbers, now, message_type, functional_id,
                                         body, delimiters))
    else:
        body = _EDIFACT_BODIES[document_type](dialect, data)
        delimiters = replace(edifact_env.default_delimiters("3"), suffix="\n")
        tree = finalize(edifact_env.envelope(profile, numbers, now,
                                             EDIFACT_TYPES[document_type], body, delimiters))
    if corrupt:
        trailer = tree.groups[0].messages[0].segments[-1]
        trailer.elements[0] = [["999"]]  # wrong segment count in SE01 / UNT 0074
    return serialize(tree)
