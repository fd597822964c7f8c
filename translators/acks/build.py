"""Acknowledgments from the error model: 997, 999 and TA1 (X12), CONTRL (EDIFACT).

Each acknowledgment is built as an interchange tree and written by the syntax layer's
serializer, so it re-parses with our own parser. Control numbers come from the caller's
``next_control(scope)``, always taken from the outside in (interchange, group, message: the
order rendering takes them, so two writers never wait on each other's counters); the time is
passed in.

An acknowledgment must be writable whatever the partner sent. So:

* Our delimiters are the partner's only when they are usable ones (one printable ASCII
  character or an ASCII control character each, none alphanumeric or a space, all different);
  otherwise, and for any separator the partner's set lacks, we choose our own. A repetition
  separator is declared only where the version we write has one (ISA11 is ``U`` under 00401)
  and never collides with the other delimiters.
* Every value we echo (identifiers, control numbers, message types, bad-data copies) is fitted
  to what the element can carry: cut to the element's maximum length, characters the syntax
  level cannot encode (non-ASCII under X12 and UNOA/UNOB, lower case under UNOA) replaced,
  X12 delimiters replaced (X12 has no escape), EDIFACT delimiters escaped with the release
  character by the serializer. A position no element can hold is left out.
* CONTRL follows ISO 9735: element positions count the segment tag as position 1, a missing
  segment is reported at the last segment processed before it, functional groups (UNG) are
  answered with UCF, and only errors decide an error code, never warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from translators.errors import EdiError
from translators.result import (
    AckDocument,
    GroupResult,
    InterchangeResult,
    MessageResult,
    TranslationResult,
    is_error,
)
from translators.syntax import build_interchange, serialize
from translators.syntax.detect import CHARSETS
from translators.syntax.digits import ascii_digits
from translators.syntax.tree import Delimiters, Group, Interchange, Message, Segment

NextControl = Callable[[str], int]
MAX_NOTES = 99  # AK3/AK4 pairs per message: enough to locate faults, bounded for hostile input
# Characters we may choose as a separator of our own, in order of preference.
_SPARE_SEPARATORS = "^{|!`\\~*>:+'?;@#$%&"
_REPLACEMENTS = "?.-/"  # what stands in for a character an element cannot carry


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
        if group.header is not None:
            _trim(group.header)
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


# -- fitting values ---------------------------------------------------------------------------
def _separator_ok(char: str) -> bool:
    """A character we can write as a separator: one ASCII character, printable or a control
    character, neither a letter, a digit nor a space."""
    return len(char) == 1 and char.isascii() and not char.isalnum() and char != " "


def _inner_ok(char: str) -> bool:
    """A separator inside segments: also never a line break (line breaks in a segment are
    wrapping to our parser, never data)."""
    return _separator_ok(char) and char not in "\r\n"


def _usable_set(segment: str, element: str, component: str) -> bool:
    return _separator_ok(segment) and _inner_ok(element) and _inner_ok(component) \
        and len({segment, element, component}) == 3


def _spare(taken: set[str]) -> str:
    return next(c for c in _SPARE_SEPARATORS if c not in taken)


class _Fitter:
    """Fits partner values to the elements of the acknowledgment being written."""

    def __init__(self, allowed: Callable[[str], bool], forbidden: set[str],
                 upper: bool = False) -> None:
        self.allowed = allowed
        self.forbidden = forbidden
        self.upper = upper
        self.replacement = next(c for c in _REPLACEMENTS
                                if c not in forbidden and allowed(c))

    def __call__(self, value: str, limit: int) -> str:
        value = value[:limit]
        if self.upper:
            # (after the cut too: upper-casing can lengthen a value, 'ß' -> 'SS')
            value = value.upper()[:limit]
        if value.isascii() and value.isprintable() and not any(
                c in value for c in self.forbidden) and all(map(self.allowed, value)):
            return value
        return "".join(c if self.allowed(c) and c not in self.forbidden
                       else self.replacement for c in value)


def _printable_ascii(char: str) -> bool:
    return " " <= char <= "~"


def _or(value: str, placeholder: str) -> str:
    """A mandatory element we must echo but the partner left empty: a placeholder."""
    return value if value.strip() else placeholder


def _digits(value: str, width: int, minimum: int = 1) -> str:
    """An echoed control number of an N0 element: ASCII digits, ``minimum``..``width`` of
    them (zero-filled); "0..." when the partner's is not a number."""
    value = value.strip()
    if not (ascii_digits(value) and len(value) <= width):
        value = "0"
    return value.zfill(minimum)


