"""Acknowledgments from the error model: 997, 999 and TA1 (X12), CONTRL (EDIFACT).

Each acknowledgment is built as an interchange tree and written by the syntax layer's
serializer, so it re-parses with our own parser. Control numbers come from the caller's
``next_control(scope)``; the time is passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from translators.errors import EdiError
from translators.result import (
    AckDocument,
    InterchangeResult,
    MessageResult,
    TranslationResult,
    is_error,
)
from translators.syntax import build_interchange, serialize
from translators.syntax.tree import Delimiters, Group, Interchange, Message, Segment

NextControl = Callable[[str], int]
MAX_NOTES = 99  # AK3/AK4 pairs per message: enough to locate faults, bounded for hostile input


def build_all(result: TranslationResult, next_control: NextControl, now: datetime,
              x12_ack: str | None = None) -> list[AckDocument]:
    documents: list[AckDocument] = []
    for index, ir in enumerate(result.interchanges):
        messages = [m for m in result.messages
                    if m.interchange_index == index and m.message is not None]
        if ir.standard == "x12":
            if _needs_ta1(ir):
                documents.append(build_ta1(ir, next_control, now, result.lenient))
            kind = x12_ack or ir.ack_kind
            if kind in ("997", "999") and ir.ack_kind:
                for group_index, group in enumerate(ir.groups):
                    if group.tree.header is None:
                        continue
                    in_group = [m for m in messages if m.group_index == group_index]
                    documents.append(build_functional_ack(
                        kind, ir, group_index, in_group, next_control, now))
        elif ir.ack_kind == "CONTRL":
            documents.append(build_contrl(ir, messages, next_control, now, result.lenient))
    return documents


def _written(interchange: Interchange) -> bytes:
    """Serialize without trailing empty elements (X12 and EDIFACT both forbid them)."""
    for group in interchange.groups:
        for message in group.messages:
            for segment in message.segments:
                _trim(segment)
    for segment in interchange.extras:
        _trim(segment)
    return serialize(interchange)


def _trim(segment: Segment) -> None:
    elements = [[[c for c in rep] for rep in element] for element in segment.elements]
    for element in elements:
        for rep in element:
            while len(rep) > 1 and not rep[-1]:
                rep.pop()
    while elements and not any(any(rep) for rep in elements[-1]):
        elements.pop()
    segment.elements = elements


# -- X12 --------------------------------------------------------------------------------------
def _needs_ta1(ir: InterchangeResult) -> bool:
    return ir.ta1_requested or any(e.codes.x12_ta1 for e in ir.errors)


def _x12_delimiters(ir: InterchangeResult) -> Delimiters:
    inbound = ir.tree.delimiters
    return replace(inbound, suffix="\n" if inbound.suffix else "", release="")


def _x12_envelope(ir: InterchangeResult, control: int, now: datetime, version: str,
                  groups: list[Group] | None = None) -> Interchange:
    tree = ir.tree
    delimiters = _x12_delimiters(ir)
    if version >= "00501" and not delimiters.repetition:
        delimiters = replace(delimiters, repetition="^")
    interchange = build_interchange(
        "x12", sender=ir.reply_as or (tree.receiver_qualifier, tree.receiver_id),
        receiver=(tree.sender_qualifier, tree.sender_id), control=f"{control:09d}",
        date=now.strftime("%y%m%d"), time=now.strftime("%H%M"), groups=groups or [],
        delimiters=delimiters, version=version, test=tree.header.get(15) == "T")
    return interchange


def build_ta1(ir: InterchangeResult, next_control: NextControl, now: datetime,
              lenient: bool = True) -> AckDocument:
    """TA1 in its own interchange (IEA01 = 0 groups)."""
    notes = [e.codes.x12_ta1 for e in ir.errors if e.codes.x12_ta1]
    faults = [e for e in ir.errors if is_error(e) and e.codes.x12_ta1]
    if not notes:
        code, note = "A", "000"
    else:
        code, note = ("R" if faults and (not lenient or ir.refused) else "E"), notes[0]
    header = ir.tree.header
    control = next_control("isa")
    version = header.get(12) if header.get(12) in ("00401", "00501") else "00401"
    envelope = _x12_envelope(ir, control, now, version)
    envelope.extras.append(Segment("TA1", [[[v]] for v in (
        ir.control_number, header.get(9), header.get(10), code, note)]))
    return AckDocument(kind="TA1", standard="x12", data=_written(envelope),
                       control_numbers={"interchange": str(control)},
                       acknowledges=ir.control_number)


def _x12_status(message: MessageResult) -> str:
    if message.status in ("rejected", "unsupported"):
        return "R"
    # (warnings alone, such as our data-quality findings, do not make it "E")
    return "E" if message.status == "accepted_with_errors" or any(map(is_error, message.errors)) \
        else "A"


def _safe_copy(value: str, d: Delimiters) -> str:
    bad = {d.segment, d.element, d.component, d.repetition} - {""}
    return "".join(ch for ch in value if ch not in bad)[:99]


def _x12_notes(message: MessageResult, kind: str, d: Delimiters) -> tuple[list[Segment],
                                                                          list[str]]:
    """AK3/AK4 (or IK3/IK4) segments and the AK5/IK5 codes for one message."""
    is_999 = kind == "999"
    seg_tag, elem_tag = ("IK3", "IK4") if is_999 else ("AK3", "AK4")
    notes: list[Segment] = []
    trailer_codes: list[str] = []
    by_segment: dict[tuple[int, str], list[EdiError]] = {}
    order: list[tuple[int, str, str, str]] = []  # (position, tag, loop, segment code)
    for error in message.errors:
        codes = error.codes
        segment_code = (codes.x12_ik3 or codes.x12_ak3) if is_999 else codes.x12_ak3
        element_code = (codes.x12_ik4 or codes.x12_ak4) if is_999 else codes.x12_ak4
        if codes.x12_ak5 and codes.x12_ak5 not in trailer_codes:
            trailer_codes.append(codes.x12_ak5)
        position = error.segment_position
        if position is None or not error.segment_tag:
            continue
        loop = str(error.extra.get("loop", ""))
        if element_code and error.element_position is not None:
            key = (position, error.segment_tag)
            if key not in by_segment:
                by_segment[key] = []
                order.append((position, error.segment_tag, loop, "8"))
            by_segment[key].append(error)
        elif segment_code:
            order.append((position, error.segment_tag, loop, segment_code))
    for position, tag, loop, code in order[:MAX_NOTES]:
        notes.append(Segment(seg_tag, [[[tag]], [[str(position)]], [[loop]], [[code]]]))
        if code != "8":
            continue
        for error in by_segment[(position, tag)][:MAX_NOTES]:
            codes = error.codes
            element_code = (codes.x12_ik4 or codes.x12_ak4) if is_999 else codes.x12_ak4
            where = [str(error.element_position)]
            if error.component_position or error.repetition_position:
                where.append(str(error.component_position or ""))
            if error.repetition_position:
                where.append(str(error.repetition_position))
            notes.append(Segment(elem_tag, [[where], [[error.element_ref]], [[element_code]],
                                            [[_safe_copy(error.bad_value, d)]]]))
    if notes and "5" not in trailer_codes:
        trailer_codes.append("5")
    return notes, trailer_codes[:5]


def build_functional_ack(kind: str, ir: InterchangeResult, group_index: int,
                         messages: list[MessageResult], next_control: NextControl,
                         now: datetime) -> AckDocument:
    group = ir.groups[group_index]
    tree = group.tree
    version = tree.version or "004010"
    five = version[:6] >= "005010"
    d = _x12_delimiters(ir)
    st_control = next_control("st")
    body: list[Segment] = []
    header = [[["997" if kind == "997" else "999"]], [[f"{st_control:04d}"]]]
    if kind == "999":
        header.append([["005010X231A1"]])
    ak1 = [[[tree.functional_id]], [[tree.control]]]
    if five:
        ak1.append([[version]])
    body.append(Segment("AK1", ak1))
    accepted = 0
    for message in messages:
        ak2 = [[[message.message_type]], [[message.message_control]]]
        if five and message.message is not None and message.message.header.get(3):
            ak2.append([[message.message.header.get(3)]])
        body.append(Segment("AK2", ak2))
        notes, codes = _x12_notes(message, kind, d)
        body.extend(notes)
        status = _x12_status(message)
        if status != "R":
            accepted += 1
            if not any(is_error(e) for e in message.errors):
                codes = [c for c in codes if c != "5"] if status == "A" else codes
        body.append(Segment("IK5" if kind == "999" else "AK5",
                            [[[status]], *([[c]] for c in codes)]))
    group_codes = [e.codes.x12_ak9 for e in group.errors if e.codes.x12_ak9][:5]
    received = len(messages)
    if group_codes and any(is_error(e) for e in group.errors) and accepted == received:
        group_status = "E"
    elif accepted == 0 and received:
        group_status = "R"
    elif accepted < received:
        group_status = "P"
    elif any(_x12_status(m) == "E" for m in messages) or group_codes:
        group_status = "E"
    else:
        group_status = "A"
    included = tree.trailer.get(1) if tree.trailer is not None else str(received)
    body.append(Segment("AK9", [[[group_status]], [[included or str(received)]],
                                [[str(received)]], [[str(accepted)]],
                                *([[c]] for c in group_codes)]))
    gs_control = next_control("gs")
    gs = Segment("GS", [[[v]] for v in (
        "FA", tree.app_receiver, tree.app_sender, now.strftime("%Y%m%d"), now.strftime("%H%M"),
        str(gs_control), "X", "005010X231A1" if kind == "999" else version)])
    message_tree = Message(type=kind, version=version, control=f"{st_control:04d}",
                           segments=[Segment("ST", header), *body])
    isa_control = next_control("isa")
    isa_version = "00501" if five else "00401"
    envelope = _x12_envelope(ir, isa_control, now, isa_version,
                             [Group(header=gs, trailer=None, messages=[message_tree])])
    return AckDocument(kind=kind, standard="x12", data=_written(envelope),  # type: ignore[arg-type]
                       control_numbers={"interchange": str(isa_control),
                                        "group": str(gs_control), "message": str(st_control)},
                       acknowledges=ir.control_number)


# -- EDIFACT ----------------------------------------------------------------------------------
def _contrl_code(error: EdiError) -> str:
    return error.codes.edifact or "18"  # 18 = unspecified error


def build_contrl(ir: InterchangeResult, messages: list[MessageResult],
                 next_control: NextControl, now: datetime, lenient: bool = True) -> AckDocument:
    tree = ir.tree
    unb = tree.header
    syntax_id, syntax_version = unb.get(1, 1) or "UNOC", unb.get(1, 2) or "3"
    four = syntax_version == "4"
    interchange_faults = [e for e in ir.errors if is_error(e)]
    rejected_all = bool(interchange_faults) and (not lenient or ir.refused)
    body: list[Segment] = []
    uci = [[[ir.control_number]], [[unb.get(2, 1), unb.get(2, 2)]],
           [[unb.get(3, 1), unb.get(3, 2)]], [["4" if rejected_all else "7"]]]
    coded = [e for e in interchange_faults if e.codes.edifact]
    if coded:
        first = coded[0]
        uci.append([[_contrl_code(first)]])
        uci.append([[first.segment_tag or "UNB"]])
        if first.element_position:
            uci.append([[str(first.element_position), str(first.component_position or "")]])
    body.append(Segment("UCI", uci))
    for message in messages:
        tree_message = message.message
        assert tree_message is not None
        s009 = [tree_message.header.get(2, i) for i in range(1, 6)]
        while s009 and not s009[-1]:
            s009.pop()
        rejected = rejected_all or message.status in ("rejected", "unsupported")
        ucm = [[[message.message_control]], [s009], [["4" if rejected else "7"]]]
        level_faults = [e for e in message.errors if _message_level(e) and e.codes.edifact]
        if level_faults:
            ucm.append([[_contrl_code(level_faults[0])]])
            ucm.append([["UNH"]])
        body.append(Segment("UCM", ucm))
        body.extend(_contrl_notes(message))
    version = ("4", "1") if four else ("2", "2")
    unh_control = next_control("unh")
    contrl = Message(type="CONTRL", version="".join(version), control=str(unh_control),
                     segments=[Segment("UNH", [[[str(unh_control)]],
                                               [["CONTRL", version[0], version[1], "UN"]]]),
                               *body])
    unb_control = next_control("unb")
    date = now.strftime("%Y%m%d" if four else "%y%m%d")
    d = replace(tree.delimiters, suffix="\n" if tree.delimiters.suffix else "")
    envelope = build_interchange(
        "edifact", sender=ir.reply_as or (unb.get(3, 2), unb.get(3, 1)),
        receiver=(unb.get(2, 2), unb.get(2, 1)),
        control=str(unb_control), date=date, time=now.strftime("%H%M"), messages=[contrl],
        delimiters=d, syntax=f"{syntax_id}:{syntax_version}", una=bool(tree.una))
    return AckDocument(kind="CONTRL", standard="edifact", data=_written(envelope),
                       control_numbers={"interchange": str(unb_control),
                                        "message": str(unh_control)},
                       acknowledges=ir.control_number)


def _message_level(error: EdiError) -> bool:
    """Faults of the message as a whole (counts, references, type) belong in UCM, not UCS."""
    return error.level == "message" or error.segment_position is None


def _contrl_notes(message: MessageResult) -> list[Segment]:
    """UCS per faulty segment (with its code for segment faults) and UCD per element fault."""
    notes: list[Segment] = []
    seen_segments: dict[int, bool] = {}
    located = sorted((e for e in message.errors if not _message_level(e)),
                     key=lambda e: e.segment_position or 0)
    for error in located:
        position = error.segment_position
        if position is None or not error.codes.edifact:
            continue
        if len(notes) >= 2 * MAX_NOTES:
            break
        if error.element_position is None:
            notes.append(Segment("UCS", [[[str(position)]], [[_contrl_code(error)]]]))
            seen_segments[position] = True
            continue
        if position not in seen_segments:
            notes.append(Segment("UCS", [[[str(position)]]]))
            seen_segments[position] = True
        s011 = [str(error.element_position)]
        if error.component_position:
            s011.append(str(error.component_position))
        notes.append(Segment("UCD", [[[_contrl_code(error)]], [s011]]))
    return notes
