"""Envelope assembly: segments in, interchange -> group -> message tree out, with every
control-number and count check of ISA/GS/ST..SE/GE/IEA and UNB/UNG/UNH..UNT/UNE/UNZ.

The reader appends body segments to ``current`` itself (the hot path); only envelope and
service segments come through :meth:`Assembler.envelope`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from translators.errors import EdiError, Level
from translators.syntax.digits import bounded_int
from translators.syntax.faults import MAX_FAULTS, capped, fault
from translators.syntax.tree import Delimiters, Detection, Group, Interchange, Message, Segment


@dataclass(frozen=True, slots=True)
class Tags:
    header: str
    trailer: str
    group_header: str
    group_trailer: str
    message_header: str
    message_trailer: str
    extras: frozenset[str]  # service segments allowed between header and first group

    @property
    def envelope(self) -> frozenset[str]:
        return frozenset({self.header, self.trailer, self.group_header, self.group_trailer,
                          self.message_header, self.message_trailer, "UNA", "UNB", "ISA"})


TAGS = {
    "x12": Tags("ISA", "IEA", "GS", "GE", "ST", "SE", frozenset({"TA1", "ISB", "ISE"})),
    "edifact": Tags("UNB", "UNZ", "UNG", "UNE", "UNH", "UNT", frozenset()),
}

CONTINUE, COMPLETE, NEW_INTERCHANGE, STRAY = 0, 1, 2, 3
# Duplicate message control numbers are tracked per group up to this many (about 60 bytes
# each): the only per-message memory the streaming path keeps.
DUPLICATE_CHECK_LIMIT = 100_000


def _number(text: str) -> int | None:
    """A count from a trailer: ASCII digits, at most 18 of them (no standard count is longer;
    int() of thousands of digits fails past Python's limit), else None."""
    return bounded_int(text.strip())


def _first(elements: list[list[list[str]]], element: int, component: int = 1) -> str:
    """``Segment.get`` on already decoded elements (message headers are read once per message,
    several values each: the property and method lookups added up)."""
    try:
        return elements[element - 1][0][component - 1]
    except IndexError:
        return ""


_UNH_NAMES = ("version", "release", "agency", "association")


class Assembler:
    """Builds one interchange. ``keep=False`` (streaming) hands finished messages to
    ``completed`` instead of keeping them in the tree."""

    def __init__(self, standard: str, delimiters: Delimiters, detection: Detection,
                 errors: list[EdiError], sink: list[tuple[Any, ...]] | None, keep: bool) -> None:
        self.standard = standard
        self.tags = TAGS[standard]
        self.env = self.tags.envelope
        self.delimiters = delimiters
        self.detection = detection
        self.errors = errors
        self.sink = sink
        self.keep = keep
        self.interchange: Interchange | None = None
        self.group: Group | None = None
        self.message: Message | None = None
        self.current: list[Segment] | None = None  # segments of the open message
        self.completed: list[tuple[Message, Group]] = []
        self.last: Segment | None = None
        self._group_messages = 0
        self._group_controls: set[str] = set()
        self._groups = 0  # explicit groups (GS / UNG)
        self._messages = 0
        self._bare_messages = 0  # EDIFACT messages outside UNG..UNE

    # -- faults --------------------------------------------------------------------------------
    def error(self, kind: str, message: str, level: Level, segment: Segment | None = None,
              element: int | None = None, severity: str = "error", **extra: Any) -> None:
        if len(self.errors) >= MAX_FAULTS:
            return  # (no room for the fault: do not build it)
        err = fault(kind, message, level=level, standard=self.standard,
                    interchange=self.interchange, group=self.group, msg=self.message,
                    segment=segment, element=element, severity=severity, **extra)
        capped_err = capped(self.errors, err)
        if capped_err is None:
            return
        err = capped_err
        self.errors.append(err)
        if self.sink is not None:
            self.sink.append(("error", err))

    # -- segments ------------------------------------------------------------------------------
    def envelope(self, seg: Segment) -> int:
        tags, tag = self.tags, seg.tag
        if self.interchange is None:
            return self._open_interchange(seg)
        if tag in ("UNA", "UNB", "ISA"):
            return NEW_INTERCHANGE
        if self.message is not None:
            if tag == tags.message_trailer:
                self._close_message(seg)
                return CONTINUE
            if tag in self.env:
                self.error("message.missing_trailer",
                           f"{self.message.header.tag} {self.message.control} has no "
                           f"{tags.message_trailer}: {tag} found inside the message",
                           "message", seg)
                self._close_message(None)
            else:  # not an envelope tag: the reader normally appends these itself
                self._append(seg)
                return CONTINUE
        if tag == tags.message_header:
            self._open_message(seg)
        elif tag == tags.group_header:
            self._close_group(None, implicit_ok=True)
            self._open_group(seg)
        elif tag == tags.group_trailer:
            if self.group is None or self.group.header is None:
                return self._stray(seg, f"{tag} without an open {tags.group_header} group")
            else:
                self._close_group(seg)
        elif tag == tags.trailer:
            self._close_group(None, implicit_ok=True)
            self._close_interchange(seg)
            return COMPLETE
        elif tag == tags.message_trailer:
            return self._stray(seg, f"{tag} without an open {tags.message_header} message")
        elif tag in tags.extras and self.group is None and not self.interchange.groups:
            self.interchange.extras.append(seg)
            self._emit_segment(seg)
            self.last = seg
        else:
            return self._stray(seg, f"segment {tag} outside a message")
        return CONTINUE

    def _emit_segment(self, seg: Segment) -> None:
        if self.sink is not None:
            self.sink.append(("segment", seg))

    def _append(self, seg: Segment) -> None:
        assert self.current is not None
        self.current.append(seg)
        seg.position = len(self.current)
        self._emit_segment(seg)
        self.last = seg

    def _stray(self, seg: Segment, why: str) -> int:
        """Report a segment that has no place in the envelope. The reader keeps its bytes in
        the previous segment's tail (the tree has no place for it)."""
        self.error("envelope.segment_outside_message", why, "interchange", seg)
        return STRAY

    # -- interchange ---------------------------------------------------------------------------
    def _open_interchange(self, seg: Segment) -> int:
        self.interchange = Interchange(standard=self.standard,  # type: ignore[arg-type]
                                       delimiters=self.delimiters, header=seg, trailer=None,
                                       detection=self.detection)
        self.last = seg
        if self.sink is not None:
            self.sink.append(("start_interchange", self.interchange))
            self.sink.append(("segment", seg))
        if self.standard == "x12":
            self._check_isa(seg)
        elif not seg.get(5):
            self.error("interchange.missing_control", "UNB has no interchange control "
                       "reference (UNB05)", "interchange", seg, element=5)
        return CONTINUE

    def _check_isa(self, seg: Segment) -> None:
        from translators.syntax.isa import check_isa  # small table, kept in its own module

        for kind, message, element in check_isa(seg):
            self.error(kind, message, "interchange", seg, element=element)

    def _close_interchange(self, trailer: Segment | None) -> None:
        ic = self.interchange
        assert ic is not None
        tags = self.tags
        ic.trailer = trailer
        if trailer is None:
            self.error("interchange.missing_trailer",
                       f"interchange {ic.control} ends without {tags.trailer}", "interchange",
                       self.last)
        else:
            self.last = trailer
            self._emit_segment(trailer)
            counted = self._groups if (self.standard == "x12" or self._groups) else self._messages
            what = "functional groups" if (self.standard == "x12" or self._groups) else "messages"
            declared = _number(trailer.get(1))
            if declared != counted:
                self.error("interchange.count_mismatch",
                           f"{tags.trailer}01 says {trailer.get(1)!r} {what}, the interchange "
                           f"holds {counted}", "interchange", trailer, element=1,
                           bad_value=trailer.get(1))
            if trailer.get(2) != ic.control:
                self.error("interchange.control_mismatch",
                           f"{tags.trailer}02 {trailer.get(2)!r} does not match {tags.header} "
                           f"control {ic.control!r}", "interchange", trailer, element=2,
                           bad_value=trailer.get(2))
        if self.sink is not None:
            self.sink.append(("end_interchange", ic))

    def finish(self, why: str) -> None:
        """End of input or a new interchange header before the trailer."""
        if self.interchange is None:
            return
        if self.message is not None:
            self.error("message.missing_trailer",
                       f"{self.message.header.tag} {self.message.control} has no "
                       f"{self.tags.message_trailer} ({why})", "message", self.last)
            self._close_message(None)
        self._close_group(None, implicit_ok=True, why=why)
        self._close_interchange(None)

    # -- groups --------------------------------------------------------------------------------
    def _open_group(self, seg: Segment) -> None:
        ic = self.interchange
        assert ic is not None
        self.group = Group(header=seg, trailer=None)
        ic.groups.append(self.group)
        self._groups += 1
        self._group_messages = 0
        self._group_controls = set()
        self.last = seg
        if self.sink is not None:
            self.sink.append(("start_group", self.group))
            self.sink.append(("segment", seg))
        if self.standard == "edifact" and self._bare_messages:
            self.error("group.mixed_with_messages", "UNG group after messages outside any "
                       "group", "group", seg)
        if not self.group.control:
            self.error("group.missing_control", f"{seg.tag} has no group control number",
                       "group", seg)

    def _close_group(self, trailer: Segment | None, implicit_ok: bool = False,
                     why: str = "") -> None:
        group = self.group
        if group is None:
            return
        tags = self.tags
        if trailer is None and group.header is not None:
            reason = why or "next envelope segment reached"
            self.error("group.missing_trailer",
                       f"group {group.control} has no {tags.group_trailer} ({reason})",
                       "group", self.last)
        if trailer is not None:
            group.trailer = trailer
            self.last = trailer
            self._emit_segment(trailer)
            declared = _number(trailer.get(1))
            if declared != self._group_messages:
                self.error("group.count_mismatch",
                           f"{tags.group_trailer}01 says {trailer.get(1)!r} messages, the group "
                           f"holds {self._group_messages}", "group", trailer, element=1,
                           bad_value=trailer.get(1))
            if trailer.get(2) != group.control:
                self.error("group.control_mismatch",
                           f"{tags.group_trailer}02 {trailer.get(2)!r} does not match "
                           f"{tags.group_header} control {group.control!r}", "group", trailer,
                           element=2, bad_value=trailer.get(2))
        if self.sink is not None:
            self.sink.append(("end_group", group))
        self.group = None

    # -- messages ------------------------------------------------------------------------------
    def _open_message(self, seg: Segment) -> None:
        ic = self.interchange
        assert ic is not None
        if self.group is None:
            if self.standard == "x12":
                self.error("group.missing_header", "ST outside a GS..GE functional group",
                           "group", seg)
            elif self._groups:
                self.error("group.mixed_with_messages",
                           "UNH outside a UNG group in an interchange that uses groups",
                           "group", seg)
            self.group = Group(header=None, trailer=None)
            ic.groups.append(self.group)
            self._group_messages = 0
            self._group_controls = set()
            if self.sink is not None:
                self.sink.append(("start_group", self.group))
        if self.group.header is None:
            self._bare_messages += 1
        elements = seg.peek_elements()
        if self.standard == "x12":
            mtype, control = _first(elements, 1), _first(elements, 2)
            implementation = _first(elements, 3)
            version = implementation or self.group.version
            identifier = {"implementation": implementation} if implementation else {}
        else:
            control = _first(elements, 1)
            s009 = elements[1][0] if len(elements) > 1 and elements[1] else []
            mtype, *parts = [*s009[:5], "", "", "", "", ""][:5]
            version = parts[0] + parts[1]
            identifier = {name: value for name, value in zip(_UNH_NAMES, parts, strict=True)
                          if value}
        message = Message(type=mtype, version=version, control=control, segments=[seg],
                          identifier=identifier)
        seg.position = 1
        self.message = message
        self.current = message.segments
        self.last = seg
        if self.keep:
            self.group.messages.append(message)
        if self.sink is not None:
            self.sink.append(("start_message", message))
            self.sink.append(("segment", seg))
        if not mtype:
            self.error("message.missing_type", f"{seg.tag} has no message type", "message", seg,
                       element=1 if self.standard == "x12" else 2)
        if not control:
            self.error("message.missing_control", f"{seg.tag} has no control number",
                       "message", seg, element=2 if self.standard == "x12" else 1)
        elif control in self._group_controls:
            self.error("message.duplicate_control",
                       f"message control number {control!r} is used twice in this group",
                       "message", seg, element=2 if self.standard == "x12" else 1,
                       bad_value=control)
        if len(self._group_controls) < DUPLICATE_CHECK_LIMIT:
            self._group_controls.add(control)

    def _close_message(self, trailer: Segment | None) -> None:
        message, group = self.message, self.group
        assert message is not None and group is not None
        tags = self.tags
        if trailer is not None:
            self._append(trailer)
            count = len(message.segments)
            elements = trailer.peek_elements()
            first, second = _first(elements, 1), _first(elements, 2)
            declared = _number(first)
            if declared != count:
                self.error("message.segment_count",
                           f"{tags.message_trailer}01 says {first!r} segments, the "
                           f"message has {count}", "message", trailer, element=1,
                           bad_value=first)
            if second != message.control:
                self.error("message.control_mismatch",
                           f"{tags.message_trailer}02 {second!r} does not match "
                           f"{tags.message_header} control {message.control!r}", "message",
                           trailer, element=2, bad_value=trailer.get(2))
        self._group_messages += 1
        self._messages += 1
        if self.sink is not None:
            self.sink.append(("end_message", message))
        if not self.keep:
            self.completed.append((message, group))
        self.message = None
        self.current = None
