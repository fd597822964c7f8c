"""Finding an interchange in bytes and reading its delimiters and character set.

Nothing is guessed silently: every decision lands in :class:`Detection.reasons` with the bytes
it was taken from. X12 delimiters come from ISA by position (the separators are counted, the
fixed 106-character width is only checked). EDIFACT delimiters come from UNA, else from the
syntax defaults (or the UNOB control-character defaults when UNB is followed by IS3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from translators.syntax.tree import Delimiters, Detection, Standard

BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)

# Header signatures: ASCII UNA / UNB / ISA and EBCDIC "ISA" (0xC9 0xE2 0xC1).
_START = re.compile(rb"UNA|UNB|ISA|\xc9\xe2\xc1")

# UNB01 syntax identifier -> Python codec (ISO 9735 Part 1 Annex, syntax 4 service code 0001).
CHARSETS = {
    "UNOA": "ascii", "UNOB": "ascii", "UNOC": "latin-1", "UNOD": "iso8859-2",
    "UNOE": "iso8859-5", "UNOF": "iso8859-7", "UNOG": "iso8859-3", "UNOH": "iso8859-4",
    "UNOI": "iso8859-6", "UNOJ": "iso8859-8", "UNOK": "iso8859-9", "UNOW": "utf-8",
    "UNOY": "utf-8", "KECA": "euc-kr",
}

# Minimum bytes a header needs before it can be judged (a streaming reader waits for these).
ISA_MAX_PROBE = 400
UNB_MAX_PROBE = 600


@dataclass(slots=True)
class Header:
    """Everything known about an interchange before its segments are read."""

    standard: Standard
    start: int  # absolute byte offset of UNA / UNB / ISA
    delimiters: Delimiters
    detection: Detection
    encoding: str  # codec for the body (surrogateescape keeps undecodable bytes lossless)
    warnings: list[tuple[str, str, int]] = field(default_factory=list)  # (kind, message, offset)


@dataclass(slots=True)
class Refusal:
    """A header signature that cannot start an interchange; ``kind`` names the fault."""

    kind: str
    message: str
    offset: int


def find_bom(data: bytes) -> tuple[str, int]:
    for mark, name in BOMS:
        if data.startswith(mark):
            return name, len(mark)
    return "", 0


def find_start(data: bytes, pos: int) -> int:
    """Byte index of the next header signature at or after ``pos`` (-1 if none)."""
    match = _START.search(data, pos)
    return match.start() if match else -1


def _isa(data: bytes, start: int, final: bool, bom: str) -> Header | Refusal | None:
    ebcdic = data[start:start + 3] == b"\xc9\xe2\xc1"
    codec = "cp037" if ebcdic else "latin-1"
    probe = data[start:start + ISA_MAX_PROBE].decode(codec)
    if len(probe) < 4:
        return None if not final else Refusal("detect.truncated_header",
                                              "ISA header is truncated", start)
    sep = probe[3]
    if sep.isalnum() or sep in " \r\n":
        return Refusal("detect.invalid_delimiter",
                       f"character {sep!r} after ISA cannot be an element separator", start + 3)
    # ISA16 follows the 16th element separator; the segment terminator follows ISA16.
    index, count = 3, 0
    while count < 16:
        index = probe.find(sep, index + 1) if count else 3
        if index < 0:
            if not final and len(probe) < ISA_MAX_PROBE:
                return None
            return Refusal("detect.truncated_header",
                           f"ISA has {count} of 16 element separators {sep!r}", start)
        count += 1
    if index + 2 >= len(probe):
        if not final and len(probe) < ISA_MAX_PROBE:
            return None
        return Refusal("detect.truncated_header", "ISA ends before its segment terminator", start)
    component, terminator = probe[index + 1], probe[index + 2]
    if component == sep or component.isalnum():
        return Refusal("detect.invalid_delimiter",
                       f"ISA16 {component!r} cannot be a component separator", start + index + 1)
    if terminator in (sep, component) or terminator.isalnum() or terminator == " ":
        return Refusal("detect.invalid_delimiter",
                       f"character {terminator!r} after ISA16 cannot be a segment terminator",
                       start + index + 2)
    suffix_end = index + 3
    while suffix_end < len(probe) and probe[suffix_end] in "\r\n" \
            and probe[suffix_end] != terminator:
        suffix_end += 1
    suffix = probe[index + 3:suffix_end]
    fields = probe[4:index].replace("\r", "").replace("\n", "").split(sep)
    version = fields[11] if len(fields) > 11 else ""
    isa11 = fields[10] if len(fields) > 10 else ""
    reasons = [f"{'EBCDIC ' if ebcdic else ''}ISA at byte {start}",
               f"element separator {sep!r} at byte {start + 3}",
               f"component separator (ISA16) {component!r} and segment terminator "
               f"{terminator!r} after the 16th element separator"]
    warnings: list[tuple[str, str, int]] = []
    repetition = ""
    if version >= "00402" and len(isa11) == 1 and not isa11.isalnum():
        repetition = isa11
        reasons.append(f"repetition separator (ISA11) {isa11!r} because ISA12 {version} >= 00402")
    elif version >= "00402":
        reasons.append(f"no repetition separator: ISA11 {isa11!r} is not a separator")
    else:
        reasons.append(f"no repetition separator: ISA12 {version!r} predates 00402")
    if index != 103 or "\n" in probe[:index] or "\r" in probe[:index]:
        warnings.append(("envelope.isa_width",
                         f"ISA is {index + 3} characters long up to its terminator, not the "
                         f"fixed 106; separators were counted instead", start))
    if ebcdic:
        encoding = "cp037"
        reasons.append("EBCDIC signature 0xC9E2C1: decoded as cp037 (US EBCDIC)")
    else:
        encoding = "latin-1"
        reasons.append("X12 basic/extended character set: bytes decoded one-to-one (latin-1)")
    delimiters = Delimiters(segment=terminator, element=sep, component=component,
                            repetition=repetition, suffix=suffix)
    detection = Detection(standard="x12", encoding=encoding, offset=start, reasons=reasons,
                          bom=bom, syntax_id=version)
    return Header("x12", start, delimiters, detection, encoding, warnings)


def _edifact(data: bytes, start: int, final: bool, bom: str) -> Header | Refusal | None:
    probe = data[start:start + UNB_MAX_PROBE].decode("latin-1")
    reasons: list[str] = []
    warnings: list[tuple[str, str, int]] = []
    una = ""
    if probe.startswith("UNA"):
        if len(probe) < 9:
            return None if not final else Refusal(
                "detect.truncated_header", "UNA service string advice is truncated", start)
        una = probe[:9]
        component, element, decimal, release, repetition, terminator = tuple(una[3:9])
        reasons.append(f"UNA at byte {start}: {una[3:9]!r}")
        chars = [component, element, decimal, release, repetition, terminator]
        used = [c for c in (component, element, release, terminator) if c != " "]
        if len(set(used)) != len(used) or component == " " or element == " " \
                or terminator == " " or any(c.isalnum() for c in chars):
            return Refusal("syntax.invalid_una",
                           f"UNA service characters {una[3:9]!r} are not distinct separators",
                           start)
        rest = probe[9:]
        skipped = len(rest) - len(rest.lstrip(" \r\n\t"))
        unb_at = 9 + skipped
        if not probe.startswith("UNB", unb_at):
            if len(probe) < unb_at + 3 and not final:
                return None
            return Refusal("envelope.missing_header",
                           "UNA is not followed by a UNB interchange header", start + unb_at)
    else:
        unb_at = 0
        after = probe[3:4]
        if not after:
            return None if not final else Refusal("detect.truncated_header",
                                                  "UNB header is truncated", start)
        if after == "\x1d":
            component, element, terminator = "\x1f", "\x1d", "\x1c"
            reasons.append("no UNA; UNB followed by IS3: UNOB control-character defaults")
        elif after == "+":
            component, element, terminator = ":", "+", "'"
            reasons.append("no UNA: syntax default separators : + '")
        else:
            return Refusal("detect.invalid_delimiter",
                           f"no UNA and UNB is followed by {after!r}, not the default '+'",
                           start + 3)
        decimal, release, repetition = ".", "?", "*"
    # UNB01: syntax identifier and version, read from the bytes before decoding.
    body = probe[unb_at + 4:]
    if "\n" in body or "\r" in body:  # a hard-wrapped file may break UNB01 itself
        body = body.replace("\r", "").replace("\n", "") if terminator not in "\r\n" else body
    end = body.find(terminator)
    if end < 0:
        if not final and len(probe) < UNB_MAX_PROBE:
            return None
        return Refusal("detect.truncated_header", "UNB has no segment terminator", start)
    unb01 = body[:body.find(element)] if element in body[:end] else body[:end]
    syntax_id, _, syntax_version = unb01.partition(component)
    syntax_version = syntax_version.partition(component)[0]
    if syntax_version >= "4" and repetition not in (" ", ""):
        reasons.append(f"repetition separator {repetition!r} (syntax version {syntax_version})")
    else:
        if repetition not in (" ", ""):
            reasons.append(f"character {repetition!r} in the repetition position is reserved "
                           f"before syntax version 4: no repetition separator")
        repetition = ""
    if release == " ":
        release = ""
        reasons.append("UNA release character is a space: no release character")
    # Cosmetic newline after the UNB terminator becomes the interchange's default suffix.
    tail_at = probe.find(terminator, unb_at + 4) + 1
    suffix_end = tail_at
    while suffix_end < len(probe) and probe[suffix_end] in "\r\n":
        suffix_end += 1
    suffix = probe[tail_at:suffix_end]
    encoding = CHARSETS.get(syntax_id.upper(), "")
    if bom == "utf-8":
        reasons.append(f"UTF-8 byte-order mark; UNB declares {syntax_id!r}: decoded as UTF-8")
        encoding = "utf-8"
    elif not encoding:
        warnings.append(("detect.unknown_charset",
                         f"syntax identifier {syntax_id!r} is not known: bytes decoded "
                         f"one-to-one (latin-1)", start + unb_at + 4))
        encoding = "latin-1"
    else:
        reasons.append(f"UNB01 {syntax_id}:{syntax_version} -> {encoding}")
    if encoding == "ascii":
        # UNOA/UNOB are 7-bit; bytes above 0x7F are kept one-to-one and reported by the parser.
        encoding = "latin-1"
    delimiters = Delimiters(segment=terminator, element=element, component=component,
                            repetition=repetition, release=release, decimal=decimal,
                            suffix=suffix)
    detection = Detection(standard="edifact", encoding=encoding, offset=start, reasons=reasons,
                          bom=bom, syntax_id=syntax_id, syntax_version=syntax_version)
    return Header("edifact", start, delimiters, detection, encoding, warnings)


def read_header(data: bytes, start: int, final: bool, bom: str = "") -> Header | Refusal | None:
    """The header at ``data[start:]``; ``None`` when more bytes are needed (streaming)."""
    if data[start:start + 3] in (b"ISA", b"\xc9\xe2\xc1"):
        return _isa(data, start, final, bom)
    return _edifact(data, start, final, bom)
