"""Inbound 997/999/TA1/CONTRL (answers to what we sent) -> functional_ack payloads + EdiErrors.

The partner's codes are read back into our own error model: each reported fault becomes an
:class:`EdiError` whose ``kind`` is the fault kind that carries the same standard code, so a
rejection of our 850 reads exactly like a fault we would have found ourselves.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from translators.errors import EdiError, code_table
from translators.grammar import codelist
from translators.result import MappedEventLike, MessageResult
from translators.syntax.digits import bounded_int
from translators.syntax.tree import Group, Interchange, Message, Segment

X12_STATUS = {"A": "accepted", "E": "accepted_with_errors", "P": "partially_accepted",
              "R": "rejected", "M": "rejected", "W": "rejected", "X": "rejected"}
CONTRL_STATUS = {"4": "rejected", "5": "partially_accepted", "6": "rejected", "7": "accepted",
                 "8": "accepted"}


@cache
def _descriptions(standard: str, ref: str) -> dict[str, str]:
    from translators.grammar.loader import CODELISTS_DIR, _read_json

    if codelist(standard, ref) is None:
        return {}
    return dict(_read_json(CODELISTS_DIR / standard / f"{ref}.json")["codes"])


def describe(standard: str, ref: str, code: str) -> str:
    return _descriptions(standard, ref).get(code, f"code {code}")


@cache
def _kind_by_code(field: str) -> dict[str, str]:
    """First fault kind carrying each code in one acknowledgment vocabulary."""
    found: dict[str, str] = {}
    for kind, codes in code_table().items():
        value = getattr(codes, field)
        if value:
            found.setdefault(value, kind)
    return found


def _kind(field: str, code: str, default: str) -> str:
    return _kind_by_code(field).get(code, default)


def _int(text: str) -> int | None:
    return bounded_int(text)


def _event(data: dict[str, Any]) -> MappedEventLike:
    target = data.get("acknowledged_group") or data.get("acknowledged_interchange") or ""
    return MappedEventLike("functional_ack", 1, f"{data['ack_type']}/{target}", data)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v not in (None, "")}


def read_ack(message: Message, interchange: Interchange, group: Group) -> MappedEventLike:
    if message.type == "CONTRL":
        return read_contrl(message)
    return read_x12_ack(message)


def read_x12_ack(message: Message) -> MappedEventLike:
    """997 (AK1/AK2/AK3/AK4/AK5/AK9) or 999 (AK1/AK2/IK3/IK4/IK5/AK9)."""
    is_999 = message.type == "999"
    seg_ref, elem_ref = ("620", "621") if is_999 else ("720", "723")
    data: dict[str, Any] = {"ack_type": message.type, "messages": []}
    current: dict[str, Any] | None = None
    last_segment: dict[str, Any] = {}
    for segment in message.body:
        tag = segment.tag
        if tag == "AK1":
            data["acknowledged_group"] = segment.get(2)
        elif tag == "AK2":
            current = _clean({"control_number": segment.get(2), "message_type": segment.get(1),
                              "errors": []})
            data["messages"].append(current)
        elif tag in ("AK3", "IK3") and current is not None:
            code = segment.get(4)
            last_segment = _clean({"segment_position": _int(segment.get(2)),
                                   "segment_tag": segment.get(1)})
            if code != "8":  # "8" only says element notes follow
                current["errors"].append(_clean({**last_segment, "code": code,
                                                 "description": describe("x12", seg_ref, code)}))
        elif tag in ("AK4", "IK4") and current is not None:
            code = segment.get(3)
            current["errors"].append(_clean({
                **last_segment, "element_position": _int(segment.get(1, 1)), "code": code,
                "description": describe("x12", elem_ref, code)}))
        elif tag in ("AK5", "IK5") and current is not None:
            current["status"] = X12_STATUS.get(segment.get(1), "rejected")
            for index in range(2, 7):
                code = segment.get(index)
                if code:
                    current["errors"].append({"code": code,
                                              "description": describe("x12", "718", code)})
        elif tag == "AK9":
            data["status"] = X12_STATUS.get(segment.get(1), "rejected")
            for index in range(5, 10):
                code = segment.get(index)
                if code:
                    data.setdefault("group_errors", []).append(code)
    group_codes = data.pop("group_errors", [])
    if group_codes:  # group-level faults have no message: report them as a message-less entry
        data["messages"].append({"errors": [{"code": c, "description": describe("x12", "716", c)}
                                            for c in group_codes]})
    for item in data["messages"]:
        if not item.get("errors"):
            item.pop("errors", None)
    return _event(data)


def read_contrl(message: Message) -> MappedEventLike:
    """CONTRL (UCI, UCM, UCS, UCD; syntax 3 and 4; UCF group level read like UCM)."""
    data: dict[str, Any] = {"ack_type": "CONTRL", "messages": []}
    current: dict[str, Any] | None = None
    segment_note: dict[str, Any] = {}
    for segment in message.body:
        tag = segment.tag
        if tag == "UCI":
            data["acknowledged_interchange"] = segment.get(1)
            data["status"] = CONTRL_STATUS.get(segment.get(4), "rejected")
            code = segment.get(5)
            if code:
                data["messages"].append({"errors": [_contrl_error({}, code)]})
        elif tag == "UCF":
            data["acknowledged_group"] = segment.get(1)
        elif tag == "UCM":
            current = _clean({"control_number": segment.get(1), "message_type": segment.get(2),
                              "status": CONTRL_STATUS.get(segment.get(3), "rejected"),
                              "errors": []})
            if segment.get(4):
                current["errors"].append(_contrl_error({"segment_tag": segment.get(5) or None},
                                                       segment.get(4)))
            data["messages"].append(current)
        elif tag == "UCS" and current is not None:
            segment_note = _clean({"segment_position": _int(segment.get(1))})
            if segment.get(2):
                current["errors"].append(_contrl_error(segment_note, segment.get(2)))
        elif tag == "UCD" and current is not None:
            current["errors"].append(_contrl_error(
                {**segment_note, "element_position": _data_element(segment.get(2, 1))},
                segment.get(1)))
    for item in data["messages"]:
        if not item.get("errors"):
            item.pop("errors", None)
    statuses = [m["status"] for m in data["messages"] if "status" in m]
    if data.get("status") == "accepted" and "rejected" in statuses:
        all_rejected = all(s == "rejected" for s in statuses)
        data["status"] = "rejected" if all_rejected else "partially_accepted"
    return _event(data)


def _data_element(text: str) -> int | None:
    """CONTRL S011 0098 counts the segment tag as position 1 (ISO 9735): our model counts
    data elements from 1."""
    position = _int(text)
    return position - 1 if position is not None and position > 1 else None


def _contrl_error(where: dict[str, Any], code: str) -> dict[str, Any]:
    return _clean({**where, "code": code, "description": describe("edifact", "0085", code)})


def read_ta1(segment: Segment, interchange: Interchange, index: int) -> MessageResult:
    """A TA1 inside an inbound interchange: the partner's verdict on one of our interchanges."""
    note = segment.get(5)
    data: dict[str, Any] = {"ack_type": "TA1", "acknowledged_interchange": segment.get(1),
                            "status": X12_STATUS.get(segment.get(4), "rejected"),
                            "messages": []}
    if note and note != "000":
        data["messages"].append({"errors": [{"code": note,
                                             "description": describe("x12", "I18", note)}]})
    return MessageResult(message_type="TA1", message_control=segment.get(1), group_control="",
                         interchange_control=interchange.control, version="",
                         status="accepted", event=_event(data), interchange_index=index)