def _number(value: int | None, digits: int) -> str:
    """A position as an element of ``digits`` digits can hold it; "" when it cannot."""
    if value is None or value < 0:
        return ""
    text = str(value)
    return text if len(text) <= digits else ""


# -- X12 --------------------------------------------------------------------------------------
def _needs_ta1(ir: InterchangeResult) -> bool:
    return ir.ta1_requested or any(e.codes.x12_ta1 for e in ir.errors)


def _x12_delimiters(ir: InterchangeResult, isa_version: str = "00401") -> Delimiters:
    """The partner's separators when we can write them, else ours; a repetition separator
    only from ISA12 00402 on, never one of the other delimiters."""
    inbound = ir.tree.delimiters
    chars = (inbound.segment, inbound.element, inbound.component)
    if not _usable_set(*chars):
        chars = ("~", "*", ">")
    segment, element, component = chars
    repetition = ""
    if isa_version >= "00402":
        taken = set(chars)
        repetition = inbound.repetition
        if not _inner_ok(repetition) or repetition in taken:
            repetition = _spare(taken)
    suffix = "\n" if inbound.suffix and segment not in "\r\n" else ""
    return Delimiters(segment=segment, element=element, component=component,
                      repetition=repetition, release="", suffix=suffix)


def _x12_fitter(d: Delimiters) -> _Fitter:
    # X12 basic and extended character sets are printable ASCII; no escape exists.
    return _Fitter(_printable_ascii, {c for c in (d.segment, d.element, d.component,
                                                  d.repetition) if c})


def _x12_envelope(ir: InterchangeResult, control: int, now: datetime, version: str,
                  delimiters: Delimiters, groups: list[Group] | None = None) -> Interchange:
    tree = ir.tree
    fit = _x12_fitter(delimiters)
    return build_interchange(
        "x12", sender=_x12_party(ir.reply_as or (tree.receiver_qualifier, tree.receiver_id), fit),
        receiver=(_qualifier(fit(tree.sender_qualifier, 2)),
                  _or(fit(tree.sender_id.strip(), 15), "UNKNOWN")),
        control=f"{control:09d}", date=now.strftime("%y%m%d"), time=now.strftime("%H%M"),
        groups=groups or [], delimiters=delimiters, version=version,
        test=tree.header.get(15) == "T")


def _x12_party(party: tuple[str, str], fit: _Fitter) -> tuple[str, str]:
    """ISA05/06 or ISA07/08 as we can write them: a valid qualifier, at most 15 characters."""
    return _qualifier(fit(party[0], 2)), _or(fit(party[1].strip(), 15), "UNKNOWN")


def _qualifier(value: str) -> str:
    """ISA05/ISA07: two letters or digits, else ZZ (mutually defined)."""
    return value if len(value) == 2 and value.isascii() and value.isalnum() else "ZZ"


def _x12_date(value: str, now: datetime) -> str:
    return value if len(value) == 6 and ascii_digits(value) else now.strftime("%y%m%d")


def _x12_time(value: str, now: datetime) -> str:
    return value if len(value) == 4 and ascii_digits(value) else now.strftime("%H%M")


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
    d = _x12_delimiters(ir, version)
    envelope = _x12_envelope(ir, control, now, version, d)
    envelope.extras.append(Segment("TA1", [[[v]] for v in (
        _digits(ir.control_number, 9, 9), _x12_date(header.get(9), now),
        _x12_time(header.get(10), now), code, note)]))
    return AckDocument(kind="TA1", standard="x12", data=_written(envelope),
                       control_numbers={"interchange": str(control)},
                       acknowledges=ir.control_number)


