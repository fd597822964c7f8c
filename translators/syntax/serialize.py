"""Tree -> bytes, and the helpers that make a tree built in code ready to send.

A parsed segment whose elements were never changed is written from its ``raw`` text, so the
output reproduces the input byte for byte (escapes, wrapped lines and cosmetic line breaks
included). A changed or code-built segment is encoded from its elements, escaping with the
release character (EDIFACT) or refusing a value that holds a delimiter (X12: no escape exists).
"""

from __future__ import annotations

from collections.abc import Iterator

from translators.syntax.codec import ElementCodec, SerializeError
from translators.syntax.detect import CHARSETS
from translators.syntax.reader import ParseResult
from translators.syntax.tree import Delimiters, Group, Interchange, Message, Segment

__all__ = [
    "SerializeError",
    "build_interchange",
    "finalize",
    "interchange_segments",
    "interchange_text",
    "segment_text",
    "serialize",
]


def interchange_segments(ic: Interchange) -> Iterator[Segment]:
    yield ic.header
    yield from ic.extras
    for group in ic.groups:
        if group.header is not None:
            yield group.header
        for message in group.messages:
            yield from message.segments
        if group.trailer is not None:
            yield group.trailer
    if ic.trailer is not None:
        yield ic.trailer


def segment_text(seg: Segment, codec: ElementCodec) -> str:
    """The segment without terminator: ``raw`` while it still says what ``elements`` say."""
    raw = seg.raw
    if raw is not None and (not seg.decoded or codec(raw) == seg.elements):
        return raw
    return codec.encode(seg.tag, seg.elements)


def interchange_text(ic: Interchange) -> str:
    d = ic.delimiters
    codec = ElementCodec(d, ic.standard)
    default_tail = d.segment + d.suffix
    out: list[str] = []
    if ic.una:
        out.append(ic.una)
        out.append(ic.layout.get("una_tail", d.suffix))
    for seg in interchange_segments(ic):
        out.append(segment_text(seg, codec))
        out.append(default_tail if seg.tail is None else seg.tail)
    return "".join(out)


def encoding_of(ic: Interchange) -> str:
    if ic.detection is not None:
        return ic.detection.encoding
    if ic.standard == "x12":
        return "ascii"
    syntax = ic.header.get(1, 1).upper()
    encoding = CHARSETS.get(syntax, "latin-1")
    return encoding


def interchange_bytes(ic: Interchange) -> bytes:
    encoding = encoding_of(ic)
    text = interchange_text(ic)
    # Parsed input keeps undecodable bytes as surrogates; code-built text must really fit.
    errors = "surrogateescape" if ic.detection is not None else "strict"
    try:
        body = text.encode(encoding, errors)
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start:exc.end]
        raise SerializeError(f"character {bad!r} cannot be written in {encoding}") from None
    return ic.layout.get("lead", b"") + body


def interchange_size(ic: Interchange) -> int:
    return len(interchange_bytes(ic)) - len(ic.layout.get("lead", b""))


def serialize(obj: ParseResult | Interchange | list[Interchange]) -> bytes:
    """Bytes of a parse result (lossless), one interchange, or several in order."""
    if isinstance(obj, Interchange):
        return interchange_bytes(obj)
    if isinstance(obj, ParseResult):
        return b"".join(interchange_bytes(ic) for ic in obj.interchanges) + obj.trailing
    return b"".join(interchange_bytes(ic) for ic in obj)


# -- trees built in code -----------------------------------------------------------------------
def _set(seg: Segment, element: int, value: str) -> None:
    elements = [list(map(list, e)) for e in seg.elements]
    while len(elements) < element:
        elements.append([[""]])
    elements[element - 1] = [[value]]
    seg.elements = elements


_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)


def _pad_isa(isa: Segment) -> None:
    elements = isa.elements
    changed = False
    for index, width in enumerate(_ISA_WIDTHS, start=1):
        value = isa.get(index)
        if len(value) < width:
            value = value.zfill(width) if index == 13 else value.ljust(width)
            elements = elements + [[[""]]] * (index - len(elements))
            elements[index - 1] = [[value]]
            changed = True
    if changed:
        isa.elements = [list(map(list, e)) for e in elements]