def reported_errors(event: MappedEventLike, standard: str) -> list[EdiError]:
    """The faults a partner reported, as EdiErrors about OUR documents (kind by code)."""
    data = event.data
    ack_type = data["ack_type"]
    field = {"997": ("x12_ak3", "x12_ak4"), "999": ("x12_ik3", "x12_ik4"),
             "CONTRL": ("edifact", "edifact"), "TA1": ("x12_ta1", "x12_ta1")}[ack_type]
    errors: list[EdiError] = []
    for item in data.get("messages", []):
        for fault in item.get("errors", []):
            code = fault.get("code", "")
            if "element_position" in fault:
                kind = _kind(field[1], code, "element.reported")
            elif "segment_position" in fault:
                kind = _kind(field[0], code, "segment.reported")
            else:
                kind = _kind("x12_ak5" if ack_type in ("997", "999") else field[0], code,
                             "message.reported")
            errors.append(EdiError(
                kind=kind, message=f"partner reports: {fault.get('description', code)}",
                level="element" if "element_position" in fault else "segment",
                standard=standard, message_control=item.get("control_number", ""),
                message_type=item.get("message_type", ""),
                group_control=data.get("acknowledged_group") or "",
                interchange_control=data.get("acknowledged_interchange") or "",
                segment_position=fault.get("segment_position"),
                segment_tag=fault.get("segment_tag", ""),
                element_position=fault.get("element_position"), extra={"code": code}))
    return errors