def _x12_status(message: MessageResult) -> str:
    if message.status in ("rejected", "unsupported"):
        return "R"
    # (warnings alone, such as our data-quality findings, do not make it "E")
    return "E" if message.status == "accepted_with_errors" or any(map(is_error, message.errors)) \
        else "A"


def _deciding(errors: Sequence[EdiError]) -> Sequence[EdiError]:
    """The faults whose codes an acknowledgment reports: the errors when there is one
    (a warning never decides an error code), else the warnings."""
    found = [e for e in errors if is_error(e)]
    return found if found else errors


def _x12_notes(message: MessageResult, kind: str, fit: _Fitter,
               repetitions: bool = True) -> tuple[list[Segment], list[str]]:
    """AK3/AK4 (or IK3/IK4) segments and the AK5/IK5 codes for one message."""
    is_999 = kind == "999"
    seg_tag, elem_tag = ("IK3", "IK4") if is_999 else ("AK3", "AK4")
    notes: list[Segment] = []
    trailer_codes: list[str] = []
    by_segment: dict[tuple[int, str], list[EdiError]] = {}
    order: list[tuple[int, str, str, str]] = []  # (position, tag, loop, segment code)
    for error in _deciding(message.errors):
        codes = error.codes
        segment_code = (codes.x12_ik3 or codes.x12_ak3) if is_999 else codes.x12_ak3
        element_code = (codes.x12_ik4 or codes.x12_ak4) if is_999 else codes.x12_ak4
        if codes.x12_ak5 and codes.x12_ak5 not in trailer_codes:
            trailer_codes.append(codes.x12_ak5)
        position = error.segment_position
        if position is None or not error.segment_tag or len(str(position)) > 10:
            continue
        tag = error.segment_tag
        if not (2 <= len(tag) <= 3 and tag.isascii() and tag.isalnum()):
            continue  # (no AK301/IK301 can name it: the AK5/IK5 code reports the fault)
        loop = fit(str(error.extra.get("loop", "")), 4)
        if element_code and error.element_position is not None:
            key = (position, tag)
            if key not in by_segment:
                by_segment[key] = []
                order.append((position, tag, loop, "8"))
            by_segment[key].append(error)
        elif segment_code:
            order.append((position, tag, loop, segment_code))
    for position, tag, loop, code in order[:MAX_NOTES]:
        notes.append(Segment(seg_tag, [[[tag]], [[str(position)]], [[loop]], [[code]]]))
        if code != "8":
            continue
        for error in by_segment[(position, tag)][:MAX_NOTES]:
            codes = error.codes
            element_code = (codes.x12_ik4 or codes.x12_ak4) if is_999 else codes.x12_ak4
            where = [_number(error.element_position, 2)]
            if not where[0]:
                continue  # (an element past 99: AK401 cannot name it)
            component = _number(error.component_position, 2)
            # (C030-03, the repetition, exists from 005010 on; a 004010 AK401 has two parts)
            repetition = _number(error.repetition_position, 4) if repetitions else ""
            if component or repetition:
                where.append(component)
            if repetition:
                where.append(repetition)
            ref = error.element_ref if ascii_digits(error.element_ref) else ""
            notes.append(Segment(elem_tag, [[where], [[ref[:4]]], [[element_code]],
                                            [[fit(error.bad_value, 99)]]]))
    if notes and "5" not in trailer_codes:
        trailer_codes.append("5")
    return notes, trailer_codes[:5]