def finalize(ic: Interchange) -> Interchange:
    """Fill what a tree built in code leaves to the envelope: SE01/UNT01 segment counts,
    SE02/UNT02, GE01/UNE01, GE02/UNE02, IEA01/UNZ01, IEA02/UNZ02 (and X12 ISA padding).
    Returns the same interchange, ready for :func:`serialize`."""
    x12 = ic.standard == "x12"
    if x12:
        _pad_isa(ic.header)
    grouped = 0
    messages = 0
    for group in ic.groups:
        for message in group.messages:
            trailer = message.trailer
            if trailer is None:
                trailer = Segment("SE" if x12 else "UNT", [])
                message.segments.append(trailer)
            _set(trailer, 1, str(len(message.segments)))
            _set(trailer, 2, message.control or message.header.get(2 if x12 else 1))
            for position, seg in enumerate(message.segments, start=1):
                seg.position = position
        messages += len(group.messages)
        if group.header is not None:
            grouped += 1
            if group.trailer is None:
                group.trailer = Segment("GE" if x12 else "UNE", [])
            _set(group.trailer, 1, str(len(group.messages)))
            _set(group.trailer, 2, group.control)
    if ic.trailer is None:
        ic.trailer = Segment("IEA" if x12 else "UNZ", [])
    _set(ic.trailer, 1, str(grouped if (x12 or grouped) else messages))
    _set(ic.trailer, 2, ic.control.strip() if not x12 else ic.control)
    return ic


def build_interchange(standard: str, *, sender: tuple[str, str], receiver: tuple[str, str],
                      control: str, date: str, time: str, groups: list[Group] | None = None,
                      messages: list[Message] | None = None,
                      delimiters: Delimiters | None = None, syntax: str = "UNOC:3",
                      version: str = "00401", test: bool = False,
                      una: bool = True) -> Interchange:
    """An interchange around groups (or, EDIFACT, bare messages) built in code, finalized.

    ``sender``/``receiver`` are (qualifier, id); ``date``/``time`` are passed in (pure core:
    no clock) as YYMMDD/HHMM (X12, EDIFACT syntax <= 3) or CCYYMMDD/HHMM (EDIFACT syntax 4).
    """
    if standard == "x12":
        d = delimiters or Delimiters(segment="~", element="*", component=">",
                                     repetition="^" if version >= "00402" else "",
                                     suffix="\n")
        isa = Segment("ISA", [[[v]] for v in (
            "00", "", "00", "", sender[0], sender[1], receiver[0], receiver[1], date, time,
            d.repetition or "U", version, control, "0", "T" if test else "P", d.component)])
        group_list = groups or []
        ic = Interchange(standard="x12", delimiters=d, header=isa, trailer=None,
                         groups=group_list)
    elif standard == "edifact":
        d = delimiters or Delimiters(segment="'", element="+", component=":", release="?",
                                     repetition="*" if syntax.endswith(":4") else "",
                                     suffix="\n")
        syntax_id, _, syntax_version = syntax.partition(":")
        fields: list[list[list[str]]] = [
            [[syntax_id, syntax_version or "3"]], [[sender[1], sender[0]]],
            [[receiver[1], receiver[0]]], [[date, time]], [[control]]]
        if test:
            fields += [[[""]]] * 5 + [[["1"]]]
        unb = Segment("UNB", fields)
        group_list = groups if groups is not None else [Group(header=None, trailer=None,
                                                              messages=messages or [])]
        rep = d.repetition or " "
        una_text = f"UNA{d.component}{d.element}{d.decimal}{d.release or ' '}{rep}{d.segment}"
        ic = Interchange(standard="edifact", delimiters=d, header=unb, trailer=None,
                         groups=group_list, una=una_text if una else "")
    else:
        raise ValueError(f"unknown standard {standard!r}")
    return finalize(ic)
