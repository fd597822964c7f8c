"""The lossless interchange tree: interchange -> group -> message -> segment -> element.

This module is the contract between the syntax layer (which builds it) and everything above it
(grammars, validation, mapping, acknowledgments). Read API, 1-based like the standards:

    seg.tag                      "BEG", "NAD"
    seg.get(2)                   element 2, first repetition, first component ("" if absent)
    seg.get(2, 3)                element 2, component 3
    seg.get(2, 1, rep=2)         element 2, component 1 of repetition 2
    seg.elements                 list[list[list[str]]]: element -> repetitions -> components
    seg.element_count            number of elements present (trailing empties included as sent)
    seg.offset / line / column   where the segment starts in the input bytes
    seg.position                 1-based position inside its message (header = 1), 0 in envelopes

Values are decoded text with release characters removed. The syntax layer may compute
``elements`` lazily from the raw segment text; callers never see the difference.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Standard = Literal["x12", "edifact"]


@dataclass(slots=True)
class Delimiters:
    segment: str
    element: str
    component: str
    repetition: str = ""  # "" when the syntax version has none
    release: str = ""  # EDIFACT release character; "" for X12
    decimal: str = "."
    # Cosmetic characters written after each segment terminator ("\r\n", "\n" or "").
    suffix: str = ""


class _Journal(threading.local):
    segments: list[Segment] | None = None


_DECODED = _Journal()


class decode_journal:
    """The segments this thread decodes from their text (``elements``) inside the block: a
    caller that wants them undecoded again afterwards needs not compare every segment's state
    before and after. (A class, not a generator: the mapping enters one per message.)"""

    __slots__ = ("outer",)

    def __enter__(self) -> list[Segment]:
        self.outer = _DECODED.segments
        journal: list[Segment] = []
        _DECODED.segments = journal
        return journal

    def __exit__(self, *exc: object) -> None:
        _DECODED.segments = self.outer


class Segment:
    """One segment. ``elements`` may be decoded lazily from ``raw`` (the segment text exactly as
    received, tag included, terminator excluded) the first time it is read; a segment built in
    code passes ``elements`` and has no ``raw``. Assigning ``elements`` drops ``raw``.

    ``tail`` is the exact text written after ``raw`` (terminator plus cosmetic line breaks);
    ``None`` means the interchange default (``delimiters.segment + delimiters.suffix``).

    The parser creates segments without calling ``__init__`` (see :func:`parsed_segment`):
    they carry a location resolver in ``_source`` and leave ``_offset``/``_line``/``_column``
    unset until a location is assigned, which saves a third of the per-segment cost.
    """

    __slots__ = (
        "_char",
        "_codec",
        "_column",
        "_elements",
        "_line",
        "_offset",
        "_source",
        "position",
        "raw",
        "tag",
        "tail",
    )

    def __init__(self, tag: str, elements: list[list[list[str]]] | None = None,
                 offset: int = 0, line: int = 1, column: int = 1, position: int = 0,
                 raw: str | None = None, tail: str | None = None,
                 codec: Callable[[str], list[list[list[str]]]] | None = None,
                 source: Any = None, char: int = 0) -> None:
        self.tag = tag
        self._elements = elements if elements is not None or raw is not None else []
        self.raw = raw
        self.tail = tail
        self._offset = offset
        self._line = line
        self._column = column
        self.position = position
        self._codec = codec
        self._source = source  # location resolver set by the parser (lazy offset/line/column)
        self._char = char

    @property
    def elements(self) -> list[list[list[str]]]:
        elements = self._elements
        if elements is None:
            assert self._codec is not None and self.raw is not None
            elements = self._elements = self._codec(self.raw)
            journal = _DECODED.segments
            if journal is not None:
                journal.append(self)
        return elements

    @elements.setter
    def elements(self, value: list[list[list[str]]]) -> None:
        self._elements = value
        self.raw = None

    def peek_elements(self) -> list[list[list[str]]]:
        """``elements`` without keeping the decoded lists (a one-off read, such as the envelope
        checks of the parser): the segment stays undecoded, so later steps can still judge it
        by its text alone."""
        elements = self._elements
        if elements is None:
            assert self._codec is not None and self.raw is not None
            return self._codec(self.raw)
        return elements

    def forget_elements(self) -> None:
        """Back to undecoded: the elements are decoded from ``raw`` again when next read. Only
        for a caller that decoded them itself and did not change them (``raw`` must still say
        what they say). A segment without ``raw`` keeps its elements."""
        if self.raw is not None:
            self._elements = None

    @property
    def decoded(self) -> bool:
        """True once ``elements`` exists as lists (read, assigned or built in code)."""
        return self._elements is not None

    @property
    def offset(self) -> int:
        return self._offset if self._source is None else self._source.byte_offset(self._char)

    @offset.setter
    def offset(self, value: int) -> None:
        if self._source is not None:
            # Line and column then read as the parser stored them before it located lazily.
            self._line = self._column = 1
        self._offset, self._source = value, None

    @property
    def line(self) -> int:
        return self._line if self._source is None else self._source.line_col(self._char)[0]

    @line.setter
    def line(self, value: int) -> None:
        self._materialize_location()
        self._line = value

    @property
    def column(self) -> int:
        return self._column if self._source is None else self._source.line_col(self._char)[1]

    @column.setter
    def column(self, value: int) -> None:
        self._materialize_location()
        self._column = value

    def _materialize_location(self) -> None:
        if self._source is not None:
            self._offset = self.offset
            self._line, self._column = self._source.line_col(self._char)
            self._source = None

    def get(self, element: int, component: int = 1, rep: int = 1) -> str:
        try:
            return self.elements[element - 1][rep - 1][component - 1]
        except IndexError:
            return ""

    def repetitions(self, element: int) -> list[list[str]]:
        try:
            return self.elements[element - 1]
        except IndexError:
            return []

    @property
    def element_count(self) -> int:
        return len(self.elements)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Segment):
            return NotImplemented
        return self.tag == other.tag and self.elements == other.elements

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaced

    def __repr__(self) -> str:
        return f"Segment({self.tag!r}, {self.elements!r}, offset={self.offset})"


def parsed_segment(tag: str, raw: str, codec: Callable[[str], list[list[list[str]]]],
                   source: Any, char: int, position: int = 0) -> Segment:
    """A segment as the parser makes it: elements decoded lazily from ``raw`` by ``codec``,
    located lazily by ``source`` at character ``char``. The reader's hot loop inlines exactly
    these assignments (a function call per segment costs more than the rest of the loop)."""
    seg = Segment.__new__(Segment)
    seg.tag = tag
    seg.raw = raw
    seg.tail = None
    seg.position = position
    seg._elements = None
    seg._codec = codec
    seg._source = source
    seg._char = char
    return seg


@dataclass(slots=True)
class Message:
    """One transaction set (ST..SE) or message (UNH..UNT); ``segments`` includes both."""

    type: str  # "850", "ORDERS"
    version: str  # X12: GS08 / ST03 ("004010"); EDIFACT: "D96A" (UNH02 version+release)
    control: str  # ST02 / UNH01
    segments: list[Segment]
    # EDIFACT UNH02 in full, e.g. {"agency": "UN", "association": "EAN008"}; X12: ST03 etc.
    identifier: dict[str, str] = field(default_factory=dict)

    @property
    def header(self) -> Segment:
        return self.segments[0]

    @property
    def trailer(self) -> Segment | None:
        last = self.segments[-1]
        return last if last.tag in ("SE", "UNT") else None

    @property
    def body(self) -> list[Segment]:
        end = -1 if self.trailer is not None else None
        return self.segments[1:end]


@dataclass(slots=True)
class Group:
    """GS..GE or UNG..UNE. EDIFACT messages without UNG sit in one group with no header."""

    header: Segment | None
    trailer: Segment | None
    messages: list[Message] = field(default_factory=list)

    @property
    def control(self) -> str:
        if self.header is None:
            return ""
        return self.header.get(6) if self.header.tag == "GS" else self.header.get(5)

    @property
    def functional_id(self) -> str:  # GS01 ("PO") / UNG01 ("ORDERS")
        return self.header.get(1) if self.header is not None else ""

    @property
    def version(self) -> str:  # GS08 ("004010") / UNG07 version+release
        if self.header is None:
            return ""
        if self.header.tag == "GS":
            return self.header.get(8)
        return self.header.get(7, 1) + self.header.get(7, 2)

    @property
    def app_sender(self) -> str:
        if self.header is None:
            return ""
        return self.header.get(2) if self.header.tag == "GS" else self.header.get(2, 1)

    @property
    def app_receiver(self) -> str:
        if self.header is None:
            return ""
        return self.header.get(3) if self.header.tag == "GS" else self.header.get(3, 1)


@dataclass(slots=True)
class Detection:
    """What the detector decided, and from which bytes — never a silent guess."""

    standard: Standard
    encoding: str  # python codec used to decode ("latin-1", "utf-8", "cp500", "ascii" ...)
    offset: int  # byte offset where the interchange starts
    reasons: list[str] = field(default_factory=list)  # human-readable: "UNA at byte 3", ...
    bom: str = ""  # "utf-8", "utf-16-le" ... when a byte-order mark was found
    syntax_id: str = ""  # EDIFACT UNOA/UNOB/UNOC/UNOY...; X12: ISA12 version
    syntax_version: str = ""  # EDIFACT 1-4


@dataclass(slots=True)
class Interchange:
    standard: Standard
    delimiters: Delimiters
    header: Segment  # ISA / UNB
    trailer: Segment | None  # IEA / UNZ (None when truncated)
    groups: list[Group] = field(default_factory=list)
    detection: Detection | None = None
    una: str = ""  # the UNA service string advice exactly as sent ("" if absent)
    # Service segments between the header and the first group (X12 TA1/ISB/ISE), in order.
    extras: list[Segment] = field(default_factory=list)
    # Lossless extras: anything the syntax layer needs to reproduce the bytes exactly.
    layout: dict[str, Any] = field(default_factory=dict)

    @property
    def control(self) -> str:
        return self.header.get(13) if self.standard == "x12" else self.header.get(5)

    @property
    def sender_qualifier(self) -> str:
        return self.header.get(5).strip() if self.standard == "x12" else self.header.get(2, 2)

    @property
    def sender_id(self) -> str:
        return self.header.get(6).strip() if self.standard == "x12" else self.header.get(2, 1)

    @property
    def receiver_qualifier(self) -> str:
        return self.header.get(7).strip() if self.standard == "x12" else self.header.get(3, 2)

    @property
    def receiver_id(self) -> str:
        return self.header.get(8).strip() if self.standard == "x12" else self.header.get(3, 1)

    @property
    def messages(self) -> list[Message]:
        return [m for g in self.groups for m in g.messages]