def build_functional_ack(kind: str, ir: InterchangeResult, group_index: int,
                         messages: list[MessageResult], next_control: NextControl,
                         now: datetime) -> AckDocument:
    group = ir.groups[group_index]
    tree = group.tree
    five = (tree.version or "004010")[:6] >= "005010"
    isa_version = "00501" if five else "00401"
    d = _x12_delimiters(ir, isa_version)
    fit = _x12_fitter(d)
    version = fit(tree.version or "004010", 12)
    isa_control = next_control("isa")
    gs_control = next_control("gs")
    st_control = next_control("st")
    body: list[Segment] = []
    header = [[["997" if kind == "997" else "999"]], [[f"{st_control:04d}"]]]
    if kind == "999":
        header.append([["005010X231A1"]])
    ak1 = [[[_or(fit(tree.functional_id, 2), "ZZ").ljust(2, "Z")]],
           [[_digits(tree.control, 9)]]]
    if five:
        ak1.append([[version]])
    body.append(Segment("AK1", ak1))
    accepted = 0
    for message in messages:
        ak2 = [[[_or(fit(message.message_type, 3), "000").ljust(3, "0")]],
               [[_or(fit(message.message_control, 9), "0").zfill(4)]]]
        if five and message.message is not None and message.message.header.get(3):
            ak2.append([[fit(message.message.header.get(3), 35)]])
        body.append(Segment("AK2", ak2))
        notes, codes = _x12_notes(message, kind, fit, repetitions=five)
        body.extend(notes)
        status = _x12_status(message)
        if status != "R":
            accepted += 1
            if not any(is_error(e) for e in message.errors):
                codes = [c for c in codes if c != "5"] if status == "A" else codes
        body.append(Segment("IK5" if kind == "999" else "AK5",
                            [[[status]], *([[c]] for c in codes)]))
    group_codes = [e.codes.x12_ak9 for e in _deciding(group.errors) if e.codes.x12_ak9][:5]
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
    included = tree.trailer.get(1) if tree.trailer is not None else ""
    included = included if ascii_digits(included) and len(included) <= 6 else str(received)
    body.append(Segment("AK9", [[[group_status]], [[included]],
                                [[str(received)]], [[str(accepted)]],
                                *([[c]] for c in group_codes)]))
    gs = Segment("GS", [[[v]] for v in (
        "FA", _or(fit(tree.app_receiver, 15), "UNKNOWN").ljust(2, "0"),
        _or(fit(tree.app_sender, 15), "UNKNOWN").ljust(2, "0"), now.strftime("%Y%m%d"),
        now.strftime("%H%M"), str(gs_control), "X",
        "005010X231A1" if kind == "999" else version)])
    message_tree = Message(type=kind, version=version, control=f"{st_control:04d}",
                           segments=[Segment("ST", header), *body])
    envelope = _x12_envelope(ir, isa_control, now, isa_version, d,
                             [Group(header=gs, trailer=None, messages=[message_tree])])
    return AckDocument(kind=kind, standard="x12", data=_written(envelope),  # type: ignore[arg-type]
                       control_numbers={"interchange": str(isa_control),
                                        "group": str(gs_control), "message": str(st_control)},
                       acknowledges=ir.control_number)


# -- EDIFACT ----------------------------------------------------------------------------------
# UNOA (upper case) and UNOB (adds lower case) repertoires, ISO 9735 syntax 3 Annex A.
_UNOA = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-()/='+:?!\"%&*;<>")
_UNOB = _UNOA | frozenset("abcdefghijklmnopqrstuvwxyz@[]\\{}|~^_`#$")
_SERVICE_TAGS = ("UNB", "UNZ", "UNG", "UNE", "UNH", "UNT")


def _contrl_code(error: EdiError) -> str:
    return error.codes.edifact or "18"  # 18 = unspecified error


def _edifact_delimiters(tree: Interchange, syntax_version: str) -> Delimiters:
    """The partner's separators when we can write them (plus a release character, which we
    need to escape delimiters in echoed values), else the standard ones."""
    inbound = tree.delimiters
    chars = (inbound.segment, inbound.element, inbound.component)
    release = inbound.release
    if not _usable_set(*chars) or {".", ","} & set(chars):  # (decimal marks stay free)
        chars, release = ("'", "+", ":"), "?"
    taken = set(chars)
    if not _inner_ok(release) or release in taken or release in ".,":
        release = _spare(taken | {"."})
    taken.add(release)
    repetition = ""
    if syntax_version == "4":
        repetition = inbound.repetition
        if not _inner_ok(repetition) or repetition in taken or repetition in ".,":
            repetition = _spare(taken | {"."})
    used = taken | {repetition}
    decimal = next(c for c in (inbound.decimal, ".", ",") if c in (".", ",") and c not in used)
    segment, element, component = chars
    return Delimiters(segment=segment, element=element, component=component,
                      repetition=repetition, release=release, decimal=decimal,
                      suffix="\n" if inbound.suffix and segment not in "\r\n" else "")


def _edifact_party(party: tuple[str, str], fit: _Fitter) -> tuple[str, str]:
    """UNB sender/recipient as (qualifier, id) we can write: at most 4 and 35 characters."""
    return fit(party[0], 4), _or(fit(party[1], 35), "UNKNOWN")


def _edifact_fitter(syntax_id: str) -> _Fitter:
    """Delimiters need no care (the serializer escapes them); the character set does."""
    if syntax_id == "UNOA":
        return _Fitter(_UNOA.__contains__, set(), upper=True)
    if syntax_id == "UNOB":
        return _Fitter(_UNOB.__contains__, set())
    encoding = CHARSETS[syntax_id]

    def encodable(char: str) -> bool:
        if char.isascii():
            return char.isprintable()
        try:
            char.encode(encoding)
        except UnicodeEncodeError:
            return False
        return char.isprintable()

    return _Fitter(encodable, set())


def build_contrl(ir: InterchangeResult, messages: list[MessageResult],
                 next_control: NextControl, now: datetime, lenient: bool = True) -> AckDocument:
    tree = ir.tree
    unb = tree.header
    syntax_id = unb.get(1, 1).upper()
    if syntax_id not in CHARSETS:
        syntax_id = "UNOC"
    syntax_version = unb.get(1, 2) if unb.get(1, 2) in ("1", "2", "3", "4") else "3"
    four = syntax_version == "4"
    fit = _edifact_fitter(syntax_id)
    interchange_faults = [e for e in ir.errors if is_error(e)]
    rejected_all = bool(interchange_faults) and (not lenient or ir.refused)
    body: list[Segment] = []
    uci = [[[_or(fit(ir.control_number, 14), "0")]],
           [[_or(fit(unb.get(2, 1), 35), "UNKNOWN"), fit(unb.get(2, 2), 4)]],
           [[_or(fit(unb.get(3, 1), 35), "UNKNOWN"), fit(unb.get(3, 2), 4)]],
           [["4" if rejected_all else "7"]]]
    coded = [e for e in interchange_faults if e.codes.edifact]
    if coded:
        uci += _service_fault(coded[0], "UNB", fit)
    body.append(Segment("UCI", uci))
    grouped = any(g.tree.header is not None for g in ir.groups)
    if not grouped:
        for message in messages:
            body.extend(_contrl_message(message, rejected_all, fit))
    else:
        for group_index, group in enumerate(ir.groups):
            in_group = [m for m in messages if m.group_index == group_index]
            body.append(_ucf(group, rejected_all, fit))
            for message in in_group:
                body.extend(_contrl_message(message, rejected_all, fit))
    version = ("4", "1") if four else ("2", "2")
    unb_control = next_control("unb")
    unh_control = next_control("unh")
    contrl = Message(type="CONTRL", version="".join(version), control=str(unh_control),
                     segments=[Segment("UNH", [[[str(unh_control)]],
                                               [["CONTRL", version[0], version[1], "UN"]]]),
                               *body])
    date = now.strftime("%Y%m%d" if four else "%y%m%d")
    d = _edifact_delimiters(tree, syntax_version)
    inbound = tree.delimiters
    same = (d.segment, d.element, d.component, d.release, d.repetition) == (
        inbound.segment, inbound.element, inbound.component, inbound.release,
        inbound.repetition)
    envelope = build_interchange(
        "edifact", sender=_edifact_party(ir.reply_as or (unb.get(3, 2), unb.get(3, 1)), fit),
        receiver=(fit(unb.get(2, 2), 4), _or(fit(unb.get(2, 1), 35), "UNKNOWN")),
        control=str(unb_control), date=date, time=now.strftime("%H%M"), messages=[contrl],
        delimiters=d, syntax=f"{syntax_id}:{syntax_version}", una=bool(tree.una) or not same)
    return AckDocument(kind="CONTRL", standard="edifact", data=_written(envelope),
                       control_numbers={"interchange": str(unb_control),
                                        "message": str(unh_control)},
                       acknowledges=ir.control_number)


def _service_fault(error: EdiError, default_tag: str, fit: _Fitter) -> list[list[list[str]]]:
    """0085 syntax error code, 0135 service segment tag and S011 (the element, counted with
    the segment tag as position 1) of the first fault of a UCI/UCF/UCM."""
    tag = error.segment_tag if error.segment_tag in _SERVICE_TAGS else default_tag
    out = [[[_contrl_code(error)]], [[tag]]]
    element = _number(error.element_position + 1, 3) if error.element_position else ""
    if element:
        out.append([[element, _number(error.component_position, 3)]])
    return out


def _ucf(group: GroupResult, rejected_all: bool, fit: _Fitter) -> Segment:
    """UCF: the answer for one functional group (UNG..UNE)."""
    header = group.tree.header
    faults = [e for e in group.errors if is_error(e) and e.codes.edifact]
    rejected = rejected_all or bool(faults)
    ucf = [[[_or(fit(group.control, 14), "0")]],
           [[_or(fit(header.get(2, 1) if header else "", 35), "UNKNOWN"),
             fit(header.get(2, 2) if header else "", 4)]],
           [[_or(fit(header.get(3, 1) if header else "", 35), "UNKNOWN"),
             fit(header.get(3, 2) if header else "", 4)]],
           [["4" if rejected else "7"]]]
    if faults:
        ucf += _service_fault(faults[0], "UNG", fit)
    return Segment("UCF", ucf)


def _contrl_message(message: MessageResult, rejected_all: bool, fit: _Fitter) -> list[Segment]:
    """UCM for one message, then its UCS/UCD notes."""
    tree_message = message.message
    assert tree_message is not None
    limits = (6, 3, 3, 3, 6)
    s009 = [fit(tree_message.header.get(2, i), limits[i - 1]) for i in range(1, 6)]
    s009[:4] = [_or(value, "0") for value in s009[:4]]  # (type, version, release, agency: M)
    while s009 and not s009[-1]:
        s009.pop()
    rejected = rejected_all or message.status in ("rejected", "unsupported")
    ucm = [[[_or(fit(message.message_control, 14), "0")]], [s009],
           [["4" if rejected else "7"]]]
    level_faults = [e for e in message.errors
                    if is_error(e) and _message_level(e) and e.codes.edifact]
    if level_faults:
        ucm += _service_fault(level_faults[0], "UNH", fit)
    return [Segment("UCM", ucm), *_contrl_notes(message)]


def _message_level(error: EdiError) -> bool:
    """Faults of the message as a whole (counts, references, type) belong in UCM, not UCS."""
    return error.level == "message" or error.segment_position is None


def _contrl_notes(message: MessageResult) -> list[Segment]:
    """UCS per faulty segment (with its code for segment faults) and UCD per element fault.

    Positions as ISO 9735 counts them: UNH is segment 1; a missing segment is reported at the
    last segment processed before the place it was expected; in UCD the segment tag is
    element position 1, so the first data element is 2. Warnings are not reported."""
    notes: list[Segment] = []
    seen_segments: set[int] = set()
    located = sorted((e for e in message.errors
                      if is_error(e) and not _message_level(e) and e.codes.edifact),
                     key=lambda e: e.segment_position or 0)
    for error in located:
        position = error.segment_position
        if position is None:
            continue
        if error.kind == "segment.missing":
            position = max(position - 1, 1)
        where = _number(position, 6)
        if not where:
            continue
        if len(notes) >= 2 * MAX_NOTES:
            break
        if error.element_position is None:
            notes.append(Segment("UCS", [[[where]], [[_contrl_code(error)]]]))
            seen_segments.add(position)
            continue
        element = _number(error.element_position + 1, 3)
        if not element:
            continue
        if position not in seen_segments:
            notes.append(Segment("UCS", [[[where]]]))
            seen_segments.add(position)
        s011 = [element]
        component = _number(error.component_position, 3)
        if component:
            s011.append(component)
        notes.append(Segment("UCD", [[[_contrl_code(error)]], [s011]]))
    return notes
